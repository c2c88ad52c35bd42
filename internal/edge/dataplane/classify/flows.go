package classify

import (
	"encoding/binary"
	"math/bits"
	"math/rand/v2"

	"github.com/patronus-sdwan/patronus/internal/sdwan"
)

// ways is the associativity of the flow table: a flow lives in one of the
// ways slots of the bucket its hash picks.
const ways = 4

// flow is what the table remembers of one flow: 64 bytes, one cache line.
type flow struct {
	key   sdwan.FlowKey // 38 bytes with padding
	path  int16         // path handle carrying the flow, or NoPath
	slot  int32         // decision slot in the table generation gen
	pol   int32         // policy index in the table generation gen
	gen   uint32        // Table.Gen (rules) that slot and pol refer to
	epoch uint32        // the slot's epoch when the flow was pinned
	fp    uint32        // fingerprint of the policy and its action
	ver   uint32        // the slot's version when last checked
	_     [4]byte
}

// meta is a bucket's hash tags and last-packet ticks, 32 bytes, so that
// finding a flow, or the way a new flow evicts, reads one cache line of
// metadata and at most one flow.
type meta struct {
	tags [ways]uint32 // zero is an empty way
	seen [ways]uint32 // tick of each way's latest packet
}

// FlowTable maps 5-tuples to their path decisions. It is bounded: a full
// bucket gives its least recently used way to a new flow, so the table's
// memory is fixed however many flows pass, and flows idle for longer than
// the idle timeout are forgotten. Each bucket's hash tags sit apart from
// the flows, four to 16 bytes, so a lookup reads one line of tags and the
// one flow whose tag matches. It is not safe for concurrent use: the engine
// classifies from one goroutine.
type FlowTable struct {
	meta  []meta
	flows [][ways]flow
	mask  uint64
	seed  [3]uint64
	idle  uint32
}

// NewFlowTable returns a table for about capacity flows (rounded up to a
// power of two) that forgets a flow idleTicks ticks after its last packet.
func NewFlowTable(capacity int, idleTicks uint32) *FlowTable {
	nb := 1
	for nb*ways < capacity {
		nb <<= 1
	}
	return &FlowTable{
		meta:  make([]meta, nb),
		flows: make([][ways]flow, nb),
		mask:  uint64(nb - 1),
		seed:  [3]uint64{rand.Uint64() | 1, rand.Uint64() | 1, rand.Uint64() | 1},
		idle:  idleTicks,
	}
}

// Capacity returns the most flows the table holds.
func (t *FlowTable) Capacity() int { return len(t.meta) * ways }

func mix(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

func (t *FlowTable) hash(k *sdwan.FlowKey) uint64 {
	s0 := binary.LittleEndian.Uint64(k.Src[:8])
	s1 := binary.LittleEndian.Uint64(k.Src[8:])
	d0 := binary.LittleEndian.Uint64(k.Dst[:8])
	d1 := binary.LittleEndian.Uint64(k.Dst[8:])
	pp := uint64(k.SrcPort)<<24 | uint64(k.DstPort)<<8 | uint64(k.Proto)
	return mix(s0^t.seed[0], s1^d1^0x9e3779b97f4a7c15) ^ mix(d0^t.seed[1], pp^t.seed[2])
}

// sameKey compares keys field by field, which the compiler inlines as a
// few word compares; == on the struct calls memequal.
func sameKey(a, b *sdwan.FlowKey) bool {
	return a.Src == b.Src && a.Dst == b.Dst && a.SrcPort == b.SrcPort && a.DstPort == b.DstPort && a.Proto == b.Proto
}

// slotRef names a way of a bucket.
type slotRef struct {
	b   uint64
	way int
	tag uint32
}

// find returns the live flow of k, its packet counted at now, and true;
// or false and the way a new flow of k should take (an empty, idle or least
// recently used one), to be claimed with claim.
func (t *FlowTable) find(k *sdwan.FlowKey, now uint32) (*flow, slotRef, bool) {
	h := t.hash(k)
	bi := h & t.mask
	m := &t.meta[bi]
	tag := uint32(h>>32) | 1
	victim, oldest := -1, uint32(0)
	for i := range ways {
		switch m.tags[i] {
		case tag:
			if f := &t.flows[bi][i]; sameKey(&f.key, k) {
				if now-m.seen[i] <= t.idle {
					m.seen[i] = now
					return f, slotRef{}, true
				}
				// Expired: its way is the one to reuse, so that a key is
				// never in the table twice.
				return nil, slotRef{bi, i, tag}, false
			}
		case 0:
			if victim < 0 || oldest != ^uint32(0) {
				victim, oldest = i, ^uint32(0)
			}
			continue
		}
		if age := now - m.seen[i]; victim < 0 || age > oldest {
			victim, oldest = i, age
		}
	}
	return nil, slotRef{bi, victim, tag}, false
}

// claim takes the way r for the flow of k and returns it, zeroed but for
// the key.
func (t *FlowTable) claim(r slotRef, k *sdwan.FlowKey, now uint32) *flow {
	m := &t.meta[r.b]
	m.tags[r.way], m.seen[r.way] = r.tag, now
	f := &t.flows[r.b][r.way]
	*f = flow{key: *k}
	return f
}

// Len counts the flows in the table, idle ones included; it walks the whole
// table and is meant for tests and statistics.
func (t *FlowTable) Len() int {
	n := 0
	for i := range t.meta {
		for _, tag := range t.meta[i].tags {
			if tag != 0 {
				n++
			}
		}
	}
	return n
}
