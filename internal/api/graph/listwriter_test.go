package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/patronus-sdwan/patronus/internal/api/graph/model"
	"github.com/patronus-sdwan/patronus/internal/sdwan"
	"github.com/patronus-sdwan/patronus/internal/stats"
)

// TestPolicyListWriterMatchesExecutor answers each operation twice, once
// with the policies list writer and once through gqlgen's executor alone,
// and requires byte-identical responses, errors included.
func TestPolicyListWriterMatchesExecutor(t *testing.T) {
	h := newHarness(t)
	specs := []struct {
		name, desc string
		match      sdwan.MatchSpec
		action     sdwan.Action
		enabled    bool
	}{
		{"voice", "SIP & RTP <to> the \"core\"", sdwan.MatchSpec{Protocol: "udp", DestPort: "5060,10000-20000", DestIP: "10.0.0.0/8,2001:db8::/32"},
			sdwan.Action{Kind: sdwan.ActionSteer, Preference: sdwan.PreferQuality, SLA: sdwan.SLA{MaxLatencyMs: 150, MaxJitterMs: 30.5, MaxLossPct: 1e-7}}, true},
		{"bulk", "tab\there, line\nthere, é ü 日本 \u2028", sdwan.MatchSpec{Protocol: "tcp", SourceIP: "192.168.0.0/16", SourcePort: "1024-65535"},
			sdwan.Action{Kind: sdwan.ActionSteer, Preference: sdwan.PreferCost, SLA: sdwan.SLA{MaxLatencyMs: 123456789}}, false},
		{"pinned", "", sdwan.MatchSpec{Protocol: "icmp"},
			sdwan.Action{Kind: sdwan.ActionSteer, Preference: sdwan.PreferLink, Link: "wan2"}, true},
		{"blocked", "drop it", sdwan.MatchSpec{DestIP: "203.0.113.0/24"}, sdwan.Action{Kind: sdwan.ActionDrop}, true},
		{"anything", "no match fields at all", sdwan.MatchSpec{}, sdwan.Action{Kind: sdwan.ActionSteer, Preference: sdwan.PreferQuality}, true},
	}
	var deltas []stats.Delta
	for i, s := range specs {
		p := sdwan.Policy{Name: s.name, Description: s.desc, Priority: 10 * (i + 1), Enabled: s.enabled, Match: mustMatch(t, s.match), Action: s.action}
		h.policy(&p)
		deltas = append(deltas, stats.Delta{PolicyID: p.ID, Packets: uint64(1000 * i), Bytes: uint64(1 << (40 + i)), ActiveFlows: uint64(i)})
	}
	h.traffic(deltas...)
	token := h.user("reader", sdwan.RoleViewer)

	all := `id name description priority enabled packets_matched bytes_matched active_flows createdAt updatedAt __typename
		matchCriteria { __typename protocol sourceIp destIp sourcePort destPort }
		actions { __typename kind setPath drop preference link sla { __typename maxLatencyMs maxJitterMs maxLossPct } }`
	ops := []struct {
		name, query string
		vars        map[string]any
	}{
		{"seed", `query GetPolicies { policies { id priority packets_matched bytes_matched matchCriteria { protocol destPort sourceIp destIp } actions { setPath drop } } }`, nil},
		{"every field", `{ policies { ` + all + ` } }`, nil},
		{"aliases", `{ list: policies { a: id b: name a: id n: matchCriteria { p: protocol } x: actions { s: sla { l: maxLatencyMs } } } }`, nil},
		{"fragments", `query { policies { ...P ... on Policy { name matchCriteria { ...M } } } }
			fragment P on Policy { id actions { kind ... on PolicyActions { link } } }
			fragment M on MatchCriteria { destIp destPort }`, nil},
		{"skip and include", `query($yes: Boolean!, $no: Boolean!) { policies { id name @skip(if: $yes) priority @include(if: $yes)
			matchCriteria @include(if: $no) { protocol } actions { drop @skip(if: $no) } } }`, map[string]any{"yes": true, "no": false}},
		{"filter and page", `{ policies(filter: {enabled: true}, page: {limit: 2, offset: 1}) { id name enabled } }`, nil},
		{"variables", `query($f: PolicyFilter, $p: PageInput) { policies(filter: $f, page: $p) { id } }`,
			map[string]any{"f": map[string]any{"enabled": false}, "p": map[string]any{"limit": 10}}},
		{"name filter", `{ policies(filter: {nameContains: "o"}) { id name } }`, nil},
		{"bad page", `{ policies(page: {limit: 5000}) { id } }`, nil},
		{"bad variable", `query($p: PageInput) { policies(page: $p) { id } }`, map[string]any{"p": map[string]any{"limit": "ten"}}},
		{"two root fields", `{ a: policies(page: {limit: 1}) { id } siteCount b: policies { name } }`, nil},
		{"root skip", `{ policies @skip(if: false) { id } }`, nil},
	}
	// The executor resolves each field of each policy it writes; the list
	// writer, none. Counting them shows which of the two answered.
	var resolved atomic.Int64
	h.api.srv.AroundFields(func(ctx context.Context, next graphql.Resolver) (any, error) {
		if graphql.GetFieldContext(ctx).Object == "Policy" {
			resolved.Add(1)
		}
		return next(ctx)
	})
	for _, op := range ops {
		t.Run(op.name, func(t *testing.T) {
			exec := h.api.exec
			resolved.Store(0)
			fast := rawGraphQL(t, h.api, token, op.query, op.vars)
			byExecutor := resolved.Swap(0) > 0
			h.api.exec = nil
			slow := rawGraphQL(t, h.api, token, op.query, op.vars)
			h.api.exec = exec
			if !bytes.Equal(fast, slow) {
				t.Errorf("list writer and executor differ\nwriter:   %s\nexecutor: %s", fast, slow)
			}
			// Where there are policies to write, the list writer writes
			// them, but for a root field with a directive.
			if wantExecutor := op.name == "root skip"; resolved.Load() > 0 && byExecutor != wantExecutor {
				t.Errorf("policies written by the executor with the list writer on: %v, want %v", byExecutor, wantExecutor)
			}
			if len(slow) < 20 {
				t.Errorf("suspiciously short answer: %s", slow)
			}
		})
	}
}

