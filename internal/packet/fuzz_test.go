package packet

import (
	"bytes"
	"testing"
	"time"

	"github.com/patronus-sdwan/patronus/internal/sdwan"
)

// fuzzSeeds are well-formed packets of every shape Parse knows; the fuzzer
// mutates them into the malformed ones. More seeds live in
// testdata/fuzz/FuzzParse.
func fuzzSeeds() [][]byte {
	return [][]byte{
		ipv4(a4, b4, sdwan.ProtoTCP, tcpHdr(40000, 443), v4opts{}),
		ipv4(a4, b4, sdwan.ProtoUDP, udpHdr(1, 2, 4), v4opts{options: []byte{1, 1, 1, 0}}),
		ipv4(a4, b4, sdwan.ProtoICMP, icmpHdr(8, 0, 9, 9), v4opts{}),
		ipv4(a4, b4, sdwan.ProtoUDP, udpHdr(7, 8, 16), v4opts{id: 1, more: true}),
		ipv4(a4, b4, sdwan.ProtoUDP, make([]byte, 16), v4opts{id: 1, offset: 3}),
		ipv6(a6, b6, nil, sdwan.ProtoUDP, udpHdr(1, 2, 3)),
		ipv6(a6, b6, []ext6{
			{proto: protoHopByHop, body: make([]byte, 6)},
			{proto: protoAH, body: make([]byte, 14)},
			{proto: protoFragment, id: 5, more: true},
			{proto: protoDstOpts, body: make([]byte, 6)},
		}, sdwan.ProtoTCP, tcpHdr(1, 2)),
		ipv6(a6, b6, []ext6{{proto: protoFragment, id: 5, offset: 9}}, protoDstOpts, make([]byte, 8)),
		ipv6(a6, b6, nil, sdwan.ProtoICMPv6, icmpHdr(129, 0, 1, 1)),
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s)
	}
	ft := NewFragTable(16, time.Minute, time.Now)
	f.Fuzz(func(t *testing.T, b []byte) {
		orig := bytes.Clone(b)
		p, err := Parse(b)
		if !bytes.Equal(orig, b) {
			t.Fatal("Parse modified its input")
		}
		var k sdwan.FlowKey
		kerr := ParseFlowKey(b, &k)
		if kerr != err || (err == nil && k != p.Key) {
			t.Fatalf("ParseFlowKey = %v, %v; Parse = %v, %v", k, kerr, p.Key, err)
		}
		if err != nil {
			return
		}
		if p.Length > len(b) {
			t.Fatalf("Length %d beyond the %d bytes given", p.Length, len(b))
		}
		switch b[0] >> 4 {
		case 4:
			mapped := [12]byte{10: 0xff, 11: 0xff}
			if p.Length < 20 || [12]byte(p.Key.Src[:12]) != mapped || [12]byte(p.Key.Dst[:12]) != mapped ||
				!bytes.Equal(p.Key.Src[12:], b[12:16]) || !bytes.Equal(p.Key.Dst[12:], b[16:20]) {
				t.Fatalf("IPv4 packet parsed to %+v", p)
			}
			if !p.Fragmented() && p.Key.Proto != b[9] {
				t.Fatalf("protocol %d, header says %d", p.Key.Proto, b[9])
			}
		case 6:
			if p.Length < 40 || !bytes.Equal(p.Key.Src[:], b[8:24]) || !bytes.Equal(p.Key.Dst[:], b[24:40]) {
				t.Fatalf("IPv6 packet parsed to %+v", p)
			}
		default:
			t.Fatalf("version %d accepted", b[0]>>4)
		}
		if p.Frag.Offset != 0 && (p.Key.SrcPort != 0 || p.Key.DstPort != 0) {
			t.Fatalf("non-first fragment has ports: %+v", p)
		}
		ft.Resolve(&p)
	})
}
