package probe

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// PacketConn is the socket a Mux probes and answers through: one per local
// WAN link, bound to that link. *net.UDPConn implements it; probetest has
// an in-memory one with delay, jitter and loss.
type PacketConn interface {
	// ReadFromUDPAddrPort reads one datagram into b, returning its length
	// and source. It blocks until a datagram arrives or the conn is
	// closed, when it returns an error wrapping net.ErrClosed.
	ReadFromUDPAddrPort(b []byte) (int, netip.AddrPort, error)
	// WriteToUDPAddrPort sends b as one datagram to addr. It may be called
	// from many goroutines at once and must not keep b.
	WriteToUDPAddrPort(b []byte, addr netip.AddrPort) (int, error)
	// Close unblocks ReadFromUDPAddrPort for good.
	Close() error
}

// ErrClosed is returned by operations on a closed Mux or removed Prober.
var ErrClosed = errors.New("probe: closed")

// MuxStats counts what a Mux's socket received and sent. Each rejection
// has its own counter so that a forged or replayed flood is visible.
type MuxStats struct {
	Received       uint64 // datagrams read
	Malformed      uint64 // not a version-1 probe packet
	UnknownSession uint64 // a session this Mux neither probes nor answers
	BadMAC         uint64 // failed authentication
	Answered       uint64 // requests answered as responder
	Replies        uint64 // replies matched to an outstanding probe
	Unmatched      uint64 // authentic replies matching no probe: duplicates, replays, very late
	Sent           uint64 // probes sent
	WriteErrors    uint64
}

type muxCounters struct {
	received, malformed, unknown, badMAC, answered, replies, unmatched, sent, writeErrors atomic.Uint64
}

// responder answers one session's requests. Only the Mux's read loop uses
// auth, so it needs no lock.
type responder struct {
	auth *Authenticator
}

// Mux runs many paths' probers, and the responder for the peers' probes,
// over one socket: one per local link, so that 500 paths cost 500 small
// goroutines and one socket rather than 500 sockets. Packets name their
// session (the directed path's id); replies go to that session's Prober,
// requests to that session's responder.
type Mux struct {
	conn  PacketConn
	log   *slog.Logger
	now   func() time.Time
	epoch time.Time

	mu         sync.RWMutex
	probers    map[uint32]*Prober
	responders map[uint32]*responder
	closed     bool

	wg   sync.WaitGroup
	stat muxCounters
}

// NewMux starts serving conn, which it owns from now on (Close closes it).
// now is the clock for timestamps and deadlines (time.Now in production).
func NewMux(conn PacketConn, log *slog.Logger, now func() time.Time) *Mux {
	m := &Mux{
		conn:       conn,
		log:        log,
		now:        now,
		epoch:      now(),
		probers:    make(map[uint32]*Prober),
		responders: make(map[uint32]*responder),
	}
	m.wg.Add(1)
	go m.readLoop()
	return m
}

