package wanem

import (
	"encoding/binary"
	"math"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"
)

// The benchmarks below measure the figures docs/bench/wanem.md records:
// how close the emulated delay is to the configured one over real loopback
// UDP, and how close the measured loss is to the configured one. They send
// paced datagrams, so ns/op is the pacing and the custom metrics are the
// result. Run them with a fixed count, for example
//
//	go test -run '^$' -bench 'OneWay|RTT|Loss' -benchtime 2000x ./internal/lab/wanem/

const probeGap = time.Millisecond

// collector records, for datagrams carrying (seq, sent-at), when each
// arrived.
type collector struct {
	base time.Time
	mu   sync.Mutex
	lat  map[uint64]time.Duration
}

func newCollector() *collector {
	return &collector{base: time.Now(), lat: make(map[uint64]time.Duration)}
}

func (c *collector) stamp(b []byte, seq uint64) {
	binary.BigEndian.PutUint64(b[0:], seq)
	binary.BigEndian.PutUint64(b[8:], uint64(time.Since(c.base)))
}

// receive reads l's conn until it closes, recording latencies.
func (c *collector) receive(l *Link) {
	buf := make([]byte, 2048)
	for {
		n, _, err := l.Conn().ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		now := time.Since(c.base)
		if n < 16 {
			continue
		}
		seq := binary.BigEndian.Uint64(buf)
		sent := time.Duration(binary.BigEndian.Uint64(buf[8:]))
		c.mu.Lock()
		c.lat[seq] = now - sent
		c.mu.Unlock()
	}
}

func (c *collector) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.lat)
}

// waitFor waits until n datagrams arrived or timeout passed.
func (c *collector) waitFor(n int, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for c.count() < n && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
}

func (c *collector) latencies() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]time.Duration, 0, len(c.lat))
	for _, d := range c.lat {
		out = append(out, d)
	}
	slices.Sort(out)
	return out
}

// errorStats returns the mean of lat-want and the mean, p50 and p99 of
// |lat-want|, in microseconds.
func errorStats(lat []time.Duration, want time.Duration) (mean, meanAbs, p50Abs, p99Abs float64) {
	abs := make([]float64, len(lat))
	for i, d := range lat {
		e := float64(d-want) / 1e3
		mean += e
		abs[i] = math.Abs(e)
		meanAbs += abs[i]
	}
	n := float64(len(lat))
	slices.Sort(abs)
	return mean / n, meanAbs / n, abs[len(abs)/2], abs[int(0.99*float64(len(abs)-1))]
}

var benchDelays = []time.Duration{0, 10 * time.Millisecond, 50 * time.Millisecond, 200 * time.Millisecond}

// BenchmarkOneWay sends a datagram every millisecond from one link, whose
// outbound direction has delay D, to another link, and reports the error
// of the one-way latency against D. It includes loopback and the two
// links' hand-offs (the D=0 row is that baseline).
func BenchmarkOneWay(b *testing.B) {
	for _, d := range benchDelays {
		b.Run("D="+d.String(), func(b *testing.B) {
			b.ReportAllocs()
			a, dst := newTestLink(b, "a", 1), newTestLink(b, "b", 2)
			if err := a.SetImpairment(OutOnly, Impairment{Delay: d}); err != nil {
				b.Fatal(err)
			}
			c := newCollector()
			done := make(chan struct{})
			go func() { c.receive(dst); close(done) }()
			buf := make([]byte, 64)
			var seq uint64
			next := time.Now()
			for b.Loop() {
				c.stamp(buf, seq)
				seq++
				a.Conn().WriteToUDPAddrPort(buf, dst.Addr())
				next = next.Add(probeGap)
				time.Sleep(time.Until(next))
			}
			c.waitFor(int(seq), d+2*time.Second)
			dst.Close()
			<-done
			lat := c.latencies()
			if len(lat) < int(seq) {
				b.Fatalf("%d of %d datagrams arrived", len(lat), seq)
			}
			mean, meanAbs, p50, p99 := errorStats(lat, d)
			st := a.Stats().Out
			b.ReportMetric(float64(st.ReleaseLateSum)/float64(st.Delivered)/1e3, "emu-late-mean-µs")
			b.ReportMetric(mean, "mean-err-µs")
			b.ReportMetric(meanAbs, "mean-|err|-µs")
			b.ReportMetric(p50, "p50-|err|-µs")
			b.ReportMetric(p99, "p99-|err|-µs")
		})
	}
}

