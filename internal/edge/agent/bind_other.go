//go:build !linux

package agent

import "syscall"

// bindControl does nothing where SO_BINDTODEVICE does not exist; the
// socket follows the routing table.
func bindControl(string) func(network, address string, c syscall.RawConn) error { return nil }
