package lab

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/patronus-sdwan/patronus/internal/api/edgeapi"
	"github.com/patronus-sdwan/patronus/internal/edge/probe"
	"github.com/patronus-sdwan/patronus/internal/sdwan"
)

// startLab builds a lab and runs it until the test ends.
func startLab(t *testing.T, cfg Config) *Lab {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	l, err := New(ctx, cfg)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := l.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("lab run: %v", err)
		}
	})
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		if err := l.Close(); err != nil {
			t.Errorf("lab close: %v", err)
		}
	})
	return l
}

// waitFor polls cond every 20 ms until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// allUp waits until every path of every edge is Up.
func allUp(t *testing.T, l *Lab, d time.Duration) {
	t.Helper()
	waitFor(t, d, "every path Up", func() bool {
		n := 0
		for _, s := range l.Sites() {
			for _, p := range l.Agent(s).Paths() {
				if p.Metrics.State != probe.StateUp {
					return false
				}
				n++
			}
		}
		return n == l.PathCount()
	})
}

func TestLabEndToEnd(t *testing.T) {
	interval := 20
	if raceEnabled {
		// 24 paths probed every 20 ms, each probe crossing the data
		// plane's socket demultiplexer, saturate two cores under the race
		// detector and paths flap; the default interval does not.
		interval = 100
	}
	l := startLab(t, Config{Sites: 3, Links: 2, Probe: edgeapi.ProbeSettings{IntervalMs: interval}, ReportInterval: 200 * time.Millisecond})
	// 6 links, each with a path to the 4 links of the other two sites.
	if got := l.PathCount(); got != 24 {
		t.Fatalf("paths = %d, want 24", got)
	}
	allUp(t, l, 10*time.Second)

	ctx := context.Background()
	st := l.Controller.Store
	id := l.PathID("site-1/wan1", "site-2/wan2")
	waitFor(t, 5*time.Second, "the controller to see the path Up with metrics", func() bool {
		p, err := st.Read().Path(ctx, id)
		if err != nil || p.Status != sdwan.PathUp {
			return false
		}
		_, err = st.Read().LatestPathMetrics(ctx, id)
		return err == nil
	})

	// The lab's path list names both ends and carries the latest metrics.
	rows, err := PathRows(ctx, l.Controller.Service, authAdmin(t, l))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 24 {
		t.Errorf("PathRows: %d rows, want 24", len(rows))
	}
	for _, r := range rows {
		if r.ID == id && (r.SrcSite != "site-1" || r.SrcLink != "wan1" || r.DstSite != "site-2" || r.DstLink != "wan2" || r.Metrics == nil) {
			t.Errorf("PathRows: %+v, want site-1/wan1 to site-2/wan2 with metrics", r)
		}
	}

	// An on-demand check goes through the owning edge.
	m, err := l.Hub.CheckPathHealthByID(ctx, id)
	if err != nil {
		t.Fatalf("check: %v", err)
	}
	if m.PathID != id || m.LatencyMs <= 0 || m.Score <= 0 || m.MeasuredAt.IsZero() {
		t.Errorf("check metrics = %+v, want a measured path", m)
	}

	// A failover goes to the owning edge's data plane, which reports the
	// forced move back as a path event; failing a path over onto itself
	// clears it.
	path, _ := st.Read().Path(ctx, id)
	target := l.PathID("site-1/wan2", "site-2/wan2")
	if err := l.Hub.Failover(ctx, path, target, "test"); err != nil {
		t.Errorf("failover: %v", err)
	}
	waitFor(t, 5*time.Second, "the forced failover recorded as a path event", func() bool {
		for _, pid := range []string{id, target, l.PathID("site-1/wan1", "site-2/wan1"), l.PathID("site-1/wan2", "site-2/wan1")} {
			evs, err := st.Read().PathEvents(ctx, pid, time.Now().Add(-time.Minute), time.Now().Add(time.Minute), 100)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range evs {
				// The engine may pick another path of the target's link to
				// the same site (see the data plane's Force), so the event
				// is looked for, not its exact path.
				if e.Kind == "forced" {
					return true
				}
			}
		}
		return false
	})
	if err := l.Hub.Failover(ctx, path, id, "clear"); err != nil {
		t.Errorf("clearing the failover: %v", err)
	}
	nodp := startLab(t, Config{Sites: 2, Links: 1, NoDataPlane: true})
	npID := nodp.PathID("site-1/wan1", "site-2/wan1")
	waitFor(t, 10*time.Second, "the edge without a data plane connected", func() bool { return nodp.Agent("site-1").Connected() })
	nPath, _ := nodp.Controller.Store.Read().Path(ctx, npID)
	if err := nodp.Hub.Failover(ctx, nPath, "", "test"); !errors.Is(err, sdwan.ErrUnavailable) || !strings.Contains(err.Error(), "no data plane") {
		t.Errorf("failover without a data plane = %v, want unavailable: no data plane", err)
	}

	// Cutting a link takes its paths Down at the edge and in the store.
	l.Link("site-1/wan1").SetDown(true)
	waitFor(t, 5*time.Second, "the controller to see the cut path Down", func() bool {
		p, err := st.Read().Path(ctx, id)
		return err == nil && p.Status == sdwan.PathDown
	})
	other := l.PathID("site-1/wan2", "site-2/wan2")
	if p, _ := st.Read().Path(ctx, other); p.Status != sdwan.PathUp {
		t.Errorf("path on the other link is %s, want up", p.Status)
	}
	l.Link("site-1/wan1").SetDown(false)
	waitFor(t, 10*time.Second, "the path to come back", func() bool {
		p, err := st.Read().Path(ctx, id)
		return err == nil && p.Status != sdwan.PathDown
	})

	a, err := l.Controller.Service.PathAvailability(ctx, authAdmin(t, l), id)
	if err != nil {
		t.Fatal(err)
	}
	if a.Day.Down <= 0 || a.Day.Up <= 0 || len(a.Last) < 3 {
		t.Errorf("availability = %+v, want time Up and Down and 3+ transitions", a)
	}
}
