package packet

import (
	"errors"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/patronus-sdwan/patronus/internal/sdwan"
)

func key(src, dst string, sport, dport uint16, proto uint8) sdwan.FlowKey {
	return sdwan.NewFlowKey(netip.MustParseAddr(src), netip.MustParseAddr(dst), sport, dport, proto)
}

const (
	a4, b4 = "192.0.2.1", "198.51.100.7"
	a6, b6 = "2001:db8::1", "2001:db8:ffff::2"
)

func TestParse(t *testing.T) {
	pad := make([]byte, 6) // link-layer padding after the IP packet
	tcp4 := ipv4(a4, b4, sdwan.ProtoTCP, tcpHdr(40000, 443), v4opts{})
	tests := []struct {
		name string
		pkt  []byte
		want Packet
	}{
		{"ipv4 tcp", tcp4,
			Packet{Key: key(a4, b4, 40000, 443, sdwan.ProtoTCP), Length: 40}},
		{"ipv4 tcp with link padding", cat(tcp4, pad),
			Packet{Key: key(a4, b4, 40000, 443, sdwan.ProtoTCP), Length: 40}},
		{"ipv4 udp dont-fragment", ipv4(a4, b4, sdwan.ProtoUDP, udpHdr(5353, 53, 12), v4opts{dontFrag: true}),
			Packet{Key: key(a4, b4, 5353, 53, sdwan.ProtoUDP), Length: 40}},
		{"ipv4 options", ipv4(a4, b4, sdwan.ProtoUDP, udpHdr(1, 2, 0), v4opts{options: []byte{7, 7, 4, 0, 0, 0, 0, 1}}),
			Packet{Key: key(a4, b4, 1, 2, sdwan.ProtoUDP), Length: 36}},
		{"ipv4 icmp echo", ipv4(a4, b4, sdwan.ProtoICMP, icmpHdr(8, 0, 0x1234, 1), v4opts{}),
			Packet{Key: key(a4, b4, 0x1234, 0x1234, sdwan.ProtoICMP), Length: 28}},
		{"ipv4 icmp echo reply", ipv4(b4, a4, sdwan.ProtoICMP, icmpHdr(0, 0, 0x1234, 1), v4opts{}),
			Packet{Key: key(b4, a4, 0x1234, 0x1234, sdwan.ProtoICMP), Length: 28}},
		{"ipv4 icmp unreachable", ipv4(a4, b4, sdwan.ProtoICMP, icmpHdr(3, 1, 0x1234, 1), v4opts{}),
			Packet{Key: key(a4, b4, 0, 0, sdwan.ProtoICMP), Length: 28}},
		{"ipv4 gre has no ports", ipv4(a4, b4, 47, []byte{0, 0, 8, 0}, v4opts{}),
			Packet{Key: key(a4, b4, 0, 0, 47), Length: 24}},
		{"ipv4 sctp", ipv4(a4, b4, protoSCTP, cat(udpHdr(3868, 3868, 4)), v4opts{}),
			Packet{Key: key(a4, b4, 3868, 3868, protoSCTP), Length: 32}},
		{"ipv4 first fragment", ipv4(a4, b4, sdwan.ProtoUDP, udpHdr(7000, 8000, 100), v4opts{id: 99, more: true}),
			Packet{Key: key(a4, b4, 7000, 8000, sdwan.ProtoUDP), Length: 128,
				Frag: Fragment{ID: 99, More: true, Proto: sdwan.ProtoUDP}}},
		{"ipv4 first fragment cut after 8 bytes of tcp", ipv4(a4, b4, sdwan.ProtoTCP, tcpHdr(1, 2)[:8], v4opts{id: 5, more: true}),
			Packet{Key: key(a4, b4, 1, 2, sdwan.ProtoTCP), Length: 28,
				Frag: Fragment{ID: 5, More: true, Proto: sdwan.ProtoTCP}}},
		{"ipv4 middle fragment", ipv4(a4, b4, sdwan.ProtoUDP, make([]byte, 64), v4opts{id: 99, offset: 14, more: true}),
			Packet{Key: key(a4, b4, 0, 0, sdwan.ProtoUDP), Length: 84,
				Frag: Fragment{ID: 99, Offset: 14, More: true, Proto: sdwan.ProtoUDP}}},
		{"ipv4 last fragment", ipv4(a4, b4, sdwan.ProtoUDP, make([]byte, 3), v4opts{id: 99, offset: 22}),
			Packet{Key: key(a4, b4, 0, 0, sdwan.ProtoUDP), Length: 23,
				Frag: Fragment{ID: 99, Offset: 22, Proto: sdwan.ProtoUDP}}},
		{"ipv6 udp", ipv6(a6, b6, nil, sdwan.ProtoUDP, udpHdr(51000, 4789, 20)),
			Packet{Key: key(a6, b6, 51000, 4789, sdwan.ProtoUDP), Length: 68}},
		{"ipv6 tcp after hop-by-hop, routing and dest opts", ipv6(a6, b6, []ext6{
			{proto: protoHopByHop, body: make([]byte, 6)},
			{proto: protoRouting, body: make([]byte, 22)},
			{proto: protoDstOpts, body: make([]byte, 14)},
		}, sdwan.ProtoTCP, tcpHdr(1000, 22)),
			Packet{Key: key(a6, b6, 1000, 22, sdwan.ProtoTCP), Length: 40 + 8 + 24 + 16 + 20}},
		{"ipv6 udp after ah", ipv6(a6, b6, []ext6{{proto: protoAH, body: make([]byte, 22)}}, sdwan.ProtoUDP, udpHdr(500, 500, 0)),
			Packet{Key: key(a6, b6, 500, 500, sdwan.ProtoUDP), Length: 40 + 24 + 8}},
		{"ipv6 esp has no ports", ipv6(a6, b6, nil, protoESP, make([]byte, 16)),
			Packet{Key: key(a6, b6, 0, 0, protoESP), Length: 56}},
		{"ipv6 no next header", ipv6(a6, b6, nil, protoNoNext, nil),
			Packet{Key: key(a6, b6, 0, 0, protoNoNext), Length: 40}},
		{"ipv6 icmpv6 echo request", ipv6(a6, b6, nil, sdwan.ProtoICMPv6, icmpHdr(128, 0, 77, 1)),
			Packet{Key: key(a6, b6, 77, 77, sdwan.ProtoICMPv6), Length: 48}},
		{"ipv6 icmpv6 neighbour solicitation", ipv6(a6, b6, nil, sdwan.ProtoICMPv6, cat(icmpHdr(135, 0, 77, 1), make([]byte, 16))),
			Packet{Key: key(a6, b6, 0, 0, sdwan.ProtoICMPv6), Length: 64}},
		{"ipv6 atomic fragment is whole", ipv6(a6, b6, []ext6{{proto: protoFragment, id: 3}}, sdwan.ProtoUDP, udpHdr(9, 10, 0)),
			Packet{Key: key(a6, b6, 9, 10, sdwan.ProtoUDP), Length: 56}},
		{"ipv6 first fragment then dest opts", ipv6(a6, b6, []ext6{
			{proto: protoFragment, id: 0xdeadbeef, more: true},
			{proto: protoDstOpts, body: make([]byte, 6)},
		}, sdwan.ProtoUDP, udpHdr(9, 10, 0)),
			Packet{Key: key(a6, b6, 9, 10, sdwan.ProtoUDP), Length: 64,
				Frag: Fragment{ID: 0xdeadbeef, More: true, Proto: protoDstOpts}}},
		{"ipv6 later fragment", ipv6(a6, b6, []ext6{{proto: protoFragment, id: 0xdeadbeef, offset: 100}}, sdwan.ProtoUDP, make([]byte, 8)),
			Packet{Key: key(a6, b6, 0, 0, sdwan.ProtoUDP), Length: 56,
				Frag: Fragment{ID: 0xdeadbeef, Offset: 100, Proto: sdwan.ProtoUDP}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.pkt)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Parse mismatch (-want +got):\n%s", diff)
			}
			var k sdwan.FlowKey
			if err := ParseFlowKey(tt.pkt, &k); err != nil || k != tt.want.Key {
				t.Errorf("ParseFlowKey = %v, %v; want %v", k, err, tt.want.Key)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tcp4 := ipv4(a4, b4, sdwan.ProtoTCP, tcpHdr(1, 2), v4opts{})
	udp6 := ipv6(a6, b6, nil, sdwan.ProtoUDP, udpHdr(1, 2, 0))
	badIHL := append([]byte(nil), tcp4...)
	badIHL[0] = 0x44
	shortTotal := append([]byte(nil), tcp4...)
	shortTotal[3] = 16
	manyExt := make([]ext6, MaxExtensionHeaders+1)
	for i := range manyExt {
		manyExt[i] = ext6{proto: protoDstOpts, body: make([]byte, 6)}
	}
	tests := []struct {
		name string
		pkt  []byte
		want error
	}{
		{"empty", nil, ErrTruncated},
		{"version 5", []byte{0x50, 0, 0, 0}, ErrVersion},
		{"ipv4 short header", tcp4[:19], ErrTruncated},
		{"ipv4 ihl below 5", badIHL, ErrHeader},
		{"ipv4 total below header", shortTotal, ErrHeader},
		{"ipv4 total beyond slice", tcp4[:39], ErrTruncated},
		{"ipv4 options beyond total", ipv4(a4, b4, sdwan.ProtoTCP, nil, v4opts{options: make([]byte, 40)})[:24], ErrTruncated},
		{"ipv4 tcp header cut", ipv4(a4, b4, sdwan.ProtoTCP, tcpHdr(1, 2)[:12], v4opts{}), ErrTruncated},
		{"ipv4 udp header cut", ipv4(a4, b4, sdwan.ProtoUDP, udpHdr(1, 2, 0)[:7], v4opts{}), ErrTruncated},
		{"ipv4 icmp cut", ipv4(a4, b4, sdwan.ProtoICMP, icmpHdr(8, 0, 1, 1)[:4], v4opts{}), ErrTruncated},
		{"ipv4 first fragment too short for ports", ipv4(a4, b4, sdwan.ProtoUDP, []byte{1, 2, 3}, v4opts{more: true}), ErrTruncated},
		{"ipv6 short header", udp6[:39], ErrTruncated},
		{"ipv6 payload beyond slice", udp6[:47], ErrTruncated},
		{"ipv6 udp cut", ipv6(a6, b6, nil, sdwan.ProtoUDP, udpHdr(1, 2, 0)[:4]), ErrTruncated},
		{"ipv6 ext header cut", ipv6(a6, b6, nil, protoDstOpts, []byte{17, 0, 0}), ErrTruncated},
		{"ipv6 ext header length beyond packet", ipv6(a6, b6, nil, protoRouting, []byte{17, 9, 0, 0, 0, 0, 0, 0}), ErrTruncated},
		{"ipv6 ah length beyond packet", ipv6(a6, b6, nil, protoAH, []byte{17, 9, 0, 0, 0, 0, 0, 0}), ErrTruncated},
		{"ipv6 fragment header cut", ipv6(a6, b6, nil, protoFragment, []byte{17, 0, 0}), ErrTruncated},
		{"ipv6 too many extension headers", ipv6(a6, b6, manyExt, sdwan.ProtoUDP, udpHdr(1, 2, 0)), ErrTooManyHeaders},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.pkt)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Parse error = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestParseKeyReverse(t *testing.T) {
	// An echo request and its reply are each other's reverse, as are the
	// two directions of a TCP connection.
	pairs := [][2][]byte{
		{ipv4(a4, b4, sdwan.ProtoICMP, icmpHdr(8, 0, 42, 1), v4opts{}), ipv4(b4, a4, sdwan.ProtoICMP, icmpHdr(0, 0, 42, 1), v4opts{})},
		{ipv6(a6, b6, nil, sdwan.ProtoICMPv6, icmpHdr(128, 0, 42, 1)), ipv6(b6, a6, nil, sdwan.ProtoICMPv6, icmpHdr(129, 0, 42, 1))},
		{ipv4(a4, b4, sdwan.ProtoTCP, tcpHdr(1234, 80), v4opts{}), ipv4(b4, a4, sdwan.ProtoTCP, tcpHdr(80, 1234), v4opts{})},
	}
	for i, p := range pairs {
		var k1, k2 sdwan.FlowKey
		err1 := ParseFlowKey(p[0], &k1)
		err2 := ParseFlowKey(p[1], &k2)
		if err1 != nil || err2 != nil {
			t.Fatalf("pair %d: %v %v", i, err1, err2)
		}
		if k1.Reverse() != k2 {
			t.Errorf("pair %d: %v reversed is %v, want %v", i, k1, k1.Reverse(), k2)
		}
	}
}

func TestParseAllocs(t *testing.T) {
	pkts := [][]byte{
		ipv4(a4, b4, sdwan.ProtoTCP, tcpHdr(1, 2), v4opts{}),
		ipv6(a6, b6, []ext6{{proto: protoHopByHop, body: make([]byte, 6)}}, sdwan.ProtoUDP, udpHdr(1, 2, 0)),
		{0x45}, // an error must not allocate either
	}
	var pkt Packet
	for _, p := range pkts {
		if n := testing.AllocsPerRun(100, func() { _ = pkt.Decode(p) }); n != 0 {
			t.Errorf("Parse(%x) allocates %v times", p[:1], n)
		}
	}
}