// TestPolicyListWriterDefers: values gqlgen reports as errors, and
// objects it would report null, send the request down gqlgen's path.
func TestPolicyListWriterDefers(t *testing.T) {
	h := newHarness(t)
	doc, errs := gqlparser.LoadQueryWithRules(h.api.exec.Schema(), `{ policies { id createdAt updatedAt matchCriteria { protocol }
		actions { kind preference sla { maxLatencyMs maxJitterMs maxLossPct } } } }`, nil)
	if errs != nil {
		t.Fatal(errs)
	}
	opCtx := &graphql.OperationContext{Doc: doc, Operation: doc.Operations[0], Variables: map[string]any{}}
	plan, ok := compilePolicy(opCtx, doc.Operations[0].SelectionSet[0].(*ast.Field).SelectionSet)
	if !ok {
		t.Fatal("the plan does not compile")
	}
	now := time.Now()
	pol := func(edit func(*model.Policy)) *model.Policy {
		p := &model.Policy{ID: "1", CreatedAt: now, UpdatedAt: now, MatchCriteria: &model.MatchCriteria{},
			Actions: &model.PolicyActions{Kind: model.ActionKindSteer, Sla: &model.Sla{}}}
		edit(p)
		return p
	}
	bad := model.PathPreference("SIDEWAYS")
	for _, tc := range []struct {
		name string
		p    *model.Policy
		want bool
	}{
		{"plain", pol(func(*model.Policy) {}), true},
		{"nil policy", nil, false},
		{"zero time", pol(func(p *model.Policy) { p.UpdatedAt = time.Time{} }), false},
		{"no match criteria", pol(func(p *model.Policy) { p.MatchCriteria = nil }), false},
		{"no sla", pol(func(p *model.Policy) { p.Actions.Sla = nil }), false},
		{"infinite sla", pol(func(p *model.Policy) { p.Actions.Sla.MaxJitterMs = math.Inf(1) }), false},
		{"NaN sla", pol(func(p *model.Policy) { p.Actions.Sla.MaxLossPct = math.NaN() }), false},
		{"bad kind", pol(func(p *model.Policy) { p.Actions.Kind = "TELEPORT" }), false},
		{"bad preference", pol(func(p *model.Policy) { p.Actions.Preference = &bad }), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := plan.canWrite(tc.p); got != tc.want {
				t.Errorf("canWrite = %v, want %v", got, tc.want)
			}
		})
	}
}

// rawGraphQL posts an operation to api and returns the response body.
func rawGraphQL(t *testing.T, api http.Handler, token, query string, vars map[string]any) []byte {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	r := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Authorization", "Bearer "+token)
	w := httptest.NewRecorder()
	api.ServeHTTP(w, r)
	return []byte(fmt.Sprintf("%d %s", w.Code, w.Body.Bytes()))
}
