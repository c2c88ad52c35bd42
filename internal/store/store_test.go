package store

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/patronus-sdwan/patronus/internal/sdwan"
)

// fixture is a small topology: sites a, b and c, two links each, and the
// paths between a and b and between b and c.
type fixture struct {
	sites     map[string]*sdwan.Site
	endpoints map[string]*sdwan.Endpoint // by "site/link"
	paths     []*sdwan.Path
	policy    *sdwan.Policy
}

func seed(t testing.TB, s *Store) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{sites: map[string]*sdwan.Site{}, endpoints: map[string]*sdwan.Endpoint{}}
	tx(t, s, func(q Q) error {
		port := 51820
		for _, name := range []string{"a", "b", "c"} {
			site := &sdwan.Site{Name: name}
			if err := q.CreateSite(ctx, site); err != nil {
				return err
			}
			f.sites[name] = site
			for _, link := range []string{"wan1", "wan2"} {
				port++
				e := &sdwan.Endpoint{SiteID: site.ID, Name: link, Address: netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port)), Kind: sdwan.LinkFibre}
				if err := q.CreateEndpoint(ctx, e); err != nil {
					return err
				}
				f.endpoints[name+"/"+link] = e
			}
		}
		for _, pair := range [][2]string{{"a", "b"}, {"b", "a"}, {"b", "c"}} {
			for _, l1 := range []string{"wan1", "wan2"} {
				for _, l2 := range []string{"wan1", "wan2"} {
					p := &sdwan.Path{SrcEndpointID: f.endpoints[pair[0]+"/"+l1].ID, DstEndpointID: f.endpoints[pair[1]+"/"+l2].ID}
					if err := q.CreatePath(ctx, p); err != nil {
						return err
					}
					f.paths = append(f.paths, p)
					if err := q.AddPathMetrics(ctx, sdwan.PathMetrics{PathID: p.ID, LatencyMs: 10, MeasuredAt: testEpoch, Score: 90, MTU: 1420}); err != nil {
						return err
					}
					if err := q.AddPathEvent(ctx, &PathEvent{PathID: p.ID, Kind: "state", From: sdwan.PathDown, To: sdwan.PathUp, Reason: "probes answered"}); err != nil {
						return err
					}
				}
			}
		}
		f.policy = &sdwan.Policy{Name: "voice", Priority: 10, Enabled: true}
		if err := q.CreatePolicy(ctx, f.policy); err != nil {
			return err
		}
		for _, site := range f.sites {
			if err := q.AddPolicyStats(ctx, sdwan.PolicyStats{PolicyID: f.policy.ID, SiteID: site.ID, Timestamp: testEpoch, PacketsMatched: 1, BytesMatched: 100}); err != nil {
				return err
			}
			if err := q.CreateAPIKey(ctx, &APIKey{Prefix: "site-" + site.Name, SecretHash: "h", Name: "edge", SiteID: site.ID, Role: sdwan.RoleEdge}); err != nil {
				return err
			}
		}
		return nil
	})
	return f
}

func TestHardDeleteCascades(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		f := seed(t, s)
		before := counts(t, s)
		var deps SiteDependencies
		tx(t, s, func(q Q) (err error) {
			deps, err = q.HardDeleteSite(ctx, f.sites["a"].ID)
			return err
		})
		// Site a has 2 endpoints and the 8 paths a<->b; each path had one
		// metrics row and one event; one stats row and one credential.
		want := SiteDependencies{Endpoints: 2, Paths: 8, Metrics: 8, PathEvents: 8, PolicyStats: 1, Credentials: 1}
		if diff := cmp.Diff(want, deps); diff != "" {
			t.Errorf("dependencies (-want +got):\n%s", diff)
		}
		after := counts(t, s)
		wantAfter := map[string]int{
			"sdwan_sites": before["sdwan_sites"] - 1, "sdwan_endpoints": before["sdwan_endpoints"] - 2,
			"sdwan_paths": before["sdwan_paths"] - 8, "sdwan_path_metrics": before["sdwan_path_metrics"] - 8,
			"sdwan_path_events": before["sdwan_path_events"] - 8, "sdwan_policies": before["sdwan_policies"],
			"sdwan_policy_stats": before["sdwan_policy_stats"] - 1, "users": before["users"],
			"api_keys": before["api_keys"] - 1, "audit_log": before["audit_log"],
		}
		if diff := cmp.Diff(wantAfter, after); diff != "" {
			t.Errorf("row counts after delete (-want +got):\n%s", diff)
		}
		// Nothing of b and c went with it.
		paths, total, err := s.Read().ListPaths(ctx, PathFilter{SiteID: f.sites["c"].ID}, Page{})
		if err != nil || total != 4 || len(paths) != 4 {
			t.Errorf("paths of c after deleting a: %d (total %d), %v; want 4", len(paths), total, err)
		}
		if _, err := s.Read().Site(ctx, f.sites["a"].ID); !errors.Is(err, sdwan.ErrNotFound) {
			t.Errorf("deleted site still found: %v", err)
		}
	})
}

