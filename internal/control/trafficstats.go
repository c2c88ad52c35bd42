package control

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/patronus-sdwan/patronus/internal/auth"
	"github.com/patronus-sdwan/patronus/internal/events"
	"github.com/patronus-sdwan/patronus/internal/sdwan"
	"github.com/patronus-sdwan/patronus/internal/stats"
	"github.com/patronus-sdwan/patronus/internal/store"
)

// TrafficStats is the controller's side of traffic accounting: it applies
// the edges' per-policy delta reports exactly once (stats.Aggregator),
// serves the live totals behind packets_matched and bytes_matched, writes
// periodic snapshots to sdwan_policy_stats and enforces their retention.
//
// Every replica keeps the same totals. A replica that accepts a report
// logs it in the store (sdwan_traffic_reports) before applying it, and
// announces it on the event bus; the other replicas read the edge's new
// reports from the log and apply them, in the edge's order, so each
// report counts once everywhere, whichever replica the edge reached. Fold
// stores the whole aggregator state and prunes the folded reports; a
// replica that starts loads that state and applies the reports logged
// since, so a restart neither loses counts nor counts twice.
type TrafficStats struct {
	st  *store.Store
	bus *events.Bus // nil: a single replica that tells nobody
	log *slog.Logger
	now func() time.Time
	agg *stats.Aggregator
}

// reportKeep is how long a folded report stays in the log: a replica
// that falls further behind than this on an edge loses its reports.
const reportKeep = 10 * time.Minute

// Retention says how long statistics are kept.
type Retention struct {
	Raw    time.Duration // raw snapshots; default 7 days
	Hourly time.Duration // hourly roll-ups; default 90 days
}

// DefaultRetention is the retention the controller runs with.
var DefaultRetention = Retention{Raw: 7 * 24 * time.Hour, Hourly: 90 * 24 * time.Hour}

// NewTrafficStats loads the stored traffic state and applies the reports
// logged since. bus may be nil when this is the only replica.
func NewTrafficStats(ctx context.Context, st *store.Store, bus *events.Bus, log *slog.Logger, now func() time.Time) (*TrafficStats, error) {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	agg, err := loadAggregator(ctx, st, now())
	if err != nil {
		return nil, err
	}
	t := &TrafficStats{st: st, bus: bus, log: log, now: now, agg: agg}
	logged, err := st.Read().TrafficReports(ctx)
	if err != nil {
		return nil, err
	}
	t.applyLogged(logged)
	return t, nil
}

// loadAggregator restores the stored traffic state. A store from before
// the traffic log has none: the first replica to start stores one made of
// the latest snapshots, without active-flow gauges (an old reading cannot
// vouch for them), before any report is logged, so that no report is
// counted both in a snapshot and from the log.
func loadAggregator(ctx context.Context, st *store.Store, now time.Time) (*stats.Aggregator, error) {
	body, ok, err := st.Read().TrafficState(ctx)
	if err != nil {
		return nil, err
	}
	if !ok {
		seed, err := snapshotState(ctx, st)
		if err != nil {
			return nil, err
		}
		if err := st.Tx(ctx, func(q store.Q) error { return q.InitTrafficState(ctx, seed, now) }); err != nil {
			return nil, err
		}
		if body, _, err = st.Read().TrafficState(ctx); err != nil {
			return nil, err
		}
	}
	var s stats.AggregatorState
	if err := json.Unmarshal(body, &s); err != nil {
		return nil, fmt.Errorf("control: stored traffic state: %w", err)
	}
	return stats.RestoreAggregator(s), nil
}

// snapshotState is the traffic state the latest snapshots describe.
func snapshotState(ctx context.Context, st *store.Store) ([]byte, error) {
	rows, err := st.Read().LatestPolicyStatsAll(ctx)
	if err != nil {
		return nil, err
	}
	var s stats.AggregatorState
	sites := map[string]stats.Totals{}
	for _, r := range rows {
		tot := stats.Totals{Packets: r.PacketsMatched, Bytes: r.BytesMatched}
		if r.SiteID == "" {
			s.Policies = append(s.Policies, stats.PolicyTotals{PolicyID: r.PolicyID, Totals: tot})
			continue
		}
		s.SitePolicies = append(s.SitePolicies, stats.SitePolicyTotals{Site: r.SiteID, PolicyID: r.PolicyID, Totals: tot})
		sites[r.SiteID] = addTotals(sites[r.SiteID], tot)
	}
	for site, tot := range sites {
		s.Sites = append(s.Sites, stats.SiteTotals{Site: site, Totals: tot})
	}
	return json.Marshal(s)
}

