package packet

import (
	"syscall"
	"testing"
	"time"

	"github.com/patronus-sdwan/patronus/internal/sdwan"
)

var benchKey sdwan.FlowKey

// cpuNow is the process's CPU time. The benchmarks report it per operation
// as cpu-ns/op beside ns/op: on the shared machines these run on, a
// benchmark that gets a third of a core reports three times its cost in
// ns/op, while its CPU time per operation stays put.
func cpuNow() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cpuStart starts measuring; the returned function reports cpu-ns/op.
func cpuStart(b *testing.B) func() {
	b.ReportAllocs()
	b.ResetTimer()
	start := cpuNow()
	return func() { b.ReportMetric(float64(cpuNow()-start)/float64(b.N), "cpu-ns/op") }
}

func BenchmarkParseFlowKey(b *testing.B) {
	pkts := []struct {
		name string
		pkt  []byte
	}{
		{"ipv4-tcp", ipv4(a4, b4, sdwan.ProtoTCP, cat(tcpHdr(40000, 443), make([]byte, 1400)), v4opts{dontFrag: true})},
		{"ipv6-udp", ipv6(a6, b6, nil, sdwan.ProtoUDP, udpHdr(51000, 4789, 1200))},
		{"ipv6-ext-tcp", ipv6(a6, b6, []ext6{
			{proto: protoHopByHop, body: make([]byte, 6)},
			{proto: protoDstOpts, body: make([]byte, 6)},
		}, sdwan.ProtoTCP, tcpHdr(1, 2))},
	}
	for _, p := range pkts {
		b.Run(p.name, func(b *testing.B) {
			var k sdwan.FlowKey
			defer cpuStart(b)()
			for b.Loop() {
				if err := ParseFlowKey(p.pkt, &k); err != nil {
					b.Fatal(err)
				}
			}
			benchKey = k
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	pkt := ipv4(a4, b4, sdwan.ProtoTCP, cat(tcpHdr(40000, 443), make([]byte, 1400)), v4opts{dontFrag: true})
	var p Packet
	defer cpuStart(b)()
	for b.Loop() {
		if err := p.Decode(pkt); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFragTableResolve(b *testing.B) {
	ft := NewFragTable(1024, 0, time.Now)
	first := ipv4(a4, b4, sdwan.ProtoUDP, udpHdr(7, 8, 1000), v4opts{id: 1, more: true})
	later := ipv4(a4, b4, sdwan.ProtoUDP, make([]byte, 1000), v4opts{id: 1, offset: 126})
	var p Packet
	if err := ft.Decode(first, &p); err != nil {
		b.Fatal(err)
	}
	defer cpuStart(b)()
	for b.Loop() {
		if err := ft.Decode(later, &p); err != nil || p.Key.SrcPort != 7 {
			b.Fatal(p, err)
		}
	}
}