// TestSchemaCascades deletes a site's row and nothing else: ON DELETE
// CASCADE, the net under HardDeleteSite, must remove what HardDeleteSite
// removes, and no more.
func TestSchemaCascades(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		f := seed(t, s)
		before := counts(t, s)
		tx(t, s, func(q Q) error {
			_, err := q.q.ExecContext(ctx, `DELETE FROM sdwan_sites WHERE id = $1`, f.sites["a"].ID)
			return err
		})
		gone := map[string]int{}
		for tbl, n := range counts(t, s) {
			gone[tbl] = before[tbl] - n
		}
		want := map[string]int{"sdwan_sites": 1, "sdwan_endpoints": 2, "sdwan_paths": 8, "sdwan_path_metrics": 8,
			"sdwan_path_events": 8, "sdwan_policies": 0, "sdwan_policy_stats": 1, "users": 0, "api_keys": 1, "audit_log": 0}
		if diff := cmp.Diff(want, gone); diff != "" {
			t.Errorf("rows removed by the cascade (-want +got):\n%s", diff)
		}
	})
}

// TestHardDeleteRollsBackOnFailure fails a hard delete after each of its
// statements in turn and checks that nothing was removed.
func TestHardDeleteRollsBackOnFailure(t *testing.T) {
	for _, del := range siteDeletes {
		step := "site.delete:" + del.what
		t.Run(del.what, func(t *testing.T) {
			forEachEngine(t, func(t *testing.T, s *Store) {
				ctx := context.Background()
				f := seed(t, s)
				before := counts(t, s)
				injected := errors.New("injected failure")
				s.hook = func(at string) error {
					if at == step {
						return injected
					}
					return nil
				}
				defer func() { s.hook = nil }()
				err := s.Tx(ctx, func(q Q) error {
					_, err := q.HardDeleteSite(ctx, f.sites["a"].ID)
					return err
				})
				if !errors.Is(err, injected) {
					t.Fatalf("delete error = %v, want the injected failure", err)
				}
				if diff := cmp.Diff(before, counts(t, s)); diff != "" {
					t.Errorf("a failed delete changed rows (-before +after):\n%s", diff)
				}
			})
		})
	}
}

