package lab

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/patronus-sdwan/patronus/internal/edge/probe"
	"github.com/patronus-sdwan/patronus/internal/lab/wanem"
	"github.com/patronus-sdwan/patronus/internal/sdwan"
)

// TestDetection cuts a link at random phases of the probe schedule and
// measures, at the default interval and multiplier, how long the edges
// take to declare its paths Down (the criterion: interval × multiplier +
// 50 ms = 350 ms), how long the controller takes to record it, and how
// long the paths take to come back Up after the link is restored (10 good
// probes and the 2 s hold-down).
func TestDetection(t *testing.T) {
	timingScenario(t)
	t.Parallel()
	cycles := 4
	if *long {
		cycles = 40
	}
	const limit = 350 * time.Millisecond
	stalls := watchStalls(t, 50*time.Millisecond)
	l := startLab(t, Config{Sites: 2, Links: 1, Seed: 11})
	for _, n := range l.LinkNames() {
		// A little delay so the paths are not pure loopback.
		if err := l.Link(n).Apply(wanem.Both, wanem.Change{Delay: ptr(2 * time.Millisecond)}); err != nil {
			t.Fatal(err)
		}
	}
	ids := []string{l.PathID("site-1/wan1", "site-2/wan1"), l.PathID("site-2/wan1", "site-1/wan1")}
	owners := []string{"site-1", "site-2"}
	probers := make([]*probe.Prober, 2)
	allUp(t, l, 15*time.Second)
	for i, id := range ids {
		probers[i], _ = l.Agent(owners[i]).Prober(id)
	}
	ctx := context.Background()
	var downs, ups, ctrl []time.Duration
	cut := l.Link("site-1/wan1")
	for c := range cycles {
		waitFor(t, 15*time.Second, "both paths Up", func() bool {
			for _, p := range probers {
				if st, _ := p.State(); st != probe.StateUp {
					return false
				}
			}
			return true
		})
		time.Sleep(time.Duration(rand.N(100)) * time.Millisecond) // a random phase of the 100 ms schedule
		at := time.Now()
		cut.SetDown(true)
		for i, p := range probers {
			var since time.Time
			waitFor(t, 5*time.Second, "the cut path Down", func() bool {
				st, s := p.State()
				since = s
				return st == probe.StateDown
			})
			d := since.Sub(at)
			if s := stalls.near(since, since.Sub(at)); d > limit && s >= 50*time.Millisecond {
				// The process was not running: its probes' deadlines
				// could not be judged on time. Not the monitor's figure.
				t.Logf("cycle %d path %d: Down %v after the cut, after a %v stall of the test process; not counted", c, i, d.Round(time.Millisecond), s.Round(time.Millisecond))
			} else {
				downs = append(downs, d)
				if d > limit {
					t.Errorf("cycle %d path %d: Down %v after the cut, want ≤ %v", c, i, d, limit)
				}
			}
			// When the controller recorded it.
			waitFor(t, 5*time.Second, "the controller to record Down", func() bool {
				evs, err := l.Controller.Store.Read().PathEvents(ctx, ids[i], at, time.Now().Add(time.Second), 10)
				if err != nil {
					return false
				}
				for _, e := range evs {
					if e.Kind == "state" && e.To == sdwan.PathDown {
						ctrl = append(ctrl, e.At.Sub(at))
						return true
					}
				}
				return false
			})
		}
		at = time.Now()
		cut.SetDown(false)
		for _, p := range probers {
			var since time.Time
			waitFor(t, 10*time.Second, "the path back Up", func() bool {
				st, s := p.State()
				since = s
				return st == probe.StateUp
			})
			ups = append(ups, since.Sub(at))
		}
	}
	t.Logf("cut -> Down at the edge (%d paths x %d cuts): %s (limit %v)", len(probers), cycles, spread(downs), limit)
	t.Logf("cut -> Down recorded by the controller: %s (store times are whole milliseconds)", spread(ctrl))
	t.Logf("process stalls during the run: %s", stalls.summary())
	t.Logf("restore -> Up at the edge: %s (10 good probes and the 2 s hold-down)", spread(ups))
}

// TestOverhead measures the probe traffic of one path at the default
// interval on an unimpaired link: site-1/wan1 carries two paths (its own
// to site-2, and site-2's to it), each crossing it once in each direction.
func TestOverhead(t *testing.T) {
	timingScenario(t)
	t.Parallel()
	l := startLab(t, Config{Sites: 2, Links: 1, Seed: 13})
	allUp(t, l, 15*time.Second)
	wl := l.Link("site-1/wan1")
	before, t0 := wl.Stats(), time.Now()
	time.Sleep(5 * time.Second)
	after, t1 := wl.Stats(), time.Now()
	secs := t1.Sub(t0).Seconds()
	dgrams := float64(after.Out.Delivered + after.In.Delivered - before.Out.Delivered - before.In.Delivered)
	payload := float64(after.Out.DeliveredBytes + after.In.DeliveredBytes - before.Out.DeliveredBytes - before.In.DeliveredBytes)
	const paths = 2
	perPath := func(headerBytes float64) float64 { return (payload + dgrams*headerBytes) * 8 / secs / paths / 1000 }
	t.Logf("per path at 100 ms: %.1f datagrams/s; %.2f kbit/s of probe payload, %.2f kbit/s with IPv4+UDP headers, %.2f kbit/s with IPv6+UDP",
		dgrams/secs/paths, perPath(0), perPath(28), perPath(48))
	if got := perPath(28); got > 20 {
		t.Errorf("probe traffic %.2f kbit/s per path with IPv4 headers, want at most 20", got)
	}
}
