package route

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"testing"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.zx2c4.com/wireguard/tun"

	"github.com/patronus-sdwan/patronus/internal/nsexec/nstest"
)

// newNetns makes a network namespace that goes with the test.
func newNetns(t *testing.T, name string) {
	t.Helper()
	run(t, "ip", "netns", "add", name)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", name).Run() })
	run(t, "ip", "-n", name, "link", "set", "lo", "up")
}

// nsHandle returns a netlink handle working in namespace ns.
func nsHandle(t *testing.T, ns string) *netlink.Handle {
	t.Helper()
	nsh, err := netns.GetFromName(ns)
	if err != nil {
		t.Fatal(err)
	}
	defer nsh.Close()
	h, err := netlink.NewHandleAt(nsh)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	return h
}

// newTUN creates the kernel TUN device name in namespace ns, as the edge
// does, down and without an address.
func newTUN(t *testing.T, ns, name string) tun.Device {
	t.Helper()
	var dev tun.Device
	inNetns(t, ns, func() (err error) {
		dev, err = tun.CreateTUN(name, 1420)
		return err
	})
	return dev
}

func testLogger(t *testing.T) *slog.Logger { return slog.New(slog.NewTextHandler(t.Output(), nil)) }

// ipRoutes returns the routes through dev in ns's main table, IPv4 and
// IPv6, as destination -> protocol as `ip route` names it.
func ipRoutes(t *testing.T, ns, dev string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, family := range []string{"-4", "-6"} {
		var routes []struct {
			Dst      string `json:"dst"`
			Protocol string `json:"protocol"`
		}
		text := run(t, "ip", "-n", ns, "-j", family, "route", "show", "table", "main", "dev", dev)
		if err := json.Unmarshal([]byte(text), &routes); err != nil {
			t.Fatalf("ip route: %v\n%s", err, text)
		}
		for _, r := range routes {
			if p, err := netip.ParsePrefix(r.Dst); err == nil && p.Addr().IsLinkLocalUnicast() {
				continue // the kernel's own fe80::/64
			}
			out[r.Dst] = r.Protocol
		}
	}
	return out
}

// ipAddrs returns dev's state in ns: its flags, MTU and global addresses.
func ipAddrs(t *testing.T, ns, dev string) (flags []string, mtu int, addrs []string) {
	t.Helper()
	var links []struct {
		Flags    []string `json:"flags"`
		MTU      int      `json:"mtu"`
		AddrInfo []struct {
			Local     string `json:"local"`
			PrefixLen int    `json:"prefixlen"`
			Scope     string `json:"scope"`
		} `json:"addr_info"`
	}
	text := run(t, "ip", "-n", ns, "-j", "addr", "show", "dev", dev)
	if err := json.Unmarshal([]byte(text), &links); err != nil || len(links) != 1 {
		t.Fatalf("ip addr: %v\n%s", err, text)
	}
	for _, a := range links[0].AddrInfo {
		if a.Scope == "global" {
			addrs = append(addrs, fmt.Sprintf("%s/%d", a.Local, a.PrefixLen))
		}
	}
	return links[0].Flags, links[0].MTU, addrs
}

