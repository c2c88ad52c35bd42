package agent

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"

	"github.com/patronus-sdwan/patronus/internal/edge/probe"
	"github.com/patronus-sdwan/patronus/internal/sdwan"
)

// LinkDialer opens the socket of one of the site's WAN links. The agent
// owns the socket from then on and closes it when the link is removed or
// the agent stops; closing must unblock a pending read.
type LinkDialer func(endpoint sdwan.Endpoint) (net.PacketConn, error)

// UDPDialer binds a UDP socket to the endpoint's address, and to its
// interface when it names one (SO_BINDTODEVICE, which needs CAP_NET_RAW
// on Linux). When the address is not local — a public address in front
// of a NAT — it binds the port on every local address instead.
func UDPDialer(e sdwan.Endpoint) (net.PacketConn, error) {
	lc := net.ListenConfig{Control: bindControl(e.Interface)}
	conn, err := lc.ListenPacket(context.Background(), "udp", e.Address.String())
	if err != nil && errors.Is(err, syscall.EADDRNOTAVAIL) {
		conn, err = lc.ListenPacket(context.Background(), "udp", fmt.Sprintf(":%d", e.Address.Port()))
	}
	if err != nil {
		return nil, fmt.Errorf("agent: open link %s: %w", e.Name, err)
	}
	return conn, nil
}

// packetConn adapts a net.PacketConn to what a probe.Mux needs, using the
// allocation-free methods when the conn has them (*net.UDPConn and the
// lab's emulated links do).
func packetConn(c net.PacketConn) probe.PacketConn {
	if pc, ok := c.(probe.PacketConn); ok {
		return pc
	}
	return adapter{c}
}

type adapter struct{ net.PacketConn }

func (a adapter) ReadFromUDPAddrPort(b []byte) (int, netip.AddrPort, error) {
	for {
		n, addr, err := a.ReadFrom(b)
		if err != nil {
			return n, netip.AddrPort{}, err
		}
		if ua, ok := addr.(*net.UDPAddr); ok {
			return n, ua.AddrPort(), nil
		}
		// Not a UDP peer: nothing a probe could come from.
	}
}

func (a adapter) WriteToUDPAddrPort(b []byte, to netip.AddrPort) (int, error) {
	return a.WriteTo(b, net.UDPAddrFromAddrPort(to))
}
