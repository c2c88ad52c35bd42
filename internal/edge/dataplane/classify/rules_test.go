package classify

import (
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/patronus-sdwan/patronus/internal/sdwan"
)

func pfx(s ...string) []netip.Prefix {
	var out []netip.Prefix
	for _, x := range s {
		out = append(out, netip.MustParsePrefix(x))
	}
	return out
}

func key(src, dst string, sp, dp uint16, proto uint8) sdwan.FlowKey {
	return sdwan.NewFlowKey(netip.MustParseAddr(src), netip.MustParseAddr(dst), sp, dp, proto)
}

// reference is the definition Lookup must agree with: the first enabled
// policy in priority order whose Match matches, and the longest peer
// prefix holding the destination.
func reference(ps []sdwan.Policy, peers [][]netip.Prefix, k sdwan.FlowKey) (int64, int) {
	var id int64
	best := -1
	for _, p := range ps {
		if p.Enabled && (best < 0 || p.Priority < best) && p.Match.Matches(k) {
			id, best = p.ID, p.Priority
		}
	}
	peer, bits := NoPeer, -1
	for i, pp := range peers {
		for _, p := range pp {
			if p.Contains(k.DstAddr()) && p.Bits() > bits {
				peer, bits = i, p.Bits()
			}
		}
	}
	return id, peer
}

func TestLookup(t *testing.T) {
	policies := []sdwan.Policy{
		{ID: 10, Priority: 100, Enabled: true, Match: sdwan.Match{Protocol: sdwan.ProtoUDP, DstPorts: []sdwan.PortRange{{Lo: 5060, Hi: 5061}, {Lo: 10000, Hi: 20000}}}},
		{ID: 11, Priority: 50, Enabled: true, Match: sdwan.Match{DstPrefixes: pfx("10.2.5.0/24"), Protocol: sdwan.ProtoTCP}},
		{ID: 12, Priority: 10, Enabled: false, Match: sdwan.Match{}}, // disabled: matches nothing
		{ID: 13, Priority: 200, Enabled: true, Match: sdwan.Match{SrcPrefixes: pfx("10.1.0.128/25", "fd00:1::/64")}},
		{ID: 14, Priority: 300, Enabled: true, Match: sdwan.Match{DstPrefixes: pfx("2001:db8::/32"), Protocol: sdwan.ProtoTCP, SrcPorts: []sdwan.PortRange{{Lo: 1, Hi: 1023}}}},
	}
	peers := [][]netip.Prefix{pfx("10.2.0.0/16", "2001:db8::/32"), pfx("10.2.5.0/24"), pfx("0.0.0.0/0")}
	r, err := Compile(policies, peers)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		k        sdwan.FlowKey
		wantID   int64
		wantPeer int
	}{
		{"voice port", key("10.1.0.1", "10.2.0.9", 4000, 5060, sdwan.ProtoUDP), 10, 0},
		{"voice range end", key("10.1.0.1", "10.2.0.9", 4000, 20000, sdwan.ProtoUDP), 10, 0},
		{"past range", key("10.1.0.1", "10.2.0.9", 4000, 20001, sdwan.ProtoUDP), 0, 0},
		{"tcp to longer prefix", key("10.1.0.1", "10.2.5.7", 4000, 443, sdwan.ProtoTCP), 11, 1},
		{"udp to longer prefix beats nothing", key("10.1.0.1", "10.2.5.7", 4000, 5060, sdwan.ProtoUDP), 10, 1},
		{"source prefix", key("10.1.0.200", "10.9.0.1", 1, 2, sdwan.ProtoICMP), 13, 2},
		{"source prefix miss", key("10.1.0.100", "10.9.0.1", 1, 2, sdwan.ProtoICMP), 0, 2},
		{"v6 source", key("fd00:1::5", "2001:db8::1", 5000, 80, sdwan.ProtoTCP), 13, 0},
		{"v6 low source port", key("fd00:2::5", "2001:db8::1", 80, 80, sdwan.ProtoTCP), 14, 0},
		{"v6 no route", key("fd00:2::5", "2001:db9::1", 80, 80, sdwan.ProtoTCP), 0, NoPeer},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pol, peer := r.Lookup(&tc.k)
			var id int64
			if pol != NoPolicy {
				id = r.Policies()[pol].ID
			}
			if id != tc.wantID || peer != tc.wantPeer {
				t.Errorf("Lookup(%v) = policy %d, peer %d; want %d, %d", tc.k, id, peer, tc.wantID, tc.wantPeer)
			}
			if rid, rpeer := reference(policies, peers, tc.k); rid != id || rpeer != peer {
				t.Errorf("reference disagrees with the test: %d, %d", rid, rpeer)
			}
		})
	}
}

