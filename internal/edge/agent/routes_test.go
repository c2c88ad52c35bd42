package agent

import (
	"net/netip"
	"slices"
	"sync"
	"testing"

	"golang.zx2c4.com/wireguard/tun"
	"golang.zx2c4.com/wireguard/tun/netstack"

	"github.com/patronus-sdwan/patronus/internal/api/edgeapi"
	"github.com/patronus-sdwan/patronus/internal/edge/dataplane"
	"github.com/patronus-sdwan/patronus/internal/edge/route"
)

// fakeRoutes is SiteRoutes over a route.Manager on a fake kernel, as the
// edge runs it over netlink.
type fakeRoutes struct {
	*route.Manager
	kernel *route.Fake

	mu     sync.Mutex
	closed int
}

func newFakeRoutes() *fakeRoutes {
	k := route.NewFake()
	return &fakeRoutes{Manager: route.New(k, route.Options{}), kernel: k}
}

func (f *fakeRoutes) Close() error {
	f.mu.Lock()
	f.closed++
	f.mu.Unlock()
	return f.Manager.Close()
}

func TestSiteAddress(t *testing.T) {
	for _, tc := range []struct{ prefixes, want string }{
		{"", ""},
		{"10.1.0.0/24", "10.1.0.1/24"},
		{"10.1.0.77/24", "10.1.0.1/24"},
		{"10.1.0.9/32", "10.1.0.9/32"},
		{"fd00:1::/64", "fd00:1::1/64"},
	} {
		var ps []netip.Prefix
		if tc.prefixes != "" {
			ps = append(ps, netip.MustParsePrefix(tc.prefixes), netip.MustParsePrefix("192.168.0.0/16"))
		}
		got := SiteAddress(ps)
		if (tc.want == "" && got.IsValid()) || (tc.want != "" && got != netip.MustParsePrefix(tc.want)) {
			t.Errorf("SiteAddress(%v) = %v, want %q", ps, got, tc.want)
		}
	}
}

// TestDataPlaneRoutes checks that every configuration reconciles the site
// device's routes to the peers the engine carries, and that the agent
// takes them away when it ends.
func TestDataPlaneRoutes(t *testing.T) {
	key, _ := dataplane.GeneratePrivateKey()
	kb, _ := dataplane.GeneratePrivateKey()
	kc, _ := dataplane.GeneratePrivateKey()
	fr := newFakeRoutes()
	dev := func([]netip.Prefix) (tun.Device, error) {
		d, _, err := netstack.CreateNetTUN([]netip.Addr{netip.MustParseAddr("10.1.0.1")}, nil, 1420)
		return d, err
	}
	a, err := New(Config{Controller: "http://127.0.0.1:1", Credential: "pse_test_secret",
		DataPlane: &DataPlane{PrivateKey: key, Device: dev, Routes: fr}})
	if err != nil {
		t.Fatal(err)
	}
	site := edgeapi.Site{ID: "a", Name: "a", Prefixes: []netip.Prefix{netip.MustParsePrefix("10.1.0.0/24")}}
	peer := func(id string, k dataplane.Key, prefixes ...string) edgeapi.Peer {
		p := edgeapi.Peer{Site: edgeapi.Site{ID: id, Name: id}}
		if !k.IsZero() {
			p.PublicKey = k.PublicKey().String()
		}
		for _, s := range prefixes {
			p.Prefixes = append(p.Prefixes, netip.MustParsePrefix(s))
		}
		return p
	}
	check := func(step string, routes ...string) {
		t.Helper()
		st := fr.kernel.State()
		var got []string
		for _, p := range st.Routes {
			got = append(got, p.String())
		}
		if !slices.Equal(got, routes) {
			t.Errorf("%s: routes %v, want %v", step, got, routes)
		}
		if want := []netip.Prefix{netip.MustParsePrefix("10.1.0.1/24")}; !slices.Equal(st.Addrs, want) {
			t.Errorf("%s: addresses %v, want %v", step, st.Addrs, want)
		}
	}

	// Peer c has no key yet: the engine cannot reach it, so no route.
	cfg := edgeapi.Config{Site: site, Peers: []edgeapi.Peer{
		peer("b", kb, "10.2.0.0/24", "10.3.0.0/24"), peer("c", dataplane.Key{}, "10.4.0.0/24"),
	}}
	cfg.Seal()
	if _, err := a.Apply(cfg); err != nil {
		t.Fatal(err)
	}
	check("first config", "10.2.0.0/24", "10.3.0.0/24")

	// b loses a prefix, c registers its key.
	cfg.Peers = []edgeapi.Peer{peer("b", kb, "10.2.0.0/24"), peer("c", kc, "10.4.0.0/24")}
	cfg.Seal()
	if _, err := a.Apply(cfg); err != nil {
		t.Fatal(err)
	}
	check("second config", "10.2.0.0/24", "10.4.0.0/24")

	a.Close()
	if st := fr.kernel.State(); len(st.Routes) != 0 || len(st.Addrs) != 0 || fr.closed != 1 {
		t.Errorf("after Close: %+v, closed %d times", st, fr.closed)
	}
}
