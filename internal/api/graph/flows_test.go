package graph

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/patronus-sdwan/patronus/internal/sdwan"
)

// TestSessionFlow walks sign-in, renewal, use and sign-out.
func TestSessionFlow(t *testing.T) {
	h := newHarness(t)
	h.user("ops", sdwan.RoleOperator)
	var s struct {
		Login struct {
			Token, RenewalToken, ExpiresAt string
			User                           struct{ Name, Role string }
		} `json:"login"`
	}
	h.mustDo("", `mutation { login(username: "ops", password: "`+testPassword+`") { token renewalToken expiresAt user { name role } } }`, nil, &s)
	if s.Login.User.Name != "ops" || s.Login.User.Role != "OPERATOR" || s.Login.ExpiresAt == "" {
		t.Fatalf("login answered %+v", s.Login)
	}
	me := `{ me { name role kind } }`
	if r := h.do(s.Login.Token, me, nil); len(r.Errors) > 0 {
		t.Fatalf("access token refused: %+v", r.Errors)
	}
	if got := h.do(s.Login.RenewalToken, me, nil).code(); got != CodeUnauthenticated {
		t.Errorf("renewal token used as access token: code %q, want UNAUTHENTICATED", got)
	}
	var rn struct {
		RenewToken struct{ Token string } `json:"renewToken"`
	}
	h.mustDo("", `mutation($r: String!) { renewToken(renewalToken: $r) { token } }`, map[string]any{"r": s.Login.RenewalToken}, &rn)
	h.mustDo(rn.RenewToken.Token, `mutation { logout { success } }`, nil, nil)
	for name, tok := range map[string]string{"old access": s.Login.Token, "renewed access": rn.RenewToken.Token} {
		if got := h.do(tok, me, nil).code(); got != CodeUnauthenticated {
			t.Errorf("%s token after logout: code %q, want UNAUTHENTICATED", name, got)
		}
	}
	if got := h.do("", `mutation($r: String!) { renewToken(renewalToken: $r) { token } }`, map[string]any{"r": s.Login.RenewalToken}).code(); got != CodeUnauthenticated {
		t.Errorf("renewal after logout: code %q, want UNAUTHENTICATED", got)
	}
}

// TestRoleChangeRevokes: changing a user's role revokes their tokens at
// once.
func TestRoleChangeRevokes(t *testing.T) {
	h := newHarness(t)
	admin := h.user("admin", sdwan.RoleAdmin)
	viewer := h.user("vic", sdwan.RoleViewer)
	var u struct {
		Users []struct{ ID, Name string } `json:"users"`
	}
	h.mustDo(admin, `{ users { id name } }`, nil, &u)
	var id string
	for _, x := range u.Users {
		if x.Name == "vic" {
			id = x.ID
		}
	}
	h.mustDo(admin, `mutation($id: ID!) { updateUserRole(userId: $id, role: OPERATOR) { role } }`, map[string]any{"id": id}, nil)
	if got := h.do(viewer, `{ me { role } }`, nil).code(); got != CodeUnauthenticated {
		t.Errorf("token after role change: code %q, want UNAUTHENTICATED", got)
	}
}

