package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"go.uber.org/goleak"

	"github.com/patronus-sdwan/patronus/internal/auth"
	"github.com/patronus-sdwan/patronus/internal/control"
	"github.com/patronus-sdwan/patronus/internal/events"
	"github.com/patronus-sdwan/patronus/internal/sdwan"
	"github.com/patronus-sdwan/patronus/internal/stats"
	"github.com/patronus-sdwan/patronus/internal/store"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// harness is a real API over a fresh SQLite store, served by httptest.
type harness struct {
	t   testing.TB
	st  *store.Store
	svc *control.Service
	agg *stats.Aggregator
	api *API
	srv *httptest.Server
	seq uint64 // of the last report traffic applied
}

const testPassword = "correct-horse-battery"

func newHarness(t testing.TB) *harness {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, store.Config{DataDir: t.TempDir(), Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	cfg := control.DefaultConfig
	cfg.LoginBurst = 1000 // tests sign in often; the limiter has its own tests
	svc, err := control.New(ctx, st, events.NewBus(nil, "test"), nil, nil, cfg)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, st: st, svc: svc, agg: stats.NewAggregator()}
	if h.api, err = New(Options{Service: svc, Stats: h.agg, Version: "test"}); err != nil {
		t.Fatal(err)
	}
	h.srv = httptest.NewServer(h.api)
	t.Cleanup(func() {
		h.srv.Close()
		st.Close()
	})
	return h
}

// user creates a user with the role and returns an access token.
func (h *harness) user(name string, role sdwan.Role) string {
	h.t.Helper()
	if _, err := h.svc.CreateUser(context.Background(), auth.System, name, role, testPassword); err != nil {
		h.t.Fatal(err)
	}
	return h.login(name)
}

// policy creates p as the system.
func (h *harness) policy(p *sdwan.Policy) {
	h.t.Helper()
	if err := h.svc.CreatePolicy(context.Background(), auth.System, p); err != nil {
		h.t.Fatal(err)
	}
}

// traffic applies the deltas as an edge's next report.
func (h *harness) traffic(deltas ...stats.Delta) {
	h.t.Helper()
	h.seq++
	if _, err := h.agg.Apply(&stats.Report{Edge: "e", Site: "s", Epoch: 1, Seq: h.seq, Deltas: deltas}); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) login(name string) string {
	h.t.Helper()
	var out struct {
		Login struct{ Token string } `json:"login"`
	}
	h.mustDo("", `mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }`,
		map[string]any{"u": name, "p": testPassword}, &out)
	return out.Login.Token
}

type gqlError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

type gqlResponse struct {
	Data   json.RawMessage `json:"data"`
	Errors []gqlError      `json:"errors"`
}

func (r gqlResponse) code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

// do posts one operation with the token (none if "").
func (h *harness) do(token, query string, vars map[string]any) gqlResponse {
	h.t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out gqlResponse
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		h.t.Fatalf("decode response (status %d): %v", resp.StatusCode, err)
	}
	return out
}

// mustDo runs an operation that must succeed and decodes its data.
func (h *harness) mustDo(token, query string, vars map[string]any, into any) {
	h.t.Helper()
	r := h.do(token, query, vars)
	if len(r.Errors) > 0 {
		h.t.Fatalf("%s\nerrors: %+v", query, r.Errors)
	}
	if into != nil {
		if err := json.Unmarshal(r.Data, into); err != nil {
			h.t.Fatal(err)
		}
	}
}

type storeQ = store.Q
