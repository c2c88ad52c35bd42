package rest

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/patronus-sdwan/patronus/internal/auth"
	"github.com/patronus-sdwan/patronus/internal/sdwan"
	"github.com/patronus-sdwan/patronus/internal/store"
)

// tokenAuth is a test Authenticator: "viewer" and "edge" are the only
// valid tokens.
type tokenAuth struct{}

func (tokenAuth) Authenticate(_ context.Context, bearer string) (auth.Principal, error) {
	switch bearer {
	case "viewer":
		return auth.Principal{Kind: "user", Name: "v", Role: sdwan.RoleViewer}, nil
	case "edge":
		return auth.Principal{Kind: "site", Name: "s", Role: sdwan.RoleEdge}, nil
	}
	return auth.Principal{}, fmt.Errorf("%w: bad token", sdwan.ErrUnauthenticated)
}

var t0 = time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)

// statsStore opens a SQLite store holding one policy with n one-second
// snapshots starting at t0.
func statsStore(t testing.TB, n int) *store.Store {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, store.Config{DataDir: t.TempDir(), Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	err = st.Tx(ctx, func(q store.Q) error {
		p := &sdwan.Policy{Name: "voice", Priority: 1}
		if err := q.CreatePolicy(ctx, p); err != nil {
			return err
		}
		return q.AddPolicyStatsSeries(ctx, p.ID, t0, time.Second, n)
	})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func get(t testing.TB, h http.Handler, token, query string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest("GET", "/api/v1/stats/export?"+query, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestExportFormats(t *testing.T) {
	st := statsStore(t, 10)
	h := Export(tokenAuth{}, func() StatsRows { return st.Read() })
	rng := "from=2026-11-27T00:00:00Z&to=2026-11-27T00:00:05Z"

	rec := get(t, h, "viewer", "format=csv&"+rng)
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/csv") {
		t.Fatalf("csv: %d %s", rec.Code, rec.Body)
	}
	recs, err := csv.NewReader(rec.Body).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 7 || strings.Join(recs[0], ",") != "timestamp,policy_id,site_id,packets_matched,bytes_matched,active_flows" {
		t.Fatalf("csv rows = %v", recs)
	}
	if recs[1][0] != "2026-11-27T00:00:00Z" || recs[6][3] != "50" {
		t.Errorf("csv data = %v", recs[1:])
	}

	rec = get(t, h, "viewer", "format=json&"+rng)
	var rows []exportRow
	if err := json.Unmarshal(rec.Body.Bytes(), &rows); err != nil || len(rows) != 6 || rows[5].BytesMatched != 5000 {
		t.Fatalf("json = %v, %v: %s", rows, err, rec.Body)
	}

	rec = get(t, h, "viewer", "format=ndjson&step=2s&"+rng)
	lines := strings.Split(strings.TrimSpace(rec.Body.String()), "\n")
	if len(lines) != 3 {
		t.Errorf("ndjson with step 2s = %d lines, want 3: %s", len(lines), rec.Body)
	}
}

// TestExportHeaders checks each format's content type and the attachment's
// file name, which carries the range and the format's extension.
func TestExportHeaders(t *testing.T) {
	st := statsStore(t, 1)
	h := Export(tokenAuth{}, func() StatsRows { return st.Read() })
	rng := "from=2026-11-27T00:00:00Z&to=2026-11-27T00:00:05Z"
	tests := []struct {
		query, contentType, file string
	}{
		{"", "text/csv; charset=utf-8", "patronus-stats-20261127T000000Z-20261127T000005Z.csv"},
		{"format=CSV&", "text/csv; charset=utf-8", "patronus-stats-20261127T000000Z-20261127T000005Z.csv"},
		{"format=json&", "application/json", "patronus-stats-20261127T000000Z-20261127T000005Z.json"},
		{"format=ndjson&", "application/x-ndjson", "patronus-stats-20261127T000000Z-20261127T000005Z.ndjson"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			rec := get(t, h, "viewer", tt.query+rng)
			got := []string{rec.Header().Get("Content-Type"), rec.Header().Get("Content-Disposition")}
			want := []string{tt.contentType, `attachment; filename="` + tt.file + `"`}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("status %d, headers (-want +got):\n%s", rec.Code, diff)
			}
		})
	}
}

func TestExportErrors(t *testing.T) {
	st := statsStore(t, 1)
	h := Export(tokenAuth{}, func() StatsRows { return st.Read() })
	tests := []struct {
		name, token, query string
		status             int
		want               string
	}{
		{"no token", "", "from=2026-11-27T00:00:00Z&to=2026-11-28T00:00:00Z", 401, "UNAUTHENTICATED"},
		{"edge", "edge", "from=2026-11-27T00:00:00Z&to=2026-11-28T00:00:00Z", 403, "viewer role"},
		{"format", "viewer", "format=xml&from=2026-11-27T00:00:00Z&to=2026-11-28T00:00:00Z", 400, `format: \"xml\" must be csv, json or ndjson`},
		{"from", "viewer", "from=yesterday&to=2026-11-28T00:00:00Z", 400, `from: \"yesterday\" must be an RFC 3339 time`},
		{"reversed", "viewer", "from=2026-11-28T00:00:00Z&to=2026-11-27T00:00:00Z", 400, "must be after from"},
		{"too long", "viewer", "from=2020-01-01T00:00:00Z&to=2026-11-28T00:00:00Z", 400, "more than 400 days"},
		{"policy", "viewer", "policy=x&from=2026-11-27T00:00:00Z&to=2026-11-28T00:00:00Z", 400, "must be a policy ID"},
		{"step", "viewer", "step=1ms&from=2026-11-27T00:00:00Z&to=2026-11-28T00:00:00Z", 400, "at least 1s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := get(t, h, tt.token, tt.query)
			if rec.Code != tt.status || !strings.Contains(rec.Body.String(), tt.want) {
				t.Errorf("got %d %s; want %d containing %q", rec.Code, rec.Body, tt.status, tt.want)
			}
		})
	}
}

// BenchmarkExport1M streams a million snapshot rows as CSV through the
// handler over a real HTTP connection and reports rows/s and the peak heap
// seen while it ran, next to the same export of 100,000 rows: a flat heap
// means memory does not grow with the row count.
func BenchmarkExport1M(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		b.Run(fmt.Sprintf("rows=%d", n), func(b *testing.B) {
			st := statsStore(b, n)
			srv := httptest.NewServer(Export(tokenAuth{}, func() StatsRows { return st.Read() }))
			defer srv.Close()
			url := srv.URL + "?format=csv&from=2026-11-27T00:00:00Z&to=2026-12-31T00:00:00Z"
			b.ReportAllocs()
			var peak atomic.Uint64
			done := make(chan struct{})
			runtime.GC()
			go samplePeak(&peak, done)
			for b.Loop() {
				req, _ := http.NewRequest("GET", url, nil)
				req.Header.Set("Authorization", "Bearer viewer")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				got, _ := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if got < int64(n)*30 {
					b.Fatalf("export of %d rows was only %d bytes", n, got)
				}
			}
			close(done)
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MiB")
		})
	}
}

func samplePeak(peak *atomic.Uint64, done <-chan struct{}) {
	var ms runtime.MemStats
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
		}
	}
}
