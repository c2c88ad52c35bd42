package control

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/patronus-sdwan/patronus/internal/events"
	"github.com/patronus-sdwan/patronus/internal/sdwan"
	"github.com/patronus-sdwan/patronus/internal/stats"
)

// TestTrafficStatsReplicas runs several TrafficStats on one store, as
// controller replicas do, with their buses bridged as the PostgreSQL
// bridge bridges them: whichever replica an edge reaches, re-sends
// included, every replica ends with the same totals, each report counted
// once; a replica that misses announcements catches up from the log in
// the edge's order; one started after a fold starts from the fold.
func TestTrafficStatsReplicas(t *testing.T) {
	svc, pol, sites := trafficSetup(t, "a")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	site, edge := sites[0], edgeOf(sites[0])
	st := svc.Store()

	var buses []*events.Bus
	replica := func(name string, bridged bool) *TrafficStats {
		t.Helper()
		var bus *events.Bus
		if bridged {
			bus = events.NewBus(nil, name)
			for _, other := range buses {
				bus.OnPublish(other.Deliver)
				other.OnPublish(bus.Deliver)
			}
			buses = append(buses, bus)
		}
		ts, err := NewTrafficStats(ctx, st, bus, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			ts.Run(ctx)
		}()
		t.Cleanup(func() { cancel(); <-done })
		return ts
	}
	report := func(seq, pkts uint64) *stats.Report {
		return &stats.Report{Edge: "a/edge", Site: site.ID, Epoch: 1, Seq: seq,
			Deltas: []stats.Delta{{PolicyID: pol.ID, Packets: pkts, Bytes: pkts * 100, ActiveFlows: seq}}}
	}
	apply := func(ts *TrafficStats, seq, pkts uint64, want bool) {
		t.Helper()
		if ok, err := ts.Apply(ctx, edge, report(seq, pkts)); err != nil || ok != want {
			t.Fatalf("Apply(seq %d) = %v, %v; want %v", seq, ok, err, want)
		}
	}
	// converge waits for every replica to show want packets, the gauge of
	// the report numbered gauge, and as many bytes as each report's.
	converge := func(want, gauge uint64, rs ...*TrafficStats) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for i, ts := range rs {
			for {
				got := ts.PolicyTotals(pol.ID)
				if got == (stats.Totals{Packets: want, Bytes: want * 100, ActiveFlows: gauge}) &&
					ts.SitePolicyTotals(site.ID, pol.ID) == got && ts.SiteTotals(site.ID) == got {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("replica %d has %+v, want %d packets and gauge %d", i, got, want, gauge)
				}
				time.Sleep(5 * time.Millisecond)
			}
		}
	}

	a, b := replica("a", true), replica("b", true)
	apply(a, 1, 10, true)
	apply(b, 2, 5, true)
	apply(b, 2, 5, false) // a re-send to the same replica
	converge(15, 2, a, b)
	// The edge lost B's answer to 3 and re-sent it to A.
	apply(b, 3, 7, true)
	apply(a, 3, 7, false)
	converge(22, 3, a, b)

	// D hears no announcements and makes none: its own next report
	// brings in the ones it missed first, in the edge's order, and the
	// others take D's report from the log with the next one announced.
	d := replica("d", false)
	apply(a, 4, 1, true)
	apply(b, 5, 1, true)
	converge(24, 5, a, b)
	apply(d, 6, 1, true)
	converge(25, 6, d)

	// A new replica after a fold starts from the fold and the reports
	// logged since; the folded ones are not counted twice.
	if err := a.Fold(ctx); err != nil {
		t.Fatal(err)
	}
	apply(b, 7, 2, true)
	c := replica("c", true)
	converge(27, 7, a, b, c)
	apply(c, 8, 3, true)
	converge(30, 8, a, b, c)

	// A report past int64 cannot be logged, and is refused by name.
	r := report(1<<63, 1)
	r.Epoch = 1 << 63
	var fe *sdwan.FieldError
	if _, err := a.Apply(ctx, edge, r); !errors.As(err, &fe) || fe.Field != "report.epoch" {
		t.Errorf("epoch 2^63: %v", err)
	}
	if n, err := st.Read().TrafficReports(ctx); err != nil || len(n) != 8 {
		t.Errorf("log holds %d reports (%v), want the 8 (none older than the keep time is pruned)", len(n), err)
	}
}
