package lab

import (
	"context"
	"net"
	"net/netip"

	"golang.zx2c4.com/wireguard/tun"

	"github.com/patronus-sdwan/patronus/internal/edge/agent"
)

// siteTUN is the name of each site's TUN device with Config.NetNS, inside
// the site's namespace.
const siteTUN = "ptn0"

// SiteLAN is a site's LAN as the traffic generators see it: one host, at
// the first address of the site's prefix, that opens sockets. A netstack
// in this process is one (rootless); a network namespace holding a kernel
// TUN is another (root, Config.NetNS). Sockets from either are used the
// same way and carried by the site's edge.
type SiteLAN interface {
	// Addr is the host's address.
	Addr() netip.Addr
	// ListenUDP opens a UDP socket at the host's port; reads return the
	// datagrams sent to it from anywhere.
	ListenUDP(port uint16) (net.Conn, error)
	// DialUDP opens a UDP socket at the host, on a port of its choosing,
	// that sends to dst.
	DialUDP(dst netip.AddrPort) (net.Conn, error)
	// ListenTCP listens for TCP connections at the host's port.
	ListenTCP(port uint16) (net.Listener, error)
	// DialTCP connects from the host to dst, giving up when ctx ends.
	DialTCP(ctx context.Context, dst netip.AddrPort) (net.Conn, error)
}

// siteLAN is what the lab needs of a site's LAN besides traffic: the
// device its edge's engine carries, what configures that device, and
// cleaning up.
type siteLAN interface {
	SiteLAN
	// device hands the site device to the engine (agent.DataPlane.Device),
	// once; the engine then owns and closes it.
	device(prefixes []netip.Prefix) (tun.Device, error)
	// routes configures the device's address and routes; nil when the
	// device needs none (a netstack).
	routes() agent.SiteRoutes
	// close releases what the engine did not take, and what the LAN
	// holds besides. The lab calls it after closing the edge.
	close() error
}

// LAN returns a site's LAN, for traffic, or nil for an unknown site or a
// lab without a data plane.
func (l *Lab) LAN(site string) SiteLAN {
	if sn, ok := l.nets[site]; ok {
		return sn
	}
	return nil
}