func TestCompileRejectsSharedPriority(t *testing.T) {
	_, err := Compile([]sdwan.Policy{{ID: 1, Priority: 5, Enabled: true}, {ID: 2, Priority: 5, Enabled: true}}, nil)
	if err == nil {
		t.Fatal("Compile accepted two policies of one priority")
	}
}

// randomPolicies draws policies over a small universe of values so that
// random keys hit their edges often.
func randomPolicies(rng *rand.Rand, n int) []sdwan.Policy {
	v4 := []string{"10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24", "10.1.2.128/25", "10.1.2.3/32", "192.168.0.0/16", "0.0.0.0/0", "10.255.255.255/32"}
	v6 := []string{"2001:db8::/32", "2001:db8:1::/48", "::/0", "fd00::/8", "2001:db8:1::1/128"}
	var ps []sdwan.Policy
	for i := range n {
		var m sdwan.Match
		pick := func() []netip.Prefix {
			var out []netip.Prefix
			for range rng.IntN(3) {
				if rng.IntN(3) == 0 {
					out = append(out, netip.MustParsePrefix(v6[rng.IntN(len(v6))]))
				} else {
					out = append(out, netip.MustParsePrefix(v4[rng.IntN(len(v4))]))
				}
			}
			return out
		}
		ports := func() []sdwan.PortRange {
			var out []sdwan.PortRange
			for range rng.IntN(3) {
				lo := uint16(1 + rng.IntN(100))
				out = append(out, sdwan.PortRange{Lo: lo, Hi: lo + uint16(rng.IntN(20))})
			}
			return out
		}
		m.SrcPrefixes, m.DstPrefixes = pick(), pick()
		m.Protocol = []uint8{0, 0, sdwan.ProtoTCP, sdwan.ProtoUDP, sdwan.ProtoICMP}[rng.IntN(5)]
		m.SrcPorts, m.DstPorts = ports(), ports()
		ps = append(ps, sdwan.Policy{ID: int64(i + 1), Priority: rng.IntN(1000)*1000 + i, Enabled: rng.IntN(10) != 0, Match: m})
	}
	return ps
}

func randomKey(rng *rand.Rand) sdwan.FlowKey {
	v4 := []string{"10.1.2.3", "10.1.2.4", "10.1.2.200", "10.1.3.1", "10.2.0.1", "192.168.1.1", "10.255.255.255", "11.0.0.0", "9.255.255.255", "0.0.0.0", "255.255.255.255", "10.1.2.127", "10.1.2.128"}
	v6 := []string{"2001:db8::1", "2001:db8:1::1", "2001:db8:1::2", "fd00::1", "fe80::1", "::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"}
	addr := func(six bool) netip.Addr {
		if six {
			return netip.MustParseAddr(v6[rng.IntN(len(v6))])
		}
		return netip.MustParseAddr(v4[rng.IntN(len(v4))])
	}
	six := rng.IntN(3) == 0
	return sdwan.NewFlowKey(addr(six), addr(six), uint16(rng.IntN(130)), uint16(rng.IntN(130)), []uint8{sdwan.ProtoTCP, sdwan.ProtoUDP, sdwan.ProtoICMP, 47}[rng.IntN(4)])
}

