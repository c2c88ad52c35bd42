package classify

import (
	"math/rand/v2"
	"net/netip"
	"testing"
	"unsafe"

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

// TestFlowTableEvictsLeastRecentlyUsed fills the one bucket of a table of
// four flows: empty ways go first, then the way whose latest packet is
// oldest.
func TestFlowTableEvictsLeastRecentlyUsed(t *testing.T) {
	ft := NewFlowTable(ways, 1000)
	k := func(i int) sdwan.FlowKey { return key("10.1.0.1", "10.2.0.1", uint16(i), 80, sdwan.ProtoTCP) }
	insert := func(i int, now uint32) {
		t.Helper()
		ki := k(i)
		_, ref, ok := ft.find(&ki, now)
		if ok {
			t.Fatalf("flow %d found before it is inserted", i)
		}
		ft.claim(ref, &ki, now).path = int16(i)
	}
	present := func(now uint32, want ...int) {
		t.Helper()
		var got []int
		for i := range 8 {
			ki := k(i)
			if f, _, ok := ft.find(&ki, now); ok {
				if int(f.path) != i {
					t.Fatalf("flow %d holds flow %d's path", i, f.path)
				}
				got = append(got, i)
			}
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Fatalf("flows in the table at %d (-want +got):\n%s", now, d)
		}
	}
	for i := range ways {
		insert(i, uint32(10+i))
	}
	present(20, 0, 1, 2, 3) // every find counts a packet, at 20
	k0, k2, k3 := k(0), k(2), k(3)
	ft.find(&k0, 30)
	ft.find(&k2, 31)
	ft.find(&k3, 32)
	insert(4, 33) // flow 1, last seen at 20, goes
	present(40, 0, 2, 3, 4)
	ft.find(&k0, 50)
	insert(5, 51) // flows 4, 2, 3 (by way) were last seen at 40: 4 goes
	present(60, 0, 2, 3, 5)
}

// TestFlowTableSharedTag puts two keys of one tag in a bucket: each is
// still told from the other.
func TestFlowTableSharedTag(t *testing.T) {
	ft := NewFlowTable(ways, 1000)
	a := key("10.1.0.1", "10.2.0.1", 1, 80, sdwan.ProtoTCP)
	b := key("10.1.0.1", "10.2.0.1", 2, 80, sdwan.ProtoTCP)
	_, ref, _ := ft.find(&a, 1)
	ft.claim(ref, &b, 1).path = 2 // b under a's tag, in the first way
	if _, _, ok := ft.find(&a, 2); ok {
		t.Fatal("a found under its tag, in b's way")
	}
	_, ref, _ = ft.find(&a, 3)
	if ref.way == 0 {
		t.Fatal("a new flow evicts the way last seen most recently")
	}
	ft.claim(ref, &a, 3).path = 1
	if f, _, ok := ft.find(&a, 4); !ok || f.path != 1 {
		t.Fatalf("a not found past b of the same tag: %+v", f)
	}
}

// TestClassifyAgreesWithMatches classifies random flows under random
// policies: a new flow gets the policy that sdwan.Match.Matches picks in
// priority order, and keeps its decision on its next packets.
func TestClassifyAgreesWithMatches(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	peers := [][]netip.Prefix{pfx("10.0.0.0/8", "2001:db8::/32"), pfx("10.1.2.0/24")}
	for round := range 20 {
		ps := randomPolicies(rng, 1+rng.IntN(300))
		r, err := Compile(ps, peers)
		if err != nil {
			t.Fatal(err)
		}
		slots := (len(r.Policies()) + 1) * len(peers)
		tb := &Table{Rules: r, Peers: len(peers), Slots: make([]Slot, slots), Eligible: make([]uint64, slots), EligibleWords: 1, Gen: 1}
		for s := range slots {
			tb.Slots[s].Path = int32(s % 3)
			tb.SetEligible(s, int32(s%3))
		}
		c := NewClassifier(NewFlowTable(64, 1000))
		for i := range 500 {
			k := randomKey(rng)
			got := c.Classify(&k, tb, uint32(i))
			id, peer := reference(ps, peers, k)
			if got.PolicyID != id || got.NoRoute != (peer == NoPeer) {
				t.Fatalf("round %d: Classify(%v) = %+v; Matches says policy %d, peer %d", round, k, got, id, peer)
			}
			if again := c.Classify(&k, tb, uint32(i)); !got.NoRoute && (again.New || again.Path != got.Path || again.PolicyID != id) {
				t.Fatalf("round %d: %v first %+v, then %+v", round, k, got, again)
			}
		}
	}
}

// TestFlowFitsALine checks that a flow takes one cache line, so that a
// packet reads one line of flows, and that flows start on a line.
func TestFlowFitsALine(t *testing.T) {
	if n := unsafe.Sizeof(flow{}); n != 64 {
		t.Errorf("a flow takes %d bytes, not 64", n)
	}
	if n := unsafe.Sizeof(meta{}); 64%n != 0 {
		t.Errorf("a bucket's metadata takes %d bytes, which straddles cache lines", n)
	}
	ft := NewFlowTable(1<<14, 10)
	if a := uintptr(unsafe.Pointer(&ft.flows[0][0])); a%64 != 0 {
		t.Errorf("flows start at %#x, inside a cache line", a)
	}
}

// TestFlowTableHashResistsChosenKeys: keys built to cancel out in an XOR
// of their words — a flow and its reverse, or both addresses shifted by
// the same bits — must not land in one bucket whatever the seed, or a
// sender choosing addresses could crowd out any bucket's flows.
func TestFlowTableHashResistsChosenKeys(t *testing.T) {
	ft := NewFlowTable(1<<14, 1000)
	rng := rand.New(rand.NewPCG(7, 8))
	same := 0
	const pairs = 1000
	for range pairs {
		var s, d, x [4]byte
		for i := range 4 {
			s[i], d[i], x[i] = byte(rng.Uint32()), byte(rng.Uint32()), byte(rng.Uint32())
		}
		a := sdwan.NewFlowKey(netip.AddrFrom4(s), netip.AddrFrom4(d), 1000, 443, sdwan.ProtoTCP)
		var s2, d2 [4]byte
		for i := range 4 {
			s2[i], d2[i] = s[i]^x[i], d[i]^x[i]
		}
		b := sdwan.NewFlowKey(netip.AddrFrom4(s2), netip.AddrFrom4(d2), 1000, 443, sdwan.ProtoTCP)
		_, ra, _ := ft.find(&a, 1)
		_, rb, _ := ft.find(&b, 1)
		if ra.b == rb.b {
			same++
		}
	}
	// Chance alone puts about pairs/4096 in one bucket.
	if same > 10 {
		t.Errorf("%d of %d chosen pairs share a bucket", same, pairs)
	}
}
