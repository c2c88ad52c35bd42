package classify

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/patronus-sdwan/patronus/internal/sdwan"
)

// table builds a Table over one peer with paths 0 and 1, where slot s
// chooses choice[s] and lets flows stay on the paths in stay[s]. Tables
// of one rules generation share gen; each gets its own slot versions.
func table(t *testing.T, gen, version uint32, ps []sdwan.Policy, choice []int32, epochs []uint32, stay [][]int32) *Table {
	t.Helper()
	r, err := Compile(ps, [][]netip.Prefix{pfx("10.2.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	n := len(r.Policies()) + 1
	tb := &Table{Rules: r, Peers: 1, Slots: make([]Slot, n), Eligible: make([]uint64, n), EligibleWords: 1, Gen: gen}
	for s := range n {
		tb.Slots[s] = Slot{Path: choice[s], Drop: choice[s] == NoPath, Epoch: epochs[s], Version: version}
		for _, p := range stay[s] {
			tb.SetEligible(s, p)
		}
	}
	return tb
}

func TestClassifierSticky(t *testing.T) {
	voice := sdwan.Policy{ID: 7, Priority: 1, Enabled: true, Match: sdwan.Match{Protocol: sdwan.ProtoUDP, DstPorts: []sdwan.PortRange{{Lo: 5060, Hi: 5060}}}}
	ps := []sdwan.Policy{voice}
	k := key("10.1.0.1", "10.2.0.1", 4000, 5060, sdwan.ProtoUDP)
	other := key("10.1.0.1", "10.2.0.1", 4000, 80, sdwan.ProtoTCP)
	c := NewClassifier(NewFlowTable(64, 1000))

	type step struct {
		name string
		tb   *Table
		k    sdwan.FlowKey
		want Result
	}
	t1 := table(t, 1, 1, ps, []int32{0, 1}, []uint32{0, 0}, [][]int32{{0, 1}, {0, 1}})
	// Path 0 stops being eligible for the voice slot: its flow moves.
	t2 := table(t, 1, 2, ps, []int32{1, 1}, []uint32{0, 0}, [][]int32{{1}, {0, 1}})
	// Path 0 is back and chosen for new flows, no epoch change: stays.
	t3 := table(t, 1, 3, ps, []int32{0, 1}, []uint32{0, 0}, [][]int32{{0, 1}, {0, 1}})
	// Failback: the epoch changes, so the flow moves back.
	t4 := table(t, 1, 4, ps, []int32{0, 1}, []uint32{1, 0}, [][]int32{{0, 1}, {0, 1}})
	// The policy is edited to drop.
	dropped := voice
	dropped.Action.Kind = sdwan.ActionDrop
	t5 := table(t, 2, 5, []sdwan.Policy{dropped}, []int32{NoPath, 1}, []uint32{1, 0}, [][]int32{nil, {0, 1}})
	// An unrelated policy is added: the default flow stays where it is.
	extra := sdwan.Policy{ID: 8, Priority: 2, Enabled: true, Match: sdwan.Match{Protocol: sdwan.ProtoICMP}}
	t6 := table(t, 3, 6, []sdwan.Policy{dropped, extra}, []int32{NoPath, 0, 0}, []uint32{1, 0, 0}, [][]int32{nil, {0, 1}, {0, 1}})

	for _, st := range []step{
		{"new voice flow", t1, k, Result{PolicyID: 7, Path: 0, New: true}},
		{"new default flow", t1, other, Result{PolicyID: 0, Path: 1, New: true}},
		{"established", t1, k, Result{PolicyID: 7, Path: 0}},
		{"path ineligible", t2, k, Result{PolicyID: 7, Path: 1, Moved: true}},
		{"moved flow stays", t2, k, Result{PolicyID: 7, Path: 1}},
		{"path back, sticky", t3, k, Result{PolicyID: 7, Path: 1}},
		{"failback epoch", t4, k, Result{PolicyID: 7, Path: 0, Moved: true}},
		{"policy now drops", t5, k, Result{PolicyID: 7, Path: NoPath, Drop: true, Moved: true}},
		{"still dropped", t5, k, Result{PolicyID: 7, Path: NoPath, Drop: true}},
		{"default flow survives unrelated edit", t6, other, Result{PolicyID: 0, Path: 1}},
		{"no route", t6, key("10.1.0.1", "10.3.0.1", 1, 2, sdwan.ProtoTCP), Result{Path: NoPath, NoRoute: true}},
	} {
		got := c.Classify(&st.k, st.tb, 10)
		if d := cmp.Diff(st.want, got); d != "" {
			t.Errorf("%s: (-want +got)\n%s", st.name, d)
		}
	}
}

func TestFlowTableBoundedAndIdle(t *testing.T) {
	ft := NewFlowTable(16, 5)
	if ft.Capacity() != 16 {
		t.Fatalf("capacity %d, want 16", ft.Capacity())
	}
	for i := range 1000 {
		k := key("10.1.0.1", "10.2.0.1", uint16(i), 80, sdwan.ProtoTCP)
		_, ref, _ := ft.find(&k, uint32(i))
		ft.claim(ref, &k, uint32(i)).path = int16(i)
	}
	if n := ft.Len(); n > 16 {
		t.Fatalf("table holds %d flows, capacity 16", n)
	}
	// The most recent flow is there; an idle one is forgotten.
	k := key("10.1.0.1", "10.2.0.1", 999, 80, sdwan.ProtoTCP)
	if f, _, ok := ft.find(&k, 1000); !ok || f.path != 999 {
		t.Fatalf("recent flow lost: %+v", f)
	}
	if _, _, ok := ft.find(&k, 1010); ok {
		t.Fatal("flow idle past the timeout is still found")
	}
}
