package lab

import (
	"context"
	"testing"
	"time"

	"github.com/patronus-sdwan/patronus/internal/api/edgeapi"
	"github.com/patronus-sdwan/patronus/internal/edge/probe"
	"github.com/patronus-sdwan/patronus/internal/lab/wanem"
	"github.com/patronus-sdwan/patronus/internal/sdwan"
)

// TestStability runs 10,000 probes per path through links that lose 2% of
// packets at random and add 10 ms of jitter (around a 20 ms delay) in each
// direction of every path, and requires zero Down transitions: random loss
// must never look like a failure.
//
// Each link gets the impairment on its outbound direction, so a path's
// requests (out of the source link) and its replies (out of the
// destination link) each cross it once: 2% per direction, 3.96% per round
// trip, as DESIGN.md's arithmetic assumes.
//
// The probes keep the default 100 ms interval: a faster one would not be
// the same test, because the emulator (like a real link) keeps packets in
// order, so at a spacing well under the jitter's 8.9 ms standard
// deviation a late packet holds up the ones behind it and the
// confirmation probes fail together. Measured at 5 ms: 9 false Downs in
// 20,000 probes, and the round-trip jitter read 6.5 ms instead of 14. So
// CI spreads the 10,000 probes over the 48 paths of a 4 x 2 lab (210 each,
// 21 s): false Downs come from independent random loss, so their expected
// number depends on the probes sent, not on how they are split among
// paths. With -lab.long every path of a 2 x 1 lab runs the full 10,000
// (17 minutes).
//
// A Down that the controller records within excuseWindow of a stall of
// the whole test process of excuseStall or more (the machine descheduled
// it) is an outage of the measuring host, not a flap, and is reported
// apart; any other Down fails the test. So that the excuse cannot hide a
// real failure, the test also fails when such windows cover more than a
// tenth of the run: a flapping monitor's Downs come at random times, and
// most of them must fall where they are counted.
func TestStability(t *testing.T) {
	// The prober declares a stall's Down within its 350 ms detection time
	// (TestDetection) and the controller records it within milliseconds
	// without -race; the rest of the second is room for a loaded host.
	const excuseStall, excuseWindow = 100 * time.Millisecond, time.Second
	timingScenario(t)
	// Beside the other scenarios: it needs wall time, little CPU, and no
	// timing finer than its 50 ms deadlines.
	t.Parallel()
	interval, probes, sites, links := 100, 210, 4, 2
	if *long {
		probes, sites, links = 10_000, 2, 1
	}
	stalls := watchStalls(t, 50*time.Millisecond)
	l := startLab(t, Config{Sites: sites, Links: links, Seed: 17, Probe: edgeapi.ProbeSettings{IntervalMs: interval}})
	for _, n := range l.LinkNames() {
		if err := l.Link(n).Apply(wanem.OutOnly, wanem.Change{Delay: ptr(20 * time.Millisecond),
			Jitter: ptr(10 * time.Millisecond), Loss: ptr(0.02)}); err != nil {
			t.Fatal(err)
		}
	}
	allUp(t, l, 30*time.Second)
	start := time.Now()
	type path struct {
		id    string
		pr    *probe.Prober
		start probe.Metrics
	}
	var paths []path
	for _, s := range l.Sites() {
		for _, p := range l.Agent(s).Paths() {
			pr, _ := l.Agent(s).Prober(p.PathID)
			paths = append(paths, path{id: p.PathID, pr: pr, start: pr.Metrics()})
		}
	}
	waitFor(t, time.Duration(probes*interval)*time.Millisecond*2+time.Minute, "the probes to be sent", func() bool {
		for _, p := range paths {
			m := p.pr.Metrics()
			if m.Received+m.Lost-p.start.Received-p.start.Lost < uint64(probes) {
				return false
			}
		}
		return true
	})
	ctx := context.Background()
	var downs, excused, total int
	for _, p := range paths {
		m := p.pr.Metrics()
		judged := m.Received + m.Lost - p.start.Received - p.start.Lost
		total += int(judged)
		evs, err := l.Controller.Store.Read().PathEvents(ctx, p.id, start, time.Now(), 1000)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, e := range evs {
			if e.Kind != "state" || e.To != sdwan.PathDown {
				continue
			}
			if s := stalls.near(e.At, excuseWindow); s >= excuseStall {
				excused++
				t.Logf("path %s Down at %s after a %v stall of the test process", p.id, e.At.Format("15:04:05.000"), s.Round(time.Millisecond))
				continue
			}
			n++
		}
		if st, since := p.pr.State(); st == probe.StateDown && n == 0 && stalls.near(since, excuseWindow) < excuseStall {
			n = 1 // Down now but not yet reported: still a failure
		}
		downs += n
		t.Logf("path %s: %d probes judged, round-trip loss %.2f%%, jitter %.2f ms, RTT p50 %.1f ms p95 %.1f ms, Down transitions %d",
			p.id, judged, 100*float64(m.Lost-p.start.Lost)/float64(judged), m.JitterMs, m.P50Ms, m.P95Ms, n)
	}
	t.Logf("stability at %d ms: %d paths, %d probes, %d Down transitions (%d more after process stalls; %s)",
		interval, len(paths), total, downs, excused, stalls.summary())
	end := time.Now()
	if c := stalls.covered(start, end, excuseStall, excuseWindow); c > end.Sub(start)/10 {
		t.Errorf("process stalls of %v or more excuse Downs in %v of the %v run; over a tenth, the run cannot vouch for zero flaps",
			excuseStall, c.Round(time.Millisecond), end.Sub(start).Round(time.Second))
	}
	if downs != 0 {
		t.Errorf("%d Down transitions under 2%% random loss and 10 ms jitter, want 0", downs)
	}
}
