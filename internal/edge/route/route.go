// Package route gives the site's kernel TUN device what the host needs to
// reach the data plane: the link up at the tunnel MTU, the site's address,
// and one route per peer prefix through the device.
//
// A Manager reconciles: Set is given the desired address and routes, reads
// what the device has, and changes only the difference, so it is safe to
// repeat on every configuration the controller sends. The routes it adds
// carry their own routing protocol number (Protocol), which is how it
// finds exactly its own routes again, after a restart too, and never
// touches a route someone else added. Close removes what it added.
package route

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"sync"
)

// Protocol is the routing protocol number of the routes a Manager adds
// (`ip route show proto 0x70`; name it in /etc/iproute2/rt_protos.d to read
// `proto patronus`). It is outside the numbers iproute2 and the routing
// daemons assign.
const Protocol = 0x70

// ErrNoDevice is returned by a Kernel whose device does not exist (any
// more).
var ErrNoDevice = errors.New("route: no such device")

// Kernel is what a Manager needs of the operating system, for one device.
// Netlink is the real one, Fake an in-memory one.
type Kernel interface {
	// Up sets the device's MTU, unless mtu is zero, and brings the device
	// up. Doing it again changes nothing.
	Up(mtu int) error
	// Addrs returns the device's addresses with their prefix lengths.
	Addrs() ([]netip.Prefix, error)
	// AddAddr gives the device the address p.Addr() on the network p.
	AddAddr(p netip.Prefix) error
	// DelAddr takes the address p away from the device.
	DelAddr(p netip.Prefix) error
	// Routes returns the destinations of the main table's routes through
	// the device that carry Protocol, and of no other route.
	Routes() ([]netip.Prefix, error)
	// AddRoute routes dst through the device in the main table, marked
	// with Protocol. It fails, changing nothing, when the table already
	// has a route to dst of the same metric.
	AddRoute(dst netip.Prefix) error
	// DelRoute removes the route to dst through the device that carries
	// Protocol, and no other.
	DelRoute(dst netip.Prefix) error
}

// Options tune a Manager.
type Options struct {
	// Logger receives a message for every change; nil discards them.
	Logger *slog.Logger
	// MTU is the device's MTU, set when the manager brings it up; zero
	// leaves it as it is.
	MTU int
}

// Manager keeps one device's address and routes as last Set. Its methods
// are safe for concurrent use.
type Manager struct {
	k   Kernel
	log *slog.Logger
	mtu int

	mu     sync.Mutex
	up     bool           // the device has been brought up
	addrs  []netip.Prefix // the addresses this manager added and has not removed
	closed bool
}

// New returns a manager of the device k drives. It changes nothing until
// the first Set.
func New(k Kernel, opts Options) *Manager {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Manager{k: k, log: opts.Logger, mtu: opts.MTU}
}

// Set brings the device up (the first time), gives it the address addr
// (none when addr is invalid) in place of the one the manager gave it
// before, and makes its routes exactly one to each prefix of routes
// (masked; duplicates and invalid ones ignored): it adds the missing ones
// and removes the ones it added that routes no longer has. Routes it did
// not add are left alone, and one of them to a wanted prefix makes that
// prefix fail. It applies all it can and reports what it could not; the
// next Set retries it.
func (m *Manager) Set(addr netip.Prefix, routes []netip.Prefix) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return errors.New("route: manager closed")
	}
	if !m.up {
		if err := m.k.Up(m.mtu); err != nil {
			return fmt.Errorf("route: bring the device up: %w", err)
		}
		m.up = true
		m.log.Info("site device up", "mtu", m.mtu)
	}
	return errors.Join(m.setAddrLocked(addr), m.setRoutesLocked(Normalize(routes)))
}

// setAddrLocked makes want the device's address in place of those the
// manager added before. The new address goes on before an old one comes
// off: when a device loses its last IPv4 address the kernel drops every
// IPv4 route through it, someone else's too. (That still happens when the
// old address is a primary and the new one its secondary, in the same
// subnet with the same length; the site's address, the first host of its
// prefix, never changes that way.) An address the device had already is
// not the manager's to remove.
func (m *Manager) setAddrLocked(want netip.Prefix) error {
	have, err := m.k.Addrs()
	if err != nil {
		return fmt.Errorf("route: list addresses: %w", err)
	}
	if want.IsValid() && !slices.Contains(have, want) {
		if err := m.k.AddAddr(want); err != nil {
			return fmt.Errorf("route: add address %s: %w", want, err)
		}
		m.addrs = append(m.addrs, want)
		m.log.Info("site address added", "address", want)
	}
	var errs []error
	m.addrs = slices.DeleteFunc(m.addrs, func(a netip.Prefix) bool {
		if a == want {
			return false
		}
		if !slices.Contains(have, a) {
			return true
		}
		if err := m.k.DelAddr(a); err != nil {
			errs = append(errs, fmt.Errorf("route: remove address %s: %w", a, err))
			return false
		}
		m.log.Info("site address removed", "address", a)
		return true
	})
	return errors.Join(errs...)
}

// setRoutesLocked makes the manager's routes exactly want.
func (m *Manager) setRoutesLocked(want []netip.Prefix) error {
	have, err := m.k.Routes()
	if err != nil {
		return fmt.Errorf("route: list routes: %w", err)
	}
	add, del := Diff(want, have)
	var errs []error
	for _, p := range del {
		if err := m.k.DelRoute(p); err != nil {
			errs = append(errs, fmt.Errorf("route: remove route to %s: %w", p, err))
			continue
		}
		m.log.Info("route removed", "dst", p)
	}
	for _, p := range add {
		if err := m.k.AddRoute(p); err != nil {
			errs = append(errs, fmt.Errorf("route: add route to %s: %w", p, err))
			continue
		}
		m.log.Info("route added", "dst", p)
	}
	return errors.Join(errs...)
}

// Close removes the routes and the address the manager added; later Sets
// fail. A device gone already took them with it, which is no error. The
// kernel drops every IPv4 route through a device that loses its last IPv4
// address, so routes someone else added through the device go too when
// the manager's address was its only one.
func (m *Manager) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil
	}
	m.closed = true
	err := errors.Join(m.setRoutesLocked(nil), m.setAddrLocked(netip.Prefix{}))
	if errors.Is(err, ErrNoDevice) {
		m.log.Info("site device gone, and its routes with it")
		return nil
	}
	return err
}

// Diff compares the wanted routes with those the device has, each put
// through Normalize, and returns the ones to add and the ones to remove,
// sorted.
func Diff(want, have []netip.Prefix) (add, del []netip.Prefix) {
	want, have = Normalize(want), Normalize(have)
	for _, p := range want {
		if _, ok := slices.BinarySearchFunc(have, p, comparePrefix); !ok {
			add = append(add, p)
		}
	}
	for _, p := range have {
		if _, ok := slices.BinarySearchFunc(want, p, comparePrefix); !ok {
			del = append(del, p)
		}
	}
	return add, del
}

// Normalize returns ps masked, sorted and without duplicates or invalid
// prefixes, in a new slice.
func Normalize(ps []netip.Prefix) []netip.Prefix {
	out := make([]netip.Prefix, 0, len(ps))
	for _, p := range ps {
		if p.IsValid() {
			out = append(out, p.Masked())
		}
	}
	slices.SortFunc(out, comparePrefix)
	return slices.Compact(out)
}

func comparePrefix(a, b netip.Prefix) int {
	return cmp.Or(a.Addr().Compare(b.Addr()), cmp.Compare(a.Bits(), b.Bits()))
}