// TestRootRoutes runs a Manager on a real TUN in a namespace through a
// site's life: two peers, then one peer gone and a prefix added, then
// Close. At each step `ip route` must show exactly the manager's routes
// with its protocol, and a route someone else added must survive it all.
func TestRootRoutes(t *testing.T) {
	rootOnly(t)
	id := os.Getpid() % 100000
	ns, dev := fmt.Sprintf("prt%d", id), fmt.Sprintf("prt%d", id)
	newNetns(t, ns)
	tdev := newTUN(t, ns, dev)
	defer tdev.Close()
	h := nsHandle(t, ns)
	m := New(Netlink(h, dev), Options{Logger: testLogger(t), MTU: 1380})
	proto := fmt.Sprint(Protocol) // `ip -j` names an unknown protocol by number

	site := netip.MustParsePrefix("10.71.1.1/24")
	peerB := prefixes("10.71.2.0/24", "fd71:2::/64")
	peerC := prefixes("10.71.3.0/24")
	if err := m.Set(site, slices.Concat(peerB, peerC)); err != nil {
		t.Fatal(err)
	}
	flags, mtu, addrs := ipAddrs(t, ns, dev)
	if !slices.Contains(flags, "UP") || mtu != 1380 || !slices.Equal(addrs, []string{"10.71.1.1/24"}) {
		t.Errorf("device: flags %v, mtu %d, addresses %v; want UP, 1380, [10.71.1.1/24]", flags, mtu, addrs)
	}
	want := map[string]string{
		"10.71.1.0/24": "kernel", // the address's own prefix
		"10.71.2.0/24": proto, "fd71:2::/64": proto, "10.71.3.0/24": proto,
	}
	if got := ipRoutes(t, ns, dev); !maps.Equal(got, want) {
		t.Errorf("routes after the first config:\n got %v\nwant %v", got, want)
	}

	// Someone else's route through the device, in the prefix the
	// manager is about to want: it stays, and that prefix fails alone.
	run(t, "ip", "-n", ns, "route", "add", "192.168.71.0/24", "dev", dev)
	run(t, "ip", "-n", ns, "route", "add", "10.71.5.0/24", "dev", dev)
	run(t, "ip", "-n", ns, "route", "add", "fd71:9::/64", "dev", dev)
	// (`ip -j` leaves out the protocol of `ip route add`, boot.)
	want["192.168.71.0/24"], want["10.71.5.0/24"], want["fd71:9::/64"] = "", "", ""

	// Peer C leaves, peer B gets another prefix.
	peerB = append(peerB, netip.MustParsePrefix("10.71.4.0/24"))
	if err := m.Set(site, peerB); err != nil {
		t.Fatal(err)
	}
	delete(want, "10.71.3.0/24")
	want["10.71.4.0/24"] = proto
	if got := ipRoutes(t, ns, dev); !maps.Equal(got, want) {
		t.Errorf("routes after the change:\n got %v\nwant %v", got, want)
	}
	if err := m.Set(site, append(peerB, netip.MustParsePrefix("10.71.5.0/24"))); err == nil {
		t.Error("Set over someone else's route succeeded")
	}
	if got := ipRoutes(t, ns, dev); !maps.Equal(got, want) {
		t.Errorf("routes after the refused prefix:\n got %v\nwant %v", got, want)
	}

	// The site's prefix shrinks, then it is renumbered: the new address
	// goes on before the old comes off, so the device never lacks one
	// and keeps every route.
	for _, next := range []string{"10.71.1.1/25", "10.71.8.1/24"} {
		old := site
		site = netip.MustParsePrefix(next)
		if err := m.Set(site, peerB); err != nil {
			t.Fatal(err)
		}
		if _, _, addrs := ipAddrs(t, ns, dev); !slices.Equal(addrs, []string{next}) {
			t.Errorf("addresses after renumbering to %s: %v", next, addrs)
		}
		delete(want, old.Masked().String())
		want[site.Masked().String()] = "kernel"
		if got := ipRoutes(t, ns, dev); !maps.Equal(got, want) {
			t.Errorf("routes after renumbering to %s:\n got %v\nwant %v", next, got, want)
		}
	}

	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	// The foreign IPv4 routes went with the device's last IPv4 address
	// (the kernel's doing); the IPv6 one shows Close left them alone.
	want = map[string]string{"fd71:9::/64": ""}
	if got := ipRoutes(t, ns, dev); !maps.Equal(got, want) {
		t.Errorf("routes after Close:\n got %v\nwant %v", got, want)
	}
	if _, _, addrs := ipAddrs(t, ns, dev); len(addrs) != 0 {
		t.Errorf("addresses after Close: %v", addrs)
	}

	// A manager whose device went first (the engine closed it) has
	// nothing left to remove.
	m2 := New(Netlink(h, dev), Options{Logger: testLogger(t)})
	if err := m2.Set(site, peerB); err != nil {
		t.Fatal(err)
	}
	tdev.Close()
	if err := m2.Close(); err != nil {
		t.Errorf("Close after the device went: %v", err)
	}
}

// The shared helpers of the tests that need root, under this package's
// short names.
var (
	rootOnly = nstest.RootOnly
	run      = nstest.Run
	inNetns  = nstest.InNetns
)