// Respond makes the Mux answer requests of session id authenticated by key.
// Calling it again replaces the key.
func (m *Mux) Respond(id uint32, key []byte) error {
	auth, err := NewAuthenticator(key)
	if err != nil {
		return fmt.Errorf("probe: respond to session %d: %w", id, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	m.responders[id] = &responder{auth: auth}
	return nil
}

// StopResponding stops answering session id's requests.
func (m *Mux) StopResponding(id uint32) {
	m.mu.Lock()
	delete(m.responders, id)
	m.mu.Unlock()
}

// SetPath starts probing the path pc describes, or, when its ID is already
// probed, applies pc's key, remote, configuration and callback to the
// running Prober and keeps its measurements. It is safe to repeat.
func (m *Mux) SetPath(pc PathConfig) (*Prober, error) {
	if err := pc.Config.Normalize().Validate(); err != nil {
		return nil, err
	}
	if !pc.Remote.IsValid() {
		return nil, fmt.Errorf("probe: path %d: invalid remote %v", pc.ID, pc.Remote)
	}
	auth, err := NewAuthenticator(pc.Key)
	if err != nil {
		return nil, fmt.Errorf("probe: path %d: %w", pc.ID, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	if p, ok := m.probers[pc.ID]; ok {
		p.update(pc, auth)
		return p, nil
	}
	p := newProber(m, pc, auth)
	m.probers[pc.ID] = p
	m.wg.Add(1)
	go p.run()
	return p, nil
}

// RemovePath stops probing path id and waits for its Prober to finish. It
// must not be called from that Prober's OnTransition.
func (m *Mux) RemovePath(id uint32) {
	m.mu.Lock()
	p := m.probers[id]
	delete(m.probers, id)
	m.mu.Unlock()
	if p != nil {
		p.stop()
	}
}

// Prober returns the Prober of path id.
func (m *Mux) Prober(id uint32) (*Prober, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	p, ok := m.probers[id]
	return p, ok
}

// Stats returns the socket's counters.
func (m *Mux) Stats() MuxStats {
	c := &m.stat
	return MuxStats{
		Received: c.received.Load(), Malformed: c.malformed.Load(), UnknownSession: c.unknown.Load(),
		BadMAC: c.badMAC.Load(), Answered: c.answered.Load(), Replies: c.replies.Load(),
		Unmatched: c.unmatched.Load(), Sent: c.sent.Load(), WriteErrors: c.writeErrors.Load(),
	}
}

// Close stops every Prober, closes the socket and waits for all the Mux's
// goroutines to return.
func (m *Mux) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	probers := make([]*Prober, 0, len(m.probers))
	for id, p := range m.probers {
		probers = append(probers, p)
		delete(m.probers, id)
	}
	m.mu.Unlock()
	for _, p := range probers {
		p.stop()
	}
	err := m.conn.Close()
	m.wg.Wait()
	return err
}

// stamp converts t to the packets' timestamp: nanoseconds since the Mux
// started, on the monotonic clock, never 0 (0 means "no timestamp").
func (m *Mux) stamp(t time.Time) int64 {
	return max(int64(t.Sub(m.epoch)), 1)
}

func (m *Mux) write(b []byte, to netip.AddrPort) {
	if _, err := m.conn.WriteToUDPAddrPort(b, to); err != nil {
		m.stat.writeErrors.Add(1)
		m.log.Debug("probe: write failed", "to", to, "err", err)
	}
}

func (m *Mux) readLoop() {
	defer m.wg.Done()
	var (
		buf   [2 * PacketLen]byte // one byte too many is how an oversized datagram shows
		reply [PacketLen]byte
		pkt   Packet
	)
	for {
		n, from, err := m.conn.ReadFromUDPAddrPort(buf[:])
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			m.mu.RLock()
			closed := m.closed
			m.mu.RUnlock()
			if closed {
				return
			}
			m.log.Debug("probe: read failed", "err", err)
			continue
		}
		rx := m.now()
		m.stat.received.Add(1)
		b := buf[:n]
		typ, session, err := Header(b)
		if err != nil {
			m.stat.malformed.Add(1)
			continue
		}
		m.mu.RLock()
		var (
			r *responder
			p *Prober
		)
		if typ == TypeRequest {
			r = m.responders[session]
		} else {
			p = m.probers[session]
		}
		m.mu.RUnlock()
		switch {
		case r != nil:
			if r.auth.Open(b, &pkt) != nil {
				m.stat.badMAC.Add(1)
				continue
			}
			pkt.Type = TypeReply
			pkt.RespRxTime = m.stamp(rx)
			pkt.RespTxTime = m.stamp(m.now())
			m.write(r.auth.Seal(reply[:], &pkt), from)
			m.stat.answered.Add(1)
		case p != nil:
			p.handleReply(b, rx)
		default:
			m.stat.unknown.Add(1)
		}
	}
}
