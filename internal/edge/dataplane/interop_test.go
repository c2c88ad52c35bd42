package dataplane

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"golang.zx2c4.com/wireguard/conn"
	"golang.zx2c4.com/wireguard/device"
	"golang.zx2c4.com/wireguard/tun/tuntest"
)

// TestInteropStockPeer joins one path of an engine to an unmodified
// wireguard-go device: the stock UDP bind (its own socket), a plain TUN
// double, and a configuration written in the form `wg setconf` sends over
// the UAPI socket. Packets cross both ways, so the handshake, the
// transport format and the allowed-IPs checks are WireGuard's own on the
// stock side.
func TestInteropStockPeer(t *testing.T) {
	checkLeaks(t)
	a := newSite(t, "a", 1)
	defer func() {
		a.eng.Close()
		for _, l := range a.links {
			l.Close()
		}
	}()

	stockKey, _ := GeneratePrivateKey()
	stockPrefix := netip.MustParsePrefix("10.9.0.0/24")
	stockHost := netip.MustParseAddr("10.9.0.1")
	ctun := tuntest.NewChannelTUN()
	stock := device.NewDevice(ctun.TUN(), conn.NewStdNetBind(), device.NewLogger(device.LogLevelSilent, ""))
	defer stock.Close()
	// What `wg setconf stock0 stock.conf` sends for:
	//   [Interface] PrivateKey = ...; ListenPort = 0
	//   [Peer] PublicKey = <site a>; Endpoint = <a/wan1>; AllowedIPs = 10.1.0.0/24
	uapi := fmt.Sprintf("private_key=%s\nlisten_port=0\nreplace_peers=true\npublic_key=%s\nendpoint=%s\nreplace_allowed_ips=true\nallowed_ip=%s\n",
		stockKey.hex(), a.key.PublicKey().hex(), a.links["wan1"].Addr(), a.prefix)
	if err := stock.IpcSet(uapi); err != nil {
		t.Fatal(err)
	}
	if err := stock.Up(); err != nil {
		t.Fatal(err)
	}
	port := stockListenPort(t, stock)

	a.set(t, Config{
		PrivateKey: a.key,
		Prefixes:   []netip.Prefix{a.prefix},
		Links:      []Link{{Name: "wan1", Conn: a.links["wan1"].Conn()}},
		Peers:      []Peer{{ID: "stock", PublicKey: stockKey.PublicKey(), Prefixes: []netip.Prefix{stockPrefix}}},
		Paths:      []Path{{ID: "a-stock", Link: "wan1", Peer: "stock", Remote: netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port)}},
	})

	// Site a to the stock peer.
	sc, err := a.net.DialUDPAddrPort(netip.AddrPortFrom(a.host, 4000), netip.AddrPortFrom(stockHost, 9))
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	if _, err := sc.Write([]byte("to the stock peer")); err != nil {
		t.Fatal(err)
	}
	select {
	case pkt := <-ctun.Inbound:
		if !bytes.HasSuffix(pkt, []byte("to the stock peer")) || netip.AddrFrom4([4]byte(pkt[16:20])) != stockHost {
			t.Fatalf("stock peer received %x", pkt)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("nothing reached the stock peer")
	}

	// The stock peer answers.
	reply := udp4(netip.AddrPortFrom(stockHost, 9), netip.AddrPortFrom(a.host, 4000), []byte("from the stock peer"))
	binary.BigEndian.PutUint16(reply[10:], ipChecksum(reply[:20]))
	select {
	case ctun.Outbound <- reply:
	case <-time.After(5 * time.Second):
		t.Fatal("stock device did not read its TUN")
	}
	buf := make([]byte, 100)
	sc.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, err := sc.Read(buf)
	if err != nil || string(buf[:n]) != "from the stock peer" {
		t.Fatalf("site a read %q, %v", buf[:n], err)
	}
	// The answer came through the path's own device.
	if st := a.eng.Stats().Paths[0]; st.RxPackets != 1 {
		t.Errorf("path a-stock decrypted %d packets, want 1", st.RxPackets)
	}
}

// stockListenPort asks the device its port, as `wg show` would.
func stockListenPort(t *testing.T, d *device.Device) uint16 {
	t.Helper()
	s, err := d.IpcGet()
	if err != nil {
		t.Fatal(err)
	}
	var port uint16
	for _, line := range bytes.Split([]byte(s), []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte("listen_port=")); ok {
			fmt.Sscan(string(v), &port)
		}
	}
	if port == 0 {
		t.Fatalf("no listen port in %q", s)
	}
	return port
}

// ipChecksum is the IPv4 header checksum (the header's own field zero).
func ipChecksum(h []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(h); i += 2 {
		sum += uint32(h[i])<<8 | uint32(h[i+1])
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return ^uint16(sum)
}
