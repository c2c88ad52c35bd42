package lab

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.zx2c4.com/wireguard/tun"

	"github.com/patronus-sdwan/patronus/internal/edge/agent"
	"github.com/patronus-sdwan/patronus/internal/edge/route"
	"github.com/patronus-sdwan/patronus/internal/nsexec"
)

// netnsDir is where named network namespaces are bound, as iproute2's
// `ip netns` keeps them.
const netnsDir = "/var/run/netns"

// checkNetNS says why this process cannot give sites network namespaces,
// if it cannot: it must be root, with a TUN driver and somewhere to name
// namespaces.
func checkNetNS() error {
	if os.Geteuid() != 0 {
		return errors.New("lab: site network namespaces need root (they hold kernel TUN devices); run as root, or without --netns for the rootless netstacks")
	}
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		return fmt.Errorf("lab: site network namespaces need the TUN driver: %w", err)
	}
	if err := os.MkdirAll(netnsDir, 0o755); err != nil {
		return fmt.Errorf("lab: site network namespaces need %s: %w", netnsDir, err)
	}
	return nil
}

// nsSite is one site's LAN as root: a named network namespace holding a
// kernel TUN, which the edge's engine carries and whose address and
// routes the edge's route manager keeps, over netlink in that namespace.
// The traffic generators' sockets are made in the namespace, so the
// kernel routes them through the TUN.
type nsSite struct {
	handover
	name string
	ns   netns.NsHandle
	nl   *netlink.Handle
	dev  tun.Device
	rt   *route.Manager
}

// newNSSite makes the namespace name for site n and its TUN. On error it
// leaves nothing behind.
func newNSSite(name string, n int, log *slog.Logger) (_ *nsSite, err error) {
	s := &nsSite{handover: handover{host: siteHost(n)}, name: name, ns: netns.None()}
	defer func() {
		if err != nil {
			s.close()
		}
	}()
	if s.ns, err = makeNamedNS(name); err != nil {
		return nil, err
	}
	if s.nl, err = netlink.NewHandleAt(s.ns); err != nil {
		return nil, fmt.Errorf("lab: netlink in namespace %s: %w", name, err)
	}
	lo, err := s.nl.LinkByName("lo")
	if err == nil {
		err = s.nl.LinkSetUp(lo)
	}
	if err != nil {
		return nil, fmt.Errorf("lab: loopback of namespace %s: %w", name, err)
	}
	var dev tun.Device
	if err := s.in(func() (err error) {
		dev, err = tun.CreateTUN(siteTUN, siteMTU)
		return err
	}); err != nil {
		return nil, fmt.Errorf("lab: TUN in namespace %s: %w", name, err)
	}
	s.dev = nsexec.FixedMTU(dev, siteMTU)
	s.rt = route.New(route.Netlink(s.nl, siteTUN), route.Options{Logger: log.With("netns", name, "tun", siteTUN), MTU: siteMTU})
	return s, nil
}

// makeNamedNS makes the network namespace name, bound under netnsDir,
// from a thread it then returns to its own namespace.
func makeNamedNS(name string) (ns netns.NsHandle, err error) {
	err = nsexec.Locked(func() error {
		var err error
		if ns, err = netns.NewNamed(name); err != nil {
			// NewNamed leaves the mount point when the mount fails.
			if !errors.Is(err, os.ErrExist) {
				os.Remove(netnsDir + "/" + name)
			}
			return fmt.Errorf("lab: make network namespace %s under %s: %w", name, netnsDir, err)
		}
		return nil
	})
	if err != nil && ns.IsOpen() {
		ns.Close()
		_ = netns.DeleteNamed(name) // best effort: the error above is the one to report
	}
	return ns, err
}

// in runs f on a thread switched into the site's namespace: sockets and
// devices it makes belong there, and stay there when used from anywhere.
func (s *nsSite) in(f func() error) error {
	if err := nsexec.Do(s.ns, f); err != nil {
		return fmt.Errorf("lab: in namespace %s: %w", s.name, err)
	}
	return nil
}

func (s *nsSite) device(prefixes []netip.Prefix) (tun.Device, error) {
	if err := s.take(prefixes); err != nil {
		return nil, err
	}
	return s.dev, nil
}

func (s *nsSite) routes() agent.SiteRoutes { return s.rt }

// close closes the TUN unless the engine took it, and removes the
// namespace. (A socket still open keeps the namespace alive, nameless,
// until it closes.)
func (s *nsSite) close() error {
	var errs []error
	if s.keep() && s.dev != nil {
		errs = append(errs, s.dev.Close())
	}
	if s.nl != nil {
		s.nl.Close()
	}
	if s.ns.IsOpen() {
		s.ns.Close()
		if err := netns.DeleteNamed(s.name); err != nil {
			errs = append(errs, fmt.Errorf("lab: remove network namespace %s: %w", s.name, err))
		}
	}
	return errors.Join(errs...)
}

// Namespace is the name of the site's network namespace.
func (s *nsSite) Namespace() string { return s.name }

func (s *nsSite) Addr() netip.Addr { return s.host }

func (s *nsSite) ListenUDP(port uint16) (c net.Conn, err error) {
	err = s.in(func() error {
		uc, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(s.host, port)))
		if err == nil {
			c = uc // no typed nil in the interface
		}
		return err
	})
	return c, err
}

func (s *nsSite) DialUDP(dst netip.AddrPort) (c net.Conn, err error) {
	err = s.in(func() error {
		uc, err := net.DialUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(s.host, 0)), net.UDPAddrFromAddrPort(dst))
		if err == nil {
			c = uc
		}
		return err
	})
	return c, err
}

func (s *nsSite) ListenTCP(port uint16) (ln net.Listener, err error) {
	err = s.in(func() error {
		tl, err := net.ListenTCP("tcp4", net.TCPAddrFromAddrPort(netip.AddrPortFrom(s.host, port)))
		if err == nil {
			ln = tl
		}
		return err
	})
	return ln, err
}

func (s *nsSite) DialTCP(ctx context.Context, dst netip.AddrPort) (c net.Conn, err error) {
	err = s.in(func() (err error) {
		d := net.Dialer{LocalAddr: net.TCPAddrFromAddrPort(netip.AddrPortFrom(s.host, 0))}
		c, err = d.DialContext(ctx, "tcp4", dst.String())
		return err
	})
	return c, err
}
