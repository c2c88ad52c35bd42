package edgeapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/patronus-sdwan/patronus/internal/auth"
	"github.com/patronus-sdwan/patronus/internal/sdwan"
)

type fakeBackend struct {
	cfg     Config
	msgs    chan Message
	metrics []MetricsBatch
}

func (f *fakeBackend) Authenticate(_ context.Context, bearer string) (auth.Principal, error) {
	switch bearer {
	case "pse_good":
		return auth.Principal{Kind: "site", Role: sdwan.RoleEdge, SiteID: "s1"}, nil
	case "pat_admin":
		return auth.Principal{Kind: "apikey", Role: sdwan.RoleAdmin}, nil
	}
	return auth.Principal{}, auth.ErrBadToken
}

func (f *fakeBackend) DesiredConfig(context.Context, auth.Principal) (Config, error) {
	return f.cfg, nil
}

func (f *fakeBackend) Stream(context.Context, auth.Principal, string) (<-chan Message, error) {
	return f.msgs, nil
}

func (f *fakeBackend) ReportMetrics(_ context.Context, _ auth.Principal, b MetricsBatch) error {
	f.metrics = append(f.metrics, b)
	return nil
}

func (f *fakeBackend) ReportStates(context.Context, auth.Principal, StateBatch) error {
	return errors.New("boom")
}

func (f *fakeBackend) CompleteCheck(context.Context, auth.Principal, CheckResult) error {
	return sdwan.ErrNotFound
}

func TestHandlerStatuses(t *testing.T) {
	cfg := Config{Site: Site{ID: "s1", Name: "site-1"}}
	cfg.Seal()
	fb := &fakeBackend{cfg: cfg}
	srv := httptest.NewServer(NewHandler(fb, HandlerConfig{}))
	defer srv.Close()
	now := time.Now().UTC().Truncate(time.Millisecond)
	tests := []struct {
		name, method, path, token, body, etag string
		status                                int
		code                                  string
	}{
		{name: "no credential", method: "GET", path: PathConfig, status: 401, code: "UNAUTHENTICATED"},
		{name: "bad credential", method: "GET", path: PathConfig, token: "pse_bad", status: 401, code: "UNAUTHENTICATED"},
		{name: "user key", method: "GET", path: PathConfig, token: "pat_admin", status: 403, code: "FORBIDDEN"},
		{name: "config", method: "GET", path: PathConfig, token: "pse_good", status: 200},
		{name: "config not modified", method: "GET", path: PathConfig, token: "pse_good", etag: `"` + cfg.Version + `"`, status: 304},
		{name: "metrics", method: "POST", path: PathMetrics, token: "pse_good", status: 204,
			body: `{"metrics":[{"pathId":"p","state":"up","latency_ms":1,"measured_at":"` + now.Format(time.RFC3339Nano) + `"}]}`},
		{name: "metrics bad json", method: "POST", path: PathMetrics, token: "pse_good", body: `{"metrics":`, status: 400, code: "BAD_INPUT"},
		{name: "metrics trailing data", method: "POST", path: PathMetrics, token: "pse_good", body: `{} {}`, status: 400, code: "BAD_INPUT"},
		{name: "metrics bad value", method: "POST", path: PathMetrics, token: "pse_good", status: 400, code: "BAD_INPUT",
			body: `{"metrics":[{"pathId":"p","state":"up","packet_loss_pct":101,"measured_at":"` + now.Format(time.RFC3339Nano) + `"}]}`},
		{name: "states bad status", method: "POST", path: PathStates, token: "pse_good", body: `{"changes":[{"pathId":"p","to":"sideways"}]}`, status: 400, code: "BAD_INPUT"},
		{name: "states backend failure", method: "POST", path: PathStates, token: "pse_good", body: `{"changes":[{"pathId":"p","to":"up"}]}`, status: 500, code: "INTERNAL"},
		{name: "check unknown", method: "POST", path: PathChecks + "abc", token: "pse_good", body: `{}`, status: 404, code: "NOT_FOUND"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, srv.URL+tt.path, strings.NewReader(tt.body))
			if tt.token != "" {
				req.Header.Set("Authorization", "Bearer "+tt.token)
			}
			if tt.etag != "" {
				req.Header.Set("If-None-Match", tt.etag)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if tt.code != "" {
				var eb ErrorBody
				if err := decodeJSON(resp, &eb); err != nil || eb.Code != tt.code {
					t.Errorf("error body %+v (%v), want code %s", eb, err, tt.code)
				}
			}
		})
	}
	if len(fb.metrics) != 1 || fb.metrics[0].Metrics[0].LatencyMs != 1 {
		t.Errorf("backend got metrics %+v", fb.metrics)
	}
}