// TestLookupAgreesWithMatches compares the compiled lookup with the
// definition over random policy sets and keys, with the protocol and ports
// crossed into one bitmap and without.
func TestLookupAgreesWithMatches(t *testing.T) {
	for _, tc := range []struct {
		name    string
		limits  crossLimits
		crossed bool
	}{
		{"crossed", defaultCrossLimits, true},
		{"too many entries", crossLimits{entries: 0, bytes: 1 << 30}, false},
		{"too many bytes", crossLimits{entries: 1 << 30, bytes: 0}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			peers := [][]netip.Prefix{pfx("10.0.0.0/8", "2001:db8::/32"), pfx("10.1.2.0/24"), pfx("10.1.2.3/32", "2001:db8:1::/48")}
			for round := range 50 {
				ps := randomPolicies(rng, 1+rng.IntN(150))
				r, err := compile(ps, peers, tc.limits)
				if err != nil {
					t.Fatal(err)
				}
				if crossed := r.ports.crossed != nil; crossed != tc.crossed {
					t.Fatalf("round %d: crossed %v under %+v", round, crossed, tc.limits)
				}
				for range 400 {
					checkLookup(t, r, ps, peers, randomKey(rng))
				}
			}
		})
	}
}

// TestLookupAgreesWithMatchesMany does the same with a thousand policies,
// most of them past the first bitmap words, and keys that fall through
// many of them: the benchmark's policies, and random ones.
func TestLookupAgreesWithMatchesMany(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	peers := [][]netip.Prefix{pfx("10.2.0.0/16"), pfx("10.3.0.0/16", "2001:db8::/32")}
	for _, ps := range [][]sdwan.Policy{benchPolicies(1000), randomPolicies(rng, 1000)} {
		r, err := Compile(ps, peers)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range benchKeys(4096) {
			checkLookup(t, r, ps, peers, k)
		}
		for range 4096 {
			checkLookup(t, r, ps, peers, randomKey(rng))
		}
	}
}

// checkLookup fails t if Lookup and reference disagree on k.
func checkLookup(t *testing.T, r *Rules, ps []sdwan.Policy, peers [][]netip.Prefix, k sdwan.FlowKey) {
	t.Helper()
	pol, peer := r.Lookup(&k)
	var id int64
	if pol != NoPolicy {
		id = r.Policies()[pol].ID
	}
	if wid, wpeer := reference(ps, peers, k); id != wid || peer != wpeer {
		t.Fatalf("Lookup(%v) = policy %d, peer %d; Matches says %d, %d", k, id, peer, wid, wpeer)
	}
}

func FuzzLookup(f *testing.F) {
	f.Add([]byte{10, 1, 2, 3}, []byte{10, 2, 0, 1}, uint16(1000), uint16(443), uint8(6), int64(7))
	f.Add([]byte{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, []byte{0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, uint16(53), uint16(53), uint8(17), int64(3))
	peers := [][]netip.Prefix{pfx("10.0.0.0/8", "2001:db8::/32"), pfx("10.1.2.0/24")}
	f.Fuzz(func(t *testing.T, src, dst []byte, sp, dp uint16, proto uint8, seed int64) {
		a, ok1 := netip.AddrFromSlice(src)
		b, ok2 := netip.AddrFromSlice(dst)
		if !ok1 || !ok2 {
			return
		}
		rng := rand.New(rand.NewPCG(uint64(seed), 9))
		ps := randomPolicies(rng, 1+rng.IntN(40))
		r, err := Compile(ps, peers)
		if err != nil {
			t.Fatal(err)
		}
		checkLookup(t, r, ps, peers, sdwan.NewFlowKey(a, b, sp, dp, proto))
	})
}
