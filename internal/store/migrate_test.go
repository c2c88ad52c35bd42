package store

import (
	"context"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/patronus-sdwan/patronus/internal/sdwan"
)

// IDs in testdata/upgrade-00001.sql.
const (
	upSiteA, upSiteB, upSiteC = "0190a000-0000-7000-8000-0000000000a0", "0190a000-0000-7000-8000-0000000000b0", "0190a000-0000-7000-8000-0000000000c0"
	upEpA1, upEpA2, upEpB1    = "0190a000-0000-7000-8000-0000000000a1", "0190a000-0000-7000-8000-0000000000a2", "0190a000-0000-7000-8000-0000000000b1"
	upEpC1                    = "0190a000-0000-7000-8000-0000000000c1"
	upPathAB1, upPathAB2      = "0190a000-0000-7000-8000-000000000ab1", "0190a000-0000-7000-8000-000000000ab2"
	upPathBA1, upPathAC1      = "0190a000-0000-7000-8000-000000000ba1", "0190a000-0000-7000-8000-000000000ac1"
	upPathCB1                 = "0190a000-0000-7000-8000-000000000cb1"
)

// netipEqual lets cmp compare the netip values inside domain types.
var netipEqual = cmp.Options{
	cmp.Comparer(func(a, b netip.Prefix) bool { return a == b }),
	cmp.Comparer(func(a, b netip.AddrPort) bool { return a == b }),
}

// TestMigrateUpKeepsData loads rows into a database at migration 00001 and
// migrates it to the latest version: every row must read back as it was
// written, the counters must go on past the ids already handed out, and a
// hard delete must still reach everything a site owns.
func TestMigrateUpKeepsData(t *testing.T) {
	dump, err := os.ReadFile("testdata/upgrade-00001.sql")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range openers() {
		t.Run(string(e.engine), func(t *testing.T) {
			ctx := context.Background()
			s := e.open(t, false)
			p, err := s.provider()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := p.UpTo(ctx, 1); err != nil {
				t.Fatalf("migrate to 00001: %v", err)
			}
			for stmt := range strings.SplitSeq(string(dump), ";\n") {
				if strings.TrimSpace(stmt) == "" {
					continue
				}
				if _, err := s.w.ExecContext(ctx, stmt); err != nil {
					t.Fatalf("load %.60q…: %v", stmt, err)
				}
			}
			if err := s.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			checkUpgradedRows(t, s)
			checkUpgradedWrites(t, s)
		})
	}
}

