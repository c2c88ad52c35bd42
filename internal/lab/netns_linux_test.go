package lab

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netns"

	"github.com/patronus-sdwan/patronus/internal/edge/route"
	"github.com/patronus-sdwan/patronus/internal/nsexec/nstest"
)

// rootOnly skips t unless -run-root-tests is given and the process is
// root.
func rootOnly(t *testing.T) { nstest.RootOnly(t) }

// TestNetNSRefused checks that a lab refuses namespaces it cannot have,
// saying why, and leaves nothing behind.
func TestNetNSRefused(t *testing.T) {
	ctx := context.Background()
	if _, err := New(ctx, Config{Sites: 2, Links: 1, NetNS: true, NoDataPlane: true}); err == nil ||
		!strings.Contains(err.Error(), "data plane") {
		t.Errorf("NetNS without a data plane: %v, want a refusal naming the data plane", err)
	}
	if os.Geteuid() == 0 {
		return
	}
	if _, err := New(ctx, Config{Sites: 2, Links: 1, NetNS: true}); err == nil || !strings.Contains(err.Error(), "root") {
		t.Errorf("NetNS without root: %v, want a refusal naming root", err)
	}
}

// TestRootNetNSTraffic runs a 2-site lab whose LANs are network namespaces
// holding kernel TUNs, and carries a UDP stream and a TCP transfer from
// site-1's namespace to site-2's through the edges' engines and the
// emulated WAN: every datagram must arrive and count against its policy,
// and Close must remove the namespaces.
func TestRootNetNSTraffic(t *testing.T) {
	rootOnly(t)
	ctx := context.Background()
	var names []string
	t.Cleanup(func() { // after the lab's Close, registered by startLab
		for _, n := range names {
			if _, err := os.Stat(filepath.Join(netnsDir, n)); !os.IsNotExist(err) {
				t.Errorf("namespace %s still there after Close (stat: %v)", n, err)
			}
		}
	})
	l := startLab(t, Config{Sites: 2, Links: 2, Seed: 29, NetNS: true})
	for _, s := range l.Sites() {
		n := l.Namespace(s)
		if !strings.HasPrefix(n, "patronus-") || !strings.HasSuffix(n, "-"+s) {
			t.Fatalf("site %s: namespace %q, want patronus-<id>-%s", s, n, s)
		}
		if _, err := os.Stat(filepath.Join(netnsDir, n)); err != nil {
			t.Fatalf("site %s: %v", s, err)
		}
		names = append(names, n)
	}
	allUp(t, l, 20*time.Second)
	udp := udpPolicy(t, l, "root-udp", 10, 6007, "wan1")
	waitFor(t, 5*time.Second, "the policy at site-1's edge", func() bool {
		cfg, err := l.Hub.SiteConfig(ctx, l.siteID(t, "site-1"))
		return err == nil && l.Agent("site-1").Version() == cfg.Version
	})
	// The edges give their TUNs the site's address and a route to the
	// peer's prefix, in the site's namespace.
	for i, s := range l.Sites() {
		peer := SitePrefix(2 - i)
		k := route.Netlink(l.nets[s].(*nsSite).nl, siteTUN)
		waitFor(t, 5*time.Second, s+"'s TUN address and route", func() bool {
			addrs, err1 := k.Addrs()
			routes, err2 := k.Routes()
			return err1 == nil && err2 == nil && slices.Contains(addrs, netip.PrefixFrom(siteHost(i+1), 24)) &&
				slices.Contains(routes, peer)
		})
	}

	st, err := l.StartUDP("site-1", "site-2", 6007, 100, 160)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	ur := st.Stop(300 * time.Millisecond)
	t.Logf("UDP: %v", ur)
	if ur.Sent < 100 || ur.LossPct() > 1 || ur.Duplicates != 0 {
		t.Errorf("UDP over the namespaces' TUNs: %v; want at least 100 sent, under 1%% lost, none duplicated", ur)
	}
	tr, err := l.TCPBulk(ctx, "site-1", "site-2", 5007, time.Second, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("TCP: %v", tr)
	if tr.Bytes == 0 {
		t.Error("TCP over the namespaces' TUNs delivered nothing")
	}
	// The stream's datagrams, and nothing else the kernels sent into the
	// TUNs, count against its policy.
	var got [2]uint64
	waitFor(t, 10*time.Second, "the controller's totals for the UDP policy", func() bool {
		got = graphQLPolicyTotals(t, l)[udp.ID]
		return got[0] >= uint64(ur.Sent)
	})
	if got[0] != uint64(ur.Sent) || got[1] != ur.InnerBytes() {
		t.Errorf("UDP policy: the API counts %d packets, %d bytes; the generator sent %d, %d", got[0], got[1], ur.Sent, ur.InnerBytes())
	}
}

// TestRootNetNSCleanupOnError makes a lab fail at its second site's
// namespace, whose name is taken, and checks that the failure removes the
// first site's and leaves the other owner's alone.
func TestRootNetNSCleanupOnError(t *testing.T) {
	rootOnly(t)
	id := fmt.Sprintf("t%d", os.Getpid())
	taken := "patronus-" + id + "-site-2"
	if _, err := makeNamedNS(taken); err != nil {
		t.Fatal(err)
	}
	defer netns.DeleteNamed(taken)
	old := newLabID
	newLabID = func() string { return id }
	defer func() { newLabID = old }()

	// The controller's API runs until ctx ends, even when New fails.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err := New(ctx, Config{Sites: 2, Links: 1, NetNS: true})
	if err == nil || !strings.Contains(err.Error(), taken) {
		t.Fatalf("New over a taken namespace: %v, want an error naming %s", err, taken)
	}
	if _, err := os.Stat(filepath.Join(netnsDir, "patronus-"+id+"-site-1")); !os.IsNotExist(err) {
		t.Errorf("site-1's namespace outlived the failed New (stat: %v)", err)
	}
	if _, err := os.Stat(filepath.Join(netnsDir, taken)); err != nil {
		t.Errorf("the other owner's namespace: %v", err)
	}
}
