package classify

import (
	"github.com/patronus-sdwan/patronus/internal/sdwan"
)

// NoPath is the path handle of a decision that has no path: the policy
// drops, or no path to the destination is usable.
const NoPath = -1

// Slot is the decision for the traffic of one policy towards one peer.
type Slot struct {
	// Path is the handle of the path new flows take, or NoPath.
	Path int32
	// Drop says the policy drops the traffic.
	Drop bool
	// Epoch changes when the slot's flows must move to Path even though
	// their path is still eligible: a failback after the hold-down, or an
	// operator's forced failover being set or cleared.
	Epoch uint32
	// Version changes whenever Epoch or the slot's eligible paths change,
	// so a flow whose slot has the version it last saw needs no other
	// check.
	Version uint32
}

// Table is one generation of the engine's decisions: the compiled rules and,
// per (policy, peer) slot, the path for new flows and the paths flows may
// stay on. A Table is immutable once published; the engine builds a new one
// whenever policies or path states change.
type Table struct {
	Rules *Rules
	// Peers is the number of peers; slot (i, p) is Slots[i*Peers+p],
	// with i = len(Rules.Policies()) for unmatched traffic.
	Peers int
	Slots []Slot
	// Eligible holds, per slot, a bitmap of EligibleWords words over path
	// handles: the paths the slot's flows may stay on.
	Eligible      []uint64
	EligibleWords int
	// Gen numbers the table's Rules: it must change whenever the rules
	// (and so the slot numbering) change, and stay the same when only the
	// slots' decisions do, so that a path state change costs the flows no
	// new lookup.
	Gen uint32
}

func (t *Table) eligible(slot int32, path int32) bool {
	if path < 0 {
		return false
	}
	w := int(slot)*t.EligibleWords + int(path>>6)
	return int(path>>6) < t.EligibleWords && t.Eligible[w]&(1<<(path&63)) != 0
}

// SetEligible marks path as one the slot's flows may stay on.
func (t *Table) SetEligible(slot int, path int32) {
	t.Eligible[slot*t.EligibleWords+int(path>>6)] |= 1 << (path & 63)
}

// Result is the decision for one packet.
type Result struct {
	// PolicyID is the matching policy's ID, 0 for unmatched traffic.
	PolicyID int64
	// Path is the handle of the path to send on, or NoPath.
	Path int32
	// Drop says the policy drops the packet (Path is NoPath).
	Drop bool
	// NoRoute says no peer's prefixes hold the destination.
	NoRoute bool
	// Moved says the flow was re-pinned from another path by this packet.
	Moved bool
	// New says the packet started a flow the table did not know.
	New bool
}

// Classifier decides packets against the current Table, keeping the flows'
// pins in a FlowTable. It is not safe for concurrent use.
type Classifier struct {
	flows *FlowTable
}

// NewClassifier returns a Classifier over flows.
func NewClassifier(flows *FlowTable) *Classifier { return &Classifier{flows: flows} }

// Classify decides the packet of flow k at tick now under table t.
//
// A known flow under the same rules keeps its path while that path is
// eligible for its slot and the slot's epoch is unchanged; otherwise it
// moves to the slot's path. After the rules change a flow is looked up
// again, and keeps its path if its policy and that policy's action are the
// same and the path is still eligible, so an unrelated policy edit does
// not reorder anybody's traffic.
func (c *Classifier) Classify(k *sdwan.FlowKey, t *Table, now uint32) Result {
	f, ref, ok := c.flows.find(k, now)
	if ok && f.gen == t.Gen {
		s := &t.Slots[f.slot]
		if s.Version == f.ver {
			return Result{PolicyID: t.Rules.ids[f.pol], Path: int32(f.path), Drop: s.Drop}
		}
		f.ver = s.Version
		if s.Epoch == f.epoch && t.eligible(f.slot, int32(f.path)) {
			return Result{PolicyID: t.Rules.ids[f.pol], Path: int32(f.path), Drop: s.Drop}
		}
		moved := int32(f.path) != s.Path
		f.path, f.epoch = int16(s.Path), s.Epoch
		return Result{PolicyID: t.Rules.ids[f.pol], Path: s.Path, Drop: s.Drop, Moved: moved}
	}
	pol, peer := t.Rules.Lookup(k)
	pi := t.Rules.index(pol)
	id, fp := t.Rules.ids[pi], t.Rules.fps[pi]
	if peer == NoPeer {
		return Result{PolicyID: id, Path: NoPath, NoRoute: true}
	}
	slot := int32(pi*t.Peers + peer)
	s := &t.Slots[slot]
	if ok {
		// Known flow, new rules.
		keep := f.fp == fp && s.Epoch == f.epoch && t.eligible(slot, int32(f.path))
		moved := !keep && int32(f.path) != s.Path
		f.slot, f.pol, f.gen, f.epoch, f.fp, f.ver = slot, int32(pi), t.Gen, s.Epoch, fp, s.Version
		if !keep {
			f.path = int16(s.Path)
		}
		return Result{PolicyID: id, Path: int32(f.path), Drop: s.Drop, Moved: moved}
	}
	f = c.flows.claim(ref, k, now)
	f.path, f.slot, f.pol, f.gen, f.epoch, f.fp, f.ver = int16(s.Path), slot, int32(pi), t.Gen, s.Epoch, fp, s.Version
	return Result{PolicyID: id, Path: s.Path, Drop: s.Drop, New: true}
}
