package packet

import (
	"encoding/binary"
	"net/netip"
)

// Packet builders for the tests, fuzz seeds and benchmarks. They write
// headers the way a real stack does, so the tests exercise the same bytes
// the TUN device hands the edge.

func tcpHdr(sport, dport uint16) []byte {
	b := make([]byte, 20)
	binary.BigEndian.PutUint16(b[0:], sport)
	binary.BigEndian.PutUint16(b[2:], dport)
	b[12] = 5 << 4 // data offset
	b[13] = 0x18   // PSH|ACK
	return b
}

func udpHdr(sport, dport uint16, payload int) []byte {
	b := make([]byte, 8+payload)
	binary.BigEndian.PutUint16(b[0:], sport)
	binary.BigEndian.PutUint16(b[2:], dport)
	binary.BigEndian.PutUint16(b[4:], uint16(8+payload))
	return b
}

func icmpHdr(typ, code uint8, id, seq uint16) []byte {
	b := make([]byte, 8)
	b[0], b[1] = typ, code
	binary.BigEndian.PutUint16(b[4:], id)
	binary.BigEndian.PutUint16(b[6:], seq)
	return b
}

type v4opts struct {
	options  []byte // multiple of 4 bytes
	id       uint16
	offset   uint16 // in 8-byte units
	more     bool
	dontFrag bool
}

func ipv4(src, dst string, proto uint8, payload []byte, o v4opts) []byte {
	hl := 20 + len(o.options)
	b := make([]byte, hl+len(payload))
	b[0] = 0x40 | byte(hl/4)
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
	binary.BigEndian.PutUint16(b[4:], o.id)
	ff := o.offset & 0x1fff
	if o.more {
		ff |= 0x2000
	}
	if o.dontFrag {
		ff |= 0x4000
	}
	binary.BigEndian.PutUint16(b[6:], ff)
	b[8] = 64
	b[9] = proto
	s, d := netip.MustParseAddr(src).As4(), netip.MustParseAddr(dst).As4()
	copy(b[12:], s[:])
	copy(b[16:], d[:])
	copy(b[20:], o.options)
	copy(b[hl:], payload)
	return b
}

// ext6 is one IPv6 extension header, written in front of whatever follows.
type ext6 struct {
	proto uint8  // the header's own type: 0, 43, 44, 51, 60 ...
	body  []byte // for the TLV-style headers: bytes after the 2-byte prefix
	// fragment header fields
	offset uint16
	more   bool
	id     uint32
}

func ipv6(src, dst string, exts []ext6, proto uint8, payload []byte) []byte {
	var chain []byte
	for i := len(exts) - 1; i >= 0; i-- {
		e := exts[i]
		next := proto
		var h []byte
		switch e.proto {
		case protoFragment:
			h = make([]byte, 8)
			ff := e.offset << 3
			if e.more {
				ff |= 1
			}
			binary.BigEndian.PutUint16(h[2:], ff)
			binary.BigEndian.PutUint32(h[4:], e.id)
		case protoAH:
			h = make([]byte, 2+len(e.body))
			h[1] = byte(len(h)/4 - 2)
		default:
			h = make([]byte, 2+len(e.body))
			h[1] = byte(len(h)/8 - 1)
		}
		copy(h[2:], e.body)
		h[0] = next
		chain = append(h, chain...)
		proto = e.proto
	}
	b := make([]byte, 40+len(chain)+len(payload))
	b[0] = 0x60
	binary.BigEndian.PutUint16(b[4:], uint16(len(b)-40))
	b[6] = proto
	b[7] = 64
	s, d := netip.MustParseAddr(src).As16(), netip.MustParseAddr(dst).As16()
	copy(b[8:], s[:])
	copy(b[24:], d[:])
	copy(b[40:], chain)
	copy(b[40+len(chain):], payload)
	return b
}

func cat(bs ...[]byte) []byte {
	var out []byte
	for _, b := range bs {
		out = append(out, b...)
	}
	return out
}
