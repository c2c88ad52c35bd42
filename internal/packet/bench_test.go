package packet

import (
	"testing"
	"time"

	"github.com/patronus-sdwan/patronus/internal/sdwan"
)

var benchKey sdwan.FlowKey

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
			b.ReportAllocs()
			b.SetBytes(int64(len(p.pkt)))
			for b.Loop() {
				k, err := ParseFlowKey(p.pkt)
				if err != nil {
					b.Fatal(err)
				}
				benchKey = k
			}
		})
	}
}

func BenchmarkFragTableResolve(b *testing.B) {
	ft := NewFragTable(1024, 0, time.Now)
	first := ipv4(a4, b4, sdwan.ProtoUDP, udpHdr(7, 8, 1000), v4opts{id: 1, more: true})
	later := ipv4(a4, b4, sdwan.ProtoUDP, make([]byte, 1000), v4opts{id: 1, offset: 126})
	if _, err := ft.Parse(first); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		p, err := ft.Parse(later)
		if err != nil || p.Key.SrcPort != 7 {
			b.Fatal(p, err)
		}
	}
}
