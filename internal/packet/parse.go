package packet

import (
	"encoding/binary"
	"errors"

	"github.com/patronus-sdwan/patronus/internal/sdwan"
)

// Errors returned by Parse. They are sentinels so that a caller counting
// bad packets by reason can compare them without allocating.
var (
	// ErrTruncated means the packet ended before a header it announces.
	ErrTruncated = errors.New("packet: truncated")
	// ErrVersion means the first nibble is neither 4 nor 6.
	ErrVersion = errors.New("packet: not an IPv4 or IPv6 packet")
	// ErrHeader means a header field is impossible (an IPv4 header
	// shorter than 20 bytes, a total length shorter than the header).
	ErrHeader = errors.New("packet: malformed header")
	// ErrTooManyHeaders means an IPv6 packet chains more extension
	// headers than MaxExtensionHeaders.
	ErrTooManyHeaders = errors.New("packet: too many IPv6 extension headers")
)

// MaxExtensionHeaders bounds the IPv6 extension headers Parse walks. Real
// traffic uses one or two; the bound keeps a crafted chain from costing more
// than a handful of steps.
const MaxExtensionHeaders = 8

// Protocol numbers Parse understands beyond those in package sdwan.
const (
	protoHopByHop uint8 = 0
	protoDCCP     uint8 = 33
	protoRouting  uint8 = 43
	protoFragment uint8 = 44
	protoESP      uint8 = 50
	protoAH       uint8 = 51
	protoNoNext   uint8 = 59
	protoDstOpts  uint8 = 60
	protoSCTP     uint8 = 132
	protoMobility uint8 = 135
	protoUDPLite  uint8 = 136
	protoHIP      uint8 = 139
	protoShim6    uint8 = 140
	protoExp1     uint8 = 253
	protoExp2     uint8 = 254
)

// ICMP echo message types: their identifier is used as the flow's ports.
const (
	icmpEchoReply     = 0
	icmpEcho          = 8
	icmpv6EchoRequest = 128
	icmpv6EchoReply   = 129
)

// Packet is what Parse learns about one packet.
type Packet struct {
	// Key is the flow's 5-tuple. For a non-first fragment the ports are 0
	// (and for IPv6 the protocol is the fragment header's next header)
	// until FragTable.Resolve fills them in.
	Key sdwan.FlowKey
	// Length is the packet's length as its IP header gives it: the bytes
	// to count against the flow. It never exceeds the slice given to
	// Parse; link-layer padding past it is ignored.
	Length int
	// Frag identifies the packet's fragment; its zero value means the
	// packet is not a fragment.
	Frag Fragment
}

// Fragment identifies one fragment of a fragmented datagram.
type Fragment struct {
	// ID is the IPv4 identification or the IPv6 fragment header's
	// identification.
	ID uint32
	// Offset is the fragment offset in 8-byte units; 0 for the first
	// fragment.
	Offset uint16
	// More is the more-fragments flag.
	More bool
	// Proto is the protocol field that, with the addresses and ID, names
	// the datagram: the IPv4 protocol, or the next header of the IPv6
	// fragment header (the same in every fragment of one datagram).
	Proto uint8
}

// Fragmented reports whether the packet is part of a fragmented datagram,
// as opposed to a whole datagram.
func (p *Packet) Fragmented() bool { return p.Frag.Offset != 0 || p.Frag.More }

// FirstFragment reports whether the packet is the first fragment of a
// fragmented datagram: the one that carries the ports.
func (p *Packet) FirstFragment() bool { return p.Frag.Offset == 0 && p.Frag.More }

// ParseFlowKey returns the flow key of the IP packet in b. It is Parse for
// callers that need only the key.
func ParseFlowKey(b []byte) (sdwan.FlowKey, error) {
	p, err := Parse(b)
	return p.Key, err
}

// Parse reads the IPv4 or IPv6 packet in b. It does not allocate, does not
// retain b, and returns an error (one of the sentinels above) for any
// packet it cannot read, never panicking. Checksums are not verified: the
// caller counts traffic, it does not deliver it.
func Parse(b []byte) (Packet, error) {
	if len(b) == 0 {
		return Packet{}, ErrTruncated
	}
	switch b[0] >> 4 {
	case 4:
		return parse4(b)
	case 6:
		return parse6(b)
	}
	return Packet{}, ErrVersion
}

