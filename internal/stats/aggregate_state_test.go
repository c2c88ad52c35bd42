package stats

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestAggregatorStateRoundTrip: an aggregator restored from the JSON of
// another's state answers the same and goes on applying exactly the
// reports the original would.
func TestAggregatorStateRoundTrip(t *testing.T) {
	a := NewAggregator()
	for _, r := range []*Report{
		{Edge: "e1", Site: "s1", Epoch: 1, Seq: 1, Deltas: []Delta{{PolicyID: 1, Packets: 10, Bytes: 1000, FlowsOpened: 2, ActiveFlows: 2}}},
		{Edge: "e1", Site: "s1", Epoch: 1, Seq: 2, Deltas: []Delta{{PolicyID: 2, Packets: 5, Bytes: 50, ActiveFlows: 1}}},
		{Edge: "e2", Site: "s2", Epoch: 7, Seq: 1, Deltas: []Delta{{PolicyID: 1, Packets: 1, Bytes: 100, ActiveFlows: 3}}},
	} {
		if _, err := a.Apply(r); err != nil {
			t.Fatal(err)
		}
	}
	data, err := json.Marshal(a.State())
	if err != nil {
		t.Fatal(err)
	}
	var s AggregatorState
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatal(err)
	}
	b := RestoreAggregator(s)
	if diff := cmp.Diff(a.State(), b.State()); diff != "" {
		t.Fatalf("restored state differs (-original +restored):\n%s", diff)
	}
	if e, q := b.Mark("e1"); e != 1 || q != 2 {
		t.Errorf("Mark(e1) = %d, %d; want 1, 2", e, q)
	}
	next := []*Report{
		{Edge: "e1", Site: "s1", Epoch: 1, Seq: 2, Deltas: []Delta{{PolicyID: 2, Packets: 5}}},                 // a re-send
		{Edge: "e1", Site: "s1", Epoch: 1, Seq: 3, Deltas: []Delta{{PolicyID: 1, Packets: 4, ActiveFlows: 1}}}, // new
		{Edge: "e2", Site: "s2", Epoch: 8, Seq: 1, Deltas: []Delta{{PolicyID: 3, Packets: 2, ActiveFlows: 1}}}, // a restarted edge
	}
	for _, r := range next {
		if a.IsNew(r) != b.IsNew(r) {
			t.Fatalf("IsNew(%s %d/%d) differs", r.Edge, r.Epoch, r.Seq)
		}
		okA, _ := a.Apply(r)
		okB, _ := b.Apply(r)
		if okA != okB {
			t.Fatalf("Apply(%s %d/%d): original %v, restored %v", r.Edge, r.Epoch, r.Seq, okA, okB)
		}
	}
	if diff := cmp.Diff(a.State(), b.State()); diff != "" {
		t.Fatalf("after more reports (-original +restored):\n%s", diff)
	}
	if got := b.PolicyTotals(1); got.Packets != 15 || got.ActiveFlows != 1 {
		t.Errorf("policy 1 = %+v; want 15 packets and e2's gauge gone with its old run", got)
	}
}

// TestExpireGauges: the gauges of an edge whose last report is older than
// the cut-off go to zero, counts stay, and a late re-send is still
// discarded; a live edge keeps its gauges.
func TestExpireGauges(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	a := NewAggregator()
	for _, r := range []struct {
		rep  Report
		seen time.Time
	}{
		{Report{Edge: "gone", Site: "s1", Epoch: 1, Seq: 1, Deltas: []Delta{{PolicyID: 1, Packets: 5, ActiveFlows: 4}}}, t0},
		{Report{Edge: "live", Site: "s2", Epoch: 1, Seq: 1, Deltas: []Delta{{PolicyID: 1, Packets: 3, ActiveFlows: 2}}}, t0.Add(80 * time.Second)},
	} {
		if _, err := a.ApplySeen(&r.rep, r.seen); err != nil {
			t.Fatal(err)
		}
	}
	if n := a.ExpireGauges(t0.Add(time.Minute)); n != 1 {
		t.Fatalf("expired %d edges, want 1", n)
	}
	if got := a.PolicyTotals(1); got.Packets != 8 || got.ActiveFlows != 2 {
		t.Errorf("policy 1 = %+v, want 8 packets and the live edge's 2 flows", got)
	}
	if got := a.SiteTotals("s1"); got.ActiveFlows != 0 || got.Packets != 5 {
		t.Errorf("site s1 = %+v, want its counts and no flows", got)
	}
	if ok, _ := a.ApplySeen(&Report{Edge: "gone", Site: "s1", Epoch: 1, Seq: 1, Deltas: []Delta{{PolicyID: 1, Packets: 5}}}, t0.Add(2*time.Minute)); ok {
		t.Error("a re-send after the gauges expired was applied")
	}
	if n := a.ExpireGauges(t0.Add(time.Minute)); n != 0 {
		t.Errorf("expired %d edges again", n)
	}
}
