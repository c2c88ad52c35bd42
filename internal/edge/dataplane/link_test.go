package dataplane

import (
	"bytes"
	"net/netip"
	"testing"

	"golang.zx2c4.com/wireguard/conn"
)

// FuzzLinkDemux feeds the link's demultiplexer datagrams and GRO runs of
// any content and segment size, as a peer (or anyone who can reach the
// link's socket) could send them, and checks that every byte comes out
// exactly once: probe packets to the probe side, the rest to the path's
// WireGuard receive function, each datagram of a run on its own.
func FuzzLinkDemux(f *testing.F) {
	f.Add([]byte("PR\x01\x01 a probe"), uint16(0))
	f.Add(bytes.Repeat([]byte{4, 0, 0, 0, 9, 9, 9, 9}, 20), uint16(8))
	f.Add(append(bytes.Repeat([]byte{4, 0, 0, 0, 1, 2, 3, 4}, 3), "PRobe"...), uint16(8))
	f.Add([]byte{1}, uint16(1))
	f.Add(bytes.Repeat([]byte{4}, 300), uint16(1)) // more datagrams than one receive call takes
	bufs := make([][]byte, conn.IdealBatchSize)
	for i := range bufs {
		bufs[i] = make([]byte, maxDatagram)
	}
	sizes := make([]int, len(bufs))
	eps := make([]conn.Endpoint, len(bufs))
	f.Fuzz(func(t *testing.T, data []byte, seg uint16) {
		if len(data) == 0 || len(data) > maxDatagram {
			return
		}
		s := int(seg)
		if s >= len(data) {
			s = 0
		}
		src := netip.MustParseAddrPort("192.0.2.7:51820")
		l := newLink("fuzz", newMemConn(1), discard())
		b := newPathBind(l)
		l.setBind(src, b)
		pc := l.newProbeConn()
		fns, _, err := b.Open(0)
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()

		bp := datagramPool.Get().(*[]byte)
		d := datagram{buf: bp, n: copy(*bp, data), seg: s, src: src}
		if s > 0 && hasProbe(*bp, d.n, s) {
			l.split(d)
		} else {
			l.route(d, nil)
		}

		probed := 0
		for len(pc.rx) > 0 {
			buf := make([]byte, maxDatagram)
			n, from, err := pc.ReadFromUDPAddrPort(buf)
			if err != nil || from != src || !isProbe(buf[:n]) {
				t.Fatalf("probe side read %q from %v, %v", buf[:n], from, err)
			}
			probed += n
		}
		// The receive function keeps what one call cannot take for the
		// next, so call it until the rest of the bytes are out.
		got := probed
		for got < len(data) {
			n, err := fns[0](bufs, sizes, eps)
			if err != nil {
				t.Fatal(err)
			}
			for i := range n {
				if s > 0 && sizes[i] > s {
					t.Fatalf("datagram of %d bytes from a run of %d-byte segments", sizes[i], s)
				}
				if eps[i].DstToString() != src.String() {
					t.Fatalf("datagram from %s, want %v", eps[i].DstToString(), src)
				}
				got += sizes[i]
			}
		}
		if got != len(data) {
			t.Fatalf("demultiplexed %d bytes of %d", got, len(data))
		}
	})
}
