package stats

import (
	"cmp"
	"errors"
	"slices"
	"sync"
	"time"
)

// Totals are traffic totals the controller keeps from edge reports.
type Totals struct {
	Packets     uint64
	Bytes       uint64
	FlowsOpened uint64
	// ActiveFlows sums the latest active-flow gauge of every edge.
	ActiveFlows uint64
}

func (t *Totals) add(d *Delta) {
	t.Packets += d.Packets
	t.Bytes += d.Bytes
	t.FlowsOpened += d.FlowsOpened
}

// PolicyTotals are one policy's totals.
type PolicyTotals struct {
	PolicyID int64
	Totals
}

// Aggregator applies the reports of many edges to live per-policy and
// per-site totals. Each report is applied at most once: a report whose
// (epoch, sequence) is not past the last one applied for its edge is a
// re-send or a stray and is discarded. The protocol is the Reporter's:
// the caller acknowledges every report it was given, applied or
// discarded, so the edge moves on.
//
// An Aggregator is safe for concurrent use.
type Aggregator struct {
	mu           sync.RWMutex
	edges        map[string]*edgeState
	policies     map[int64]*Totals
	sites        map[string]*Totals
	sitePolicies map[sitePolicy]*Totals
}

type sitePolicy struct {
	site   string
	policy int64
}

type edgeState struct {
	site   string
	epoch  uint64
	seq    uint64
	seen   time.Time        // when its last report was taken
	active map[int64]uint64 // latest gauge per policy
}

// NewAggregator returns an empty Aggregator.
func NewAggregator() *Aggregator {
	return &Aggregator{
		edges:        make(map[string]*edgeState),
		policies:     make(map[int64]*Totals),
		sites:        make(map[string]*Totals),
		sitePolicies: make(map[sitePolicy]*Totals),
	}
}

// ErrBadReport is returned by Apply for a report that names no edge or has
// no sequence number.
var ErrBadReport = errors.New("stats: report without edge or sequence")

// Apply adds the report's deltas to the totals and returns true, or
// returns false without change when the report is not newer than the last
// one applied for its edge. Either way the caller should acknowledge the
// report's sequence number to the edge.
func (a *Aggregator) Apply(r *Report) (bool, error) { return a.ApplySeen(r, r.Time) }

// ApplySeen is Apply for a report taken at seen (the controller's time,
// which ExpireGauges compares; Apply uses the report's own).
func (a *Aggregator) ApplySeen(r *Report, seen time.Time) (bool, error) {
	if r.Edge == "" || r.Seq == 0 {
		return false, ErrBadReport
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	e := a.edges[r.Edge]
	switch {
	case e == nil:
		e = &edgeState{site: r.Site, epoch: r.Epoch, active: make(map[int64]uint64)}
		a.edges[r.Edge] = e
	case r.Epoch < e.epoch || (r.Epoch == e.epoch && r.Seq <= e.seq):
		return false, nil
	case r.Epoch > e.epoch || r.Site != e.site:
		// A new run of the edge, or the edge moved: its old gauges no
		// longer describe anything.
		a.clearActive(e)
		e.site, e.epoch = r.Site, r.Epoch
	}
	e.seq, e.seen = r.Seq, seen
	for i := range r.Deltas {
		d := &r.Deltas[i]
		totalsFor(a.policies, d.PolicyID).add(d)
		totalsFor(a.sites, r.Site).add(d)
		totalsFor(a.sitePolicies, sitePolicy{r.Site, d.PolicyID}).add(d)
		a.setActive(e, d.PolicyID, d.ActiveFlows)
	}
	return true, nil
}

func totalsFor[K comparable](m map[K]*Totals, k K) *Totals {
	t := m[k]
	if t == nil {
		t = new(Totals)
		m[k] = t
	}
	return t
}

// setActive replaces edge e's active-flow gauge for a policy in every total
// it feeds.
func (a *Aggregator) setActive(e *edgeState, policy int64, v uint64) {
	old := e.active[policy]
	if v == 0 {
		delete(e.active, policy)
	} else {
		e.active[policy] = v
	}
	totalsFor(a.policies, policy).ActiveFlows += v - old // modular: adds the signed change
	totalsFor(a.sites, e.site).ActiveFlows += v - old
	totalsFor(a.sitePolicies, sitePolicy{e.site, policy}).ActiveFlows += v - old
}

// clearActive zeroes every active-flow gauge of edge e.
func (a *Aggregator) clearActive(e *edgeState) {
	for id := range e.active {
		a.setActive(e, id, 0)
	}
}

// ExpireGauges zeroes the active-flow gauges of edges whose last report
// was taken before cutoff: an edge that stopped reporting (Reporters send
// a heartbeat) has no flows anyone can vouch for. Their sequence marks
// stay, so a late re-send is still discarded. It returns how many edges'
// gauges it zeroed.
func (a *Aggregator) ExpireGauges(cutoff time.Time) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, e := range a.edges {
		if len(e.active) == 0 || !e.seen.Before(cutoff) {
			continue
		}
		a.clearActive(e)
		n++
	}
	return n
}

// PolicyTotals returns a policy's totals over every site.
func (a *Aggregator) PolicyTotals(policyID int64) Totals {
	a.mu.RLock()
	defer a.mu.RUnlock()
	if t := a.policies[policyID]; t != nil {
		return *t
	}
	return Totals{}
}

// SiteTotals returns a site's totals over every policy.
func (a *Aggregator) SiteTotals(site string) Totals {
	a.mu.RLock()
	defer a.mu.RUnlock()
	if t := a.sites[site]; t != nil {
		return *t
	}
	return Totals{}
}

// SitePolicyTotals returns one policy's totals at one site.
func (a *Aggregator) SitePolicyTotals(site string, policyID int64) Totals {
	a.mu.RLock()
	defer a.mu.RUnlock()
	if t := a.sitePolicies[sitePolicy{site, policyID}]; t != nil {
		return *t
	}
	return Totals{}
}

// AllPolicyTotals returns every policy's totals, ordered by policy ID.
func (a *Aggregator) AllPolicyTotals() []PolicyTotals {
	a.mu.RLock()
	defer a.mu.RUnlock()
	out := make([]PolicyTotals, 0, len(a.policies))
	for id, t := range a.policies {
		out = append(out, PolicyTotals{PolicyID: id, Totals: *t})
	}
	slices.SortFunc(out, func(x, y PolicyTotals) int { return cmp.Compare(x.PolicyID, y.PolicyID) })
	return out
}
