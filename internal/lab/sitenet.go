package lab

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"

	"golang.zx2c4.com/wireguard/tun"
	"golang.zx2c4.com/wireguard/tun/netstack"

	"github.com/patronus-sdwan/patronus/internal/edge/agent"
)

// siteMTU is the site device's MTU: WireGuard's default inner MTU.
const siteMTU = 1420

// SitePrefix is the LAN prefix the lab assigns to site n (from 1):
// 10.n.0.0/24. The site's host, the address of its LAN, is 10.n.0.1.
func SitePrefix(n int) netip.Prefix {
	return netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(n), 0, 0}), 24)
}

// siteHost is the address of site n's host: the one the site's edge
// gives its device.
func siteHost(n int) netip.Addr { return agent.SiteAddress([]netip.Prefix{SitePrefix(n)}).Addr() }

// handover gives a site's device to the engine once, when the site's
// prefixes hold the host's address.
type handover struct {
	host netip.Addr

	mu    sync.Mutex
	taken bool // the engine owns the device and closes it
}

// take marks the device the engine's, or says why it cannot be.
func (h *handover) take(prefixes []netip.Prefix) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.taken {
		return errors.New("lab: the site's device is already in use")
	}
	ok := false
	for _, p := range prefixes {
		ok = ok || p.Contains(h.host)
	}
	if !ok {
		return fmt.Errorf("lab: the site's prefixes %v do not hold its host %v", prefixes, h.host)
	}
	h.taken = true
	return nil
}

// keep reports whether the device is still the lab's to close, and makes
// it no longer so.
func (h *handover) keep() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	mine := !h.taken
	h.taken = true
	return mine
}

// siteNet is one site's LAN, rootless: a gVisor netstack behind the edge's
// data plane.
type siteNet struct {
	handover
	dev tun.Device
	net *netstack.Net
}

func newSiteNet(n int) (*siteNet, error) {
	host := siteHost(n)
	dev, tnet, err := netstack.CreateNetTUN([]netip.Addr{host}, nil, siteMTU)
	if err != nil {
		return nil, fmt.Errorf("lab: site netstack: %w", err)
	}
	return &siteNet{handover: handover{host: host}, dev: dev, net: tnet}, nil
}

func (s *siteNet) device(prefixes []netip.Prefix) (tun.Device, error) {
	if err := s.take(prefixes); err != nil {
		return nil, err
	}
	return s.dev, nil
}

// routes is nil: the netstack holds its address from the start and sends
// everything else to the engine.
func (s *siteNet) routes() agent.SiteRoutes { return nil }

func (s *siteNet) close() error {
	if s.keep() {
		return s.dev.Close()
	}
	return nil
}

func (s *siteNet) Addr() netip.Addr { return s.host }

// The netstack's constructors return typed nil pointers with their
// errors, which would not be nil interfaces: hence the explicit nils.

func (s *siteNet) ListenUDP(port uint16) (net.Conn, error) {
	c, err := s.net.ListenUDPAddrPort(netip.AddrPortFrom(s.host, port))
	if err != nil {
		return nil, err
	}
	return c, nil
}

func (s *siteNet) DialUDP(dst netip.AddrPort) (net.Conn, error) {
	c, err := s.net.DialUDPAddrPort(netip.AddrPortFrom(s.host, 0), dst)
	if err != nil {
		return nil, err
	}
	return c, nil
}

func (s *siteNet) ListenTCP(port uint16) (net.Listener, error) {
	ln, err := s.net.ListenTCPAddrPort(netip.AddrPortFrom(s.host, port))
	if err != nil {
		return nil, err
	}
	return ln, nil
}

func (s *siteNet) DialTCP(ctx context.Context, dst netip.AddrPort) (net.Conn, error) {
	c, err := s.net.DialContextTCPAddrPort(ctx, dst)
	if err != nil {
		return nil, err
	}
	return c, nil
}
