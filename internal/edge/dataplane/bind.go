package dataplane

import (
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"

	"golang.zx2c4.com/wireguard/conn"
)

// pathBind is the conn.Bind of one path's WireGuard device. It does not own
// a socket: it sends through its link's socket to the path's remote endpoint
// and receives the datagrams from that endpoint, reading the socket itself
// when nothing is queued for it (link.readOnce). Several paths share one
// link this way, as they share the link's interface and address.
type pathBind struct {
	l *link

	mu     sync.Mutex
	rx     chan datagram // fed by the link's other readers
	closed chan struct{} // closed by Close; replaced by Open
	open   bool

	dropped atomic.Uint64 // datagrams dropped because the queue was full
}

var (
	_ conn.Bind     = (*pathBind)(nil)
	_ conn.Endpoint = endpoint{}
)

func newPathBind(l *link) *pathBind {
	closed := make(chan struct{})
	close(closed)
	return &pathBind{l: l, rx: make(chan datagram, rxQueueLen), closed: closed}
}

// deliver queues a datagram for the device, dropping it if the device is
// not keeping up (or not open), as a socket's full receive buffer would.
func (b *pathBind) deliver(d datagram) { offer(b.rx, d, &b.dropped) }

// Open implements conn.Bind. The port is the link's own: a path cannot
// choose it, so the requested port is ignored.
func (b *pathBind) Open(uint16) ([]conn.ReceiveFunc, uint16, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.open {
		return nil, 0, conn.ErrBindAlreadyOpen
	}
	b.open = true
	b.l.reads.join()
	closed := make(chan struct{})
	b.closed = closed
	return []conn.ReceiveFunc{b.receiveFunc(closed)}, b.l.localPort(), nil
}

func (b *pathBind) receiveFunc(closed chan struct{}) conn.ReceiveFunc {
	// A GRO run may hold more datagrams than WireGuard asked for; the rest
	// waits here for the next call. WireGuard calls a receive function from
	// one goroutine, so this state needs no lock.
	var cur datagram
	var off int
	// Every datagram a path receives comes from its one remote endpoint:
	// one boxed Endpoint serves them all, where converting each would
	// allocate a packet.
	var lastSrc netip.AddrPort
	var lastEP conn.Endpoint
	return func(bufs [][]byte, sizes []int, eps []conn.Endpoint) (int, error) {
		n := 0
		for n < len(bufs) {
			if cur.buf == nil {
				if n == 0 {
					select {
					case cur = <-b.rx:
					case <-closed:
						return 0, net.ErrClosed
					case <-b.l.reads.take():
						var ok bool
						if cur, ok = takeTurn(b.l.reads, b.rx, closed, func() (datagram, readResult) { return b.l.readOnce(b) }); !ok {
							continue
						}
					}
				} else {
					select {
					case cur = <-b.rx:
					default:
						return n, nil
					}
				}
				off = 0
				if lastEP == nil || cur.src != lastSrc {
					lastSrc, lastEP = cur.src, endpoint(cur.src)
				}
			}
			seg := cur.seg
			if seg == 0 {
				seg = cur.n
			}
			for off < cur.n && n < len(bufs) {
				end := min(off+seg, cur.n)
				sizes[n] = copy(bufs[n], (*cur.buf)[off:end])
				eps[n] = lastEP
				n++
				off = end
			}
			if off >= cur.n {
				datagramPool.Put(cur.buf)
				cur.buf = nil
			}
		}
		return n, nil
	}
}

// Close implements conn.Bind: the receive functions return net.ErrClosed.
func (b *pathBind) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.open {
		close(b.closed)
		b.open = false
		b.l.reads.leave()
	}
	return nil
}

// SetMark implements conn.Bind. Marks belong to the link's socket, which
// the agent sets up; a path has nothing to set.
func (b *pathBind) SetMark(uint32) error { return nil }

// Send implements conn.Bind, writing each datagram through the link.
func (b *pathBind) Send(bufs [][]byte, ep conn.Endpoint) error {
	e, ok := ep.(endpoint)
	if !ok {
		return conn.ErrWrongEndpointType
	}
	dst := netip.AddrPort(e)
	if b.l.off != nil {
		if err := b.l.off.send(bufs, dst); err != nil {
			return fmt.Errorf("dataplane: send on %s to %v: %w", b.l.name, dst, err)
		}
		return nil
	}
	for _, buf := range bufs {
		if _, err := b.l.conn.WriteToUDPAddrPort(buf, dst); err != nil {
			return fmt.Errorf("dataplane: send on %s to %v: %w", b.l.name, dst, err)
		}
	}
	return nil
}

// ParseEndpoint implements conn.Bind.
func (b *pathBind) ParseEndpoint(s string) (conn.Endpoint, error) {
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		return nil, err
	}
	return endpoint(netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())), nil
}

// BatchSize implements conn.Bind.
func (b *pathBind) BatchSize() int { return pathBatchSize }

// endpoint is a remote UDP address; the source is always the link's.
type endpoint netip.AddrPort

func (e endpoint) ClearSrc()           {}
func (e endpoint) SrcToString() string { return "" }
func (e endpoint) DstToString() string { return netip.AddrPort(e).String() }
func (e endpoint) DstIP() netip.Addr   { return netip.AddrPort(e).Addr() }
func (e endpoint) SrcIP() netip.Addr   { return netip.Addr{} }

// DstToBytes returns the address in the form WireGuard hashes for its
// cookie (mac2) computation: the address bytes followed by the port.
func (e endpoint) DstToBytes() []byte {
	ap := netip.AddrPort(e)
	b, _ := ap.MarshalBinary()
	return b
}
