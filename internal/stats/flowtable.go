package stats

import (
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
	"sync"
	"sync/atomic"

	"github.com/patronus-sdwan/patronus/internal/sdwan"
)

// The flow table is a set of shards, each an open-addressing hash table
// with linear probing over a flat array of fixed-size slots. A Go map
// would cost about 100 bytes a flow with its overhead, and its buckets
// could not be read while another goroutine writes; the slot array costs
// 48 bytes a slot, and a lookup of a flow already in the table reads it
// without taking the shard's lock, so packets of established flows on
// different cores never write a shared cache line for the lookup.
//
// Every word of a slot is an atomic, so that lock-free readers and the
// writer (always holding the shard's mutex) never race:
//
//   - Inserting into an empty slot writes the metadata and the address
//     words first and the word holding the occupied bit last, so a reader
//     sees either an empty slot or the whole entry.
//   - Moving entries (deletion with backward shift) and nothing else
//     makes the shard's sequence counter odd while it runs; a reader that
//     saw the counter change, or odd, retries under the lock.
//   - Growing builds a new array and publishes it with one pointer store;
//     the old one is never written again.

// slot holds one flow: the packed key (w[4] carries ports, protocol and
// the occupied bit, and is zero in an empty slot) and meta, the policy
// reference in the high 32 bits and the last-seen tick in the low 32.
type slot struct {
	w    [5]atomic.Uint64
	meta atomic.Uint64
}

// slotBytes is the size of one slot, for the occupancy metrics.
const slotBytes = 48

const usedBit = 1 << 40

// packedKey is a FlowKey as five machine words, the form slots hold.
type packedKey [5]uint64

func pack(k *sdwan.FlowKey) packedKey {
	return packedKey{
		binary.LittleEndian.Uint64(k.Src[0:8]),
		binary.LittleEndian.Uint64(k.Src[8:16]),
		binary.LittleEndian.Uint64(k.Dst[0:8]),
		binary.LittleEndian.Uint64(k.Dst[8:16]),
		uint64(k.SrcPort) | uint64(k.DstPort)<<16 | uint64(k.Proto)<<32 | usedBit,
	}
}

func (p *packedKey) unpack() sdwan.FlowKey {
	var k sdwan.FlowKey
	binary.LittleEndian.PutUint64(k.Src[0:8], p[0])
	binary.LittleEndian.PutUint64(k.Src[8:16], p[1])
	binary.LittleEndian.PutUint64(k.Dst[0:8], p[2])
	binary.LittleEndian.PutUint64(k.Dst[8:16], p[3])
	k.SrcPort, k.DstPort, k.Proto = uint16(p[4]), uint16(p[4]>>16), uint8(p[4]>>32)
	return k
}

func metaOf(ref, tick uint32) uint64 { return uint64(ref)<<32 | uint64(tick) }
func metaRef(m uint64) uint32        { return uint32(m >> 32) }
func metaTick(m uint64) uint32       { return uint32(m) }

// hasher is a keyed hash over packed keys, after wyhash's mixing step. The
// random key keeps a sender who chooses addresses and ports from steering
// flows into one probe chain.
type hasher struct{ k [4]uint64 }

func newHasher() hasher {
	return hasher{k: [4]uint64{rand.Uint64() | 1, rand.Uint64() | 1, rand.Uint64() | 1, rand.Uint64() | 1}}
}