// TestErrors checks codes, messages and extensions.field of typical
// mistakes.
func TestErrors(t *testing.T) {
	h := newHarness(t)
	pathID := h.seed()
	admin := h.user("admin", sdwan.RoleAdmin)
	viewer := h.user("viewer", sdwan.RoleViewer)
	for _, tc := range []struct {
		name, token, query string
		vars               map[string]any
		code, field, msg   string
	}{
		{name: "wrong password", query: `mutation { login(username: "admin", password: "nope-nope") { token } }`, code: CodeUnauthenticated, msg: "wrong user name or password"},
		{name: "no credentials", query: `{ sites { id } }`, code: CodeUnauthenticated, msg: "sign in first"},
		{name: "introspection needs sign-in", query: `{ __schema { queryType { name } } }`, code: CodeUnauthenticated},
		{name: "viewer may not delete", token: viewer, query: `mutation { deleteSite(site_id: "` + seedSiteID + `") { success } }`, code: CodeForbidden, msg: "needs the admin role"},
		{name: "bad port", token: admin, query: `mutation { createPolicy(input: {name: "p", priority: 99, match: {protocol: "tcp", destPort: "70000"}}) { id } }`,
			code: CodeBadInput, field: "policy.match.destPort", msg: "out of range 1-65535"},
		{name: "bad site name", token: admin, query: `mutation { createSite(input: {name: "Bad Name"}) { id } }`, code: CodeBadInput, field: "site.name"},
		{name: "bad address", token: admin, query: `mutation { createEndpoint(input: {siteId: "` + seedSiteID + `", name: "wan9", address: "nowhere"}) { id } }`,
			code: CodeBadInput, field: "endpoint.address"},
		{name: "prefix not a prefix", token: admin, query: `mutation { assignSitePrefixes(siteId: "` + seedSiteID + `", prefixes: ["10.1.0.0/24", "nonsense"]) { id } }`,
			code: CodeBadInput, field: "prefixes[1]", msg: "is not an IPv4 or IPv6 address or prefix"},
		{name: "prefix with host bits", token: admin, query: `mutation { assignSitePrefixes(siteId: "` + seedSiteID + `", prefixes: ["10.1.0.1/24"]) { id } }`,
			code: CodeBadInput, field: "prefixes[0]", msg: "has host bits set; did you mean 10.1.0.0/24?"},
		{name: "two prefixes in one", token: admin, query: `mutation { assignSitePrefixes(siteId: "` + seedSiteID + `", prefixes: ["10.1.0.0/24,10.2.0.0/24"]) { id } }`,
			code: CodeBadInput, field: "prefixes[0]", msg: "is not one network prefix"},
		{name: "prefixes of no site", token: admin, query: `mutation { assignSitePrefixes(siteId: "nope", prefixes: []) { id } }`, code: CodeNotFound},
		{name: "duplicate site", token: admin, query: `mutation { createSite(input: {name: "hq"}) { id } }`, code: CodeConflict},
		{name: "unknown policy", token: viewer, query: `{ policy(id: "999") { id } }`, code: CodeNotFound, msg: `no policy "999"`},
		{name: "policy id not a number", token: viewer, query: `{ policy(id: "abc") { id } }`, code: CodeBadInput, field: "id"},
		{name: "no edge connected", token: admin, query: `mutation($p: ID!) { checkPathHealth(pathId: $p) { id } }`, vars: map[string]any{"p": pathID},
			code: CodeUnavailable, msg: "no edge connected for site " + seedSiteID},
		{name: "failover without edge", token: admin, query: `mutation($p: ID!) { failoverPath(pathId: $p) }`, vars: map[string]any{"p": pathID},
			code: CodeUnavailable, msg: "no edge connected for site"},
		{name: "too deep", token: viewer, query: `{ sites { paths { srcSite { paths { srcSite { paths { srcSite { paths { srcSite { paths { srcSite { paths { id } } } } } } } } } } } } }`,
			code: "DEPTH_LIMIT_EXCEEDED"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := h.do(tc.token, tc.query, tc.vars)
			if len(r.Errors) == 0 {
				t.Fatalf("no error; data %s", r.Data)
			}
			e := r.Errors[0]
			if got := r.code(); got != tc.code {
				t.Errorf("code %q, want %q (%s)", got, tc.code, e.Message)
			}
			if tc.field != "" {
				if diff := cmp.Diff(tc.field, e.Extensions["field"]); diff != "" {
					t.Errorf("extensions.field (-want +got):\n%s", diff)
				}
			}
			if !strings.Contains(e.Message, tc.msg) {
				t.Errorf("message %q does not say %q", e.Message, tc.msg)
			}
		})
	}
}

