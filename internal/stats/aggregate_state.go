package stats

import (
	"cmp"
	"maps"
	"slices"
	"time"
)

// AggregatorState is everything an Aggregator knows, in a form that
// encodes to JSON: the controller stores it so that another replica, or
// this one after a restart, carries on from exactly the same totals and
// the same last report per edge.
type AggregatorState struct {
	Edges        []EdgeMark         `json:"edges,omitempty"`
	Policies     []PolicyTotals     `json:"policies,omitempty"`
	Sites        []SiteTotals       `json:"sites,omitempty"`
	SitePolicies []SitePolicyTotals `json:"sitePolicies,omitempty"`
}

// EdgeMark is an edge's last applied report and its latest active-flow
// gauge per policy.
type EdgeMark struct {
	Edge   string           `json:"edge"`
	Site   string           `json:"site"`
	Epoch  uint64           `json:"epoch"`
	Seq    uint64           `json:"seq"`
	Seen   time.Time        `json:"seen"`
	Active map[int64]uint64 `json:"active,omitempty"`
}

// SiteTotals are one site's totals over every policy.
type SiteTotals struct {
	Site string `json:"site"`
	Totals
}

// SitePolicyTotals are one policy's totals at one site.
type SitePolicyTotals struct {
	Site     string `json:"site"`
	PolicyID int64  `json:"policyId"`
	Totals
}

// State returns a copy of the aggregator's state, in a stable order.
func (a *Aggregator) State() AggregatorState {
	a.mu.RLock()
	defer a.mu.RUnlock()
	var s AggregatorState
	for name, e := range a.edges {
		s.Edges = append(s.Edges, EdgeMark{Edge: name, Site: e.site, Epoch: e.epoch, Seq: e.seq, Seen: e.seen, Active: maps.Clone(e.active)})
	}
	for id, t := range a.policies {
		s.Policies = append(s.Policies, PolicyTotals{PolicyID: id, Totals: *t})
	}
	for site, t := range a.sites {
		s.Sites = append(s.Sites, SiteTotals{Site: site, Totals: *t})
	}
	for k, t := range a.sitePolicies {
		s.SitePolicies = append(s.SitePolicies, SitePolicyTotals{Site: k.site, PolicyID: k.policy, Totals: *t})
	}
	slices.SortFunc(s.Edges, func(x, y EdgeMark) int { return cmp.Compare(x.Edge, y.Edge) })
	slices.SortFunc(s.Policies, func(x, y PolicyTotals) int { return cmp.Compare(x.PolicyID, y.PolicyID) })
	slices.SortFunc(s.Sites, func(x, y SiteTotals) int { return cmp.Compare(x.Site, y.Site) })
	slices.SortFunc(s.SitePolicies, func(x, y SitePolicyTotals) int {
		return cmp.Or(cmp.Compare(x.Site, y.Site), cmp.Compare(x.PolicyID, y.PolicyID))
	})
	return s
}

// RestoreAggregator returns an Aggregator in the state s; reports are
// then applied on top of it as usual, those not past an edge's mark
// discarded.
func RestoreAggregator(s AggregatorState) *Aggregator {
	a := NewAggregator()
	for _, m := range s.Edges {
		active := maps.Clone(m.Active)
		if active == nil {
			active = make(map[int64]uint64)
		}
		a.edges[m.Edge] = &edgeState{site: m.Site, epoch: m.Epoch, seq: m.Seq, seen: m.Seen, active: active}
	}
	for _, t := range s.Policies {
		*totalsFor(a.policies, t.PolicyID) = t.Totals
	}
	for _, t := range s.Sites {
		*totalsFor(a.sites, t.Site) = t.Totals
	}
	for _, t := range s.SitePolicies {
		*totalsFor(a.sitePolicies, sitePolicy{t.Site, t.PolicyID}) = t.Totals
	}
	return a
}

// Mark returns the epoch and sequence of the last report applied for
// edge, zeros if none was.
func (a *Aggregator) Mark(edge string) (epoch, seq uint64) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	if e := a.edges[edge]; e != nil {
		return e.epoch, e.seq
	}
	return 0, 0
}

// IsNew reports whether Apply would apply r now rather than discard it
// as a re-send.
func (a *Aggregator) IsNew(r *Report) bool {
	epoch, seq := a.Mark(r.Edge)
	return r.Epoch > epoch || (r.Epoch == epoch && r.Seq > seq)
}
