package route

import (
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"

	"golang.zx2c4.com/wireguard/tun"

	"github.com/patronus-sdwan/patronus/internal/edge/dataplane"
	"github.com/patronus-sdwan/patronus/internal/nsexec"
)

// trafficSite is one site of TestRootRoutesTraffic: an engine on a kernel
// TUN in its namespace, one WAN link, and a Manager for the TUN.
type trafficSite struct {
	ns, dev string
	prefix  netip.Prefix
	wan     netip.AddrPort
	key     dataplane.Key
	conn    *net.UDPConn
	eng     *dataplane.Engine
	routes  *Manager
}

func newTrafficSite(t *testing.T, ns, dev, prefix, wan string) *trafficSite {
	t.Helper()
	s := &trafficSite{ns: ns, dev: dev, prefix: netip.MustParsePrefix(prefix), wan: netip.MustParseAddrPort(wan)}
	s.key, _ = dataplane.GeneratePrivateKey()
	var d tun.Device
	inNetns(t, ns, func() (err error) {
		if d, err = tun.CreateTUN(dev, 1420); err != nil {
			return err
		}
		s.conn, err = net.ListenUDP("udp4", net.UDPAddrFromAddrPort(s.wan))
		return err
	})
	var err error
	if s.eng, err = dataplane.New(nsexec.FixedMTU(d, 1420), dataplane.Options{Logger: slog.New(slog.DiscardHandler)}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.eng.Close() })
	s.routes = New(Netlink(nsHandle(t, ns), dev), Options{Logger: testLogger(t).With("site", ns), MTU: 1420})
	t.Cleanup(func() { s.routes.Close() }) // before the engine closes the TUN
	return s
}

// connect points s at peer over their WAN link, in the engine and in the
// kernel: the site's address and a route to the peer's prefix.
func (s *trafficSite) connect(t *testing.T, peer *trafficSite) {
	t.Helper()
	err := s.eng.Set(dataplane.Config{
		PrivateKey: s.key,
		Prefixes:   []netip.Prefix{s.prefix},
		Links:      []dataplane.Link{{Name: "wan1", Conn: s.conn}},
		Peers:      []dataplane.Peer{{ID: peer.ns, PublicKey: peer.key.PublicKey(), Prefixes: []netip.Prefix{peer.prefix}}},
		Paths:      []dataplane.Path{{ID: "to-" + peer.ns, Link: "wan1", Peer: peer.ns, Remote: peer.wan}},
	})
	if err != nil {
		t.Fatal(err)
	}
	site := netip.PrefixFrom(s.prefix.Addr().Next(), s.prefix.Bits())
	if err := s.routes.Set(site, []netip.Prefix{peer.prefix}); err != nil {
		t.Fatal(err)
	}
}

// udpIn opens a UDP socket in namespace ns.
func udpIn(t *testing.T, ns, addr string) *net.UDPConn {
	t.Helper()
	var c *net.UDPConn
	inNetns(t, ns, func() (err error) {
		c, err = net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.MustParseAddrPort(addr)))
		return err
	})
	t.Cleanup(func() { c.Close() })
	return c
}

// TestRootRoutesTraffic runs two sites' data planes on kernel TUNs in two
// namespaces joined by a veth pair, with nothing configured by hand: a
// UDP datagram from one namespace to the other site's address finds no
// route until the Managers have given the TUNs their addresses and
// routes, and then goes through them and the WireGuard tunnel, from the
// first site's address.
func TestRootRoutesTraffic(t *testing.T) {
	rootOnly(t)
	id := os.Getpid() % 100000
	ns1, ns2 := fmt.Sprintf("prt%d-a", id), fmt.Sprintf("prt%d-b", id)
	newNetns(t, ns1)
	newNetns(t, ns2)
	va, vb := fmt.Sprintf("prv%da", id), fmt.Sprintf("prv%db", id)
	run(t, "ip", "link", "add", va, "netns", ns1, "type", "veth", "peer", "name", vb, "netns", ns2)
	run(t, "ip", "-n", ns1, "addr", "add", "10.98.0.1/24", "dev", va)
	run(t, "ip", "-n", ns1, "link", "set", va, "up")
	run(t, "ip", "-n", ns2, "addr", "add", "10.98.0.2/24", "dev", vb)
	run(t, "ip", "-n", ns2, "link", "set", vb, "up")

	a := newTrafficSite(t, ns1, fmt.Sprintf("prt%da", id), "10.72.1.0/24", "10.98.0.1:55001")
	b := newTrafficSite(t, ns2, fmt.Sprintf("prt%db", id), "10.72.2.0/24", "10.98.0.2:55002")
	target := net.UDPAddrFromAddrPort(netip.MustParseAddrPort("10.72.2.1:5300"))
	send := udpIn(t, ns1, "0.0.0.0:0")
	if _, err := send.WriteToUDP([]byte("early"), target); err == nil {
		t.Fatal("a datagram to the peer site found a route before the manager set one")
	}

	a.connect(t, b)
	b.connect(t, a)
	recv := udpIn(t, ns2, "0.0.0.0:5300")
	buf := make([]byte, 64)
	for i := 0; ; i++ { // the first datagrams wait for the WireGuard handshake
		if _, err := send.WriteToUDP([]byte("hello"), target); err != nil {
			t.Fatalf("send to %v: %v", target, err)
		}
		recv.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		n, from, err := recv.ReadFromUDP(buf)
		if err == nil {
			if string(buf[:n]) != "hello" || from.AddrPort().Addr() != netip.MustParseAddr("10.72.1.1") {
				t.Fatalf("got %q from %v, want \"hello\" from site a's address 10.72.1.1", buf[:n], from)
			}
			break
		}
		if i == 25 {
			t.Fatalf("no datagram from %s to %v through the routes: %v", ns1, target, err)
		}
	}
	if st := a.eng.Stats(); st.SitePackets == 0 {
		t.Errorf("site a's engine read no packet from its TUN: %+v", st)
	}
	t.Logf("datagram from 10.72.1.1 reached %v; %s routes through %s:\n%s", target, ns1, a.dev,
		run(t, "ip", "-n", ns1, "route", "show", "dev", a.dev))
}