func mix(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

func (h *hasher) hash(p *packedKey) uint64 { return h.sum(p[0], p[1], p[2], p[3], p[4]) }

// sum hashes the words of a packed key. It takes them as values so that
// the packet path, where it inlines, keeps them in registers.
func (h *hasher) sum(w0, w1, w2, w3, w4 uint64) uint64 {
	return mix(mix(w0^h.k[0], w1^h.k[1])^w4, mix(w2^h.k[2], w3^h.k[3]))
}

// table is one shard's slot array.
type table struct{ slots []slot }

// home maps a hash to its slot with a multiply-shift instead of a modulo,
// so the array need not be a power of two and can be sized to capacity.
// It uses the hash's high bits; the low bits choose the shard.
func (t *table) home(h uint64) int {
	return int(((h >> 32) * uint64(len(t.slots))) >> 32)
}

func (t *table) load(i int) packedKey {
	s := &t.slots[i]
	return packedKey{s.w[0].Load(), s.w[1].Load(), s.w[2].Load(), s.w[3].Load(), s.w[4].Load()}
}

// find returns the index and metadata of k's slot or, when k is absent,
// the bitwise complement of the empty slot that ended the search, where
// k would go. It is safe without the lock, but then its answer is only good
// if the shard's sequence counter did not change meanwhile.
func (t *table) find(h uint64, k *packedKey) (int, uint64) {
	n := len(t.slots)
	i := t.home(h)
	for range n {
		s := &t.slots[i]
		w4 := s.w[4].Load()
		if w4 == 0 {
			return ^i, 0
		}
		if w4 == k[4] && s.w[1].Load() == k[1] && s.w[3].Load() == k[3] &&
			s.w[0].Load() == k[0] && s.w[2].Load() == k[2] {
			return i, s.meta.Load()
		}
		if i++; i == n {
			i = 0
		}
	}
	return ^n, 0 // a torn read of a moving table; the locked retry will tell
}

// put stores k in the first empty slot of its probe chain. The caller
// holds the lock and knows k is absent and a slot is free.
func (t *table) put(h uint64, k *packedKey, meta uint64) {
	n := len(t.slots)
	i := t.home(h)
	for t.slots[i].w[4].Load() != 0 {
		if i++; i == n {
			i = 0
		}
	}
	t.putAt(i, k, meta)
}

// putAt stores k in the empty slot i.
func (t *table) putAt(i int, k *packedKey, meta uint64) {
	s := &t.slots[i]
	s.meta.Store(meta)
	s.w[0].Store(k[0])
	s.w[1].Store(k[1])
	s.w[2].Store(k[2])
	s.w[3].Store(k[3])
	s.w[4].Store(k[4]) // last: publishes the entry
}

// remove empties slot i and shifts back the entries after it whose probe
// chain passed through it, leaving no tombstones. The caller holds the
// lock and has made the sequence counter odd.
func (t *table) remove(i int, hs *hasher) {
	n := len(t.slots)
	for j := i; ; {
		if j++; j == n {
			j = 0
		}
		if t.slots[j].w[4].Load() == 0 {
			break
		}
		pk := t.load(j)
		k := t.home(hs.hash(&pk))
		// The entry at j may fill the hole at i unless its home lies
		// cyclically in (i, j].
		if (i < j && (k <= i || k > j)) || (i > j && k <= i && k > j) {
			d, s := &t.slots[i], &t.slots[j]
			d.w[4].Store(0)
			d.meta.Store(s.meta.Load())
			d.w[0].Store(pk[0])
			d.w[1].Store(pk[1])
			d.w[2].Store(pk[2])
			d.w[3].Store(pk[3])
			d.w[4].Store(pk[4])
			i = j
		}
	}
	s := &t.slots[i]
	s.w[4].Store(0)
	s.meta.Store(0)
	for w := range 4 {
		s.w[w].Store(0)
	}
}

// Load factor bound: a shard grows past 7/10 full. Linear probing's misses
// (every new flow is one) lengthen quickly beyond that: about 6 probes at
// 0.7, 13 at 0.8. At 0.7 a full table costs 69 bytes a flow.
const (
	loadNum = 7
	loadDen = 10
	// minSlots is a new shard's first array.
	minSlots = 64
)

// shard is one lock's worth of the flow table. The padding keeps two
// shards' hot words off one cache line.
type shard struct {
	seq atomic.Uint64 // odd while entries move
	tab atomic.Pointer[table]

	mu       sync.Mutex
	live     int // flows held; guarded by mu
	max      int // flows this shard may hold
	maxSlots int

	hand      int          // where the next eviction sweep starts; guarded by mu
	flows     atomic.Int64 // live, for readers without the lock
	evictions atomic.Uint64
	expired   atomic.Uint64
	_         [64]byte
}

func (sh *shard) init(maxFlows int) {
	sh.max = maxFlows
	sh.maxSlots = max(8, (maxFlows*loadDen+loadNum-1)/loadNum)
	sh.tab.Store(&table{slots: make([]slot, min(minSlots, sh.maxSlots))})
}

// lookup finds k without the lock. ok is false when the answer cannot be
// trusted because entries moved meanwhile.
func (sh *shard) lookup(h uint64, k *packedKey) (meta uint64, found, ok bool) {
	s1 := sh.seq.Load()
	if s1&1 != 0 {
		return 0, false, false
	}
	i, meta := sh.tab.Load().find(h, k)
	return meta, i >= 0, sh.seq.Load() == s1
}

// grow moves the shard to a larger array if the next insert would pass the
// load factor and the shard may still grow. The caller holds the lock.
func (sh *shard) grow(hs *hasher) *table {
	t := sh.tab.Load()
	n := len(t.slots)
	if (sh.live+1)*loadDen <= n*loadNum || n >= sh.maxSlots {
		return t
	}
	nt := &table{slots: make([]slot, min(2*n, sh.maxSlots))}
	for i := range t.slots {
		if t.slots[i].w[4].Load() == 0 {
			continue
		}
		pk := t.load(i)
		nt.put(hs.hash(&pk), &pk, t.slots[i].meta.Load())
	}
	sh.tab.Store(nt)
	return nt
}

// sweep removes, up to limit, the flows whose metadata drop accepts,
// calling gone for each, and returns how many it removed and the slot
// after the last one it examined. It examines slots in order from start,
// wrapping around. The caller holds the lock.
func (sh *shard) sweep(hs *hasher, start, limit int, drop func(meta uint64) bool, gone func(meta uint64)) (removed, next int) {
	t := sh.tab.Load()
	n := len(t.slots)
	sh.seq.Add(1)
	i := start % n
	for seen := 0; seen < n && removed < limit; {
		s := &t.slots[i]
		if s.w[4].Load() != 0 {
			if m := s.meta.Load(); drop(m) {
				gone(m)
				t.remove(i, hs)
				removed++
				continue // slot i now holds a shifted entry, not yet seen
			}
		}
		if i++; i == n {
			i = 0
		}
		seen++
	}
	sh.seq.Add(1)
	sh.live -= removed
	sh.flows.Store(int64(sh.live))
	return removed, i
}
