package agent

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// bindControl returns a socket option hook that binds the socket to a
// network interface, so that a link's probes leave through that link
// whatever the routing table says.
func bindControl(iface string) func(network, address string, c syscall.RawConn) error {
	if iface == "" {
		return nil
	}
	return func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = unix.SetsockoptString(int(fd), unix.SOL_SOCKET, unix.SO_BINDTODEVICE, iface)
		})
		if err != nil {
			return err
		}
		return serr
	}
}
