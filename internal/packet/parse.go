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

// Decode reads the IPv4 or IPv6 packet in b into p, overwriting all of it.
// It does not allocate, does not retain b, and returns an error (one of the
// sentinels above) for any packet it cannot read, never panicking; after an
// error p's contents are unspecified. Checksums are not verified: the
// caller counts traffic, it does not deliver it.
//
// Decode fills a Packet in place, as the packet path wants: returning one
// by value costs copies of the key that cost as much as the parse.
func (p *Packet) Decode(b []byte) error {
	n, err := decode(b, &p.Key, &p.Frag)
	p.Length = n
	return err
}

// Parse is Decode for callers that prefer a value to a buffer.
func Parse(b []byte) (Packet, error) {
	var p Packet
	err := p.Decode(b)
	return p, err
}

// ParseFlowKey reads the flow key of the IP packet in b into k, like
// Decode.
func ParseFlowKey(b []byte, k *sdwan.FlowKey) error {
	var f Fragment
	_, err := decode(b, k, &f)
	return err
}

// decode is Decode. It writes the addresses with whole-word stores, so
// that readers loading the key by words (the flow table's hash) get them
// forwarded from the store buffer instead of stalling on a mix of sizes.
func decode(b []byte, k *sdwan.FlowKey, f *Fragment) (int, error) {
	if len(b) == 0 {
		return 0, ErrTruncated
	}
	switch b[0] >> 4 {
	case 4:
		return decode4(b, k, f)
	case 6:
		return decode6(b, k, f)
	}
	return 0, ErrVersion
}

// mapped is the middle word of an IPv4-mapped address, ::ffff:0:0, as
// bytes 8-11 of the address hold it: 0, 0, 0xff, 0xff.
const mapped = 0xffff << 16

func decode4(b []byte, k *sdwan.FlowKey, f *Fragment) (int, error) {
	if len(b) < 20 {
		return 0, ErrTruncated
	}
	hl := int(b[0]&0x0f) * 4
	total := int(binary.BigEndian.Uint16(b[2:4]))
	if hl < 20 || total < hl {
		return 0, ErrHeader
	}
	if total > len(b) {
		return 0, ErrTruncated
	}
	b = b[:total]
	// The mapped form ::ffff:a.b.c.d, as netip.Addr.As16 gives it, so
	// that keys built here equal keys built with sdwan.NewFlowKey.
	binary.LittleEndian.PutUint64(k.Src[0:8], 0)
	binary.LittleEndian.PutUint64(k.Src[8:16], mapped|uint64(binary.LittleEndian.Uint32(b[12:16]))<<32)
	binary.LittleEndian.PutUint64(k.Dst[0:8], 0)
	binary.LittleEndian.PutUint64(k.Dst[8:16], mapped|uint64(binary.LittleEndian.Uint32(b[16:20]))<<32)
	proto := b[9]
	k.Proto = proto

	ff := binary.BigEndian.Uint16(b[6:8])
	if ff&0x3fff == 0 { // neither MF nor an offset: a whole datagram
		*f = Fragment{}
		if ok, err := tcpUDP(k, b[hl:]); ok {
			return total, err
		}
		return total, transport(k, false, b[hl:], false)
	}
	k.SrcPort, k.DstPort = 0, 0
	*f = Fragment{
		ID:     uint32(binary.BigEndian.Uint16(b[4:6])),
		Offset: ff & 0x1fff,
		More:   ff&0x2000 != 0,
		Proto:  proto,
	}
	if ff&0x1fff != 0 {
		return total, nil // no transport header in this fragment
	}
	return total, transport(k, true, b[hl:], false)
}