func TestDomainErrors(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		f := seed(t, s)
		tests := []struct {
			name string
			fn   func(Q) error
			want error
		}{
			{"duplicate site", func(q Q) error { return q.CreateSite(ctx, &sdwan.Site{Name: "a"}) }, sdwan.ErrConflict},
			{"duplicate endpoint", func(q Q) error {
				return q.CreateEndpoint(ctx, &sdwan.Endpoint{SiteID: f.sites["a"].ID, Name: "wan1", Address: netip.MustParseAddrPort("127.0.0.1:9")})
			}, sdwan.ErrConflict},
			{"endpoint of missing site", func(q Q) error {
				return q.CreateEndpoint(ctx, &sdwan.Endpoint{SiteID: "no-such-site", Name: "wan1", Address: netip.MustParseAddrPort("127.0.0.1:9")})
			}, sdwan.ErrNotFound},
			{"duplicate path", func(q Q) error {
				return q.CreatePath(ctx, &sdwan.Path{SrcEndpointID: f.paths[0].SrcEndpointID, DstEndpointID: f.paths[0].DstEndpointID})
			}, sdwan.ErrConflict},
			{"path to missing endpoint", func(q Q) error {
				return q.CreatePath(ctx, &sdwan.Path{SrcEndpointID: f.paths[0].SrcEndpointID, DstEndpointID: "nope"})
			}, sdwan.ErrInvalid},
			{"metrics of missing path", func(q Q) error {
				return q.AddPathMetrics(ctx, sdwan.PathMetrics{PathID: "nope", MeasuredAt: testEpoch})
			}, sdwan.ErrNotFound},
			{"duplicate priority", func(q Q) error { return q.CreatePolicy(ctx, &sdwan.Policy{Name: "other", Priority: 10}) }, sdwan.ErrConflict},
			{"duplicate policy name", func(q Q) error { return q.CreatePolicy(ctx, &sdwan.Policy{Name: "voice", Priority: 11}) }, sdwan.ErrConflict},
			{"missing policy", func(q Q) error { _, err := q.Policy(ctx, 999); return err }, sdwan.ErrNotFound},
			{"update missing site", func(q Q) error { return q.UpdateSite(ctx, &sdwan.Site{ID: "nope", Name: "x"}) }, sdwan.ErrNotFound},
			{"stats of missing policy", func(q Q) error {
				return q.AddPolicyStats(ctx, sdwan.PolicyStats{PolicyID: 999, Timestamp: testEpoch})
			}, sdwan.ErrNotFound},
			{"invalid site", func(q Q) error { return q.CreateSite(ctx, &sdwan.Site{Name: "Bad Name"}) }, sdwan.ErrInvalid},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				before := counts(t, s)
				err := s.Tx(ctx, tt.fn)
				if !errors.Is(err, tt.want) {
					t.Fatalf("error = %v, want %v", err, tt.want)
				}
				for _, driverWord := range []string{"constraint", "SQLSTATE", "violates", "sqlite"} {
					if containsWord(err.Error(), driverWord) {
						t.Errorf("error %q leaks driver text %q", err, driverWord)
					}
				}
				if diff := cmp.Diff(before, counts(t, s)); diff != "" {
					t.Errorf("failed write changed rows:\n%s", diff)
				}
			})
		}
	})
}

func containsWord(s, w string) bool {
	for i := 0; i+len(w) <= len(s); i++ {
		if s[i:i+len(w)] == w {
			return true
		}
	}
	return false
}

func TestSoftDeleteAndRestore(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		f := seed(t, s)
		a := f.sites["a"].ID
		tx(t, s, func(q Q) error { return q.SoftDeleteSite(ctx, a) })
		live, total, err := s.Read().ListSites(ctx, SiteFilter{}, Page{})
		if err != nil || total != 2 || len(live) != 2 {
			t.Fatalf("live sites after soft delete = %d (total %d), %v; want 2", len(live), total, err)
		}
		deleted, _, _ := s.Read().ListSites(ctx, SiteFilter{Deleted: true}, Page{})
		if len(deleted) != 1 || deleted[0].ID != a || deleted[0].DeletedAt == nil {
			t.Fatalf("deleted sites = %+v", deleted)
		}
		_, ptotal, _ := s.Read().ListPaths(ctx, PathFilter{}, Page{})
		if ptotal != 4 {
			t.Errorf("paths visible with a deleted = %d, want 4 (b<->c only)", ptotal)
		}
		if err := s.Tx(ctx, func(q Q) error {
			return q.CreateEndpoint(ctx, &sdwan.Endpoint{SiteID: a, Name: "wan3", Address: netip.MustParseAddrPort("127.0.0.1:9")})
		}); !errors.Is(err, sdwan.ErrNotFound) {
			t.Errorf("endpoint on a deleted site: %v, want ErrNotFound", err)
		}
		if err := s.Tx(ctx, func(q Q) error { return q.SoftDeleteSite(ctx, a) }); !errors.Is(err, sdwan.ErrNotFound) {
			t.Errorf("second soft delete: %v, want ErrNotFound", err)
		}
		expired, err := s.Read().ExpiredSites(ctx, time.Now().Add(time.Hour))
		if err != nil || len(expired) != 1 {
			t.Errorf("expired sites = %v, %v", expired, err)
		}
		tx(t, s, func(q Q) error { return q.RestoreSite(ctx, a) })
		_, total, _ = s.Read().ListSites(ctx, SiteFilter{}, Page{})
		_, ptotal, _ = s.Read().ListPaths(ctx, PathFilter{}, Page{})
		if total != 3 || ptotal != 12 {
			t.Errorf("after restore: %d sites, %d paths; want 3 and 12", total, ptotal)
		}
	})
}

