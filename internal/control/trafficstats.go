package control

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/patronus-sdwan/patronus/internal/auth"
	"github.com/patronus-sdwan/patronus/internal/sdwan"
	"github.com/patronus-sdwan/patronus/internal/stats"
	"github.com/patronus-sdwan/patronus/internal/store"
)

// TrafficStats is the controller's side of traffic accounting: it applies
// the edges' per-policy delta reports exactly once (stats.Aggregator),
// serves the live totals behind packets_matched and bytes_matched, writes
// periodic snapshots to sdwan_policy_stats and enforces their retention.
//
// Live totals are the last snapshot taken before this process started
// (base) plus what the aggregator has applied since, so a restart does not
// send the counters back to zero.
type TrafficStats struct {
	st  *store.Store
	log *slog.Logger
	now func() time.Time
	agg *stats.Aggregator

	mu   sync.RWMutex
	base map[baseKey]stats.Totals // by (policy, site); site "" is all sites
}

type baseKey struct {
	policy int64
	site   string
}

// Retention says how long statistics are kept.
type Retention struct {
	Raw    time.Duration // raw snapshots; default 7 days
	Hourly time.Duration // hourly roll-ups; default 90 days
}

// DefaultRetention is the retention the controller runs with.
var DefaultRetention = Retention{Raw: 7 * 24 * time.Hour, Hourly: 90 * 24 * time.Hour}

// NewTrafficStats loads the latest snapshots as the base of the live
// totals.
func NewTrafficStats(ctx context.Context, st *store.Store, log *slog.Logger, now func() time.Time) (*TrafficStats, error) {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	t := &TrafficStats{st: st, log: log, now: now, agg: stats.NewAggregator(), base: map[baseKey]stats.Totals{}}
	rows, err := st.Read().LatestPolicyStatsAll(ctx)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		// Active flows are a gauge: an old reading says nothing about now.
		t.base[baseKey{r.PolicyID, r.SiteID}] = stats.Totals{Packets: r.PacketsMatched, Bytes: r.BytesMatched}
	}
	return t, nil
}

// Apply applies an edge's report. The edge may report only for its own
// site. It returns whether the report was new; either way the edge should
// treat its sequence number as acknowledged.
func (t *TrafficStats) Apply(p auth.Principal, r *stats.Report) (bool, error) {
	if err := Require(p, sdwan.RoleEdge); err != nil {
		return false, err
	}
	if r.Site != p.SiteID {
		return false, fmt.Errorf("%w: an edge reports only for its own site", sdwan.ErrForbidden)
	}
	ok, err := t.agg.Apply(r)
	if err != nil {
		return false, fmt.Errorf("%w: %v", sdwan.ErrInvalid, err)
	}
	return ok, nil
}

// PolicyTotals returns a policy's live totals over every site.
func (t *TrafficStats) PolicyTotals(policyID int64) stats.Totals {
	t.mu.RLock()
	b := t.base[baseKey{policyID, ""}]
	t.mu.RUnlock()
	return addTotals(b, t.agg.PolicyTotals(policyID))
}

// SitePolicyTotals returns a policy's live totals at one site.
func (t *TrafficStats) SitePolicyTotals(siteID string, policyID int64) stats.Totals {
	t.mu.RLock()
	b := t.base[baseKey{policyID, siteID}]
	t.mu.RUnlock()
	return addTotals(b, t.agg.SitePolicyTotals(siteID, policyID))
}

// SiteTotals returns a site's live totals over every policy.
func (t *TrafficStats) SiteTotals(siteID string) stats.Totals {
	var b stats.Totals
	t.mu.RLock()
	for k, v := range t.base {
		if k.site == siteID && siteID != "" {
			b = addTotals(b, v)
		}
	}
	t.mu.RUnlock()
	return addTotals(b, t.agg.SiteTotals(siteID))
}

// AllPolicyTotals returns the live totals of every policy that has
// traffic, ordered by policy ID.
func (t *TrafficStats) AllPolicyTotals() []stats.PolicyTotals {
	live := t.agg.AllPolicyTotals()
	seen := make(map[int64]bool, len(live))
	out := make([]stats.PolicyTotals, 0, len(live))
	t.mu.RLock()
	for _, pt := range live {
		seen[pt.PolicyID] = true
		out = append(out, stats.PolicyTotals{PolicyID: pt.PolicyID, Totals: addTotals(t.base[baseKey{pt.PolicyID, ""}], pt.Totals)})
	}
	for k, v := range t.base {
		if k.site == "" && !seen[k.policy] {
			out = append(out, stats.PolicyTotals{PolicyID: k.policy, Totals: v})
		}
	}
	t.mu.RUnlock()
	slices.SortFunc(out, func(a, b stats.PolicyTotals) int { return cmp.Compare(a.PolicyID, b.PolicyID) })
	return out
}

// addTotals adds the live totals to the base; the active-flow gauge is
// the live one alone.
func addTotals(base, live stats.Totals) stats.Totals {
	live.Packets += base.Packets
	live.Bytes += base.Bytes
	live.FlowsOpened += base.FlowsOpened
	return live
}

// Snapshot writes the live totals of every known policy, per site and
// over all sites, as one timestamped set of rows. Policies deleted since
// are skipped.
func (t *TrafficStats) Snapshot(ctx context.Context) (int, error) {
	now := t.now().UTC()
	return t.snapshotAt(ctx, now)
}

func (t *TrafficStats) snapshotAt(ctx context.Context, at time.Time) (int, error) {
	policies, _, err := t.st.Read().ListPolicies(ctx, store.PolicyFilter{}, store.Page{Limit: store.MaxLimit})
	if err != nil {
		return 0, err
	}
	sites, _, err := t.st.Read().ListSites(ctx, store.SiteFilter{}, store.Page{Limit: store.MaxLimit})
	if err != nil {
		return 0, err
	}
	var rows []sdwan.PolicyStats
	for _, p := range policies {
		all := t.PolicyTotals(p.ID)
		if all == (stats.Totals{}) {
			continue
		}
		rows = append(rows, sdwan.PolicyStats{PolicyID: p.ID, Timestamp: at, PacketsMatched: all.Packets, BytesMatched: all.Bytes, ActiveFlows: all.ActiveFlows})
		for _, s := range sites {
			st := t.SitePolicyTotals(s.ID, p.ID)
			if st == (stats.Totals{}) {
				continue
			}
			rows = append(rows, sdwan.PolicyStats{PolicyID: p.ID, SiteID: s.ID, Timestamp: at, PacketsMatched: st.Packets, BytesMatched: st.Bytes, ActiveFlows: st.ActiveFlows})
		}
	}
	if len(rows) == 0 {
		return 0, nil
	}
	err = t.st.Tx(ctx, func(q store.Q) error { return q.AddPolicyStats(ctx, rows...) })
	if err != nil {
		return 0, err
	}
	return len(rows), nil
}

// Retain rolls raw snapshots up to hourly rows and deletes what is past
// its retention.
func (t *TrafficStats) Retain(ctx context.Context, r Retention) error {
	now := t.now()
	return t.st.Tx(ctx, func(q store.Q) error {
		if _, err := q.RollUpPolicyStats(ctx, now); err != nil {
			return err
		}
		if _, err := q.PrunePolicyStats(ctx, store.ResolutionRaw, now.Add(-r.Raw)); err != nil {
			return err
		}
		_, err := q.PrunePolicyStats(ctx, store.ResolutionHourly, now.Add(-r.Hourly))
		return err
	})
}
