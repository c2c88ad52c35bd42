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

// flow is what the table remembers of one flow: 64 bytes, one cache line
// (TestFlowFitsALine).
type flow struct {
	key   sdwan.FlowKey // 38 bytes with padding
	path  int16         // path handle carrying the flow, or NoPath
	slot  int32         // decision slot in the table generation gen
	pol   int32         // policy index in the table generation gen
	gen   uint32        // Table.Gen (rules) that slot and pol refer to
	epoch uint32        // the slot's epoch when the flow was pinned
	fp    uint32        // fingerprint of the policy and its action
	ver   uint32        // the slot's version when last checked
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
	seed  [6]uint64
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
		seed:  [6]uint64{rand.Uint64(), rand.Uint64(), rand.Uint64(), rand.Uint64(), rand.Uint64(), rand.Uint64()},
		idle:  idleTicks,
	}
}

// Capacity returns the most flows the table holds.
func (t *FlowTable) Capacity() int { return len(t.meta) * ways }

func mix(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

// holds reports whether f is the flow of k. It compares field by field,
// which the compiler inlines as a few word compares; == on the struct
// calls memequal.
func (f *flow) holds(k *sdwan.FlowKey) bool {
	return f.key.Src == k.Src && f.key.Dst == k.Dst && f.key.SrcPort == k.SrcPort && f.key.DstPort == k.DstPort && f.key.Proto == k.Proto
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
//
// The way a new flow evicts is found by arithmetic rather than branches:
// which way is oldest is random, so branches on it would mispredict about
// once a packet, and a misprediction on the bucket's metadata, which a new
// flow's packet often waits for from memory, would also throw away the
// policy lookup the processor runs meanwhile.
func (t *FlowTable) find(k *sdwan.FlowKey, now uint32) (*flow, slotRef, bool) {
	// The hash, written here rather than in a function, which the
	// compiler would not inline.
	s0 := binary.LittleEndian.Uint64(k.Src[:8])
	s1 := binary.LittleEndian.Uint64(k.Src[8:])
	d0 := binary.LittleEndian.Uint64(k.Dst[:8])
	d1 := binary.LittleEndian.Uint64(k.Dst[8:])
	pp := uint64(k.SrcPort)<<24 | uint64(k.DstPort)<<8 | uint64(k.Proto)
	// Each word meets a secret seed in a multiplication before any two
	// are combined: XORing words first (as s1^d1 once did) would let
	// anyone who picks addresses and ports make keys collide whatever the
	// seed, and crowd a bucket's flows out.
	h := mix(s0^t.seed[0], d0^t.seed[1]) ^ mix(s1^t.seed[2], d1^t.seed[3]) ^ mix(pp^t.seed[4], t.seed[5]|1)
	bi := h & t.mask
	m := &t.meta[bi]
	tag := uint32(h>>32) | 1
	if w := m.way(tag); w < ways {
		f := &t.flows[bi][w]
		if !f.holds(k) {
			// Another key with the same tag (one in 2^31): look at every way.
			return t.findSlow(k, now, bi, tag)
		}
		if now-m.seen[w] <= t.idle {
			m.seen[w] = now
			return f, slotRef{}, true
		}
		// Expired: its way is the one to reuse, so that a key is never in
		// the table twice.
		return nil, slotRef{bi, w, tag}, false
	}
	return nil, slotRef{bi, m.oldest(now), tag}, false
}

// way returns the first way tagged tag, or ways if there is none.
//
// Unlike oldest it branches: the processor then guesses the way, and
// starts loading the flow before the tags arrive; a new flow's packet
// matches no tag, which it predicts right.
func (m *meta) way(tag uint32) int {
	for i := range ways {
		if m.tags[i] == tag {
			return i
		}
	}
	return ways
}

// oldest returns the way a new flow takes: the first empty way, or else the
// first of those whose latest packet is oldest. It is written out for four
// ways.
func (m *meta) oldest(now uint32) int {
	// Each way's age, the greatest for an empty way, above its number
	// counted from the last, so that the maximum is the first oldest way.
	key := func(i int) uint64 {
		empty := (uint64(m.tags[i]) - 1) >> 63
		age := uint64(now-m.seen[i]) | -empty&0xffffffff
		return age<<2 | uint64(ways-1-i)
	}
	return ways - 1 - int(max(key(0), key(1), key(2), key(3))&(ways-1))
}

// findSlow is find when a way holds k's tag but not k.
func (t *FlowTable) findSlow(k *sdwan.FlowKey, now uint32, bi uint64, tag uint32) (*flow, slotRef, bool) {
	m := &t.meta[bi]
	for i := range ways {
		if f := &t.flows[bi][i]; m.tags[i] == tag && f.holds(k) {
			if now-m.seen[i] <= t.idle {
				m.seen[i] = now
				return f, slotRef{}, true
			}
			return nil, slotRef{bi, i, tag}, false
		}
	}
	return nil, slotRef{bi, m.oldest(now), tag}, false
}

// claim takes the way r for the flow of k, its first packet at now, and
// returns it with k's key. The caller must set every other field: they
// still hold the evicted flow's decision, as clearing them first would
// only store twice what the caller stores anyway.
func (t *FlowTable) claim(r slotRef, k *sdwan.FlowKey, now uint32) *flow {
	m := &t.meta[r.b]
	w := r.way & (ways - 1)
	m.tags[w], m.seen[w] = r.tag, now
	f := &t.flows[r.b][w]
	f.key = *k
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
