package lab

import (
	"errors"
	"fmt"
	"net/netip"
	"sync"

	"golang.zx2c4.com/wireguard/tun"
	"golang.zx2c4.com/wireguard/tun/netstack"

	"github.com/patronus-sdwan/patronus/internal/edge/dataplane"
)

// SitePrefix is the LAN prefix the lab assigns to site n (from 1):
// 10.n.0.0/24. The site's host, the address of its netstack, is 10.n.0.1.
func SitePrefix(n int) netip.Prefix {
	return netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(n), 0, 0}), 24)
}

// siteHost is the address of site n's netstack.
func siteHost(n int) netip.Addr { return netip.AddrFrom4([4]byte{10, byte(n), 0, 1}) }

// siteNet is one site's LAN, rootless: a gVisor netstack behind the edge's
// data plane, and the site's WireGuard key, which stays in this process
// (the edge registers only the public key).
type siteNet struct {
	host netip.Addr
	key  dataplane.Key
	dev  tun.Device
	net  *netstack.Net

	mu    sync.Mutex
	taken bool // the engine owns dev and closes it
}

func newSiteNet(n int) (*siteNet, error) {
	key, err := dataplane.GeneratePrivateKey()
	if err != nil {
		return nil, fmt.Errorf("lab: site key: %w", err)
	}
	host := siteHost(n)
	dev, tnet, err := netstack.CreateNetTUN([]netip.Addr{host}, nil, 1420)
	if err != nil {
		return nil, fmt.Errorf("lab: site netstack: %w", err)
	}
	return &siteNet{host: host, key: key, dev: dev, net: tnet}, nil
}

// device hands the netstack to the edge's engine (agent.DataPlane.Device).
func (s *siteNet) device(prefixes []netip.Prefix) (tun.Device, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.taken {
		return nil, errors.New("lab: the site's netstack is already in use")
	}
	ok := false
	for _, p := range prefixes {
		ok = ok || p.Contains(s.host)
	}
	if !ok {
		return nil, fmt.Errorf("lab: the site's prefixes %v do not hold its host %v", prefixes, s.host)
	}
	s.taken = true
	return s.dev, nil
}

// close closes the netstack unless an engine took it (and closes it).
func (s *siteNet) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.taken {
		s.taken = true
		s.dev.Close()
	}
}

// Net returns a site's LAN stack, for traffic, or nil without a data
// plane.
func (l *Lab) Net(site string) *netstack.Net {
	if sn := l.nets[site]; sn != nil {
		return sn.net
	}
	return nil
}

// Host returns the address of a site's netstack.
func (l *Lab) Host(site string) netip.Addr {
	if sn := l.nets[site]; sn != nil {
		return sn.host
	}
	return netip.Addr{}
}
