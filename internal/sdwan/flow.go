package sdwan

import (
	"fmt"
	"net/netip"
)

// IP protocol numbers used across the project.
const (
	ProtoICMP   uint8 = 1
	ProtoTCP    uint8 = 6
	ProtoUDP    uint8 = 17
	ProtoICMPv6 uint8 = 58
)

// FlowKey identifies a flow by its 5-tuple. Addresses are kept as 16-byte
// arrays (IPv4 in its IPv4-mapped IPv6 form) rather than netip.Addr so the
// key holds no pointers: a map of a million of them costs the garbage
// collector nothing to scan and the key is comparable and hashable as is.
type FlowKey struct {
	Src, Dst         [16]byte
	SrcPort, DstPort uint16
	Proto            uint8
}

// NewFlowKey builds a FlowKey from netip addresses.
func NewFlowKey(src, dst netip.Addr, srcPort, dstPort uint16, proto uint8) FlowKey {
	return FlowKey{
		Src:     src.As16(),
		Dst:     dst.As16(),
		SrcPort: srcPort,
		DstPort: dstPort,
		Proto:   proto,
	}
}

// SrcAddr returns the source address, unmapped when it is IPv4.
func (k FlowKey) SrcAddr() netip.Addr { return netip.AddrFrom16(k.Src).Unmap() }

// DstAddr returns the destination address, unmapped when it is IPv4.
func (k FlowKey) DstAddr() netip.Addr { return netip.AddrFrom16(k.Dst).Unmap() }

// Reverse returns the key of the flow's other direction.
func (k FlowKey) Reverse() FlowKey {
	return FlowKey{Src: k.Dst, Dst: k.Src, SrcPort: k.DstPort, DstPort: k.SrcPort, Proto: k.Proto}
}

// String formats the key as "proto src:port -> dst:port".
func (k FlowKey) String() string {
	return fmt.Sprintf("%d %s -> %s", k.Proto,
		netip.AddrPortFrom(k.SrcAddr(), k.SrcPort),
		netip.AddrPortFrom(k.DstAddr(), k.DstPort))
}
