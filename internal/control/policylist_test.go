package control

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/patronus-sdwan/patronus/internal/auth"
	"github.com/patronus-sdwan/patronus/internal/events"
	"github.com/patronus-sdwan/patronus/internal/sdwan"
	"github.com/patronus-sdwan/patronus/internal/store"
)

func names(l *PolicyList) string {
	s := ""
	for _, p := range l.Policies {
		s += fmt.Sprintf("%s:%d:%v ", p.Name, p.Priority, p.Enabled)
	}
	return s
}

func mustPolicies(t *testing.T, svc *Service) *PolicyList {
	t.Helper()
	l, err := svc.Policies(context.Background(), viewer)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// createBehind adds a policy through the store alone, as another replica
// (or anything else the service does not hear of) would.
func createBehind(t *testing.T, svc *Service, name string, prio int) {
	t.Helper()
	ctx := context.Background()
	err := svc.Store().Tx(ctx, func(q store.Q) error {
		return q.CreatePolicy(ctx, &sdwan.Policy{Name: name, Priority: prio, Enabled: true})
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestPolicyListFollowsTheServiceWrites(t *testing.T) {
	svc, _ := newService(t)
	ctx := context.Background()
	a, b := &sdwan.Policy{Name: "a", Priority: 20, Enabled: true}, &sdwan.Policy{Name: "b", Priority: 10, Enabled: true}
	for _, p := range []*sdwan.Policy{a, b} {
		if err := svc.CreatePolicy(ctx, operator, p); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		name   string
		change func() error
		want   string
	}{
		{"create", func() error { return nil }, "b:10:true a:20:true "},
		{"toggle", func() error { _, err := svc.TogglePolicy(ctx, operator, a.ID, false); return err }, "b:10:true a:20:false "},
		{"update", func() error {
			_, err := svc.UpdatePolicy(ctx, operator, b.ID, func(p *sdwan.Policy) error { p.Priority = 30; return nil })
			return err
		}, "a:20:false b:30:true "},
		{"reorder", func() error { return svc.ReorderPolicies(ctx, operator, map[int64]int{a.ID: 40}) }, "b:30:true a:40:false "},
		{"delete", func() error { _, err := svc.DeletePolicy(ctx, operator, b.ID); return err }, "a:40:false "},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			mustPolicies(t, svc) // cache the list as it was
			if err := st.change(); err != nil {
				t.Fatal(err)
			}
			if got := names(mustPolicies(t, svc)); got != st.want {
				t.Errorf("after %s: got %q, want %q", st.name, got, st.want)
			}
		})
	}
}

func TestPolicyListIsServedFromMemory(t *testing.T) {
	svc, _ := newService(t)
	createBehind(t, svc, "a", 1)
	first := mustPolicies(t, svc)
	createBehind(t, svc, "b", 2) // unseen until invalidated
	if second := mustPolicies(t, svc); second != first {
		t.Fatalf("second read reread the store: %q", names(second))
	}
	// Another replica's announcement of b makes the list stale.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); svc.FollowReplicas(ctx) }()
	defer func() { cancel(); <-done }()
	want := "a:1:true b:2:true "
	for deadline := time.Now().Add(PolicyListTTL / 2); ; {
		// Delivered again until seen: the follower subscribes on its own
		// goroutine.
		svc.Bus().Deliver(events.Event{Kind: events.PolicyChanged, Origin: "other replica", At: time.Now()})
		if got := names(mustPolicies(t, svc)); got == want {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("after another replica's policy event: got %q, want %q", got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Its own events are not another replica's. (First let the follower
	// take the announcements the loop above may have left queued, and
	// read the list they leave.)
	time.Sleep(100 * time.Millisecond)
	mustPolicies(t, svc)
	createBehind(t, svc, "c", 3)
	svc.Bus().Publish(events.Event{Kind: events.PolicyChanged})
	time.Sleep(50 * time.Millisecond)
	if got := names(mustPolicies(t, svc)); got != want {
		t.Errorf("after this replica's own event: got %q, want the list in memory", got)
	}
}

func TestPolicyListAfterAFailedWrite(t *testing.T) {
	svc, _ := newService(t)
	ctx := context.Background()
	if err := svc.CreatePolicy(ctx, operator, &sdwan.Policy{Name: "a", Priority: 1}); err != nil {
		t.Fatal(err)
	}
	first := mustPolicies(t, svc)
	// A conflicting create fails inside the transaction: nothing changed,
	// and the list may stay.
	if err := svc.CreatePolicy(ctx, operator, &sdwan.Policy{Name: "a", Priority: 2}); !errors.Is(err, sdwan.ErrConflict) {
		t.Fatalf("duplicate create: %v", err)
	}
	if got := names(mustPolicies(t, svc)); got != names(first) {
		t.Errorf("got %q, want %q", got, names(first))
	}
}

func TestPolicyListExpires(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, store.Config{DataDir: t.TempDir(), Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var clock atomic.Int64
	clock.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	now := func() time.Time { return time.Unix(0, clock.Load()) }
	svc, err := New(ctx, st, events.NewBus(nil, "test"), nil, now, DefaultConfig)
	if err != nil {
		t.Fatal(err)
	}
	createBehind(t, svc, "a", 1)
	mustPolicies(t, svc)
	createBehind(t, svc, "b", 2)
	clock.Add(int64(PolicyListTTL - time.Millisecond))
	if got, want := names(mustPolicies(t, svc)), "a:1:true "; got != want {
		t.Errorf("before the TTL: got %q, want %q", got, want)
	}
	clock.Add(int64(time.Millisecond))
	if got, want := names(mustPolicies(t, svc)), "a:1:true b:2:true "; got != want {
		t.Errorf("at the TTL: got %q, want %q", got, want)
	}
}

func TestPolicyListNeedsAReader(t *testing.T) {
	svc, _ := newService(t)
	if _, err := svc.Policies(context.Background(), auth.Principal{}); !errors.Is(err, sdwan.ErrUnauthenticated) {
		t.Errorf("anonymous: %v", err)
	}
	if _, err := svc.Policies(context.Background(), auth.Principal{Kind: "site", Role: sdwan.RoleEdge, SiteID: "s"}); err != nil {
		t.Errorf("edge: %v", err)
	}
}

// TestPolicyListConcurrentWrites checks that a list read while a change
// commits is never served after the change: whatever readers do
// meanwhile, the list read after the last write is the final one.
func TestPolicyListConcurrentWrites(t *testing.T) {
	svc, _ := newService(t)
	ctx := context.Background()
	const n = 20
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := svc.Policies(ctx, viewer); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	for i := range n {
		if err := svc.CreatePolicy(ctx, operator, &sdwan.Policy{Name: fmt.Sprint("p", i), Priority: i + 1}); err != nil {
			t.Fatal(err)
		}
		if got := len(mustPolicies(t, svc).Policies); got != i+1 {
			t.Fatalf("after create %d: %d policies", i+1, got)
		}
	}
	close(stop)
	wg.Wait()
}
