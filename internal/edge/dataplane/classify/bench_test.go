package classify

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/patronus-sdwan/patronus/internal/sdwan"
)

// benchPolicies returns n policies of the kinds an operator writes: per
// application (protocol and destination ports), per destination subnet,
// per source subnet, in mixed order.
func benchPolicies(n int) []sdwan.Policy {
	ps := make([]sdwan.Policy, n)
	for i := range ps {
		var m sdwan.Match
		switch i % 4 {
		case 0:
			m.Protocol = sdwan.ProtoTCP
			m.DstPorts = []sdwan.PortRange{{Lo: uint16(10000 + i), Hi: uint16(10000 + i)}}
		case 1:
			m.Protocol = sdwan.ProtoUDP
			m.DstPorts = []sdwan.PortRange{{Lo: uint16(20000 + 4*i), Hi: uint16(20000 + 4*i + 3)}}
		case 2:
			m.DstPrefixes = []netip.Prefix{netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 2, byte(i / 256), byte(i % 256 &^ 3)}), 30)}
		case 3:
			m.SrcPrefixes = []netip.Prefix{netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 1, byte(i % 200), 0}), 24)}
			m.Protocol = sdwan.ProtoTCP
		}
		ps[i] = sdwan.Policy{ID: int64(i + 1), Priority: i + 1, Enabled: true, Match: m,
			Action: sdwan.Action{Kind: sdwan.ActionSteer, Preference: sdwan.PreferQuality}}
	}
	return ps
}

func benchTable(b *testing.B, n int) *Table {
	r, err := Compile(benchPolicies(n), [][]netip.Prefix{
		{netip.MustParsePrefix("10.2.0.0/16")}, {netip.MustParsePrefix("10.3.0.0/16")}})
	if err != nil {
		b.Fatal(err)
	}
	slots := (len(r.Policies()) + 1) * 2
	t := &Table{Rules: r, Peers: 2, Slots: make([]Slot, slots), Eligible: make([]uint64, slots), EligibleWords: 1, Gen: 1}
	for s := range slots {
		t.Slots[s].Path = int32(s % 2)
		t.SetEligible(s, 0)
		t.SetEligible(s, 1)
	}
	return t
}

// benchKeys returns n distinct keys spread over the policies' fields: a
// quarter to the policies' ports, some to their subnets, most falling
// through to the last policies or none.
func benchKeys(n int) []sdwan.FlowKey {
	ks := make([]sdwan.FlowKey, n)
	for i := range ks {
		var src, dst [4]byte
		binary.BigEndian.PutUint32(src[:], 0x0a010000|uint32(i*7919)&0xffff)
		binary.BigEndian.PutUint32(dst[:], 0x0a020000|uint32(i*104729)&0xffff)
		proto := []uint8{sdwan.ProtoTCP, sdwan.ProtoUDP}[i%2]
		dport := uint16(10000 + (i*31)%12000)
		ks[i] = sdwan.NewFlowKey(netip.AddrFrom4(src), netip.AddrFrom4(dst), uint16(1024+i%50000), dport, proto)
	}
	return ks
}

// cpuTimer reports CPU time per operation beside the wall time: on a
// shared machine the wall time per operation grows with the other
// processes' load, the CPU time much less.
type cpuTimer struct{ start time.Duration }

func cpuNow() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func startCPU() cpuTimer { return cpuTimer{cpuNow()} }

func (c cpuTimer) report(b *testing.B) {
	b.ReportMetric(float64(cpuNow()-c.start)/float64(b.N), "cpu-ns/op")
}

// BenchmarkLookup measures the compiled policy lookup alone.
func BenchmarkLookup(b *testing.B) {
	for _, n := range []int{10, 1000} {
		b.Run(fmt.Sprintf("policies=%d", n), func(b *testing.B) {
			t := benchTable(b, n)
			ks := benchKeys(1 << 16)
			b.ReportAllocs()
			cpu := startCPU()
			i := 0
			for b.Loop() {
				t.Rules.Lookup(&ks[i&(len(ks)-1)])
				i++
			}
			cpu.report(b)
		})
	}
}

// BenchmarkClassify measures a packet's decision with 1,000 policies: for
// a new flow (the table does not know the key: policy lookup, slot, and
// insertion evicting an old flow) and for an established one (a flow
// table hit and the eligibility check).
func BenchmarkClassify(b *testing.B) {
	t := benchTable(b, 1000)
	b.Run("new_flow", func(b *testing.B) {
		// Every packet a key the table has never seen: a base key with
		// the iteration number in its source port and address, so the
		// key is in cache (as a just-parsed packet's is) but the flow
		// is not. The table is full, so each insertion evicts.
		ks := benchKeys(1 << 10)
		c := NewClassifier(NewFlowTable(1<<14, 1<<30))
		b.ReportAllocs()
		cpu := startCPU()
		i := 0
		for b.Loop() {
			k := ks[i&(len(ks)-1)]
			k.SrcPort = uint16(i)
			k.Src[13] = byte(i >> 16)
			k.Src[12] ^= byte(i >> 24)
			c.Classify(&k, t, uint32(i))
			i++
		}
		cpu.report(b)
	})
	b.Run("established", func(b *testing.B) {
		ks := benchKeys(1 << 12)
		c := NewClassifier(NewFlowTable(1<<14, 1<<30))
		for i := range ks {
			c.Classify(&ks[i], t, 0)
		}
		b.ReportAllocs()
		cpu := startCPU()
		i := 0
		for b.Loop() {
			c.Classify(&ks[i&(len(ks)-1)], t, uint32(i>>20))
			i++
		}
		cpu.report(b)
	})
}

// BenchmarkGoMapReference looks the established benchmark's 4,096 keys up
// in a Go map keyed by FlowKey: not a figure of this package, but the
// yardstick for BenchmarkClassify/established on the machine at hand.
func BenchmarkGoMapReference(b *testing.B) {
	ks := benchKeys(1 << 12)
	m := make(map[sdwan.FlowKey]int32, len(ks))
	for i := range ks {
		m[ks[i]] = int32(i)
	}
	b.ReportAllocs()
	cpu := startCPU()
	var sum int32
	i := 0
	for b.Loop() {
		sum += m[ks[i&(len(ks)-1)]]
		i++
	}
	cpu.report(b)
	_ = sum
}