func checkUpgradedRows(t *testing.T, s *Store) {
	t.Helper()
	ctx := context.Background()
	r := s.Read()
	at := func(ms int64) time.Time { return fromMS(ms) }
	deleted := at(1700000003000)
	for _, want := range []sdwan.Site{
		{ID: upSiteA, Name: "a", Description: "first", Status: sdwan.SiteActive, PublicKey: "pk-a",
			Prefixes:  []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16"), netip.MustParsePrefix("10.2.0.0/16")},
			CreatedAt: at(1700000000000), UpdatedAt: at(1700000001000)},
		{ID: upSiteB, Name: "b", Status: sdwan.SiteInactive, CreatedAt: at(1700000000000), UpdatedAt: at(1700000002000), DeletedAt: &deleted},
	} {
		got, err := r.Site(ctx, want.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got, netipEqual); diff != "" {
			t.Errorf("site %s (-want +got):\n%s", want.Name, diff)
		}
	}

	a2, err := r.Endpoint(ctx, upEpA2)
	if err != nil {
		t.Fatal(err)
	}
	wantA2 := sdwan.Endpoint{ID: upEpA2, SiteID: upSiteA, Name: "wan2", Address: netip.MustParseAddrPort("192.0.2.2:51820"), Interface: "eth1",
		Kind: sdwan.LinkLTE, CostPerGB: 8, BandwidthMbps: 50, Reachable: false, CreatedAt: at(1700000000000), UpdatedAt: at(1700000000000)}
	if diff := cmp.Diff(wantA2, a2, netipEqual); diff != "" {
		t.Errorf("endpoint a/wan2 (-want +got):\n%s", diff)
	}
	eps, err := r.EndpointsBySiteIDs(ctx, []string{upSiteA, upSiteB, upSiteC})
	if err != nil {
		t.Fatal(err)
	}
	gotSites := map[string]string{}
	for _, e := range eps {
		gotSites[e.ID] = e.SiteID
	}
	if diff := cmp.Diff(map[string]string{upEpA1: upSiteA, upEpA2: upSiteA, upEpB1: upSiteB, upEpC1: upSiteC}, gotSites); diff != "" {
		t.Errorf("endpoints' sites (-want +got):\n%s", diff)
	}

	for _, want := range []sdwan.Path{
		{ID: upPathAB2, SrcSiteID: upSiteA, SrcEndpointID: upEpA2, DstSiteID: upSiteB, DstEndpointID: upEpB1, Status: sdwan.PathDegraded},
		{ID: upPathBA1, SrcSiteID: upSiteB, SrcEndpointID: upEpB1, DstSiteID: upSiteA, DstEndpointID: upEpA1, Status: sdwan.PathDown},
		{ID: upPathCB1, SrcSiteID: upSiteC, SrcEndpointID: upEpC1, DstSiteID: upSiteB, DstEndpointID: upEpB1, Status: sdwan.PathUp},
	} {
		want.CreatedAt, want.UpdatedAt = at(1700000000000), at(1700000000000)
		got, err := r.Path(ctx, want.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("path %s (-want +got):\n%s", want.ID, diff)
		}
	}
	// Site b is soft-deleted, so of a's paths only the one to c is listed.
	paths, total, err := r.ListPaths(ctx, PathFilter{EndpointID: upEpA1}, Page{})
	if err != nil || total != 1 || len(paths) != 1 || paths[0].ID != upPathAC1 {
		t.Errorf("paths of endpoint a/wan1: %+v (total %d), %v; want only %s", paths, total, err, upPathAC1)
	}

	hist, err := r.PathMetricsHistory(ctx, upPathAB1, at(0), at(2e12), 0)
	if err != nil {
		t.Fatal(err)
	}
	wantHist := []sdwan.PathMetrics{
		{PathID: upPathAB1, MeasuredAt: at(1700000010000), LatencyMs: 12.5, JitterMs: 1.5, BandwidthMbps: 940, MTU: 1420, Score: 97},
		{PathID: upPathAB1, MeasuredAt: at(1700000020000), LatencyMs: 14, JitterMs: 2, PacketLossPct: 0.5, BandwidthMbps: 930, MTU: 1420, Score: 95},
	}
	if diff := cmp.Diff(wantHist, hist); diff != "" {
		t.Errorf("metrics of path a/wan1-b/wan1 (-want +got):\n%s", diff)
	}
	evs, err := r.PathEvents(ctx, upPathAB2, at(0), at(2e12), 0)
	if err != nil {
		t.Fatal(err)
	}
	wantEvs := []PathEvent{{ID: 2, PathID: upPathAB2, At: at(1700000010000), Kind: "failover", From: sdwan.PathUp, To: sdwan.PathDegraded, Reason: "loss above 2%"}}
	if diff := cmp.Diff(wantEvs, evs); diff != "" {
		t.Errorf("events of path a/wan2-b/wan1 (-want +got):\n%s", diff)
	}

	deps, err := r.CountSiteDependencies(ctx, upSiteA)
	if err != nil {
		t.Fatal(err)
	}
	wantDeps := SiteDependencies{Endpoints: 2, Paths: 4, Metrics: 3, PathEvents: 2, PolicyStats: 1, Credentials: 1}
	if diff := cmp.Diff(wantDeps, deps); diff != "" {
		t.Errorf("dependencies of site a (-want +got):\n%s", diff)
	}
}

// checkUpgradedWrites writes to the upgraded database and hard-deletes
// site a.
func checkUpgradedWrites(t *testing.T, s *Store) {
	t.Helper()
	ctx := context.Background()
	tx(t, s, func(q Q) error {
		// Event 3 was deleted before the upgrade; its id is not reused.
		e := &PathEvent{PathID: upPathAB1, Kind: "state", From: sdwan.PathUp, To: sdwan.PathDown}
		if err := q.AddPathEvent(ctx, e); err != nil {
			return err
		}
		if e.ID != 4 {
			t.Errorf("new event got id %d, want 4", e.ID)
		}
		site := &sdwan.Site{Name: "d"}
		if err := q.CreateSite(ctx, site); err != nil {
			return err
		}
		ep := &sdwan.Endpoint{SiteID: site.ID, Name: "wan1", Address: netip.MustParseAddrPort("127.0.0.1:9")}
		if err := q.CreateEndpoint(ctx, ep); err != nil {
			return err
		}
		return q.CreatePath(ctx, &sdwan.Path{SrcEndpointID: ep.ID, DstEndpointID: upEpA1})
	})
	before := counts(t, s)
	var deps SiteDependencies
	tx(t, s, func(q Q) (err error) {
		deps, err = q.HardDeleteSite(ctx, upSiteA)
		return err
	})
	want := SiteDependencies{Endpoints: 2, Paths: 5, Metrics: 3, PathEvents: 3, PolicyStats: 1, Credentials: 1}
	if diff := cmp.Diff(want, deps); diff != "" {
		t.Errorf("hard delete of site a removed (-want +got):\n%s", diff)
	}
	after := counts(t, s)
	for tbl, n := range map[string]int{"sdwan_sites": 1, "sdwan_endpoints": 2, "sdwan_paths": 5, "sdwan_path_metrics": 3,
		"sdwan_path_events": 3, "sdwan_policy_stats": 1, "api_keys": 1, "users": 0} {
		if before[tbl]-after[tbl] != n {
			t.Errorf("%s: %d rows went, want %d", tbl, before[tbl]-after[tbl], n)
		}
	}
	if s.Engine() == SQLite {
		rows, err := s.r.QueryContext(ctx, "PRAGMA foreign_key_check")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		if rows.Next() {
			t.Error("foreign_key_check reports dangling references after the upgrade")
		}
	}
}
