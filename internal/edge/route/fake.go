package route

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sync"
)

// Fake is a Kernel in memory: one device with its addresses and its main
// table routes, some of them someone else's, and a record of every change
// made to it. Its methods are safe for concurrent use.
type Fake struct {
	mu      sync.Mutex
	gone    bool
	up      bool
	mtu     int
	addrs   []netip.Prefix
	routes  map[netip.Prefix]int // destination -> protocol
	changes []string
}

// NewFake returns a device that is down, with no address and no route.
func NewFake() *Fake { return &Fake{routes: map[netip.Prefix]int{}} }

// SetGone makes the device disappear, with its addresses and routes, as a
// closed TUN does.
func (f *Fake) SetGone() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gone, f.up, f.addrs = true, false, nil
	clear(f.routes)
}

// AddForeignRoute adds a route through the device as someone else would,
// with another protocol.
func (f *Fake) AddForeignRoute(dst netip.Prefix) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.routes[dst] = 3 // RTPROT_BOOT, what `ip route add` uses
}

// FakeState is a Fake device's state.
type FakeState struct {
	Up  bool
	MTU int
	// Addrs are the device's addresses, Routes the destinations of the
	// routes carrying Protocol and Foreign those of the others, each
	// sorted.
	Addrs, Routes, Foreign []netip.Prefix
}

// State returns the device's state.
func (f *Fake) State() FakeState {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := FakeState{Up: f.up, MTU: f.mtu, Addrs: slices.Clone(f.addrs)}
	slices.SortFunc(s.Addrs, comparePrefix)
	for dst, proto := range f.routes {
		if proto == Protocol {
			s.Routes = append(s.Routes, dst)
		} else {
			s.Foreign = append(s.Foreign, dst)
		}
	}
	s.Routes, s.Foreign = Normalize(s.Routes), Normalize(s.Foreign)
	return s
}

// Changes returns the changes made since the last call, in order, such
// as "add route 10.1.0.0/16", and forgets them.
func (f *Fake) Changes() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.changes
	f.changes = nil
	return c
}

// change records a change, or fails if the device is gone.
func (f *Fake) change(format string, args ...any) error {
	if f.gone {
		return ErrNoDevice
	}
	f.changes = append(f.changes, fmt.Sprintf(format, args...))
	return nil
}

// Up implements Kernel.
func (f *Fake) Up(mtu int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if mtu > 0 && mtu != f.mtu {
		if err := f.change("set mtu %d", mtu); err != nil {
			return err
		}
		f.mtu = mtu
	}
	if !f.up {
		if err := f.change("up"); err != nil {
			return err
		}
		f.up = true
	}
	return nil
}

// Addrs implements Kernel.
func (f *Fake) Addrs() ([]netip.Prefix, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.gone {
		return nil, ErrNoDevice
	}
	return slices.Clone(f.addrs), nil
}

// AddAddr implements Kernel.
func (f *Fake) AddAddr(p netip.Prefix) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if slices.Contains(f.addrs, p) {
		return errors.New("file exists")
	}
	if err := f.change("add address %s", p); err != nil {
		return err
	}
	f.addrs = append(f.addrs, p)
	return nil
}

// DelAddr implements Kernel.
func (f *Fake) DelAddr(p netip.Prefix) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	i := slices.Index(f.addrs, p)
	if i < 0 && !f.gone {
		return errors.New("cannot assign requested address")
	}
	if err := f.change("remove address %s", p); err != nil {
		return err
	}
	f.addrs = slices.Delete(f.addrs, i, i+1)
	return nil
}

// Routes implements Kernel.
func (f *Fake) Routes() ([]netip.Prefix, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.gone {
		return nil, ErrNoDevice
	}
	var out []netip.Prefix
	for dst, proto := range f.routes {
		if proto == Protocol {
			out = append(out, dst)
		}
	}
	return out, nil
}

// AddRoute implements Kernel.
func (f *Fake) AddRoute(dst netip.Prefix) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.routes[dst]; ok && !f.gone {
		return errors.New("file exists")
	}
	if err := f.change("add route %s", dst); err != nil {
		return err
	}
	f.routes[dst] = Protocol
	return nil
}

// DelRoute implements Kernel.
func (f *Fake) DelRoute(dst netip.Prefix) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if proto, ok := f.routes[dst]; (!ok || proto != Protocol) && !f.gone {
		return errors.New("no such process")
	}
	if err := f.change("remove route %s", dst); err != nil {
		return err
	}
	delete(f.routes, dst)
	return nil
}
