package graph

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/patronus-sdwan/patronus/internal/auth"
	"github.com/patronus-sdwan/patronus/internal/control"
	"github.com/patronus-sdwan/patronus/internal/events"
	"github.com/patronus-sdwan/patronus/internal/sdwan"
	"github.com/patronus-sdwan/patronus/internal/stats"
	"github.com/patronus-sdwan/patronus/internal/store"
)

// policyNames runs a policies query and returns "name:packets" of each.
func policyNames(t *testing.T, h *harness, token, args string) []string {
	t.Helper()
	var out struct {
		Policies []struct {
			Name    string
			Packets int64 `json:"packets_matched"`
		}
	}
	h.mustDo(token, `{ policies`+args+` { name packets_matched } }`, nil, &out)
	names := make([]string, len(out.Policies))
	for i, p := range out.Policies {
		names[i] = fmt.Sprintf("%s:%d", p.Name, p.Packets)
	}
	return names
}

// TestPoliciesFromMemoryMatchTheStore checks that every filter and window
// the in-memory list answers gives what the store's query gives.
func TestPoliciesFromMemoryMatchTheStore(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	var deltas []stats.Delta
	for i := range 7 {
		p := sdwan.Policy{Name: fmt.Sprint("p", i), Priority: 70 - 10*i, Enabled: i%3 != 0}
		h.policy(&p)
		deltas = append(deltas, stats.Delta{PolicyID: p.ID, Packets: uint64(100 + i)})
	}
	h.traffic(deltas...)
	token := h.user("eve", sdwan.RoleViewer)
	yes, no := true, false
	for _, enabled := range []*bool{nil, &yes, &no} {
		for _, pg := range []*store.Page{nil, {Limit: 2}, {Offset: 3}, {Limit: 2, Offset: 1}, {Limit: 1000, Offset: 6}, {Offset: 100}} {
			var args []string
			if enabled != nil {
				args = append(args, fmt.Sprintf("filter: {enabled: %v}", *enabled))
			}
			if pg != nil {
				var f []string
				if pg.Limit != 0 {
					f = append(f, fmt.Sprint("limit: ", pg.Limit))
				}
				if pg.Offset != 0 {
					f = append(f, fmt.Sprint("offset: ", pg.Offset))
				}
				args = append(args, "page: {"+strings.Join(f, ", ")+"}")
			}
			q := ""
			if len(args) > 0 {
				q = "(" + strings.Join(args, ", ") + ")"
			}
			t.Run(q, func(t *testing.T) {
				want := []string{}
				spg := store.Page{Limit: store.MaxLimit}
				if pg != nil {
					spg = *pg
					if spg.Limit == 0 {
						spg.Limit = store.MaxLimit
					}
				}
				ps, _, err := h.st.Read().ListPolicies(ctx, store.PolicyFilter{Enabled: enabled}, spg)
				if err != nil {
					t.Fatal(err)
				}
				for _, p := range ps {
					want = append(want, fmt.Sprintf("%s:%d", p.Name, h.agg.PolicyTotals(p.ID).Packets))
				}
				if diff := cmp.Diff(want, policyNames(t, h, token, q)); diff != "" {
					t.Errorf("(-store +api):\n%s", diff)
				}
			})
		}
	}
	if r := h.do(token, `{ policies(page: {limit: 0}) { name } }`, nil); r.code() != CodeBadInput {
		t.Errorf("limit 0: %+v", r.Errors)
	}
}

// TestPoliciesFollowOtherReplicas checks that a policy change another
// replica announces reaches this replica's list, and that the live totals
// are read per request.
func TestPoliciesFollowOtherReplicas(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); h.svc.FollowReplicas(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	token := h.user("eve", sdwan.RoleViewer)

	p := sdwan.Policy{Name: "a", Priority: 1, Enabled: true}
	h.policy(&p)
	if got := policyNames(t, h, token, ""); !cmp.Equal(got, []string{"a:0"}) {
		t.Fatalf("got %v", got)
	}
	h.traffic(stats.Delta{PolicyID: p.ID, Packets: 5})
	if got := policyNames(t, h, token, ""); !cmp.Equal(got, []string{"a:5"}) {
		t.Fatalf("live totals: got %v", got)
	}

	// Another replica writes to the shared database and announces it.
	b := sdwan.Policy{Name: "b", Priority: 2, Enabled: true}
	if err := h.st.Tx(ctx, func(q store.Q) error { return q.CreatePolicy(ctx, &b) }); err != nil {
		t.Fatal(err)
	}
	if got := policyNames(t, h, token, ""); !cmp.Equal(got, []string{"a:5"}) {
		t.Fatalf("unannounced change: got %v, want the list in memory", got)
	}
	deadline := time.Now().Add(control.PolicyListTTL / 2) // the event, not the TTL, must do it
	for {
		// Announced again until seen: the follower subscribes on its own
		// goroutine and may not listen yet.
		h.svc.Bus().Deliver(events.Event{Kind: events.PolicyChanged, PolicyID: b.ID, Origin: "other", At: time.Now()})
		got := policyNames(t, h, token, "")
		if cmp.Equal(got, []string{"a:5", "b:0"}) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the other replica's policy never showed: %v", got)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestPoliciesConcurrentWithChanges runs queries while policies change,
// for the race detector, and checks the answer after the last change.
func TestPoliciesConcurrentWithChanges(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	token := h.user("eve", sdwan.RoleViewer)
	p := sdwan.Policy{Name: "a", Priority: 1, Enabled: true}
	h.policy(&p)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if r := h.do(token, `{ policies { name enabled packets_matched } }`, nil); len(r.Errors) > 0 {
					t.Error(r.Errors)
					return
				}
			}
		})
	}
	for i := range 10 {
		if _, err := h.svc.TogglePolicy(ctx, auth.System, p.ID, i%2 == 1); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	if got := policyNames(t, h, token, "(filter: {enabled: true})"); !cmp.Equal(got, []string{"a:0"}) {
		t.Errorf("after the last toggle: got %v", got)
	}
}
