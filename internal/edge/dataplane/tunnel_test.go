package dataplane

import (
	"bytes"
	"encoding/binary"
	"log/slog"
	"net"
	"net/netip"
	"testing"
	"time"
)

// udp4 builds an IPv4/UDP packet (checksums left zero: nothing on the
// tunnel path verifies them).
func udp4(src, dst netip.AddrPort, payload []byte) []byte {
	p := make([]byte, 28+len(payload))
	p[0] = 0x45
	binary.BigEndian.PutUint16(p[2:], uint16(len(p)))
	p[8] = 64
	p[9] = 17
	s, d := src.Addr().As4(), dst.Addr().As4()
	copy(p[12:], s[:])
	copy(p[16:], d[:])
	binary.BigEndian.PutUint16(p[20:], src.Port())
	binary.BigEndian.PutUint16(p[22:], dst.Port())
	binary.BigEndian.PutUint16(p[24:], uint16(8+len(payload)))
	copy(p[28:], payload)
	return p
}

func listenLoopback(t *testing.T) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func addrOf(c PacketConn) netip.AddrPort {
	return netip.MustParseAddrPort(c.LocalAddr().String())
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// TestTunnelHandshake joins two path devices over loopback UDP through the
// link demultiplexer and checks that a packet crosses each way, which needs
// a real WireGuard handshake.
func TestTunnelHandshake(t *testing.T) {
	checkLeaks(t)
	privA, _ := GeneratePrivateKey()
	privB, _ := GeneratePrivateKey()
	ca, cb := listenLoopback(t), listenLoopback(t)
	la, lb := newLink("a/wan1", ca, discard()), newLink("b/wan1", cb, discard())

	got := map[string]chan []byte{"a": make(chan []byte, 4), "b": make(chan []byte, 4)}
	recv := func(side string) func([][]byte, int) {
		return func(bufs [][]byte, off int) {
			for _, b := range bufs {
				got[side] <- bytes.Clone(b[off:])
			}
		}
	}
	bp := newBatchPool(1500)
	// The tunnels have no site device to read: a token held for good
	// leaves them the packets the test queues.
	held := newReadToken()
	<-held.take()
	ta := newTunnel("p-ab", "t0", la, addrOf(cb), 1420, pathIO{recv: recv("a"), pool: bp, reads: held}, discard())
	defer ta.close()
	la.start()
	tb := newTunnel("p-ba", "t1", lb, addrOf(ca), 1420, pathIO{recv: recv("b"), pool: bp, reads: held}, discard())
	defer tb.close()
	lb.start()
	// The links close first: a device's receive function may be reading
	// its link's socket, and returns when it is closed.
	defer la.close()
	defer lb.close()
	pa, pb := netip.MustParsePrefix("10.1.0.0/24"), netip.MustParsePrefix("10.2.0.0/24")
	if err := ta.configure(tunnelConfig{private: privA, peer: privB.PublicKey(), remote: addrOf(cb), allowed: pb.String()}); err != nil {
		t.Fatal(err)
	}
	if err := tb.configure(tunnelConfig{private: privB, peer: privA.PublicKey(), remote: addrOf(ca), allowed: pa.String()}); err != nil {
		t.Fatal(err)
	}

	hostA, hostB := netip.MustParseAddrPort("10.1.0.1:1000"), netip.MustParseAddrPort("10.2.0.1:2000")
	for _, tc := range []struct {
		name     string
		from     *tunnel
		to       string
		src, dst netip.AddrPort
	}{
		{"a to b", ta, "b", hostA, hostB},
		{"b to a", tb, "a", hostB, hostA},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := udp4(tc.src, tc.dst, []byte("hello over wireguard"))
			b := bp.get()
			b.n = 1
			b.sizes[0] = copy(b.bufs[0][batchOffset:], want)
			tc.from.tun.send(b)
			select {
			case p := <-got[tc.to]:
				if !bytes.Equal(p, want) {
					t.Fatalf("received %x, want %x", p, want)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("no packet crossed the tunnel")
			}
		})
	}
	if n := ta.stats.txPackets.Load(); n != 1 {
		t.Errorf("a sent %d packets into its tunnel, want 1", n)
	}
}

// close unhooks the tunnel and closes its device, waiting for it.
func (t *tunnel) close() {
	t.unhook()
	t.dev.Close()
}