// TestAssignSitePrefixes sets a site's prefixes, sees them on the site
// and in the audit log, and clears them.
func TestAssignSitePrefixes(t *testing.T) {
	h := newHarness(t)
	h.seed()
	admin := h.user("admin", sdwan.RoleAdmin)
	var out struct {
		AssignSitePrefixes struct{ Prefixes []string } `json:"assignSitePrefixes"`
	}
	h.mustDo(admin, `mutation($s: ID!) { assignSitePrefixes(siteId: $s, prefixes: [" 10.9.0.0/24", "2001:db8:9::/48"]) { prefixes } }`,
		map[string]any{"s": seedSiteID}, &out)
	if diff := cmp.Diff([]string{"10.9.0.0/24", "2001:db8:9::/48"}, out.AssignSitePrefixes.Prefixes); diff != "" {
		t.Errorf("prefixes (-want +got):\n%s", diff)
	}
	var audit struct {
		AuditLogs []struct{ Action, Summary string } `json:"auditLogs"`
	}
	h.mustDo(admin, `{ auditLogs(limit: 1) { action summary } }`, nil, &audit)
	if len(audit.AuditLogs) != 1 || audit.AuditLogs[0].Action != "site.prefixes" || !strings.Contains(audit.AuditLogs[0].Summary, "10.9.0.0/24") {
		t.Errorf("audit = %+v", audit.AuditLogs)
	}
	h.mustDo(admin, `mutation($s: ID!) { assignSitePrefixes(siteId: $s, prefixes: []) { prefixes } }`, map[string]any{"s": seedSiteID}, &out)
	if len(out.AssignSitePrefixes.Prefixes) != 0 {
		t.Errorf("after clearing: %v", out.AssignSitePrefixes.Prefixes)
	}
}

// TestBodyLimit refuses a request body over the limit.
func TestBodyLimit(t *testing.T) {
	h := newHarness(t)
	big := bytes.Repeat([]byte("x"), 2<<20)
	resp, err := http.Post(h.srv.URL+"/graphql", "application/json", bytes.NewReader(big))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("status %d, want 413", resp.StatusCode)
	}
}

// TestPathsWithSites lists paths with their sites, endpoints and metrics
// (through the dataloaders) and a site's dependencies before deleting it.
func TestPathsWithSites(t *testing.T) {
	h := newHarness(t)
	h.seed()
	viewer := h.user("viewer", sdwan.RoleViewer)
	var out struct {
		Paths []struct {
			Status      string
			SrcSite     struct{ Name string }
			DstSite     struct{ Name string }
			SrcEndpoint struct{ Name string }
			Metrics     struct {
				Latency float64 `json:"latency_ms"`
				Score   int
			}
		} `json:"paths"`
		Site struct {
			Dependencies struct{ Endpoints, Paths, Metrics int }
		} `json:"site"`
	}
	h.mustDo(viewer, `{ paths { status srcSite { name } dstSite { name } srcEndpoint { name } metrics { latency_ms score } }
		site(id: "hq") { dependencies { endpoints paths metrics } } }`, nil, &out)
	if len(out.Paths) != 1 {
		t.Fatalf("got %d paths, want 1", len(out.Paths))
	}
	p := out.Paths[0]
	if p.Status != "UP" || p.SrcSite.Name != "hq" || p.DstSite.Name != "branch" || p.SrcEndpoint.Name != "wan1" || p.Metrics.Score != 95 || p.Metrics.Latency != 5 {
		t.Errorf("path %+v", p)
	}
	if d := out.Site.Dependencies; d.Endpoints != 1 || d.Paths != 1 || d.Metrics != 1 {
		t.Errorf("dependencies %+v, want 1 endpoint, 1 path, 1 metrics row", d)
	}
}

// TestPathAvailability reads a path's availability, computed from its
// recorded state changes: the seeded path went Up once, just now.
func TestPathAvailability(t *testing.T) {
	h := newHarness(t)
	h.seed()
	viewer := h.user("viewer", sdwan.RoleViewer)
	var out struct {
		Paths []struct {
			Availability struct {
				Status string
				Day    struct {
					WindowSeconds, CoveredSeconds, UpSeconds, DownSeconds, UptimePct float64
				}
				LastTransitions []struct{ From, To, Reason string }
			}
		} `json:"paths"`
	}
	h.mustDo(viewer, `{ paths { availability { status day { windowSeconds coveredSeconds upSeconds downSeconds uptimePct }
		lastTransitions { from to reason } } } }`, nil, &out)
	if len(out.Paths) != 1 {
		t.Fatalf("got %d paths, want 1", len(out.Paths))
	}
	a := out.Paths[0].Availability
	if a.Status != "UP" || a.Day.WindowSeconds != 86400 || a.Day.CoveredSeconds > 60 {
		t.Errorf("availability = %+v; want UP over a 24 h window of which the young path covers seconds", a)
	}
	if len(a.LastTransitions) != 1 || a.LastTransitions[0].To != "UP" || a.LastTransitions[0].Reason != "probes answered" {
		t.Errorf("last transitions = %+v, want the one change to UP", a.LastTransitions)
	}
}
