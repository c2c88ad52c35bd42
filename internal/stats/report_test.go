package stats

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestReporterSequence(t *testing.T) {
	c, clk := newTest(t, Config{Capacity: 1024})
	r := NewReporter(ReporterConfig{Source: c, Edge: "e1", Site: "s1", Epoch: 7, Now: clk.Now})
	ignoreTime := cmpopts.IgnoreFields(Report{}, "Time")

	if _, ok := r.Next(); ok {
		t.Fatal("report with nothing recorded")
	}
	c.RecordPacket(1, flow(1), 100)
	c.RecordPacket(2, flow(2), 50)
	first, ok := r.Next()
	want := Report{Edge: "e1", Site: "s1", Epoch: 7, Seq: 1, Deltas: []Delta{
		{PolicyID: 1, Packets: 1, Bytes: 100, FlowsOpened: 1, ActiveFlows: 1},
		{PolicyID: 2, Packets: 1, Bytes: 50, FlowsOpened: 1, ActiveFlows: 1},
	}}
	if diff := cmp.Diff(want, first, ignoreTime); !ok || diff != "" {
		t.Fatalf("first report mismatch (-want +got):\n%s", diff)
	}

	// Unacknowledged, the same report comes back, frozen, while new
	// traffic waits.
	c.RecordPacket(1, flow(1), 100)
	again, _ := r.Next()
	if diff := cmp.Diff(first, again); diff != "" {
		t.Fatalf("re-sent report differs (-first +again):\n%s", diff)
	}
	if r.Ack(2) || !r.Ack(1) || r.Ack(1) {
		t.Fatal("Ack accepted a wrong or repeated sequence, or refused the right one")
	}
	second, _ := r.Next()
	want = Report{Edge: "e1", Site: "s1", Epoch: 7, Seq: 2, Deltas: []Delta{
		{PolicyID: 1, Packets: 1, Bytes: 100, ActiveFlows: 1},
	}}
	if diff := cmp.Diff(want, second, ignoreTime); diff != "" {
		t.Fatalf("second report mismatch (-want +got):\n%s", diff)
	}
	r.Ack(2)

	// A change in active flows alone is worth a report.
	advance(c, clk, time.Hour)
	c.CleanupStaleFlows(time.Minute)
	third, ok := r.Next()
	want = Report{Edge: "e1", Site: "s1", Epoch: 7, Seq: 3, Deltas: []Delta{{PolicyID: 1}, {PolicyID: 2}}}
	if diff := cmp.Diff(want, third, ignoreTime); !ok || diff != "" {
		t.Fatalf("third report mismatch (-want +got):\n%s", diff)
	}
	r.Ack(3)
	if _, ok := r.Next(); ok {
		t.Fatal("report with nothing new")
	}
}