func TestClientStream(t *testing.T) {
	cfg := Config{Site: Site{ID: "s1", Name: "site-1"}}
	cfg.Seal()
	fb := &fakeBackend{cfg: cfg, msgs: make(chan Message, 4)}
	srv := httptest.NewServer(NewHandler(fb, HandlerConfig{PingInterval: time.Hour}))
	defer srv.Close()
	defer srv.CloseClientConnections()
	c, err := NewClient(srv.URL, "pse_good", nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Config(context.Background())
	if err != nil || got.Version != cfg.Version {
		t.Fatalf("config = %+v, %v", got, err)
	}
	fb.msgs <- Message{Type: MsgConfig, Config: &cfg}
	fb.msgs <- Message{Type: MsgCheck, Check: &Check{ID: "c1", PathID: "p", Probes: 5}}
	var types []string
	err = c.Stream(context.Background(), "", 200*time.Millisecond, func(m Message) error {
		types = append(types, m.Type)
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "silent") {
		t.Errorf("stream ended with %v, want the idle timeout", err)
	}
	if diff := cmp.Diff([]string{MsgPing, MsgConfig, MsgCheck}, types); diff != "" {
		t.Errorf("messages (-want +got):\n%s", diff)
	}

	bad, _ := NewClient(srv.URL, "pse_bad", nil)
	if _, err := bad.Config(context.Background()); !errors.Is(err, sdwan.ErrUnauthenticated) {
		t.Errorf("bad credential: %v, want unauthenticated", err)
	}
	if _, err := NewClient("ftp://x", "pse_good", nil); err == nil {
		t.Error("ftp URL accepted")
	}
}

func TestSealIsContentAddressed(t *testing.T) {
	a := Config{Site: Site{ID: "s1"}, Paths: []Path{{ID: "p", Session: 1}}}
	b := a
	b.Paths = []Path{{ID: "p", Session: 2}}
	if a.Seal() == b.Seal() {
		t.Error("different configs share a version")
	}
	c := a
	c.Version = "stale"
	if c.Seal() != a.Version {
		t.Error("sealing the same content twice gives two versions")
	}
}

func FuzzDecodeMessage(f *testing.F) {
	for _, s := range []string{
		`{"type":"ping"}`,
		`{"type":"config","config":{"version":"abc","site":{"id":"s","name":"n"},"links":[{"id":"l","name":"wan1","address":"127.0.0.1:9"}]}}`,
		`{"type":"check","check":{"id":"c","pathId":"p","probes":10,"timeoutMs":5000}}`,
		`{"type":"failover","failover":{"id":"f","pathId":"p"}}`,
		`{"type":"check","check":{"id":"c","pathId":"p","probes":0}}`,
		`{"type":"nope"}`,
		`[]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeMessage(b)
		if err != nil {
			if !errors.Is(err, ErrBadMessage) {
				t.Fatalf("error %v does not wrap ErrBadMessage", err)
			}
			return
		}
		switch m.Type {
		case MsgConfig:
			if m.Config == nil || m.Config.Version == "" {
				t.Fatal("accepted a config message without a config")
			}
		case MsgCheck:
			if m.Check == nil || m.Check.Probes < 1 || m.Check.Probes > 1000 {
				t.Fatal("accepted a check out of range")
			}
		case MsgFailover:
			if m.Failover == nil || m.Failover.PathID == "" {
				t.Fatal("accepted a failover without a path")
			}
		case MsgPing:
		default:
			t.Fatalf("accepted type %q", m.Type)
		}
	})
}

func decodeJSON(resp *http.Response, v any) error {
	return json.NewDecoder(resp.Body).Decode(v)
}