func TestListFiltersAndPages(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		tx(t, s, func(q Q) error {
			for i := range 25 {
				st := sdwan.SiteActive
				if i%5 == 0 {
					st = sdwan.SiteDegraded
				}
				if err := q.CreateSite(ctx, &sdwan.Site{Name: "branch-" + suffix(i), Status: st}); err != nil {
					return err
				}
			}
			return q.CreateSite(ctx, &sdwan.Site{Name: "hq_1"})
		})
		tests := []struct {
			name      string
			f         SiteFilter
			p         Page
			wantFirst string
			wantLen   int
			wantTotal int
		}{
			{"all", SiteFilter{}, Page{}, "branch-000", 26, 26},
			{"page 2", SiteFilter{}, Page{Limit: 10, Offset: 10}, "branch-010", 10, 26},
			{"last page", SiteFilter{}, Page{Limit: 10, Offset: 20}, "branch-020", 6, 26},
			{"status", SiteFilter{Status: sdwan.SiteDegraded}, Page{}, "branch-000", 5, 5},
			{"name", SiteFilter{NameContains: "-01"}, Page{}, "branch-010", 10, 10},
			{"underscore is literal", SiteFilter{NameContains: "q_"}, Page{}, "hq_1", 1, 1},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, total, err := s.Read().ListSites(ctx, tt.f, tt.p)
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != tt.wantLen || total != tt.wantTotal || got[0].Name != tt.wantFirst {
					t.Errorf("got %d rows (total %d) starting %q; want %d (total %d) starting %q",
						len(got), total, got[0].Name, tt.wantLen, tt.wantTotal, tt.wantFirst)
				}
			})
		}
	})
}

func TestPoliciesRoundTrip(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		m, err := sdwan.ParseMatch(sdwan.MatchSpec{SourceIP: "10.0.0.0/8,2001:db8::/32", Protocol: "udp", DestPort: "5060-5061,16384-32767"})
		if err != nil {
			t.Fatal(err)
		}
		p := &sdwan.Policy{Name: "voice", Priority: 5, Enabled: true, Match: m,
			Action: sdwan.Action{Kind: sdwan.ActionSteer, Preference: sdwan.PreferLink, Link: "wan2", SLA: sdwan.SLA{MaxLatencyMs: 150, MaxJitterMs: 30, MaxLossPct: 1}}}
		tx(t, s, func(q Q) error { return q.CreatePolicy(ctx, p) })
		tx(t, s, func(q Q) error {
			return q.CreatePolicy(ctx, &sdwan.Policy{Name: "bulk", Priority: 50, Action: sdwan.Action{Kind: sdwan.ActionDrop}})
		})
		got, err := s.Read().Policy(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(*p, got, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
			t.Errorf("policy round trip (-want +got):\n%s", diff)
		}
		tx(t, s, func(q Q) error { return q.ReorderPolicies(ctx, map[int64]int{p.ID: 50, p.ID + 1: 5}) })
		list, _, err := s.Read().ListPolicies(ctx, PolicyFilter{}, Page{})
		if err != nil || len(list) != 2 || list[0].Name != "bulk" || list[1].Priority != 50 {
			t.Errorf("after reorder: %+v, %v", list, err)
		}
		enabled := true
		list, total, _ := s.Read().ListPolicies(ctx, PolicyFilter{Enabled: &enabled}, Page{})
		if total != 1 || list[0].Name != "voice" {
			t.Errorf("enabled filter: %d", total)
		}
		tx(t, s, func(q Q) error { return q.DeletePolicy(ctx, p.ID) })
		if _, err := s.Read().Policy(ctx, p.ID); !errors.Is(err, sdwan.ErrNotFound) {
			t.Errorf("deleted policy: %v", err)
		}
	})
}

