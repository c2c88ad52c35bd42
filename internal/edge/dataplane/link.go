package dataplane

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

// PacketConn is the socket of one local WAN link. *net.UDPConn implements it,
// and so does the lab's emulated link (*wanem.Conn). The engine owns the
// conns it is given: it reads them from one goroutine each and closes them
// when their link leaves the configuration or the engine closes.
type PacketConn interface {
	// ReadFromUDPAddrPort reads one datagram, blocking until one arrives,
	// the read deadline passes or the conn is closed.
	ReadFromUDPAddrPort(b []byte) (int, netip.AddrPort, error)
	// WriteToUDPAddrPort sends b as one datagram; it is called from many
	// goroutines at once and must not keep b.
	WriteToUDPAddrPort(b []byte, addr netip.AddrPort) (int, error)
	// LocalAddr is the link's address, reported to WireGuard as its port.
	LocalAddr() net.Addr
	// Close unblocks readers for good.
	Close() error
}

// probeMagic starts every probe packet (see package probe's wire format).
// WireGuard messages start with a type byte of 1-4 followed by three zero
// bytes, so the first two bytes tell the protocols apart.
var probeMagic = [2]byte{'P', 'R'}

// maxDatagram bounds a datagram read from a link.
const maxDatagram = 1 << 16

// rxQueueLen is the number of datagrams that may wait for one path's
// WireGuard receive routine, and for the probe reader, before arrivals are
// dropped as a full NIC ring would drop them.
const rxQueueLen = 1024

// datagram is one received datagram waiting in a queue.
type datagram struct {
	buf *[]byte
	n   int
	seg int // with GRO, the size of each of the run's datagrams; else 0
	src netip.AddrPort
}

var datagramPool = sync.Pool{New: func() any { b := make([]byte, maxDatagram); return &b }}

// link demultiplexes one WAN link's socket: probe packets go to the probe
// side (ProbeConn) so the path monitor measures through the very socket the
// tunnels use, and every other datagram goes to the WireGuard device of the
// path whose remote endpoint sent it.
type link struct {
	name string
	conn PacketConn
	off  *udpOffload // nil unless conn is a UDP socket on Linux
	log  *slog.Logger

	// binds maps a remote endpoint to the bind of the path to it. It is
	// replaced whole (copy on write) by the engine's control goroutine.
	binds atomic.Pointer[map[netip.AddrPort]*pathBind]

	// probe is the current probe side, nil until asked for.
	probe atomic.Pointer[probeConn]

	unknown atomic.Uint64 // datagrams from no configured endpoint

	// The socket is read by the open binds' receive functions themselves
	// (see readOnce), and oob is the token holder's scratch.
	reads *readToken
	oob   [64]byte
}

func newLink(name string, c PacketConn, log *slog.Logger) *link {
	l := &link{
		name: name, conn: c, off: newUDPOffload(c), log: log,
		reads: newReadToken(),
	}
	empty := map[netip.AddrPort]*pathBind{}
	l.binds.Store(&empty)
	return l
}

// start starts the link's stand-in reader, which reads the socket while
// no bind does. The engine starts a link once the tunnels of its first
// configuration are attached, so that the first handshakes to arrive are
// not dropped as coming from an unknown endpoint (WireGuard would only
// retry five seconds later). The engine's mu serialises start and close.
func (l *link) start() {
	l.reads.startStandIn(func() readResult {
		_, r := l.readOnce(nil) // nothing is the stand-in's own
		return r
	})
}

// localPort returns the link's UDP port.
func (l *link) localPort() uint16 {
	if ua, ok := l.conn.LocalAddr().(*net.UDPAddr); ok {
		return uint16(ua.Port)
	}
	if ap, err := netip.ParseAddrPort(l.conn.LocalAddr().String()); err == nil {
		return ap.Port()
	}
	return 0
}

// setBind routes datagrams from remote to b (nil removes the route).
func (l *link) setBind(remote netip.AddrPort, b *pathBind) {
	old := *l.binds.Load()
	m := make(map[netip.AddrPort]*pathBind, len(old)+1)
	for k, v := range old {
		m[k] = v
	}
	if b == nil {
		delete(m, remote)
	} else {
		m[remote] = b
	}
	l.binds.Store(&m)
}

// The socket is read by the receive functions of the binds on the link,
// each in the goroutine WireGuard receives in, when it has nothing queued:
// a datagram for the reader's own path goes on without changing goroutine,
// as with wireguard-go's own bind, and the others are queued for their
// path or the probe side. One read token serialises the readers, so each
// path gets its datagrams in the order they arrived. A stand-in reads
// while no bind is open, for the probes.

