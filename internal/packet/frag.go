package packet

import (
	"encoding/binary"
	"hash/maphash"
	"math/bits"
	"sync"
	"time"
)

// DefaultFragTTL is how long a FragTable remembers a first fragment's ports.
// IPv4 and IPv6 reassembly give up after 60 seconds at most (RFC 791, RFC
// 8200); fragments of one datagram normally arrive within milliseconds.
const DefaultFragTTL = 30 * time.Second

// FragTable remembers, for recently seen first fragments, the ports and
// protocol of their datagram, so that later fragments can be counted
// against the same flow.
//
// It is a fixed array of slots indexed by a keyed hash of the fragment's
// identity (source, destination, protocol, ID): a new first fragment
// overwrites whatever its slot held, so the table's memory is bounded by
// its size however many fragmented datagrams arrive, and an attacker who
// does not know the hash seed cannot aim at one slot. An entry is
// forgotten when its TTL passes or another first fragment takes its slot;
// a collision only costs the displaced datagram its ports.
//
// A FragTable is safe for concurrent use. Fragments are rare, so one mutex
// guards it.
type FragTable struct {
	now  func() time.Time
	ttl  time.Duration
	seed maphash.Seed

	mu    sync.Mutex
	slots []fragSlot
}

type fragSlot struct {
	src, dst    [16]byte
	id          uint32
	fproto      uint8 // Fragment.Proto, part of the identity
	proto       uint8 // the transport protocol found in the first fragment
	used        bool
	sport       uint16
	dport       uint16
	expiresNano int64
}

// NewFragTable returns a table of size slots (rounded up to a power of two,
// at least 16) whose entries live for ttl (DefaultFragTTL when zero), timed
// by now.
func NewFragTable(size int, ttl time.Duration, now func() time.Time) *FragTable {
	if size < 16 {
		size = 16
	}
	size = 1 << bits.Len(uint(size-1))
	if ttl <= 0 {
		ttl = DefaultFragTTL
	}
	return &FragTable{now: now, ttl: ttl, seed: maphash.MakeSeed(), slots: make([]fragSlot, size)}
}

func (t *FragTable) index(p *Packet) int {
	var buf [16 + 16 + 4 + 1]byte
	copy(buf[0:16], p.Key.Src[:])
	copy(buf[16:32], p.Key.Dst[:])
	binary.LittleEndian.PutUint32(buf[32:36], p.Frag.ID)
	buf[36] = p.Frag.Proto
	return int(maphash.Bytes(t.seed, buf[:]) & uint64(len(t.slots)-1))
}

func (s *fragSlot) matches(p *Packet) bool {
	return s.used && s.id == p.Frag.ID && s.fproto == p.Frag.Proto &&
		s.src == p.Key.Src && s.dst == p.Key.Dst
}

// Resolve completes the key of a fragment in place and reports whether p's
// key now carries its datagram's ports. A first fragment is remembered; a
// later fragment whose first fragment is remembered gets its ports and
// transport protocol. A packet that
// is not a fragment is left alone and reported complete.
func (t *FragTable) Resolve(p *Packet) bool {
	if !p.Fragmented() {
		return true
	}
	i := t.index(p)
	t.mu.Lock()
	defer t.mu.Unlock()
	s := &t.slots[i]
	now := t.now().UnixNano()
	if p.FirstFragment() {
		*s = fragSlot{
			src: p.Key.Src, dst: p.Key.Dst, id: p.Frag.ID, fproto: p.Frag.Proto,
			proto: p.Key.Proto, used: true, sport: p.Key.SrcPort, dport: p.Key.DstPort,
			expiresNano: now + int64(t.ttl),
		}
		return true
	}
	if !s.matches(p) {
		return false
	}
	if now > s.expiresNano {
		s.used = false
		return false
	}
	// The entry stays after the last fragment: fragments may arrive
	// reordered, and a reused ID arrives with a new first fragment that
	// overwrites it.
	p.Key.Proto, p.Key.SrcPort, p.Key.DstPort = s.proto, s.sport, s.dport
	return true
}

// Decode decodes b into p like Packet.Decode and then resolves its
// fragment against the table.
func (t *FragTable) Decode(b []byte, p *Packet) error {
	err := p.Decode(b)
	if err == nil {
		t.Resolve(p)
	}
	return err
}