func decode6(b []byte, k *sdwan.FlowKey, f *Fragment) (int, error) {
	if len(b) < 40 {
		return 0, ErrTruncated
	}
	total := 40 + int(binary.BigEndian.Uint16(b[4:6]))
	if total == 40 && b[6] == protoHopByHop {
		// A jumbogram (RFC 2675) says payload length 0 and gives the
		// real length in a hop-by-hop option; trust the slice.
		total = len(b)
	}
	if total > len(b) {
		return 0, ErrTruncated
	}
	b = b[:total]
	k.Src = [16]byte(b[8:24])
	k.Dst = [16]byte(b[24:40])

	*f = Fragment{}
	nh := b[6]
	k.Proto = nh
	if ok, err := tcpUDP(k, b[40:]); ok {
		return total, err // nearly every packet: no extension headers
	}
	// The fragment is kept in a local and stored once: reading back
	// part of a just-stored struct stalls the load on the store.
	var frag Fragment
	off := 40
	for n := 0; ; n++ {
		if n > MaxExtensionHeaders {
			return 0, ErrTooManyHeaders
		}
		switch nh {
		case protoHopByHop, protoRouting, protoDstOpts, protoMobility,
			protoHIP, protoShim6, protoExp1, protoExp2:
			if len(b)-off < 8 {
				return 0, ErrTruncated
			}
			nh, off = b[off], off+(int(b[off+1])+1)*8
			if off > len(b) {
				return 0, ErrTruncated
			}
			continue
		case protoAH:
			if len(b)-off < 8 {
				return 0, ErrTruncated
			}
			nh, off = b[off], off+(int(b[off+1])+2)*4
			if off > len(b) {
				return 0, ErrTruncated
			}
			continue
		case protoFragment:
			if len(b)-off < 8 {
				return 0, ErrTruncated
			}
			ff := binary.BigEndian.Uint16(b[off+2 : off+4])
			if ff&0xfff9 == 0 {
				// An atomic fragment (RFC 6946), offset 0 and no
				// more fragments, is a whole datagram.
				nh, off = b[off], off+8
				continue
			}
			frag = Fragment{
				ID:     binary.BigEndian.Uint32(b[off+4 : off+8]),
				Offset: ff >> 3,
				More:   ff&1 != 0,
				Proto:  b[off],
			}
			nh, off = b[off], off+8
			if frag.Offset != 0 {
				*f = frag
				k.Proto = nh
				k.SrcPort, k.DstPort = 0, 0
				return total, nil
			}
			continue
		}
		break
	}
	*f = frag
	k.Proto = nh
	return total, transport(k, frag.More, b[off:], true)
}

// tcpUDP is transport's fast path, small enough to inline: it reads the
// ports of an unfragmented TCP or UDP packet and reports true, or reports
// false for every other protocol.
func tcpUDP(k *sdwan.FlowKey, b []byte) (bool, error) {
	need := 20
	switch k.Proto {
	case sdwan.ProtoTCP:
	case sdwan.ProtoUDP:
		need = 8
	default:
		return false, nil
	}
	if len(b) < need {
		return true, ErrTruncated
	}
	k.SrcPort = binary.BigEndian.Uint16(b[0:2])
	k.DstPort = binary.BigEndian.Uint16(b[2:4])
	return true, nil
}

// transport reads the ports from the transport header in b, the rest of the
// packet after the IP headers; more is whether more fragments follow.
func transport(k *sdwan.FlowKey, more bool, b []byte, v6 bool) error {
	k.SrcPort, k.DstPort = 0, 0
	var need int
	switch k.Proto {
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
		return icmp(k, b, icmpEcho, icmpEchoReply)
	case sdwan.ProtoICMPv6:
		if !v6 {
			return nil
		}
		return icmp(k, b, icmpv6EchoRequest, icmpv6EchoReply)
	default:
		// ESP, GRE, no-next-header and the rest have no ports.
		return nil
	}
	if more && need > 8 {
		// A first fragment may legally cut the transport header after
		// 8 bytes; the ports are in the first 4.
		need = 8
	}
	if len(b) < need {
		return ErrTruncated
	}
	k.SrcPort = binary.BigEndian.Uint16(b[0:2])
	k.DstPort = binary.BigEndian.Uint16(b[2:4])
	return nil
}

func icmp(k *sdwan.FlowKey, b []byte, echo, reply uint8) error {
	if len(b) < 8 {
		return ErrTruncated
	}
	if t := b[0]; t == echo || t == reply {
		id := binary.BigEndian.Uint16(b[4:6])
		k.SrcPort, k.DstPort = id, id
	}
	return nil
}
