package control

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/patronus-sdwan/patronus/internal/auth"
	"github.com/patronus-sdwan/patronus/internal/sdwan"
	"github.com/patronus-sdwan/patronus/internal/stats"
	"github.com/patronus-sdwan/patronus/internal/store"
)

// trafficSetup returns a service with a site per name and the policy
// "voice", for traffic to be reported against.
func trafficSetup(t *testing.T, siteNames ...string) (*Service, *sdwan.Policy, []*sdwan.Site) {
	t.Helper()
	svc, _ := newService(t)
	ctx := context.Background()
	var sites []*sdwan.Site
	for _, name := range siteNames {
		s := &sdwan.Site{Name: name}
		if err := svc.CreateSite(ctx, admin, s); err != nil {
			t.Fatal(err)
		}
		sites = append(sites, s)
	}
	pol := &sdwan.Policy{Name: "voice", Priority: 1, Enabled: true}
	if err := svc.CreatePolicy(ctx, operator, pol); err != nil {
		t.Fatal(err)
	}
	return svc, pol, sites
}

// edgeOf is the principal of site s's edge.
func edgeOf(s *sdwan.Site) auth.Principal {
	return auth.Principal{Kind: "site", Name: s.Name, Role: sdwan.RoleEdge, SiteID: s.ID}
}

func TestTrafficStatsApplySnapshotRestart(t *testing.T) {
	svc, pol, sites := trafficSetup(t, "a", "b")
	ctx := context.Background()
	a, b := sites[0], sites[1]
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	ts, err := NewTrafficStats(ctx, svc.Store(), nil, nil, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	edgeA, edgeB := edgeOf(a), edgeOf(b)
	report := func(site string, seq uint64, pkts uint64) *stats.Report {
		return &stats.Report{Edge: "edge-" + site, Site: site, Epoch: 1, Seq: seq, Time: now,
			Deltas: []stats.Delta{{PolicyID: pol.ID, Packets: pkts, Bytes: pkts * 100, ActiveFlows: 2}}}
	}
	mustApply := func(p auth.Principal, r *stats.Report, want bool) {
		t.Helper()
		ok, err := ts.Apply(ctx, p, r)
		if err != nil || ok != want {
			t.Fatalf("Apply(seq %d) = %v, %v; want %v", r.Seq, ok, err, want)
		}
	}
	mustApply(edgeA, report(a.ID, 1, 10), true)
	mustApply(edgeA, report(a.ID, 1, 10), false) // a re-send
	mustApply(edgeA, report(a.ID, 2, 5), true)
	mustApply(edgeB, report(b.ID, 1, 1), true)
	if _, err := ts.Apply(ctx, edgeB, report(a.ID, 3, 1)); !errors.Is(err, sdwan.ErrForbidden) {
		t.Errorf("edge b reporting for a: %v", err)
	}
	if _, err := ts.Apply(ctx, viewer, report(a.ID, 3, 1)); !errors.Is(err, sdwan.ErrForbidden) {
		t.Errorf("viewer reporting: %v", err)
	}
	if got := ts.PolicyTotals(pol.ID); got.Packets != 16 || got.Bytes != 1600 || got.ActiveFlows != 4 {
		t.Errorf("totals = %+v, want 16 packets, 1600 bytes, 4 active flows", got)
	}
	if got := ts.SitePolicyTotals(a.ID, pol.ID); got.Packets != 15 {
		t.Errorf("site a totals = %+v", got)
	}
	n, err := ts.Snapshot(ctx)
	if err != nil || n != 3 {
		t.Fatalf("snapshot wrote %d rows, %v; want 3 (all sites, a, b)", n, err)
	}
	// A restarted controller, or another replica, carries the totals on,
	// the edges' latest gauges included.
	ts2, err := NewTrafficStats(ctx, svc.Store(), nil, nil, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	if got := ts2.PolicyTotals(pol.ID); got.Packets != 16 || got.ActiveFlows != 4 {
		t.Errorf("after restart totals = %+v, want 16 packets and 4 active flows", got)
	}
	now = now.Add(10 * 24 * time.Hour)
	if err := ts2.Retain(ctx, DefaultRetention); err != nil {
		t.Fatal(err)
	}
	rows, err := svc.Store().Read().PolicyStatsHistory(ctx, store.StatsQuery{SiteID: "*", From: now.Add(-time.Hour * 24 * 365), To: now}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 {
		t.Errorf("after retention %d rows, want the 3 hourly roll-ups (raw rows are past their 7 days)", len(rows))
	}
}

// TestTrafficStatsExpireGauges: an edge silent for stats.GaugeMaxAge
// (judged by when its reports were logged) stops counting active flows,
// on a replica that applied its report and on one that read it from the
// log later; its counts stay.
func TestTrafficStatsExpireGauges(t *testing.T) {
	svc, pol, sites := trafficSetup(t, "a")
	ctx := context.Background()
	site := sites[0]
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	a, err := NewTrafficStats(ctx, svc.Store(), nil, nil, clock)
	if err != nil {
		t.Fatal(err)
	}
	edge := edgeOf(site)
	r := &stats.Report{Edge: "a/edge", Site: site.ID, Epoch: 1, Seq: 1, Time: now.Add(-time.Hour), // a skewed edge clock
		Deltas: []stats.Delta{{PolicyID: pol.ID, Packets: 10, Bytes: 1000, ActiveFlows: 3}}}
	if _, err := a.Apply(ctx, edge, r); err != nil {
		t.Fatal(err)
	}
	if n := a.ExpireGauges(); n != 0 {
		t.Fatalf("expired %d edges right after their report", n)
	}
	now = now.Add(stats.GaugeMaxAge + time.Second)
	b, err := NewTrafficStats(ctx, svc.Store(), nil, nil, clock)
	if err != nil {
		t.Fatal(err)
	}
	for name, ts := range map[string]*TrafficStats{"a": a, "b": b} {
		if n := ts.ExpireGauges(); n != 1 {
			t.Errorf("replica %s expired %d edges, want 1", name, n)
		}
		if got := ts.PolicyTotals(pol.ID); got.Packets != 10 || got.ActiveFlows != 0 {
			t.Errorf("replica %s: %+v, want the 10 packets and no active flows", name, got)
		}
	}
}
