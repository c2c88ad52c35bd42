package lab

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"time"
)

// Header sizes of the inner packets the generators send, which the data
// plane counts (an IPv4 packet's total length): what the accounting adds
// to the payload.
const (
	IPv4Header = 20
	UDPHeader  = 8
)

// udpHeaderLen is the stream's own header in each datagram's payload:
// sequence number and send time.
const udpHeaderLen = 16

// UDPResult is what a constant-rate stream measured.
type UDPResult struct {
	Sent, Received int
	// Lost counts datagrams sent and never received; Duplicates those
	// received twice; Reordered those received after a later one.
	Lost, Duplicates, Reordered int
	// Interval is the stream's packet spacing and Payload the UDP payload
	// of each datagram.
	Interval time.Duration
	Payload  int
	// LongestGap is the longest run of consecutive lost datagrams, in time
	// of traffic (run length × interval): the outage the stream saw.
	LongestGap time.Duration
	// Elapsed is how long the stream ran.
	Elapsed time.Duration
}

// LossPct is the share of datagrams lost, in percent.
func (r UDPResult) LossPct() float64 {
	if r.Sent == 0 {
		return 0
	}
	return 100 * float64(r.Lost) / float64(r.Sent)
}

// LostTime is the traffic lost, in time: lost datagrams × interval.
func (r UDPResult) LostTime() time.Duration { return time.Duration(r.Lost) * r.Interval }

// InnerBytes is what the data plane counts for the datagrams sent: each is
// an IPv4 packet of payload + UDP + IP headers.
func (r UDPResult) InnerBytes() uint64 {
	return uint64(r.Sent) * uint64(r.Payload+UDPHeader+IPv4Header)
}

func (r UDPResult) String() string {
	return fmt.Sprintf("sent %d, received %d, lost %d (%.2f%%, %v of traffic), longest gap %v, reordered %d, duplicates %d, over %v",
		r.Sent, r.Received, r.Lost, r.LossPct(), r.LostTime(), r.LongestGap, r.Reordered, r.Duplicates, r.Elapsed.Round(time.Millisecond))
}

// UDPStream is a constant-rate UDP stream from one site's LAN to another's
// through the data plane, like a voice call: one datagram every interval,
// each numbered so the receiver can count loss, gaps and reordering.
type UDPStream struct {
	interval time.Duration
	payload  int
	start    time.Time
	rc, sc   net.Conn

	mu   sync.Mutex
	sent int
	got  []uint32 // sequence numbers in arrival order

	stop     chan struct{}
	stopOnce sync.Once
	wg       sync.WaitGroup
}

// StartUDP starts a stream of rate datagrams a second, each with payload
// bytes of UDP payload (at least 16), from site src to site dst's port.
func (l *Lab) StartUDP(src, dst string, port uint16, rate, payload int) (*UDPStream, error) {
	sn, dn := l.LAN(src), l.LAN(dst)
	if sn == nil || dn == nil {
		return nil, fmt.Errorf("lab: no data plane at %s or %s (unknown site, or the lab runs without one)", src, dst)
	}
	if rate < 1 || rate > 100_000 {
		return nil, fmt.Errorf("lab: stream rate %d/s: want 1 to 100000", rate)
	}
	payload = max(payload, udpHeaderLen)
	rc, err := dn.ListenUDP(port)
	if err != nil {
		return nil, fmt.Errorf("lab: listen at %s: %w", dst, err)
	}
	sc, err := sn.DialUDP(netip.AddrPortFrom(dn.Addr(), port))
	if err != nil {
		rc.Close()
		return nil, fmt.Errorf("lab: dial from %s: %w", src, err)
	}
	s := &UDPStream{interval: time.Second / time.Duration(rate), payload: payload, rc: rc, sc: sc, stop: make(chan struct{}), start: time.Now()}
	s.wg.Go(s.receive)
	s.wg.Go(s.send)
	return s, nil
}

func (s *UDPStream) send() {
	buf := make([]byte, s.payload)
	next := time.Now()
	for seq := uint32(0); ; seq++ {
		binary.BigEndian.PutUint32(buf, seq)
		binary.BigEndian.PutUint64(buf[8:], uint64(time.Now().UnixNano()))
		if _, err := s.sc.Write(buf); err == nil {
			s.mu.Lock()
			s.sent++
			s.mu.Unlock()
		}
		// An absolute schedule: a late tick is caught up, not skipped,
		// so the rate holds on a loaded machine.
		next = next.Add(s.interval)
		t := time.NewTimer(time.Until(next))
		select {
		case <-s.stop:
			t.Stop()
			return
		case <-t.C:
		}
	}
}

func (s *UDPStream) receive() {
	buf := make([]byte, 64<<10)
	for {
		n, err := s.rc.Read(buf)
		if err != nil {
			return
		}
		if n < 4 {
			continue
		}
		seq := binary.BigEndian.Uint32(buf)
		s.mu.Lock()
		s.got = append(s.got, seq)
		s.mu.Unlock()
	}
}

