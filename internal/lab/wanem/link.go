package wanem

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
)

// DefaultRecvQueue is the number of datagrams that may wait for
// [Conn.ReadFrom] when Config.RecvQueue is zero.
const DefaultRecvQueue = 1024

// Config describes a link to create.
type Config struct {
	// Name identifies the link in logs and errors, as the lab names it
	// ("site-1/wan1").
	Name string
	// Addr is the public address to bind; the zero value binds
	// 127.0.0.1 on a port the kernel picks.
	Addr netip.AddrPort
	// Seed seeds the link's random choices (loss, jitter, duplication,
	// reordering), so that a run can be repeated; 0 picks a random seed.
	Seed uint64
	// RecvQueue bounds the datagrams waiting for Conn.ReadFrom; beyond it
	// arrivals are dropped and counted as overflow. 0 means
	// DefaultRecvQueue.
	RecvQueue int
	// Logger receives the link's rare complaints; nil discards them.
	Logger *slog.Logger
}

// Stats counts what both directions of a link did.
type Stats struct {
	Out DirStats
	In  DirStats
}

// Link is one emulated WAN link of one site: a public UDP socket that the
// other sites reach, an in-process [Conn] that the site's edge uses as the
// link's socket, and an impairment for each direction between them. All
// methods are safe for concurrent use.
type Link struct {
	name string
	log  *slog.Logger
	udp  *net.UDPConn
	addr netip.AddrPort
	conn *Conn

	out, in *pipe
	recv    chan *packet

	closeOnce sync.Once
	closing   chan struct{} // closed by Close before anything is torn down
	readerEnd chan struct{} // closed when the socket reader returns
}

// NewLink binds the link's public socket and starts it with no impairment.
func NewLink(cfg Config) (*Link, error) {
	addr := cfg.Addr
	if !addr.IsValid() {
		addr = netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), 0)
	}
	network := "udp4"
	if addr.Addr().Is6() && !addr.Addr().Is4In6() {
		network = "udp6"
	}
	udp, err := net.ListenUDP(network, net.UDPAddrFromAddrPort(addr))
	if err != nil {
		return nil, fmt.Errorf("wanem: link %s: %w", cfg.Name, err)
	}
	seed := cfg.Seed
	if seed == 0 {
		var b [8]byte
		_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
		seed = binary.LittleEndian.Uint64(b[:])
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	queue := cfg.RecvQueue
	if queue <= 0 {
		queue = DefaultRecvQueue
	}
	l := &Link{
		name:      cfg.Name,
		log:       logger.With("link", cfg.Name),
		udp:       udp,
		addr:      udp.LocalAddr().(*net.UDPAddr).AddrPort(),
		recv:      make(chan *packet, queue),
		closing:   make(chan struct{}),
		readerEnd: make(chan struct{}),
	}
	l.conn = newConn(l)
	// The two directions draw from distinct streams of the same seed.
	l.out = newPipe(seed, 1, true, l.send)
	l.in = newPipe(seed, 2, true, l.enqueue)
	go l.read()
	return l, nil
}

// Name returns the name the link was created with.
func (l *Link) Name() string { return l.name }

// Addr returns the link's public address, where other sites reach it.
func (l *Link) Addr() netip.AddrPort { return l.addr }

// Conn returns the socket the site's edge uses for this link. There is one
// per link; closing it closes the link.
func (l *Link) Conn() *Conn { return l.conn }

func (l *Link) pipe(d Direction) *pipe {
	if d == In {
		return l.in
	}
	return l.out
}

// Impairment returns the current impairment of one direction.
func (l *Link) Impairment(d Direction) Impairment { return l.pipe(d).impairment() }

// SetImpairment replaces the impairment of the selected directions.
// Packets already in flight keep the release times they were given, except
// that a link going down loses them.
func (l *Link) SetImpairment(ds Directions, imp Impairment) error {
	if l.isClosed() {
		return fmt.Errorf("wanem: link %s: %w", l.name, net.ErrClosed)
	}
	if err := imp.Validate(); err != nil {
		return fmt.Errorf("wanem: link %s: %w", l.name, err)
	}
	for _, d := range ds.Each() {
		l.pipe(d).update(func(Impairment) Impairment { return imp })
	}
	return nil
}

// Apply changes the fields c sets in the selected directions, each
// direction atomically, leaving the other fields as they are. It returns
// net.ErrClosed once the link is closed.
func (l *Link) Apply(ds Directions, c Change) error {
	if l.isClosed() {
		return fmt.Errorf("wanem: link %s: %w", l.name, net.ErrClosed)
	}
	if err := c.Validate(); err != nil {
		return fmt.Errorf("wanem: link %s: %w", l.name, err)
	}
	for _, d := range ds.Each() {
		l.pipe(d).update(c.ApplyTo)
	}
	return nil
}

// SetDown takes both directions of the link down (dropping everything,
// what is in flight included) or brings them back up, leaving the other
// impairments as they are.
func (l *Link) SetDown(down bool) {
	for _, d := range Both.Each() {
		l.pipe(d).update(func(imp Impairment) Impairment {
			imp.Down = down
			return imp
		})
	}
}

// Stats returns the link's counters.
func (l *Link) Stats() Stats {
	return Stats{Out: l.out.stats.snapshot(), In: l.in.stats.snapshot()}
}

// Close closes the public socket, drops what is in flight and waits for the
// link's goroutines to end. Readers blocked in Conn.ReadFrom return
// net.ErrClosed. Closing again returns net.ErrClosed.
func (l *Link) Close() error {
	err := net.ErrClosed
	l.closeOnce.Do(func() {
		close(l.closing)
		err = l.udp.Close()
		<-l.readerEnd
		l.out.close()
		l.in.close()
		l.conn.stopDeadlines()
		for {
			select {
			case pk := <-l.recv:
				pk.free()
			default:
				return
			}
		}
	})
	return err
}

func (l *Link) isClosed() bool {
	select {
	case <-l.closing:
		return true
	default:
		return false
	}
}

// read feeds datagrams arriving on the public socket to the inbound pipe.
func (l *Link) read() {
	defer close(l.readerEnd)
	buf := make([]byte, maxDatagram+1)
	for {
		n, from, err := l.udp.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Unconnected UDP sockets report little; log and go on.
			l.log.Debug("wanem: read", "err", err)
			continue
		}
		l.in.submit(newPacket(buf[:n], unmap(from)))
	}
}

// send is the outbound pipe's delivery: out of the public socket.
func (l *Link) send(pk *packet) bool {
	_, err := l.udp.WriteToUDPAddrPort(pk.buf, pk.addr)
	pk.free()
	if err != nil {
		l.out.stats.sendErrors.Add(1)
		l.log.Debug("wanem: send", "err", err)
		return false
	}
	return true
}

// enqueue is the inbound pipe's delivery: to the readers of Conn.
func (l *Link) enqueue(pk *packet) bool {
	select {
	case l.recv <- pk:
		return true
	default:
		pk.free()
		l.in.stats.droppedOverflow.Add(1)
		return false
	}
}

func unmap(ap netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}
