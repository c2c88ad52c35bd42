package wanem

import (
	"net"
	"net/netip"
	"os"
	"sync"
	"time"
)

// Conn is the socket a site's edge uses for one emulated link. It is a
// net.PacketConn whose local address is the link's public address:
// WriteTo sends through the outbound impairment and out of the public
// socket, and ReadFrom returns what arrived on the public socket once the
// inbound impairment let it through. Writes never block (the emulator
// queues or drops, as a link does); reads honour deadlines and return
// net.ErrClosed once the link is closed.
type Conn struct {
	l     *Link
	local *net.UDPAddr
	rd    deadline
	wd    deadline
}

var _ net.PacketConn = (*Conn)(nil)

func newConn(l *Link) *Conn {
	return &Conn{
		l:     l,
		local: net.UDPAddrFromAddrPort(l.addr),
		rd:    newDeadline(),
		wd:    newDeadline(),
	}
}

// ReadFromUDPAddrPort reads the next datagram that crossed the inbound
// direction into b, truncating it if b is short as UDP does, and returns
// its sender.
func (c *Conn) ReadFromUDPAddrPort(b []byte) (int, netip.AddrPort, error) {
	// Report close and an expired deadline ahead of queued data, as the
	// net package does.
	select {
	case <-c.l.closing:
		return 0, netip.AddrPort{}, c.opError("read", nil, net.ErrClosed)
	case <-c.rd.wait():
		return 0, netip.AddrPort{}, c.opError("read", nil, os.ErrDeadlineExceeded)
	default:
	}
	select {
	case pk := <-c.l.recv:
		n := copy(b, pk.buf)
		from := pk.addr
		pk.free()
		return n, from, nil
	case <-c.l.closing:
		return 0, netip.AddrPort{}, c.opError("read", nil, net.ErrClosed)
	case <-c.rd.wait():
		return 0, netip.AddrPort{}, c.opError("read", nil, os.ErrDeadlineExceeded)
	}
}

// ReadFrom implements net.PacketConn; the address is a *net.UDPAddr.
func (c *Conn) ReadFrom(b []byte) (int, net.Addr, error) {
	n, from, err := c.ReadFromUDPAddrPort(b)
	if err != nil {
		return 0, nil, err
	}
	return n, net.UDPAddrFromAddrPort(from), nil
}

// WriteToUDPAddrPort hands a copy of b to the outbound direction for dst
// and returns at once; the datagram leaves the public socket when the
// impairment releases it, or is dropped.
func (c *Conn) WriteToUDPAddrPort(b []byte, dst netip.AddrPort) (int, error) {
	select {
	case <-c.l.closing:
		return 0, c.opError("write", dst, net.ErrClosed)
	case <-c.wd.wait():
		return 0, c.opError("write", dst, os.ErrDeadlineExceeded)
	default:
	}
	if !dst.IsValid() {
		return 0, c.opError("write", nil, net.InvalidAddrError("invalid destination"))
	}
	if len(b) > maxDatagram {
		return 0, c.opError("write", dst, errMessageTooLong)
	}
	c.l.out.submit(newPacket(b, unmap(dst)))
	return len(b), nil
}

// WriteTo implements net.PacketConn; addr must be a *net.UDPAddr.
func (c *Conn) WriteTo(b []byte, addr net.Addr) (int, error) {
	ua, ok := addr.(*net.UDPAddr)
	if !ok || ua == nil {
		return 0, c.opError("write", nil, net.InvalidAddrError("not a UDP address"))
	}
	return c.WriteToUDPAddrPort(b, ua.AddrPort())
}

// Close closes the link.
func (c *Conn) Close() error { return c.l.Close() }

// LocalAddr returns the link's public address.
func (c *Conn) LocalAddr() net.Addr { return c.local }

// SetDeadline sets both the read and the write deadline.
func (c *Conn) SetDeadline(t time.Time) error {
	if err := c.checkOpen(); err != nil {
		return err
	}
	c.rd.set(t)
	c.wd.set(t)
	return nil
}

// SetReadDeadline makes pending and future reads fail with a timeout once
// t passes; the zero time removes the deadline.
func (c *Conn) SetReadDeadline(t time.Time) error {
	if err := c.checkOpen(); err != nil {
		return err
	}
	c.rd.set(t)
	return nil
}

// SetWriteDeadline makes future writes fail with a timeout once t passes.
// Writes never block, so it only matters to callers that rely on it.
func (c *Conn) SetWriteDeadline(t time.Time) error {
	if err := c.checkOpen(); err != nil {
		return err
	}
	c.wd.set(t)
	return nil
}

func (c *Conn) checkOpen() error {
	select {
	case <-c.l.closing:
		return c.opError("set", nil, net.ErrClosed)
	default:
		return nil
	}
}

func (c *Conn) stopDeadlines() {
	c.rd.set(time.Time{})
	c.wd.set(time.Time{})
}

func (c *Conn) opError(op string, addr any, err error) error {
	e := &net.OpError{Op: op, Net: "udp", Source: c.local, Err: err}
	if ap, ok := addr.(netip.AddrPort); ok && ap.IsValid() {
		e.Addr = net.UDPAddrFromAddrPort(ap)
	}
	return e
}

// errMessageTooLong is what a UDP socket says (EMSGSIZE) to a datagram
// larger than IPv4 can carry.
var errMessageTooLong = &net.AddrError{Err: "message too long"}

// deadline is a channel that closes when a deadline passes, the scheme
// net.Pipe uses: waiters select on wait() and set re-arms it.
type deadline struct {
	mu     sync.Mutex
	timer  *time.Timer
	cancel chan struct{}
}

func newDeadline() deadline { return deadline{cancel: make(chan struct{})} }

func (d *deadline) set(t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.timer != nil && !d.timer.Stop() {
		<-d.cancel // the timer fired: wait for its func to close cancel
	}
	d.timer = nil
	closed := isClosed(d.cancel)
	if t.IsZero() {
		if closed {
			d.cancel = make(chan struct{})
		}
		return
	}
	if dur := time.Until(t); dur > 0 {
		if closed {
			d.cancel = make(chan struct{})
		}
		cancel := d.cancel
		d.timer = time.AfterFunc(dur, func() { close(cancel) })
		return
	}
	if !closed {
		close(d.cancel)
	}
}

func (d *deadline) wait() chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cancel
}

func isClosed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}