// Sent returns how many datagrams have been sent so far.
func (s *UDPStream) Sent() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sent
}

// ReceivedSince returns how many datagrams numbered from or after seq
// have arrived.
func (s *UDPStream) ReceivedSince(seq int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, g := range s.got {
		if int(g) >= seq {
			n++
		}
	}
	return n
}

// Stop stops sending, waits drain for datagrams in flight, and returns
// what the stream measured.
func (s *UDPStream) Stop(drain time.Duration) UDPResult {
	s.stopOnce.Do(func() {
		close(s.stop)
		time.Sleep(drain)
		s.rc.Close()
		s.sc.Close()
	})
	s.wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	return measure(s.sent, s.got, s.interval, s.payload, time.Since(s.start))
}

// measure computes a stream's result from the arrival order.
func measure(sent int, got []uint32, interval time.Duration, payload int, elapsed time.Duration) UDPResult {
	r := UDPResult{Sent: sent, Received: len(got), Interval: interval, Payload: payload, Elapsed: elapsed}
	seen := make([]bool, sent)
	highest := -1
	for _, g := range got {
		i := int(g)
		if i >= sent {
			continue // cannot happen: a datagram is counted before it is received
		}
		if seen[i] {
			r.Duplicates++
			continue
		}
		seen[i] = true
		if i < highest {
			r.Reordered++
		}
		highest = max(highest, i)
	}
	run, longest := 0, 0
	for _, ok := range seen {
		if ok {
			run = 0
			continue
		}
		r.Lost++
		run++
		longest = max(longest, run)
	}
	r.LongestGap = time.Duration(longest) * interval
	return r
}

// TCPResult is what a bulk transfer measured.
type TCPResult struct {
	Bytes   int64
	Elapsed time.Duration
}

// Mbps is the goodput in megabits a second.
func (r TCPResult) Mbps() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Bytes) * 8 / r.Elapsed.Seconds() / 1e6
}

func (r TCPResult) String() string {
	return fmt.Sprintf("%d bytes in %v: %.1f Mbit/s", r.Bytes, r.Elapsed.Round(time.Millisecond), r.Mbps())
}

// TCPBulk sends as much as it can over one TCP connection from site src to
// site dst's port for d, or until limit bytes when limit is positive, and
// returns what the receiver got.
func (l *Lab) TCPBulk(ctx context.Context, src, dst string, port uint16, d time.Duration, limit int64) (TCPResult, error) {
	sn, dn := l.LAN(src), l.LAN(dst)
	if sn == nil || dn == nil {
		return TCPResult{}, fmt.Errorf("lab: no data plane at %s or %s (unknown site, or the lab runs without one)", src, dst)
	}
	return tcpBulk(ctx, sn, dn, port, d, limit)
}

func tcpBulk(ctx context.Context, sn, dn SiteLAN, port uint16, d time.Duration, limit int64) (TCPResult, error) {
	ln, err := dn.ListenTCP(port)
	if err != nil {
		return TCPResult{}, fmt.Errorf("lab: listen: %w", err)
	}
	defer ln.Close()
	type recv struct {
		n   int64
		end time.Time
		err error
	}
	got := make(chan recv, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- recv{err: err}
			return
		}
		defer c.Close()
		n, err := io.Copy(io.Discard, c)
		got <- recv{n, time.Now(), err}
	}()
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	c, err := sn.DialTCP(dctx, netip.AddrPortFrom(dn.Addr(), port))
	cancel()
	if err != nil {
		return TCPResult{}, fmt.Errorf("lab: connect through the overlay: %w", err)
	}
	start := time.Now()
	deadline := start.Add(d)
	_ = c.SetWriteDeadline(deadline.Add(5 * time.Second))
	buf := make([]byte, 32<<10)
	var sent int64
	for time.Now().Before(deadline) && ctx.Err() == nil && (limit <= 0 || sent < limit) {
		b := buf
		if limit > 0 {
			b = b[:min(int64(len(b)), limit-sent)]
		}
		n, err := c.Write(b)
		sent += int64(n)
		if err != nil {
			c.Close()
			return TCPResult{Bytes: sent, Elapsed: time.Since(start)}, fmt.Errorf("lab: send: %w", err)
		}
	}
	c.Close()
	select {
	case r := <-got:
		if r.err != nil && !errors.Is(r.err, io.EOF) {
			return TCPResult{Bytes: r.n, Elapsed: r.end.Sub(start)}, r.err
		}
		return TCPResult{Bytes: r.n, Elapsed: r.end.Sub(start)}, nil
	case <-time.After(15 * time.Second):
		return TCPResult{Bytes: sent, Elapsed: time.Since(start)}, errors.New("lab: the receiver did not finish within 15 s")
	case <-ctx.Done():
		return TCPResult{}, ctx.Err()
	}
}
