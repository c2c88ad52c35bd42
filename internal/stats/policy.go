package stats

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// stripe is one slice of a policy's counters. Writers on different shards
// add to different stripes, so two cores counting packets of one policy
// do not fight over one cache line; readers sum the stripes. All counters
// only ever grow: a reset records a baseline instead, so the reporter's
// deltas and Prometheus counters never see them go backwards.
type stripe struct {
	packets atomic.Uint64
	bytes   atomic.Uint64
	// active counts the policy's flows in the shards that map to this
	// stripe, and opened the flows that ever entered them. Both change
	// only under the lock of one of those shards, which is what lets
	// UpdateFlowCounts audit active against the table.
	active atomic.Uint64
	opened atomic.Uint64
	_      [128 - 32]byte // one stripe per 128 bytes: two cache lines, against adjacent-line prefetch
}

// maxStripes bounds a policy's stripes: beyond eight cores, cores share.
const maxStripes = 8

// policyCounters are one policy's counters. The stripes are inline, not
// behind a slice, to save the packet path a dependent load.
type policyCounters struct {
	ref  uint32 // this policy's number in flow metadata, from 1
	n    uint32 // stripes in use, a power of two
	mask uint64 // n-1
	id   int64

	// Baselines subtracted by PolicyStats after a reset.
	basePackets atomic.Uint64
	baseBytes   atomic.Uint64
	_           [128 - 40]byte

	stripes [maxStripes]stripe
}

// stripe returns the stripe that shard si writes.
func (p *policyCounters) stripe(si uint64) *stripe { return &p.stripes[si&p.mask] }

// raw sums the stripes.
func (p *policyCounters) raw() (packets, bytes, opened, active uint64) {
	for i := range p.stripes[:p.n] {
		s := &p.stripes[i]
		packets += s.packets.Load()
		bytes += s.bytes.Load()
		opened += s.opened.Load()
		active += s.active.Load()
	}
	return packets, bytes, opened, active
}

// live sums the stripes for PolicyStats, reading only what it needs.
func (p *policyCounters) live() (packets, bytes, active uint64) {
	for i := range p.stripes[:p.n] {
		s := &p.stripes[i]
		packets += s.packets.Load()
		bytes += s.bytes.Load()
		active += s.active.Load()
	}
	return packets, bytes, active
}

func sub0(a, b uint64) uint64 {
	if a < b {
		return 0
	}
	return a - b
}

// denseLimit bounds the policy IDs looked up by index rather than by map.
// Policy IDs come from the store's sequence and are small.
const denseLimit = 1 << 12

// policyIndex lists the policies by ref and holds those whose IDs are
// outside the dense range. It is immutable once published: adding a policy
// copies it, which happens once per policy.
type policyIndex struct {
	sparse map[int64]*policyCounters
	byRef  []*policyCounters // byRef[ref-1]
}

// policies is the registry of policies seen. The packet path finds a policy
// with a small ID in one load from dense, without a lock.
type policies struct {
	dense   [denseLimit]atomic.Pointer[policyCounters]
	idx     atomic.Pointer[policyIndex]
	mu      sync.Mutex // serialises adds
	stripes int
}

func (ps *policies) init() {
	// A stripe per core: readers sum them all, so more would slow
	// PolicyStats for little gain.
	n := 1
	for n < runtime.GOMAXPROCS(0) && n < maxStripes {
		n *= 2
	}
	ps.stripes = n
	ps.idx.Store(&policyIndex{})
}

// lookup returns id's counters, or nil if the policy is unknown.
func (ps *policies) lookup(id int64) *policyCounters {
	if uint64(id) < denseLimit {
		return ps.dense[id].Load()
	}
	return ps.idx.Load().sparse[id]
}

// get returns id's counters, adding them on first sight.
func (ps *policies) get(id int64) *policyCounters {
	if p := ps.lookup(id); p != nil {
		return p
	}
	return ps.add(id)
}

func (ps *policies) add(id int64) *policyCounters {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if p := ps.lookup(id); p != nil {
		return p
	}
	old := ps.idx.Load()
	p := &policyCounters{id: id, ref: uint32(len(old.byRef) + 1), n: uint32(ps.stripes), mask: uint64(ps.stripes - 1)}
	x := &policyIndex{sparse: old.sparse, byRef: append(old.byRef[:len(old.byRef):len(old.byRef)], p)}
	if uint64(id) >= denseLimit {
		x.sparse = make(map[int64]*policyCounters, len(old.sparse)+1)
		for k, v := range old.sparse {
			x.sparse[k] = v
		}
		x.sparse[id] = p
	}
	// Publish the index first, so that a flow stamped with the new ref
	// always finds it in byRef.
	ps.idx.Store(x)
	if uint64(id) < denseLimit {
		ps.dense[id].Store(p)
	}
	return p
}

// byRef returns the counters a flow's metadata refers to.
func (ps *policies) byRef(ref uint32) *policyCounters {
	return ps.idx.Load().byRef[ref-1]
}