func TestStatsHistory(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		f := seed(t, s)
		pid := f.policy.ID
		tx(t, s, func(q Q) error {
			for i := range 120 { // two hours of one-minute snapshots
				err := q.AddPolicyStats(ctx, sdwan.PolicyStats{PolicyID: pid, Timestamp: testEpoch.Add(time.Duration(i) * time.Minute),
					PacketsMatched: uint64(i * 10), BytesMatched: uint64(i * 1000), ActiveFlows: 3})
				if err != nil {
					return err
				}
			}
			return nil
		})
		latest, err := s.Read().LatestPolicyStats(ctx, pid, "")
		if err != nil || latest.PacketsMatched != 1190 {
			t.Fatalf("latest = %+v, %v", latest, err)
		}
		all, err := s.Read().PolicyStatsHistory(ctx, StatsQuery{PolicyID: pid, From: testEpoch, To: testEpoch.Add(3 * time.Hour)}, 0)
		if err != nil || len(all) != 120 {
			t.Fatalf("history = %d rows, %v; want 120", len(all), err)
		}
		down, err := s.Read().PolicyStatsHistory(ctx, StatsQuery{PolicyID: pid, From: testEpoch, To: testEpoch.Add(3 * time.Hour), Step: 15 * time.Minute}, 0)
		if err != nil || len(down) != 8 || down[0].PacketsMatched != 140 {
			t.Fatalf("downsampled = %d rows (first %+v), %v; want 8 with the last of each bucket", len(down), down, err)
		}
		n, err := rollUp(s, testEpoch.Add(3*time.Hour))
		if err != nil || n != 5 { // two hours of the all-sites rows, and the one hour of each of the three sites
			t.Fatalf("roll-up wrote %d, %v; want 5", n, err)
		}
		if n, _ := rollUp(s, testEpoch.Add(3*time.Hour)); n != 0 {
			t.Errorf("second roll-up wrote %d, want 0", n)
		}
		var pruned int64
		tx(t, s, func(q Q) (err error) {
			pruned, err = q.PrunePolicyStats(ctx, ResolutionRaw, testEpoch.Add(time.Hour))
			return err
		})
		if pruned != 63 { // the first hour: 60 all-sites rows and 3 per-site rows
			t.Errorf("pruned %d raw rows, want 63", pruned)
		}
	})
}

func rollUp(s *Store, before time.Time) (n int64, err error) {
	err = s.Tx(context.Background(), func(q Q) error { n, err = q.RollUpPolicyStats(context.Background(), before); return err })
	return n, err
}

func TestUsersSettingsAudit(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		u := &sdwan.User{Name: "alice", Role: sdwan.RoleAdmin, PasswordHash: "$argon2id$x"}
		tx(t, s, func(q Q) error { return q.CreateUser(ctx, u) })
		if err := s.Tx(ctx, func(q Q) error {
			return q.CreateUser(ctx, &sdwan.User{Name: "alice", Role: sdwan.RoleViewer, PasswordHash: "x"})
		}); !errors.Is(err, sdwan.ErrConflict) {
			t.Errorf("duplicate user: %v", err)
		}
		u.TokenEpoch++
		u.Role = sdwan.RoleViewer
		tx(t, s, func(q Q) error { return q.UpdateUser(ctx, u) })
		got, err := s.Read().UserByName(ctx, "alice")
		if err != nil || got.Role != sdwan.RoleViewer || got.TokenEpoch != 1 || !got.Active {
			t.Errorf("user = %+v, %v", got, err)
		}
		var v1, v2 string
		tx(t, s, func(q Q) (err error) { v1, err = q.SetSettingIfAbsent(ctx, "k", "first"); return err })
		tx(t, s, func(q Q) (err error) { v2, err = q.SetSettingIfAbsent(ctx, "k", "second"); return err })
		if v1 != "first" || v2 != "first" {
			t.Errorf("settings: %q, %q; want first twice", v1, v2)
		}
		for i, a := range []string{"site.create", "site.delete", "policy.create"} {
			e := &sdwan.AuditEntry{Actor: "alice", Action: a, TargetType: "x", TargetID: suffix(i), Summary: "s"}
			tx(t, s, func(q Q) error { return q.AddAudit(ctx, e) })
			if e.ID == 0 {
				t.Errorf("audit entry got no ID")
			}
		}
		entries, total, err := s.Read().AuditLog(ctx, AuditFilter{ActionPrefix: "site."}, Page{})
		if err != nil || total != 2 || entries[0].Action != "site.delete" {
			t.Errorf("audit filter: %+v (total %d), %v", entries, total, err)
		}
	})
}

