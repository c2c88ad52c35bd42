package packet

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/patronus-sdwan/patronus/internal/sdwan"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func TestFragTableResolve(t *testing.T) {
	udp := key(a4, b4, 7000, 8000, sdwan.ProtoUDP)
	unresolved4 := key(a4, b4, 0, 0, sdwan.ProtoUDP)
	tcp6 := key(a6, b6, 443, 50000, sdwan.ProtoTCP)
	unresolved6 := key(a6, b6, 0, 0, protoDstOpts)

	first4 := ipv4(a4, b4, sdwan.ProtoUDP, udpHdr(7000, 8000, 1000), v4opts{id: 7, more: true})
	mid4 := ipv4(a4, b4, sdwan.ProtoUDP, make([]byte, 1000), v4opts{id: 7, offset: 126, more: true})
	last4 := ipv4(a4, b4, sdwan.ProtoUDP, make([]byte, 10), v4opts{id: 7, offset: 252})
	otherID4 := ipv4(a4, b4, sdwan.ProtoUDP, make([]byte, 10), v4opts{id: 8, offset: 252})
	otherProto4 := ipv4(a4, b4, sdwan.ProtoTCP, make([]byte, 10), v4opts{id: 7, offset: 252})
	whole4 := ipv4(a4, b4, sdwan.ProtoUDP, udpHdr(1, 2, 0), v4opts{})

	// The IPv6 fragmentable part starts with a destination options
	// header, so later fragments name it, not TCP, as their protocol.
	dst := ext6{proto: protoDstOpts, body: make([]byte, 6)}
	first6 := ipv6(a6, b6, []ext6{{proto: protoFragment, id: 1 << 30, more: true}, dst}, sdwan.ProtoTCP, tcpHdr(443, 50000))
	last6 := ipv6(a6, b6, []ext6{{proto: protoFragment, id: 1 << 30, offset: 4}}, protoDstOpts, make([]byte, 100))

	type step struct {
		pkt     []byte
		advance time.Duration
		want    sdwan.FlowKey
		ok      bool
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"in order", []step{
			{pkt: first4, want: udp, ok: true},
			{pkt: mid4, want: udp, ok: true},
			{pkt: last4, want: udp, ok: true},
		}},
		{"reordered middle after last", []step{
			{pkt: first4, want: udp, ok: true},
			{pkt: last4, want: udp, ok: true},
			{pkt: mid4, want: udp, ok: true},
		}},
		{"first fragment late", []step{
			{pkt: last4, want: unresolved4},
			{pkt: first4, want: udp, ok: true},
			{pkt: mid4, want: udp, ok: true},
		}},
		{"other id or protocol do not match", []step{
			{pkt: first4, want: udp, ok: true},
			{pkt: otherID4, want: unresolved4},
			{pkt: otherProto4, want: key(a4, b4, 0, 0, sdwan.ProtoTCP)},
		}},
		{"expired", []step{
			{pkt: first4, want: udp, ok: true},
			{pkt: mid4, advance: DefaultFragTTL + time.Second, want: unresolved4},
		}},
		{"whole packets pass through", []step{
			{pkt: whole4, want: key(a4, b4, 1, 2, sdwan.ProtoUDP), ok: true},
		}},
		{"ipv6 with dest opts in the fragmentable part", []step{
			{pkt: last6, want: unresolved6},
			{pkt: first6, want: tcp6, ok: true},
			{pkt: last6, want: tcp6, ok: true},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := &fakeClock{t: time.Unix(1000, 0)}
			ft := NewFragTable(64, 0, clk.now)
			for i, s := range tt.steps {
				clk.t = clk.t.Add(s.advance)
				p, err := Parse(s.pkt)
				if err != nil {
					t.Fatalf("step %d: Parse: %v", i, err)
				}
				ok := ft.Resolve(&p)
				if ok != s.ok {
					t.Errorf("step %d: Resolve = %v, want %v", i, ok, s.ok)
				}
				if diff := cmp.Diff(s.want, p.Key); diff != "" {
					t.Errorf("step %d: key mismatch (-want +got):\n%s", i, diff)
				}
			}
		})
	}
}

func TestFragTableBounded(t *testing.T) {
	// However many datagrams are fragmented, the table keeps its size,
	// and a recent datagram still resolves.
	clk := &fakeClock{t: time.Unix(1000, 0)}
	ft := NewFragTable(16, 0, clk.now)
	for id := range uint16(5000) {
		var p Packet
		if err := ft.Decode(ipv4(a4, b4, sdwan.ProtoUDP, udpHdr(id, 1, 8), v4opts{id: id, more: true}), &p); err != nil {
			t.Fatal(err)
		}
	}
	if len(ft.slots) != 16 {
		t.Fatalf("table grew to %d slots", len(ft.slots))
	}
	var p Packet
	if err := ft.Decode(ipv4(a4, b4, sdwan.ProtoUDP, make([]byte, 8), v4opts{id: 4999, offset: 2}), &p); err != nil {
		t.Fatal(err)
	}
	if want := key(a4, b4, 4999, 1, sdwan.ProtoUDP); p.Key != want {
		t.Errorf("last datagram resolved to %v, want %v", p.Key, want)
	}
}