func parse4(b []byte) (Packet, error) {
	var p Packet
	if len(b) < 20 {
		return p, ErrTruncated
	}
	hl := int(b[0]&0x0f) * 4
	total := int(binary.BigEndian.Uint16(b[2:4]))
	if hl < 20 || total < hl {
		return p, ErrHeader
	}
	if total > len(b) {
		return p, ErrTruncated
	}
	b = b[:total]
	// The mapped form ::ffff:a.b.c.d, as netip.Addr.As16 gives it, so
	// that keys built here equal keys built with sdwan.NewFlowKey.
	p.Key.Src[10], p.Key.Src[11] = 0xff, 0xff
	p.Key.Dst[10], p.Key.Dst[11] = 0xff, 0xff
	copy(p.Key.Src[12:], b[12:16])
	copy(p.Key.Dst[12:], b[16:20])
	proto := b[9]
	p.Key.Proto = proto
	p.Length = total

	ff := binary.BigEndian.Uint16(b[6:8])
	if ff&0x3fff != 0 { // MF set or offset non-zero
		p.Frag = Fragment{
			ID:     uint32(binary.BigEndian.Uint16(b[4:6])),
			Offset: ff & 0x1fff,
			More:   ff&0x2000 != 0,
			Proto:  proto,
		}
		if p.Frag.Offset != 0 {
			return p, nil // no transport header in this fragment
		}
	}
	return p, transport(&p, b[hl:], false)
}

func parse6(b []byte) (Packet, error) {
	var p Packet
	if len(b) < 40 {
		return p, ErrTruncated
	}
	total := 40 + int(binary.BigEndian.Uint16(b[4:6]))
	if total == 40 && b[6] == protoHopByHop {
		// A jumbogram (RFC 2675) says payload length 0 and gives the
		// real length in a hop-by-hop option; trust the slice.
		total = len(b)
	}
	if total > len(b) {
		return p, ErrTruncated
	}
	b = b[:total]
	copy(p.Key.Src[:], b[8:24])
	copy(p.Key.Dst[:], b[24:40])
	p.Length = total

	nh, off := b[6], 40
	for n := 0; ; n++ {
		if n > MaxExtensionHeaders {
			return p, ErrTooManyHeaders
		}
		switch nh {
		case protoHopByHop, protoRouting, protoDstOpts, protoMobility,
			protoHIP, protoShim6, protoExp1, protoExp2:
			if len(b)-off < 8 {
				return p, ErrTruncated
			}
			nh, off = b[off], off+(int(b[off+1])+1)*8
			if off > len(b) {
				return p, ErrTruncated
			}
			continue
		case protoAH:
			if len(b)-off < 8 {
				return p, ErrTruncated
			}
			nh, off = b[off], off+(int(b[off+1])+2)*4
			if off > len(b) {
				return p, ErrTruncated
			}
			continue
		case protoFragment:
			if len(b)-off < 8 {
				return p, ErrTruncated
			}
			ff := binary.BigEndian.Uint16(b[off+2 : off+4])
			frag := Fragment{
				ID:     binary.BigEndian.Uint32(b[off+4 : off+8]),
				Offset: ff >> 3,
				More:   ff&1 != 0,
				Proto:  b[off],
			}
			nh, off = b[off], off+8
			if frag.Offset == 0 && !frag.More {
				// An atomic fragment (RFC 6946) is a whole datagram.
				continue
			}
			p.Frag = frag
			if frag.Offset != 0 {
				p.Key.Proto = nh
				return p, nil
			}
			continue
		}
		break
	}
	p.Key.Proto = nh
	return p, transport(&p, b[off:], true)
}

// transport reads the ports from the transport header in b, the rest of the
// packet after the IP headers.
func transport(p *Packet, b []byte, v6 bool) error {
	var need int
	switch p.Key.Proto {
	case sdwan.ProtoTCP:
		need = 20
	case sdwan.ProtoUDP, protoUDPLite:
		need = 8
	case protoSCTP, protoDCCP:
		need = 12
	case sdwan.ProtoICMP:
		if v6 {
			return nil // ICMPv4 inside IPv6 is not a thing to count by id
		}
		return icmp(p, b, icmpEcho, icmpEchoReply)
	case sdwan.ProtoICMPv6:
		if !v6 {
			return nil
		}
		return icmp(p, b, icmpv6EchoRequest, icmpv6EchoReply)
	default:
		// ESP, GRE, no-next-header and the rest have no ports.
		return nil
	}
	if p.Frag.More && need > 8 {
		// A first fragment may legally cut the transport header after
		// 8 bytes; the ports are in the first 4.
		need = 8
	}
	if len(b) < need {
		return ErrTruncated
	}
	p.Key.SrcPort = binary.BigEndian.Uint16(b[0:2])
	p.Key.DstPort = binary.BigEndian.Uint16(b[2:4])
	return nil
}

func icmp(p *Packet, b []byte, echo, reply uint8) error {
	if len(b) < 8 {
		return ErrTruncated
	}
	if t := b[0]; t == echo || t == reply {
		id := binary.BigEndian.Uint16(b[4:6])
		p.Key.SrcPort, p.Key.DstPort = id, id
	}
	return nil
}