func TestMigrationStatus(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		st, err := s.Status(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if st.Current != st.Latest || st.Latest < 1 || len(st.Pending) != 0 {
			t.Errorf("status = %+v, want current == latest and nothing pending", st)
		}
	})
}

// TestMigrationsMatch checks that both engines have the same migrations.
func TestMigrationsMatch(t *testing.T) {
	names := func(engine string) []string {
		es, err := migrations.ReadDir("migrations/" + engine)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range es {
			out = append(out, e.Name())
		}
		return out
	}
	if diff := cmp.Diff(names("sqlite"), names("postgres")); diff != "" {
		t.Errorf("migration files differ between engines (-sqlite +postgres):\n%s", diff)
	}
}

// TestLastPathEvent finds a path's newest event of one kind strictly before
// a time, ignoring other kinds and other paths, and says when there is none.
func TestLastPathEvent(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		f := seed(t, s) // its events are at the clock's now, after these
		p, other := f.paths[0].ID, f.paths[1].ID
		at := func(min int) time.Time { return time.Date(2000, 1, 1, 0, min, 0, 0, time.UTC) }
		tx(t, s, func(q Q) error {
			for _, e := range []PathEvent{
				{PathID: p, At: at(1), Kind: "state", From: sdwan.PathUp, To: sdwan.PathDown, Reason: "first"},
				{PathID: p, At: at(2), Kind: "failover", Reason: "other kind"},
				{PathID: other, At: at(3), Kind: "state", Reason: "other path"},
				{PathID: p, At: at(4), Kind: "state", From: sdwan.PathDown, To: sdwan.PathUp, Reason: "second"},
			} {
				if err := q.AddPathEvent(ctx, &e); err != nil {
					return err
				}
			}
			return nil
		})
		for _, c := range []struct {
			before int
			want   string // the event's reason, "" for none
			at     int
		}{{1, "", 0}, {2, "first", 1}, {4, "first", 1}, {5, "second", 4}} {
			e, ok, err := s.Read().LastPathEvent(ctx, p, "state", at(c.before))
			if err != nil {
				t.Fatal(err)
			}
			if ok != (c.want != "") || ok && (e.Reason != c.want || e.PathID != p || !e.At.Equal(at(c.at))) {
				t.Errorf("before +%dm: %+v, %v; want %q at +%dm", c.before, e, ok, c.want, c.at)
			}
		}
	})
}

// TestAddPathMetricsChunks writes a batch that spans several inserts, over
// several paths, and reads every row back where it belongs.
func TestAddPathMetricsChunks(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		f := seed(t, s)
		paths := f.paths[:3]
		at := func(i int) time.Time { return testEpoch.Add(time.Duration(i+1) * time.Second) }
		var batch []sdwan.PathMetrics
		for i := range 2*metricsChunk + 1 {
			batch = append(batch, sdwan.PathMetrics{PathID: paths[i%len(paths)].ID, MeasuredAt: at(i),
				LatencyMs: float64(i), JitterMs: 1, PacketLossPct: 0.5, BandwidthMbps: 100, MTU: 1420, Score: i % 101})
		}
		tx(t, s, func(q Q) error { return q.AddPathMetrics(ctx, batch...) })
		for j, p := range paths {
			var want []sdwan.PathMetrics
			for i := j; i < len(batch); i += len(paths) {
				want = append(want, batch[i])
			}
			got, err := s.Read().PathMetricsHistory(ctx, p.ID, at(0), at(len(batch)), 0)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("path %d's history (-want +got):\n%s", j, diff)
			}
		}
	})
}
