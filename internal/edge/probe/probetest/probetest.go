// Package probetest is an in-memory UDP network for testing the path
// monitor without sockets: conns that implement probe.PacketConn, joined by
// links whose delay, jitter, loss and up/down state a test sets while it
// runs. Delivery uses time.AfterFunc, so inside a testing/synctest bubble a
// test of seconds of probing runs in milliseconds of fake time.
package probetest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"time"
)

// Link is the impairment of one direction between two addresses.
type Link struct {
	Delay  time.Duration // base one-way delay
	Jitter time.Duration // standard deviation of a normal variation, cut at zero delay
	Loss   float64       // probability of dropping a datagram, 0-1
	Down   bool          // drop everything
}

type linkKey struct{ from, to netip.AddrPort }

// Network joins Conns. Its zero value is not usable; call New.
type Network struct {
	mu    sync.Mutex
	rng   *rand.Rand
	conns map[netip.AddrPort]*Conn
	links map[linkKey]Link
	def   Link
}

// New returns an empty network whose randomness (loss, jitter) follows
// seed, so a failing run can be replayed.
func New(seed uint64) *Network {
	return &Network{
		rng:   rand.New(rand.NewPCG(seed, seed+1)),
		conns: make(map[netip.AddrPort]*Conn),
		links: make(map[linkKey]Link),
	}
}

// Listen returns a Conn bound to addr.
func (n *Network) Listen(addr netip.AddrPort) (*Conn, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, ok := n.conns[addr]; ok {
		return nil, fmt.Errorf("probetest: %v already in use", addr)
	}
	c := &Conn{net: n, addr: addr, in: make(chan datagram, 1024), closed: make(chan struct{})}
	n.conns[addr] = c
	return c, nil
}

// SetDefault sets the impairment of every direction without its own Link.
func (n *Network) SetDefault(l Link) {
	n.mu.Lock()
	n.def = l
	n.mu.Unlock()
}

// SetLink sets the impairment from one address to another.
func (n *Network) SetLink(from, to netip.AddrPort, l Link) {
	n.mu.Lock()
	n.links[linkKey{from, to}] = l
	n.mu.Unlock()
}

// SetPath sets both directions between a and b to l.
func (n *Network) SetPath(a, b netip.AddrPort, l Link) {
	n.SetLink(a, b, l)
	n.SetLink(b, a, l)
}

type datagram struct {
	b    []byte
	from netip.AddrPort
}

// Conn is one endpoint of a Network. It implements probe.PacketConn.
type Conn struct {
	net    *Network
	addr   netip.AddrPort
	in     chan datagram
	closed chan struct{}
	once   sync.Once
}

// LocalAddr returns the conn's address.
func (c *Conn) LocalAddr() netip.AddrPort { return c.addr }

// ReadFromUDPAddrPort blocks until a datagram arrives or c is closed.
func (c *Conn) ReadFromUDPAddrPort(b []byte) (int, netip.AddrPort, error) {
	select {
	case d := <-c.in:
		return copy(b, d.b), d.from, nil
	case <-c.closed:
		return 0, netip.AddrPort{}, fmt.Errorf("probetest: read %v: %w", c.addr, net.ErrClosed)
	}
}

// WriteToUDPAddrPort sends a copy of b to addr through the link's
// impairment. Like UDP, it reports no error for a datagram that is lost.
func (c *Conn) WriteToUDPAddrPort(b []byte, addr netip.AddrPort) (int, error) {
	select {
	case <-c.closed:
		return 0, fmt.Errorf("probetest: write %v: %w", c.addr, net.ErrClosed)
	default:
	}
	n := c.net
	n.mu.Lock()
	l, ok := n.links[linkKey{c.addr, addr}]
	if !ok {
		l = n.def
	}
	dst := n.conns[addr]
	drop := l.Down || dst == nil || (l.Loss > 0 && n.rng.Float64() < l.Loss)
	delay := l.Delay
	if l.Jitter > 0 {
		delay = max(0, delay+time.Duration(n.rng.NormFloat64()*float64(l.Jitter)))
	}
	n.mu.Unlock()
	if drop {
		return len(b), nil
	}
	d := datagram{b: append([]byte(nil), b...), from: c.addr}
	deliver := func() {
		select {
		case dst.in <- d:
		case <-dst.closed:
		default: // receive queue full: dropped, as a socket buffer would
		}
	}
	if delay == 0 {
		deliver()
	} else {
		time.AfterFunc(delay, deliver)
	}
	return len(b), nil
}

// Close closes c; its address can then be listened on again.
func (c *Conn) Close() error {
	err := errors.New("probetest: already closed")
	c.once.Do(func() {
		close(c.closed)
		c.net.mu.Lock()
		delete(c.net.conns, c.addr)
		c.net.mu.Unlock()
		err = nil
	})
	return err
}