func TestAggregatorApply(t *testing.T) {
	a := NewAggregator()
	rep := func(edge, site string, epoch, seq uint64, deltas ...Delta) *Report {
		return &Report{Edge: edge, Site: site, Epoch: epoch, Seq: seq, Deltas: deltas}
	}
	steps := []struct {
		r       *Report
		applied bool
		err     error
	}{
		{rep("e1", "s1", 1, 1, Delta{PolicyID: 1, Packets: 10, Bytes: 1000, FlowsOpened: 2, ActiveFlows: 2}), true, nil},
		{rep("e1", "s1", 1, 1, Delta{PolicyID: 1, Packets: 10, Bytes: 1000, FlowsOpened: 2, ActiveFlows: 2}), false, nil}, // duplicate
		{rep("e2", "s2", 1, 1, Delta{PolicyID: 1, Packets: 5, Bytes: 500, FlowsOpened: 1, ActiveFlows: 1}), true, nil},
		{rep("e1", "s1", 1, 2, Delta{PolicyID: 2, Packets: 1, Bytes: 64, FlowsOpened: 1, ActiveFlows: 1},
			Delta{PolicyID: 1, Packets: 1, Bytes: 100, ActiveFlows: 1}), true, nil},
		{rep("e1", "s1", 0, 9, Delta{PolicyID: 1, Packets: 99}), false, nil}, // an older run
		// e2 restarts: its counts go on, its old gauges go.
		{rep("e2", "s2", 2, 1, Delta{PolicyID: 2, Packets: 3, Bytes: 300, FlowsOpened: 3, ActiveFlows: 3}), true, nil},
		{rep("", "s2", 2, 2), false, ErrBadReport},
		{rep("e3", "s3", 1, 0), false, ErrBadReport},
	}
	for i, s := range steps {
		applied, err := a.Apply(s.r)
		if applied != s.applied || err != s.err {
			t.Fatalf("step %d: Apply = %v, %v; want %v, %v", i, applied, err, s.applied, s.err)
		}
	}
	want := []PolicyTotals{
		{PolicyID: 1, Totals: Totals{Packets: 16, Bytes: 1600, FlowsOpened: 3, ActiveFlows: 1}},
		{PolicyID: 2, Totals: Totals{Packets: 4, Bytes: 364, FlowsOpened: 4, ActiveFlows: 4}},
	}
	if diff := cmp.Diff(want, a.AllPolicyTotals()); diff != "" {
		t.Errorf("AllPolicyTotals mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want[0].Totals, a.PolicyTotals(1)); diff != "" {
		t.Errorf("PolicyTotals(1) mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(Totals{Packets: 12, Bytes: 1164, FlowsOpened: 3, ActiveFlows: 2}, a.SiteTotals("s1")); diff != "" {
		t.Errorf("SiteTotals(s1) mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(Totals{Packets: 5, Bytes: 500, FlowsOpened: 1}, a.SitePolicyTotals("s2", 1)); diff != "" {
		t.Errorf("SitePolicyTotals(s2, 1) mismatch (-want +got):\n%s", diff)
	}
	if got := a.PolicyTotals(42); got != (Totals{}) {
		t.Errorf("PolicyTotals of an unknown policy = %+v", got)
	}
}

// lossyLink carries messages with random loss, duplication and
// reordering.
type lossyLink[T any] struct {
	r        *rand.Rand
	inFlight []T
}

func (l *lossyLink[T]) send(m T) {
	switch x := l.r.Float64(); {
	case x < 0.3: // lost
	case x < 0.5: // duplicated
		l.inFlight = append(l.inFlight, m, m)
	default:
		l.inFlight = append(l.inFlight, m)
	}
}

// receive delivers a random message in flight, if any.
func (l *lossyLink[T]) receive() (T, bool) {
	var zero T
	if len(l.inFlight) == 0 {
		return zero, false
	}
	i := l.r.IntN(len(l.inFlight))
	m := l.inFlight[i]
	l.inFlight = append(l.inFlight[:i], l.inFlight[i+1:]...)
	return m, true
}

// TestReportsOverLossyLinks is the property the protocol exists for: with
// reports and acknowledgements dropped, duplicated and reordered at
// random, once the links settle the controller's totals equal what the
// edges recorded, per policy and per site.
func TestReportsOverLossyLinks(t *testing.T) {
	for seed := range uint64(20) {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 99))
			a := NewAggregator()
			type edge struct {
				site    string
				c       *Collector
				clk     *clock
				rep     *Reporter
				reports lossyLink[Report]
				acks    lossyLink[uint64]
			}
			var edges []*edge
			for i := range 3 {
				c, clk := newTest(t, Config{Capacity: 256})
				site := fmt.Sprint("site-", i%2+1) // two edges share site-1
				edges = append(edges, &edge{
					site: site, c: c, clk: clk,
					rep:     NewReporter(ReporterConfig{Source: c, Edge: fmt.Sprint("edge-", i), Site: site, Now: clk.Now}),
					reports: lossyLink[Report]{r: r},
					acks:    lossyLink[uint64]{r: r},
				})
			}
			deliver := func(e *edge) {
				if rep, ok := e.reports.receive(); ok {
					if _, err := a.Apply(&rep); err != nil {
						t.Fatal(err)
					}
					e.acks.send(rep.Seq)
				}
				if seq, ok := e.acks.receive(); ok {
					e.rep.Ack(seq)
				}
			}
			for range 2000 {
				e := edges[r.IntN(len(edges))]
				switch x := r.IntN(10); {
				case x < 5:
					n := r.IntN(400) // more flows than capacity: evictions
					e.c.RecordPacket(int64(n%4), flow(n), 40+r.IntN(1400))
				case x < 6:
					advance(e.c, e.clk, time.Duration(r.IntN(60))*time.Second)
					e.c.CleanupStaleFlows(time.Minute)
				case x < 8:
					if rep, ok := e.rep.Next(); ok {
						e.reports.send(rep)
					}
				default:
					deliver(e)
				}
			}
			// Settle: the links stay lossy, but the edges keep trying.
			for _, e := range edges {
				for range 10_000 {
					rep, ok := e.rep.Next()
					if !ok {
						break
					}
					e.reports.send(rep)
					for len(e.reports.inFlight)+len(e.acks.inFlight) > 0 {
						deliver(e)
					}
				}
				if _, ok := e.rep.Next(); ok {
					t.Fatalf("%s never settled", e.site)
				}
			}

			wantPolicy := map[int64]Totals{}
			wantSite := map[string]Totals{}
			for _, e := range edges {
				for _, k := range e.c.Counters(nil) {
					for _, m := range []struct {
						t   Totals
						set func(Totals)
					}{
						{wantPolicy[k.PolicyID], func(t Totals) { wantPolicy[k.PolicyID] = t }},
						{wantSite[e.site], func(t Totals) { wantSite[e.site] = t }},
					} {
						m.t.Packets += k.Packets
						m.t.Bytes += k.Bytes
						m.t.FlowsOpened += k.FlowsOpened
						m.t.ActiveFlows += k.ActiveFlows
						m.set(m.t)
					}
				}
			}
			for id, w := range wantPolicy {
				if diff := cmp.Diff(w, a.PolicyTotals(id)); diff != "" {
					t.Errorf("policy %d totals mismatch (-recorded +aggregated):\n%s", id, diff)
				}
			}
			for site, w := range wantSite {
				if diff := cmp.Diff(w, a.SiteTotals(site)); diff != "" {
					t.Errorf("%s totals mismatch (-recorded +aggregated):\n%s", site, diff)
				}
			}
		})
	}
}