// BenchmarkRTT measures what the path monitor will: probes from one link
// to an echo on another, both links with delay D outbound (so D each
// way). It reports the mean RTT minus 2D minus the baseline mean RTT
// measured first on the same pair with no delay, and the p99 of
// |RTT - 2D - baseline|.
func BenchmarkRTT(b *testing.B) {
	for _, d := range benchDelays {
		b.Run("D="+d.String(), func(b *testing.B) {
			b.ReportAllocs()
			a, peer := newTestLink(b, "a", 1), newTestLink(b, "b", 2)
			stop := startEcho(b, peer)
			defer stop()
			c := newCollector()
			done := make(chan struct{})
			go func() { c.receive(a); close(done) }()
			buf := make([]byte, 64)
			var seq uint64
			send := func(next time.Time) time.Time {
				c.stamp(buf, seq)
				seq++
				a.Conn().WriteToUDPAddrPort(buf, peer.Addr())
				next = next.Add(probeGap)
				time.Sleep(time.Until(next))
				return next
			}
			next := time.Now()
			for range 500 {
				next = send(next)
			}
			c.waitFor(int(seq), 2*time.Second)
			baseMean := mean(c.latencies())
			c.mu.Lock()
			clear(c.lat)
			c.mu.Unlock()
			for _, l := range []*Link{a, peer} {
				l.SetImpairment(OutOnly, Impairment{Delay: d})
			}
			first := seq
			next = time.Now()
			for b.Loop() {
				next = send(next)
			}
			c.waitFor(int(seq-first), 2*d+2*time.Second)
			a.Close()
			<-done
			lat := c.latencies()
			if len(lat) < int(seq-first) {
				b.Fatalf("%d of %d probes came back", len(lat), seq-first)
			}
			m, _, _, p99 := errorStats(lat, 2*d+baseMean)
			b.ReportMetric(float64(baseMean)/1e3, "baseline-µs")
			b.ReportMetric(m, "mean-err-µs")
			b.ReportMetric(p99, "p99-|err|-µs")
		})
	}
}

func mean(ds []time.Duration) time.Duration {
	var s time.Duration
	for _, d := range ds {
		s += d
	}
	return s / time.Duration(len(ds))
}

// BenchmarkLoss sends 2000 datagrams per trial through a link with random
// loss L, as the lab's accuracy check does with probes, and reports the
// mean measured loss, the worst trial's error, and the share of trials
// within ±1 percentage point. b.N trials run, each with its own seed, over
// the emulator's pipe (loss does not depend on time).
func BenchmarkLoss(b *testing.B) {
	const probes = 2000
	for _, tc := range []struct {
		loss float64
		even bool
	}{{0, false}, {0.01, false}, {0.05, false}, {0.2, false}, {0.01, true}, {0.05, true}, {0.2, true}} {
		loss := tc.loss
		name := "L=" + FormatPercent(loss)
		if tc.even {
			name += "/even"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			var trials, within int
			var sum, worst float64
			buf := make([]byte, 64)
			for b.Loop() {
				var got int
				p := newPipe(uint64(trials)+1, 3, true, func(pk *packet) bool { got++; pk.free(); return true })
				p.update(func(Impairment) Impairment { return Impairment{Loss: loss, EvenLoss: tc.even} })
				for range probes {
					p.submit(newPacket(buf, testAddr))
				}
				lost := p.stats.droppedLoss.Load()
				p.close()
				measured := float64(lost) / probes
				sum += measured
				e := math.Abs(measured-loss) * 100
				worst = max(worst, e)
				if e <= 1 {
					within++
				}
				trials++
			}
			b.ReportMetric(sum/float64(trials)*100, "mean-loss-%")
			b.ReportMetric(worst, "worst-err-pp")
			b.ReportMetric(float64(within)/float64(trials)*100, "trials-within-1pp-%")
		})
	}
}

// BenchmarkLinkThroughput measures the emulator's cost per datagram: a
// link with no impairment forwarding 1200-byte datagrams to another over
// loopback, reader and writer in step.
func BenchmarkLinkThroughput(b *testing.B) {
	for _, imp := range []struct {
		name string
		imp  Impairment
	}{{"none", Impairment{}}, {"delay-1ms-jitter-loss", Impairment{Delay: time.Millisecond, Jitter: 100 * time.Microsecond, Loss: 0.001}}} {
		b.Run(imp.name, func(b *testing.B) {
			b.ReportAllocs()
			a, dst := newTestLink(b, "a", 1), newTestLink(b, "b", 2)
			a.SetImpairment(OutOnly, imp.imp)
			buf := make([]byte, 1200)
			rbuf := make([]byte, 2048)
			dst.Conn().SetReadDeadline(time.Now().Add(time.Minute))
			const window = 64 // datagrams in flight, well under the socket buffer
			sent, recvd := 0, 0
			for b.Loop() {
				a.Conn().WriteToUDPAddrPort(buf, dst.Addr())
				sent++
				for sent-recvd >= window {
					if !readWithin(dst, rbuf, 20*time.Millisecond) {
						recvd = sent // lost: move on
						break
					}
					recvd++
				}
			}
			b.SetBytes(int64(len(buf)))
		})
	}
}

func readWithin(l *Link, buf []byte, d time.Duration) bool {
	l.Conn().SetReadDeadline(time.Now().Add(d))
	_, _, err := l.Conn().ReadFromUDPAddrPort(buf)
	return err == nil
}

