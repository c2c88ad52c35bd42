package graph

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/patronus-sdwan/patronus/internal/sdwan"
	"github.com/patronus-sdwan/patronus/internal/stats"
)

// BenchmarkGraphQLPolicies1k runs the seed's GetPolicies operation over
// 1,000 policies through the HTTP handler: authentication, parsing (cached),
// validation, the policy list (the service's in-memory copy, which rereads
// the store after a change or control.PolicyListTTL), the live totals and
// the writing of the answer (the policies list writer, listwriter.go)
// included.
func BenchmarkGraphQLPolicies1k(b *testing.B) {
	h := newHarness(b)
	deltas := make([]stats.Delta, 0, 1000)
	for i := range 1000 {
		p := sdwan.Policy{Name: fmt.Sprintf("policy-%d", i), Priority: i + 1, Enabled: true,
			Match: mustMatch(b, sdwan.MatchSpec{Protocol: "tcp", DestPort: fmt.Sprint(1000 + i), DestIP: "10.0.0.0/8"})}
		h.policy(&p)
		deltas = append(deltas, stats.Delta{PolicyID: p.ID, Packets: uint64(i), Bytes: uint64(i) * 1000})
	}
	h.traffic(deltas...)
	token := h.user("bench", sdwan.RoleViewer)
	op, err := os.ReadFile(filepath.Join("testdata", "seed", "GetPolicies.graphql"))
	if err != nil {
		b.Fatal(err)
	}
	body, _ := json.Marshal(map[string]string{"query": string(op)})

	// Check the answer once before timing it.
	w := httptest.NewRecorder()
	h.api.ServeHTTP(w, policiesRequest(body, token))
	var out struct {
		Data struct{ Policies []json.RawMessage } `json:"data"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil || len(out.Data.Policies) != 1000 {
		b.Fatalf("got %d policies (%v): %.200s", len(out.Data.Policies), err, w.Body.String())
	}
	b.SetBytes(int64(w.Body.Len()))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.api.ServeHTTP(w, policiesRequest(body, token))
		if w.Code != http.StatusOK {
			b.Fatalf("status %d", w.Code)
		}
	}
}

func policiesRequest(body []byte, token string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Authorization", "Bearer "+token)
	return r
}
