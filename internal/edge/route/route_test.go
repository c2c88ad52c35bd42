package route

import (
	"errors"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func prefixes(ss ...string) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range ss {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}

func TestDiff(t *testing.T) {
	for _, tc := range []struct {
		name             string
		want, have       []netip.Prefix
		wantAdd, wantDel []netip.Prefix
	}{
		{name: "nothing"},
		{name: "all new", want: prefixes("10.2.0.0/24", "10.1.0.0/16"), wantAdd: prefixes("10.1.0.0/16", "10.2.0.0/24")},
		{name: "all gone", have: prefixes("10.1.0.0/16", "fd00::/64"), wantDel: prefixes("10.1.0.0/16", "fd00::/64")},
		{name: "same", want: prefixes("10.1.0.0/16", "fd00::/64"), have: prefixes("fd00::/64", "10.1.0.0/16")},
		{
			name: "some of each",
			want: prefixes("10.1.0.0/16", "10.3.0.0/24", "fd00:3::/64"), have: prefixes("10.1.0.0/16", "10.2.0.0/24", "fd00:2::/64"),
			wantAdd: prefixes("10.3.0.0/24", "fd00:3::/64"), wantDel: prefixes("10.2.0.0/24", "fd00:2::/64"),
		},
		{name: "length counts", want: prefixes("10.1.0.0/24"), have: prefixes("10.1.0.0/16"),
			wantAdd: prefixes("10.1.0.0/24"), wantDel: prefixes("10.1.0.0/16")},
		{name: "host bits masked, duplicates once", want: prefixes("10.1.2.3/16", "10.1.0.0/16", "10.9.9.9/24"), have: prefixes("10.1.0.0/16"),
			wantAdd: prefixes("10.9.9.0/24")},
		{name: "invalid ignored", want: []netip.Prefix{{}}, have: []netip.Prefix{{}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			add, del := Diff(tc.want, tc.have)
			if d := cmp.Diff(tc.wantAdd, add, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); d != "" {
				t.Errorf("add (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tc.wantDel, del, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); d != "" {
				t.Errorf("del (-want +got):\n%s", d)
			}
		})
	}
}

func checkChanges(t *testing.T, f *Fake, want ...string) {
	t.Helper()
	if d := cmp.Diff(want, f.Changes()); d != "" {
		t.Errorf("changes (-want +got):\n%s", d)
	}
}

func checkState(t *testing.T, f *Fake, want FakeState) {
	t.Helper()
	if d := cmp.Diff(want, f.State(), cmp.Comparer(func(a, b netip.Prefix) bool { return a == b }), cmpopts.EquateEmpty()); d != "" {
		t.Errorf("device (-want +got):\n%s", d)
	}
}

// TestManagerReconciles follows a site through configurations: peers and
// prefixes come and go, and only the difference is applied each time.
func TestManagerReconciles(t *testing.T) {
	f := NewFake()
	m := New(f, Options{MTU: 1420})
	site := netip.MustParsePrefix("10.1.0.1/24")

	if err := m.Set(site, prefixes("10.2.0.0/24", "10.3.0.0/16")); err != nil {
		t.Fatal(err)
	}
	checkChanges(t, f, "set mtu 1420", "up", "add address 10.1.0.1/24", "add route 10.2.0.0/24", "add route 10.3.0.0/16")
	checkState(t, f, FakeState{Up: true, MTU: 1420, Addrs: prefixes("10.1.0.1/24"), Routes: prefixes("10.2.0.0/24", "10.3.0.0/16")})

	// The same configuration again changes nothing.
	if err := m.Set(site, prefixes("10.3.0.0/16", "10.2.0.0/24")); err != nil {
		t.Fatal(err)
	}
	checkChanges(t, f)

	// A peer goes, another prefix comes.
	if err := m.Set(site, prefixes("10.2.0.0/24", "10.4.0.0/24", "fd00:4::/64")); err != nil {
		t.Fatal(err)
	}
	checkChanges(t, f, "remove route 10.3.0.0/16", "add route 10.4.0.0/24", "add route fd00:4::/64")

	// The site is renumbered.
	site2 := netip.MustParsePrefix("10.9.0.1/24")
	if err := m.Set(site2, prefixes("10.2.0.0/24", "10.4.0.0/24", "fd00:4::/64")); err != nil {
		t.Fatal(err)
	}
	checkChanges(t, f, "add address 10.9.0.1/24", "remove address 10.1.0.1/24")

	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	checkChanges(t, f, "remove route 10.2.0.0/24", "remove route 10.4.0.0/24", "remove route fd00:4::/64", "remove address 10.9.0.1/24")
	checkState(t, f, FakeState{Up: true, MTU: 1420})
	if err := m.Set(site, nil); err == nil {
		t.Error("Set after Close succeeded")
	}
}

// TestManagerLeavesOthersAlone checks that routes and addresses the
// manager did not add survive it, and that a route someone else holds
// fails only its own prefix.
func TestManagerLeavesOthersAlone(t *testing.T) {
	f := NewFake()
	f.AddForeignRoute(netip.MustParsePrefix("192.168.7.0/24"))
	f.AddForeignRoute(netip.MustParsePrefix("10.3.0.0/16"))
	if err := f.AddAddr(netip.MustParsePrefix("10.1.0.1/24")); err != nil {
		t.Fatal(err)
	}
	f.Changes()
	m := New(f, Options{})

	err := m.Set(netip.MustParsePrefix("10.1.0.1/24"), prefixes("10.2.0.0/24", "10.3.0.0/16"))
	if err == nil {
		t.Error("Set with a foreign route to a wanted prefix succeeded")
	}
	checkChanges(t, f, "up", "add route 10.2.0.0/24")
	if err := m.Set(netip.Prefix{}, nil); err != nil {
		t.Fatal(err)
	}
	// The address was there before: not the manager's to remove.
	checkChanges(t, f, "remove route 10.2.0.0/24")
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	checkChanges(t, f)
	checkState(t, f, FakeState{Up: true, Addrs: prefixes("10.1.0.1/24"), Foreign: prefixes("10.3.0.0/16", "192.168.7.0/24")})
}

// TestManagerDeviceGone checks that a device that went away is no error
// at Close (its routes went with it) but is one at Set.
func TestManagerDeviceGone(t *testing.T) {
	f := NewFake()
	m := New(f, Options{})
	if err := m.Set(netip.MustParsePrefix("10.1.0.1/24"), prefixes("10.2.0.0/24")); err != nil {
		t.Fatal(err)
	}
	f.SetGone()
	if err := m.Set(netip.MustParsePrefix("10.1.0.1/24"), prefixes("10.2.0.0/24")); !errors.Is(err, ErrNoDevice) {
		t.Errorf("Set on a gone device: %v, want ErrNoDevice", err)
	}
	if err := m.Close(); err != nil {
		t.Errorf("Close on a gone device: %v", err)
	}
}
