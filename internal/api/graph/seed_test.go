package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/vektah/gqlparser/v2/formatter"

	"github.com/patronus-sdwan/patronus/internal/auth"
	"github.com/patronus-sdwan/patronus/internal/sdwan"
	"github.com/patronus-sdwan/patronus/internal/stats"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// seedSiteID is the site the seed's DeleteSite operation names.
const seedSiteID = "550e8400-e29b-41d4-a716-446655440000"

// seed fills the store with two sites joined by a measured path and three
// policies, and reports traffic for two of them to the aggregator.
func (h *harness) seed() (pathID string) {
	h.t.Helper()
	ctx := context.Background()
	sys := auth.System
	must := func(err error) {
		h.t.Helper()
		if err != nil {
			h.t.Fatal(err)
		}
	}
	hq := sdwan.Site{ID: seedSiteID, Name: "hq"}
	br := sdwan.Site{Name: "branch"}
	must(h.svc.CreateSite(ctx, sys, &hq))
	must(h.svc.CreateSite(ctx, sys, &br))
	e1 := sdwan.Endpoint{SiteID: hq.ID, Name: "wan1", Address: netip.MustParseAddrPort("203.0.113.1:51820"), Kind: sdwan.LinkFibre}
	e2 := sdwan.Endpoint{SiteID: br.ID, Name: "wan1", Address: netip.MustParseAddrPort("198.51.100.1:51820"), Kind: sdwan.LinkLTE}
	must(h.svc.CreateEndpoint(ctx, sys, &e1))
	must(h.svc.CreateEndpoint(ctx, sys, &e2))
	p := sdwan.Path{SrcEndpointID: e1.ID, DstEndpointID: e2.ID}
	must(h.svc.CreatePath(ctx, sys, &p))
	must(h.svc.SetPathStatus(ctx, sys, p.ID, sdwan.PathUp, "probes answered"))
	must(h.st.Tx(ctx, func(q storeQ) error {
		return q.AddPathMetrics(ctx, sdwan.PathMetrics{PathID: p.ID, LatencyMs: 5, JitterMs: 0.1, PacketLossPct: 0.5,
			BandwidthMbps: 100, MTU: 1500, MeasuredAt: time.Now().UTC(), Score: 95})
	}))
	for _, pol := range []sdwan.Policy{
		{Name: "web", Priority: 10, Enabled: true, Match: mustMatch(h.t, sdwan.MatchSpec{Protocol: "tcp", DestPort: "80,443"})},
		{Name: "voip", Priority: 20, Enabled: true, Match: mustMatch(h.t, sdwan.MatchSpec{Protocol: "udp", SourceIP: "10.1.0.0/16", DestIP: "10.2.0.0/16", DestPort: "5060"}),
			Action: sdwan.Action{SLA: sdwan.SLA{MaxLatencyMs: 150}}},
		{Name: "no-telnet", Priority: 5, Enabled: true, Match: mustMatch(h.t, sdwan.MatchSpec{Protocol: "tcp", DestPort: "23"}), Action: sdwan.Action{Kind: sdwan.ActionDrop}},
	} {
		must(h.svc.CreatePolicy(ctx, sys, &pol))
	}
	if _, err := h.agg.Apply(&stats.Report{Edge: "hq-edge", Site: hq.ID, Epoch: 1, Seq: 1, Time: time.Now(), Deltas: []stats.Delta{
		{PolicyID: 1, Packets: 1500, Bytes: 1_800_000, FlowsOpened: 3, ActiveFlows: 2},
		{PolicyID: 2, Packets: 10, Bytes: 2000, FlowsOpened: 1, ActiveFlows: 1},
	}}); err != nil {
		h.t.Fatal(err)
	}
	return p.ID
}