// BenchmarkPipeSubmit measures scheduling one packet into a delay line and
// releasing it, without sockets.
func BenchmarkPipeSubmit(b *testing.B) {
	b.ReportAllocs()
	var wg sync.WaitGroup
	p := newPipe(1, 2, true, func(pk *packet) bool { pk.free(); wg.Done(); return true })
	defer p.close()
	p.update(func(Impairment) Impairment { return Impairment{Jitter: time.Microsecond, Loss: 0.0001} })
	buf := make([]byte, 1200)
	addr := netip.MustParseAddrPort("127.0.0.1:1")
	for b.Loop() {
		wg.Add(1)
		p.submit(newPacket(buf, addr))
	}
	wg.Add(-int(p.stats.droppedLoss.Load()))
	wg.Wait()
}

// BenchmarkJitter sends a datagram every 4J (at least 10 ms, so that the
// link's FIFO order almost never holds one back) through a link with
// delay 50 ms and jitter J on its outbound direction only, and reports the RFC
// 3550 jitter of the one-way transit as a ratio to J: the mean of |D|
// over successive packets (what J converges to), and the mean and the
// 5th-95th percentile spread of the RFC 3550 running estimate itself,
// which a single reading shows.
func BenchmarkJitter(b *testing.B) {
	for _, j := range []time.Duration{time.Millisecond, 5 * time.Millisecond, 10 * time.Millisecond} {
		gap := max(4*j, 10*time.Millisecond)
		b.Run("J="+j.String(), func(b *testing.B) {
			b.ReportAllocs()
			a, dst := newTestLink(b, "a", 0), newTestLink(b, "b", 0) // random seeds
			a.SetImpairment(OutOnly, Impairment{Delay: 50 * time.Millisecond, Jitter: j})
			c := newCollector()
			done := make(chan struct{})
			go func() { c.receive(dst); close(done) }()
			buf := make([]byte, 64)
			var seq uint64
			next := time.Now()
			for b.Loop() {
				c.stamp(buf, seq)
				seq++
				a.Conn().WriteToUDPAddrPort(buf, dst.Addr())
				next = next.Add(gap)
				time.Sleep(time.Until(next))
			}
			c.waitFor(int(seq), 2*time.Second)
			dst.Close()
			<-done
			c.mu.Lock()
			defer c.mu.Unlock()
			var sumAbs, est float64
			var ests []float64
			var pairs int
			for i := uint64(1); i < seq; i++ {
				t0, ok0 := c.lat[i-1]
				t1, ok1 := c.lat[i]
				if !ok0 || !ok1 {
					continue
				}
				d := math.Abs(float64(t1 - t0))
				sumAbs += d
				pairs++
				est += (d - est) / 16
				if pairs > 50 { // past the estimator's warm-up
					ests = append(ests, est)
				}
			}
			if len(ests) == 0 {
				b.Skip("too few packets; use -benchtime 1000x")
			}
			slices.Sort(ests)
			var sumEst float64
			for _, e := range ests {
				sumEst += e
			}
			b.ReportMetric(sumAbs/float64(pairs)/float64(j), "mean|D|/J")
			b.ReportMetric(sumEst/float64(len(ests))/float64(j), "meanJ/J")
			b.ReportMetric(ests[len(ests)*5/100]/float64(j), "p5J/J")
			b.ReportMetric(ests[len(ests)*95/100]/float64(j), "p95J/J")
		})
	}
}

// BenchmarkRate offers 20 Mbit/s of 1222-byte datagrams to a link limited
// to 10 Mbit/s for as long as the benchmark runs, and reports the rate
// delivered over loopback, counted at the IP layer as the limit is.
func BenchmarkRate(b *testing.B) {
	const rate = 10_000_000
	b.ReportAllocs()
	a, dst := newTestLink(b, "a", 1), newTestLink(b, "b", 2)
	a.SetImpairment(OutOnly, Impairment{RateBps: rate})
	var got uint64
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 2048)
		for {
			if _, _, err := dst.Conn().ReadFromUDPAddrPort(buf); err != nil {
				return
			}
			got++
		}
	}()
	buf := make([]byte, 1222) // 10,000 bits with headers: 1 ms at 10 Mbit/s
	start := time.Now()
	next := start
	for b.Loop() { // each iteration offers two datagrams in a millisecond
		a.Conn().WriteToUDPAddrPort(buf, dst.Addr())
		a.Conn().WriteToUDPAddrPort(buf, dst.Addr())
		next = next.Add(time.Millisecond)
		time.Sleep(time.Until(next))
	}
	elapsed := time.Since(start)
	time.Sleep(20 * time.Millisecond) // let the queue's tail arrive
	dst.Close()
	<-done
	st := a.Stats().Out
	b.ReportMetric(float64(got)*10_000/elapsed.Seconds()/1e6, "delivered-Mbit/s")
	b.ReportMetric(float64(st.DroppedQueue)/float64(st.Offered)*100, "tail-drop-%")
}