// Apply applies an edge's report. The edge may report only for its own
// site. It returns whether the report was new; either way the edge should
// treat its sequence number as acknowledged.
func (t *TrafficStats) Apply(ctx context.Context, p auth.Principal, r *stats.Report) (bool, error) {
	if err := Require(p, sdwan.RoleEdge); err != nil {
		return false, err
	}
	if r.Site != p.SiteID {
		return false, fmt.Errorf("%w: an edge reports only for its own site", sdwan.ErrForbidden)
	}
	switch {
	case r.Edge == "" || r.Seq == 0:
		return false, fmt.Errorf("%w: %v", sdwan.ErrInvalid, stats.ErrBadReport)
	case r.Epoch > math.MaxInt64:
		return false, &sdwan.FieldError{Field: "report.epoch", Reason: "is out of range"}
	case r.Seq > math.MaxInt64:
		return false, &sdwan.FieldError{Field: "report.seq", Reason: "is out of range"}
	}
	if !t.agg.IsNew(r) {
		return false, nil // a re-send
	}
	body, err := json.Marshal(r)
	if err != nil {
		return false, err
	}
	// The log keeps milliseconds; so does the time applied here, so that
	// every replica ages the edge's gauges from the same instant.
	at := t.now().Truncate(time.Millisecond)
	err = t.st.Tx(ctx, func(q store.Q) error {
		return q.AddTrafficReport(ctx, &store.TrafficReport{Edge: r.Edge, Epoch: r.Epoch, Seq: r.Seq, Body: body, ReceivedAt: at})
	})
	switch {
	case errors.Is(err, sdwan.ErrConflict):
		// Another replica logged it first: the edge re-sent it here after
		// losing that replica's answer. It counts from the log.
		return false, t.catchUp(ctx, r.Edge)
	case err != nil:
		return false, err
	}
	if epoch, seq := t.agg.Mark(r.Edge); epoch == r.Epoch && seq+1 == r.Seq {
		// The usual case: r is the report after the last one applied, so
		// nothing another replica logged can come between.
		_, _ = t.agg.ApplySeen(r, at) // validated above
	} else {
		// Reports of this edge that other replicas logged and this one
		// has not applied yet count first, in the edge's order: r is
		// applied from the log after them.
		if err := t.catchUp(ctx, r.Edge); err != nil {
			return false, err
		}
	}
	if t.bus != nil {
		t.bus.Publish(events.Event{Kind: events.TrafficReported, At: t.now(), SiteID: r.Site, Summary: r.Edge})
	}
	return true, nil
}

// catchUp applies edge's logged reports past the last one applied.
func (t *TrafficStats) catchUp(ctx context.Context, edge string) error {
	epoch, seq := t.agg.Mark(edge)
	logged, err := t.st.Read().TrafficReportsAfter(ctx, edge, epoch, seq)
	if err != nil {
		return err
	}
	t.applyLogged(logged)
	return nil
}

// applyLogged applies logged reports, each edge's in its order; reports
// already applied are discarded by the aggregator.
func (t *TrafficStats) applyLogged(logged []store.TrafficReport) {
	for _, l := range logged {
		var r stats.Report
		if err := json.Unmarshal(l.Body, &r); err != nil {
			t.log.Error("traffic: unreadable logged report", "edge", l.Edge, "epoch", l.Epoch, "seq", l.Seq, "err", err)
			continue
		}
		if _, err := t.agg.ApplySeen(&r, l.ReceivedAt); err != nil {
			t.log.Error("traffic: logged report", "edge", l.Edge, "epoch", l.Epoch, "seq", l.Seq, "err", err)
		}
	}
}

// Run applies the reports other replicas announce until ctx ends. A
// missed announcement costs only a delay: the edge's next report, on any
// replica, brings its log up to date here.
func (t *TrafficStats) Run(ctx context.Context) {
	if t.bus == nil {
		<-ctx.Done()
		return
	}
	origin := t.bus.Origin()
	sub := t.bus.Subscribe(ctx, 1024, func(e events.Event) bool {
		return e.Kind == events.TrafficReported && e.Origin != origin
	})
	for e := range sub.C() {
		if err := t.catchUp(ctx, e.Summary); err != nil && ctx.Err() == nil {
			t.log.Warn("traffic: apply another replica's report", "edge", e.Summary, "err", err)
		}
	}
}

// ExpireGauges zeroes the active-flow gauges of edges that have not
// reported for stats.GaugeMaxAge (their Reporters send a heartbeat every
// stats.DefaultHeartbeat), so an edge that went away for good does not
// leave its flows counted. Every replica runs it on its own totals; they
// judge by the time each report was logged, the same on all of them.
func (t *TrafficStats) ExpireGauges() int {
	return t.agg.ExpireGauges(t.now().Add(-stats.GaugeMaxAge))
}

// Fold stores the aggregator's whole state and prunes the reports it
// covers that are older than reportKeep. One replica does it for all
// (the controller's statistics job holds store.LockStats).
func (t *TrafficStats) Fold(ctx context.Context) error {
	s := t.agg.State()
	body, err := json.Marshal(s)
	if err != nil {
		return err
	}
	now := t.now()
	return t.st.Tx(ctx, func(q store.Q) error {
		if err := q.SetTrafficState(ctx, body, now); err != nil {
			return err
		}
		for _, m := range s.Edges {
			if _, err := q.PruneTrafficReports(ctx, m.Edge, m.Epoch, m.Seq, now.Add(-reportKeep)); err != nil {
				return err
			}
		}
		return nil
	})
}

// PolicyTotals returns a policy's live totals over every site.
func (t *TrafficStats) PolicyTotals(policyID int64) stats.Totals { return t.agg.PolicyTotals(policyID) }

// SitePolicyTotals returns a policy's live totals at one site.
func (t *TrafficStats) SitePolicyTotals(siteID string, policyID int64) stats.Totals {
	return t.agg.SitePolicyTotals(siteID, policyID)
}

// SiteTotals returns a site's live totals over every policy.
func (t *TrafficStats) SiteTotals(siteID string) stats.Totals { return t.agg.SiteTotals(siteID) }

// AllPolicyTotals returns the live totals of every policy that has
// traffic, ordered by policy ID.
func (t *TrafficStats) AllPolicyTotals() []stats.PolicyTotals { return t.agg.AllPolicyTotals() }

// addTotals adds base's counters to live's; the active-flow gauge is
// live's alone.
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