// readOnce reads one datagram, or one GRO run of them, and routes it: a
// datagram from own's endpoint is returned to the caller, the others go to
// their path's bind or the probe side. The caller holds the read token.
func (l *link) readOnce(own *pathBind) (datagram, readResult) {
	bp := datagramPool.Get().(*[]byte)
	var n, seg int
	var src netip.AddrPort
	var err error
	if l.off != nil && l.off.gro {
		n, seg, src, err = l.off.read(*bp, l.oob[:])
	} else {
		n, src, err = l.conn.ReadFromUDPAddrPort(*bp)
	}
	if err != nil {
		datagramPool.Put(bp)
		if errors.Is(err, net.ErrClosed) {
			return datagram{}, readClosed
		}
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			l.log.Warn("dataplane: link read", "link", l.name, "err", err)
			time.Sleep(10 * time.Millisecond) // a persistent error must not spin
		}
		return datagram{}, readOthers
	}
	src = netip.AddrPortFrom(src.Addr().Unmap(), src.Port())
	d := datagram{buf: bp, n: n, seg: seg, src: src}
	if seg > 0 && hasProbe(*bp, n, seg) {
		// A probe merged into a GRO run (they share the peer's socket):
		// take the run apart.
		l.split(d)
	} else if l.route(d, own) {
		return d, readMine
	}
	return datagram{}, readOthers
}

func isProbe(b []byte) bool { return len(b) >= 2 && b[0] == probeMagic[0] && b[1] == probeMagic[1] }

func hasProbe(b []byte, n, seg int) bool {
	for off := 0; off < n; off += seg {
		if isProbe(b[off:n]) {
			return true
		}
	}
	return false
}

// split routes each datagram of a GRO run on its own.
func (l *link) split(d datagram) {
	b := *d.buf
	for off := 0; off < d.n; off += d.seg {
		end := min(off+d.seg, d.n)
		cp := datagramPool.Get().(*[]byte)
		l.route(datagram{buf: cp, n: copy(*cp, b[off:end]), src: d.src}, nil)
	}
	datagramPool.Put(d.buf)
}

// route hands a datagram to the probe side or to its path's bind, unless
// that bind is own: then it reports true, and the caller keeps it.
func (l *link) route(d datagram, own *pathBind) (kept bool) {
	if d.seg == 0 && isProbe((*d.buf)[:d.n]) {
		if pc := l.probe.Load(); pc != nil {
			pc.deliver(d)
		} else {
			datagramPool.Put(d.buf)
		}
		return false
	}
	if pb := (*l.binds.Load())[d.src]; pb != nil {
		if pb == own {
			return true
		}
		pb.deliver(d)
		return false
	}
	l.unknown.Add(1)
	datagramPool.Put(d.buf)
	return false
}

// close closes the socket and waits for the stand-in reader; a bind's
// receive function reading it returns net.ErrClosed.
func (l *link) close() error {
	err := l.conn.Close()
	l.reads.close()
	if pc := l.probe.Swap(nil); pc != nil {
		_ = pc.Close() // never fails
	}
	return err
}

// probeConn returns a new probe side for the link, detaching the previous
// one, so that a path monitor restarted by the agent gets a fresh socket.
func (l *link) newProbeConn() *probeConn {
	pc := &probeConn{l: l, rx: make(chan datagram, rxQueueLen), done: make(chan struct{})}
	if old := l.probe.Swap(pc); old != nil {
		_ = old.Close() // never fails
	}
	return pc
}

// probeConn is the probe side of a link: a probe.PacketConn that receives
// only probe packets and sends through the link's socket.
type probeConn struct {
	l         *link
	rx        chan datagram
	done      chan struct{}
	closeOnce sync.Once
	dropped   atomic.Uint64
}

func (p *probeConn) deliver(d datagram) { offer(p.rx, d, &p.dropped) }

// offer queues d for its reader, or drops it, counted and its buffer
// back in the pool, when the reader is not keeping up: the link never
// waits for one path's reader (a slow device or prober) to serve another.
func offer(rx chan<- datagram, d datagram, dropped *atomic.Uint64) {
	select {
	case rx <- d:
	default:
		dropped.Add(1)
		datagramPool.Put(d.buf)
	}
}

// ReadFromUDPAddrPort returns the next probe packet received on the link.
func (p *probeConn) ReadFromUDPAddrPort(b []byte) (int, netip.AddrPort, error) {
	select {
	case d := <-p.rx:
		n := copy(b, (*d.buf)[:d.n])
		datagramPool.Put(d.buf)
		return n, d.src, nil
	case <-p.done:
		return 0, netip.AddrPort{}, fmt.Errorf("dataplane: probe conn of %s: %w", p.l.name, net.ErrClosed)
	}
}

// WriteToUDPAddrPort sends a probe packet through the link.
func (p *probeConn) WriteToUDPAddrPort(b []byte, addr netip.AddrPort) (int, error) {
	select {
	case <-p.done:
		return 0, net.ErrClosed
	default:
	}
	return p.l.conn.WriteToUDPAddrPort(b, addr)
}

// Close detaches the probe side; the link itself stays open.
func (p *probeConn) Close() error {
	p.closeOnce.Do(func() { close(p.done) })
	return nil
}