func mustMatch(t testing.TB, s sdwan.MatchSpec) sdwan.Match {
	t.Helper()
	m, err := sdwan.ParseMatch(s)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

var (
	timeRE    = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)`)
	auditIDRE = regexp.MustCompile(`"audit_id":\s*"\d+"`)
)

// normalise replaces the values that change between runs (times, audit
// IDs) so responses compare with golden files.
func normalise(b []byte) []byte {
	b = timeRE.ReplaceAll(b, []byte("<time>"))
	return auditIDRE.ReplaceAll(b, []byte(`"audit_id": "<id>"`))
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-want +got); run go test -update if the change is meant:\n%s", path, diff)
	}
}

// TestSeedOperations runs the seed's operation texts verbatim, in the
// seed's order, against seeded data and compares the answers with golden
// files.
func TestSeedOperations(t *testing.T) {
	h := newHarness(t)
	pathID := h.seed()
	admin := h.user("admin", sdwan.RoleAdmin)
	// Warm both caches, so clearCache has entries to report.
	h.mustDo(admin, `{ paths { id metrics { score } } }`, nil, nil)
	h.mustDo(admin, `query($s: ID!, $d: ID!) { routingDecision(srcSiteId: $s, dstSiteId: $d) { reason selectedPath { id } } }`,
		map[string]any{"s": seedSiteID, "d": mustPath(t, h, pathID).DstSiteID}, nil)

	for _, name := range []string{"GetPolicies", "GetPolicy", "ClearCache", "DeleteSite"} {
		t.Run(name, func(t *testing.T) {
			op, err := os.ReadFile(filepath.Join("testdata", "seed", name+".graphql"))
			if err != nil {
				t.Fatal(err)
			}
			r := h.do(admin, string(op), nil)
			if len(r.Errors) > 0 {
				t.Fatalf("errors: %+v", r.Errors)
			}
			var pretty bytes.Buffer
			if err := json.Indent(&pretty, r.Data, "", "  "); err != nil {
				t.Fatal(err)
			}
			pretty.WriteByte('\n')
			golden(t, filepath.Join("testdata", "seed", name+".golden.json"), normalise(pretty.Bytes()))
		})
	}
	// The seed's delete is audited in the same transaction and soft by
	// default: the site is restorable.
	var out struct {
		Site struct{ DeletedAt *string } `json:"site"`
	}
	h.mustDo(admin, `query($id: ID!) { site(id: $id) { deletedAt } }`, map[string]any{"id": seedSiteID}, &out)
	if out.Site.DeletedAt == nil {
		t.Error("the seed's deleteSite left the site live")
	}
}

func mustPath(t *testing.T, h *harness, id string) sdwan.Path {
	t.Helper()
	p, err := h.st.Read().Path(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSchemaGolden fails when the schema changes without -update, so a
// change to the API's contract is always a reviewed diff.
func TestSchemaGolden(t *testing.T) {
	var buf bytes.Buffer
	formatter.NewFormatter(&buf, formatter.WithIndent("  ")).FormatSchema(NewExecutableSchema(Config{Resolvers: &Resolver{}}).Schema())
	golden(t, filepath.Join("testdata", "schema.graphql"), buf.Bytes())
}

// TestSeedFieldNames pins the seed's snake_case names, which a formatter
// or a rename must never "fix".
func TestSeedFieldNames(t *testing.T) {
	s := NewExecutableSchema(Config{Resolvers: &Resolver{}}).Schema()
	for typ, fields := range map[string][]string{
		"Policy":           {"packets_matched", "bytes_matched", "matchCriteria", "actions", "priority"},
		"MatchCriteria":    {"protocol", "destPort", "sourceIp", "destIp", "sourcePort"},
		"PolicyActions":    {"setPath", "drop"},
		"MutationResult":   {"success", "message", "audit_id"},
		"CacheClearResult": {"success", "message", "cleared_entries"},
		"PathMetrics":      {"latency_ms", "jitter_ms", "packet_loss_pct", "bandwidth_mbps", "mtu", "measured_at", "score"},
	} {
		def := s.Types[typ]
		if def == nil {
			t.Errorf("type %s is missing", typ)
			continue
		}
		for _, f := range fields {
			if def.Fields.ForName(f) == nil {
				t.Errorf("%s.%s is missing", typ, f)
			}
		}
	}
	if a := s.Mutation.Fields.ForName("deleteSite").Arguments.ForName("site_id"); a == nil || a.Type.String() != "ID!" {
		t.Errorf("deleteSite(site_id: ID!) changed: %v", a)
	}
	_ = strings.TrimSpace
}
