package route

import (
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Netlink returns the Kernel of the device named dev, driven over netlink
// through h: a handle made with netlink.NewHandleAt works in that network
// namespace. A nil h works in the namespace of the calling thread. The
// caller keeps h and closes it after the manager.
func Netlink(h *netlink.Handle, dev string) Kernel {
	if h == nil {
		h = &netlink.Handle{}
	}
	return &nlKernel{h: h, dev: dev}
}

type nlKernel struct {
	h   *netlink.Handle
	dev string
}

// link looks the device up by name every time: the device is the
// engine's, and a name outlives a replaced device's index.
func (k *nlKernel) link() (netlink.Link, error) {
	l, err := k.h.LinkByName(k.dev)
	if _, ok := errors.AsType[netlink.LinkNotFoundError](err); ok {
		return nil, fmt.Errorf("%w: %s", ErrNoDevice, k.dev)
	}
	return l, err
}

func (k *nlKernel) Up(mtu int) error {
	l, err := k.link()
	if err != nil {
		return err
	}
	if mtu > 0 && l.Attrs().MTU != mtu {
		if err := k.h.LinkSetMTU(l, mtu); err != nil {
			return err
		}
	}
	return k.h.LinkSetUp(l)
}

func (k *nlKernel) Addrs() ([]netip.Prefix, error) {
	l, err := k.link()
	if err != nil {
		return nil, err
	}
	return dumpPrefixes(func() ([]netlink.Addr, error) { return k.h.AddrList(l, netlink.FAMILY_ALL) },
		func(a netlink.Addr) *net.IPNet { return a.IPNet })
}

func (k *nlKernel) AddAddr(p netip.Prefix) error { return k.addr(p, k.h.AddrAdd) }
func (k *nlKernel) DelAddr(p netip.Prefix) error { return k.addr(p, k.h.AddrDel) }

func (k *nlKernel) addr(p netip.Prefix, op func(netlink.Link, *netlink.Addr) error) error {
	l, err := k.link()
	if err != nil {
		return err
	}
	a := &netlink.Addr{IPNet: toIPNet(p)}
	if p.Addr().Is6() {
		// A TUN has no neighbours to detect duplicates with, and a
		// tentative address could not be used for a while.
		a.Flags = unix.IFA_F_NODAD
	}
	return op(l, a)
}

func (k *nlKernel) Routes() ([]netip.Prefix, error) {
	l, err := k.link()
	if err != nil {
		return nil, err
	}
	filter := &netlink.Route{LinkIndex: l.Attrs().Index, Protocol: Protocol, Table: unix.RT_TABLE_MAIN}
	return dumpPrefixes(func() ([]netlink.Route, error) {
		return k.h.RouteListFiltered(netlink.FAMILY_ALL, filter,
			netlink.RT_FILTER_OIF|netlink.RT_FILTER_PROTOCOL|netlink.RT_FILTER_TABLE)
	}, func(r netlink.Route) *net.IPNet { return r.Dst })
}

func (k *nlKernel) AddRoute(dst netip.Prefix) error { return k.route(dst, k.h.RouteAdd) }
func (k *nlKernel) DelRoute(dst netip.Prefix) error { return k.route(dst, k.h.RouteDel) }

// route adds or deletes the route to dst through the device. Deleting
// names the protocol, so the kernel removes only a route carrying it.
func (k *nlKernel) route(dst netip.Prefix, op func(*netlink.Route) error) error {
	l, err := k.link()
	if err != nil {
		return err
	}
	r := &netlink.Route{LinkIndex: l.Attrs().Index, Protocol: Protocol, Table: unix.RT_TABLE_MAIN, Dst: toIPNet(dst)}
	if dst.Addr().Is4() {
		r.Scope = netlink.SCOPE_LINK // no gateway: the peer is on the device, as `ip route add … dev` says
	}
	return op(r)
}

// dumpPrefixes runs a netlink dump, again when a concurrent change
// interrupted it (which makes its result incomplete), and returns the
// network that network picks out of each entry.
func dumpPrefixes[T any](dump func() ([]T, error), network func(T) *net.IPNet) ([]netip.Prefix, error) {
	var entries []T
	var err error
	for range 5 {
		if entries, err = dump(); !errors.Is(err, netlink.ErrDumpInterrupted) {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	out := make([]netip.Prefix, 0, len(entries))
	for _, e := range entries {
		if p, ok := toPrefix(network(e)); ok {
			out = append(out, p)
		}
	}
	return out, nil
}

// toIPNet converts p for netlink.
func toIPNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}

// toPrefix converts a netlink network, whose IPv4 address may come in
// its 16-byte form.
func toPrefix(n *net.IPNet) (netip.Prefix, bool) {
	if n == nil {
		return netip.Prefix{}, false
	}
	addr, ok := netip.AddrFromSlice(n.IP)
	ones, bits := n.Mask.Size()
	if bits == 8*net.IPv4len {
		addr = addr.Unmap()
	}
	if !ok || bits == 0 || addr.BitLen() != bits {
		return netip.Prefix{}, false
	}
	return netip.PrefixFrom(addr, ones), true
}
