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
	var addrs []netlink.Addr
	err = retryDump(func() (err error) {
		addrs, err = k.h.AddrList(l, netlink.FAMILY_ALL)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := make([]netip.Prefix, 0, len(addrs))
	for _, a := range addrs {
		if p, ok := toPrefix(a.IPNet); ok {
			out = append(out, p)
		}
	}
	return out, nil
}

func (k *nlKernel) AddAddr(p netip.Prefix) error { return k.addr(p, k.h.AddrAdd) }
func (k *nlKernel) DelAddr(p netip.Prefix) error { return k.addr(p, k.h.AddrDel) }

func (k *nlKernel) addr(p netip.Prefix, op func(netlink.Link, *netlink.Addr) error) error {
	l, err := k.link()
	if err != nil {
		return err
	}
	a := &netlink.Addr{IPNet: &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}}
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
	var routes []netlink.Route
	err = retryDump(func() (err error) {
		routes, err = k.h.RouteListFiltered(netlink.FAMILY_ALL, filter,
			netlink.RT_FILTER_OIF|netlink.RT_FILTER_PROTOCOL|netlink.RT_FILTER_TABLE)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := make([]netip.Prefix, 0, len(routes))
	for _, r := range routes {
		if p, ok := toPrefix(r.Dst); ok {
			out = append(out, p)
		}
	}
	return out, nil
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
	r := &netlink.Route{
		LinkIndex: l.Attrs().Index, Protocol: Protocol, Table: unix.RT_TABLE_MAIN,
		Dst: &net.IPNet{IP: dst.Addr().AsSlice(), Mask: net.CIDRMask(dst.Bits(), dst.Addr().BitLen())},
	}
	if dst.Addr().Is4() {
		r.Scope = netlink.SCOPE_LINK // no gateway: the peer is on the device, as `ip route add … dev` says
	}
	return op(r)
}

// retryDump runs a netlink dump again when a concurrent change
// interrupted it, which makes its result incomplete.
func retryDump(dump func() error) error {
	var err error
	for range 5 {
		if err = dump(); !errors.Is(err, netlink.ErrDumpInterrupted) {
			return err
		}
	}
	return err
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
