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

// policyCounters are one policy's counters.
type policyCounters struct {
	id  int64
	ref uint32 // this policy's number in flow metadata, from 1

	// Baselines subtracted by PolicyStats after a reset.
	basePackets atomic.Uint64
	baseBytes   atomic.Uint64

	stripes []stripe
}

// raw sums the stripes.
func (p *policyCounters) raw() (packets, bytes, opened, active uint64) {
	for i := range p.stripes {
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
	for i := range p.stripes {
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

// policyIndex maps policy IDs and refs to counters. It is immutable once
// published: adding a policy copies it, which happens once per policy, so
// the packet path reads it with one atomic load and no lock.
type policyIndex struct {
	dense  []*policyCounters // by ID, for IDs in [0, denseLimit)
	sparse map[int64]*policyCounters
	byRef  []*policyCounters // byRef[ref-1]
}

func (x *policyIndex) get(id int64) *policyCounters {
	if uint64(id) < uint64(len(x.dense)) {
		return x.dense[id]
	}
	return x.sparse[id]
}

// policies is the registry of policies seen.
type policies struct {
	idx     atomic.Pointer[policyIndex]
	mu      sync.Mutex // serialises adds
	stripes int
}

func (ps *policies) init() {
	// A stripe per core: readers sum them all, so more would slow
	// PolicyStats for little gain.
	n := 1
	for n < runtime.GOMAXPROCS(0) && n < 16 {
		n *= 2
	}
	ps.stripes = n
	ps.idx.Store(&policyIndex{})
}

// get returns id's counters, adding them on first sight.
func (ps *policies) get(id int64) *policyCounters {
	if p := ps.idx.Load().get(id); p != nil {
		return p
	}
	return ps.add(id)
}

func (ps *policies) add(id int64) *policyCounters {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	old := ps.idx.Load()
	if p := old.get(id); p != nil {
		return p
	}
	p := &policyCounters{id: id, ref: uint32(len(old.byRef) + 1), stripes: make([]stripe, ps.stripes)}
	x := &policyIndex{dense: old.dense, sparse: old.sparse, byRef: append(old.byRef[:len(old.byRef):len(old.byRef)], p)}
	if id >= 0 && id < denseLimit {
		x.dense = make([]*policyCounters, max(len(old.dense), int(id)+1))
		copy(x.dense, old.dense)
		x.dense[id] = p
	} else {
		x.sparse = make(map[int64]*policyCounters, len(old.sparse)+1)
		for k, v := range old.sparse {
			x.sparse[k] = v
		}
		x.sparse[id] = p
	}
	ps.idx.Store(x)
	return p
}

// byRef returns the counters a flow's metadata refers to.
func (ps *policies) byRef(ref uint32) *policyCounters {
	return ps.idx.Load().byRef[ref-1]
}
