//go:build !linux

package dataplane

import "net/netip"

// udpOffload is Linux's UDP GSO and GRO; elsewhere links send and receive
// one datagram per system call.
// newUDPOffload never returns one, so its fields are only read behind a
// nil check.
type udpOffload struct{ gso, gro bool }

func newUDPOffload(PacketConn) *udpOffload { return nil }

func (u *udpOffload) send([][]byte, netip.AddrPort) error { panic("unreachable") }

func (u *udpOffload) read(b, oob []byte) (int, int, netip.AddrPort, error) { panic("unreachable") }