func TestAggregatorConcurrent(t *testing.T) {
	// Edges reporting at once, readers reading: no race, exact sums.
	a := NewAggregator()
	const edges, reports = 8, 500
	var wg sync.WaitGroup
	for e := range edges {
		wg.Go(func() {
			for s := range uint64(reports) {
				r := &Report{Edge: fmt.Sprint("e", e), Site: fmt.Sprint("s", e%3), Epoch: 1, Seq: s + 1,
					Deltas: []Delta{{PolicyID: int64(s % 4), Packets: 2, Bytes: 100, FlowsOpened: 1}}}
				if _, err := a.Apply(r); err != nil {
					t.Error(err)
				}
				if _, err := a.Apply(r); err != nil { // a duplicate on the heels
					t.Error(err)
				}
				a.PolicyTotals(1)
			}
		})
	}
	wg.Wait()
	var got Totals
	for _, p := range a.AllPolicyTotals() {
		got.Packets += p.Packets
		got.Bytes += p.Bytes
		got.FlowsOpened += p.FlowsOpened
	}
	if want := (Totals{Packets: 2 * edges * reports, Bytes: 100 * edges * reports, FlowsOpened: edges * reports}); got != want {
		t.Errorf("totals = %+v, want %+v", got, want)
	}
}

// TestReporterHeartbeat: with nothing new the Reporter stays silent for a
// heartbeat, then cuts a report without deltas so the controller knows the
// edge is alive; traffic resets the wait.
func TestReporterHeartbeat(t *testing.T) {
	c, clk := newTest(t, Config{Capacity: 1024})
	r := NewReporter(ReporterConfig{Source: c, Edge: "e1", Site: "s1", Epoch: 7, Now: clk.Now, Heartbeat: 10 * time.Second})
	c.RecordPacket(1, flow(1), 100)
	first, ok := r.Next()
	if !ok || len(first.Deltas) != 1 {
		t.Fatalf("first report %+v, %v", first, ok)
	}
	r.Ack(first.Seq)
	clk.Advance(9 * time.Second)
	if rep, ok := r.Next(); ok {
		t.Fatalf("report %+v before the heartbeat with nothing new", rep)
	}
	clk.Advance(time.Second)
	beat, ok := r.Next()
	if !ok || beat.Seq != first.Seq+1 || len(beat.Deltas) != 0 || !beat.Time.Equal(clk.Now()) {
		t.Fatalf("heartbeat = %+v, %v; want seq %d with no deltas, cut now", beat, ok, first.Seq+1)
	}
	r.Ack(beat.Seq)
	if _, ok := r.Next(); ok {
		t.Fatal("a second heartbeat straight after the first")
	}
}
