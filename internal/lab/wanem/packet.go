package wanem

import (
	"net/netip"
	"sync"
	"time"
)

// maxDatagram is the largest UDP payload over IPv4.
const maxDatagram = 65507

// pooledCap is the capacity of pooled packet buffers: a full Ethernet frame
// with room to spare. Bigger datagrams get a buffer of their own.
const pooledCap = 2048

// packet is one datagram inside the emulator. addr is the destination for
// the outbound direction and the source for the inbound one.
type packet struct {
	buf  []byte
	addr netip.AddrPort
	at   time.Time // release time
	seq  uint64    // arrival order, breaks ties in the heap
}

var packetPool = sync.Pool{New: func() any { return &packet{buf: make([]byte, 0, pooledCap)} }}

// newPacket returns a packet holding a copy of b.
func newPacket(b []byte, addr netip.AddrPort) *packet {
	p := packetPool.Get().(*packet)
	if cap(p.buf) < len(b) {
		p.buf = make([]byte, len(b))
	}
	p.buf = p.buf[:len(b)]
	copy(p.buf, b)
	p.addr = addr
	return p
}

// free returns p to the pool; p must not be used afterwards.
func (p *packet) free() {
	if cap(p.buf) != pooledCap {
		p.buf = make([]byte, 0, pooledCap) // drop oversized buffers
	}
	*p = packet{buf: p.buf[:0]}
	packetPool.Put(p)
}

// packetHeap is a min-heap of packets by release time, then arrival order.
// It is written out rather than using container/heap to avoid boxing every
// push and pop in an interface.
type packetHeap []*packet

func (h packetHeap) less(i, j int) bool {
	if !h[i].at.Equal(h[j].at) {
		return h[i].at.Before(h[j].at)
	}
	return h[i].seq < h[j].seq
}

func (h *packetHeap) push(p *packet) {
	*h = append(*h, p)
	s := *h
	for i := len(s) - 1; i > 0; {
		parent := (i - 1) / 2
		if !s.less(i, parent) {
			break
		}
		s[i], s[parent] = s[parent], s[i]
		i = parent
	}
}

func (h *packetHeap) pop() *packet {
	s := *h
	top := s[0]
	last := len(s) - 1
	s[0] = s[last]
	s[last] = nil
	s = s[:last]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(s) && s.less(l, m) {
			m = l
		}
		if r < len(s) && s.less(r, m) {
			m = r
		}
		if m == i {
			break
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
	*h = s
	return top
}
