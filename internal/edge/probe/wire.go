package probe

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
)

// Wire format, version 1. Every packet is exactly PacketLen bytes, all
// integers big-endian:
//
//	offset size field
//	     0    2 magic "PR"
//	     2    1 version (1)
//	     3    1 type (1 request, 2 reply)
//	     4    4 session: the directed path's id (prober -> responder)
//	     8    8 sequence number, per prober, increasing
//	    16    8 nonce, random per request, echoed
//	    24    8 requester's transmit timestamp (ns, requester's clock), echoed
//	    32    8 responder's receive timestamp (ns, responder's clock); 0 in requests
//	    40    8 responder's transmit timestamp (ns, responder's clock); 0 in requests
//	    48   16 HMAC-SHA256 over bytes 0..47 under the session's key, truncated
//
// 64 bytes of payload make 92 bytes in IPv4+UDP and 112 in IPv6+UDP; see
// docs/bench/probe.md for what that costs per path.
const (
	// PacketLen is the length of every version-1 probe packet.
	PacketLen = 64
	// MACLen is the length of the truncated HMAC that ends every packet.
	MACLen = 16
	// Version is the protocol version this package speaks.
	Version = 1
	// MinKeyLen is the shortest key NewAuthenticator accepts.
	MinKeyLen = 16

	headerLen = PacketLen - MACLen
	magic0    = 'P'
	magic1    = 'R'
)

// Type says whether a packet asks or answers.
type Type uint8

// Packet types.
const (
	TypeRequest Type = 1
	TypeReply   Type = 2
)

// String returns "request" or "reply".
func (t Type) String() string {
	switch t {
	case TypeRequest:
		return "request"
	case TypeReply:
		return "reply"
	}
	return fmt.Sprintf("type(%d)", uint8(t))
}

// Errors returned by Unmarshal and Authenticator.Open. They are sentinels so
// that a receiver can count each kind of rejection.
var (
	ErrLength  = errors.New("probe: packet length is not 64 bytes")
	ErrMagic   = errors.New("probe: bad magic")
	ErrVersion = errors.New("probe: unsupported version")
	ErrType    = errors.New("probe: unknown packet type")
	ErrMAC     = errors.New("probe: authentication failed")
)

// Packet is a decoded probe request or reply. The timestamps are nanoseconds
// on the clock of the side that wrote them; the two sides' clocks need not
// agree, only tick at the same rate.
type Packet struct {
	Type    Type
	Session uint32
	Seq     uint64
	Nonce   uint64
	// TxTime is the requester's transmit timestamp, echoed by the reply.
	TxTime int64
	// RespRxTime and RespTxTime are the responder's receive and transmit
	// timestamps; zero in requests. Their difference is the responder's
	// processing time, which the requester subtracts from the RTT.
	RespRxTime int64
	RespTxTime int64
}

// Header checks the fixed part of b and returns its type and session without
// authenticating it, so that a receiver can pick the session's key. A packet
// is trusted only after Authenticator.Open.
func Header(b []byte) (Type, uint32, error) {
	if len(b) != PacketLen {
		return 0, 0, ErrLength
	}
	if b[0] != magic0 || b[1] != magic1 {
		return 0, 0, ErrMagic
	}
	if b[2] != Version {
		return 0, 0, ErrVersion
	}
	t := Type(b[3])
	if t != TypeRequest && t != TypeReply {
		return 0, 0, ErrType
	}
	return t, binary.BigEndian.Uint32(b[4:8]), nil
}

// Unmarshal decodes b into p without checking its MAC. It never allocates
// and rejects anything that is not a well-formed version-1 packet.
func Unmarshal(b []byte, p *Packet) error {
	t, session, err := Header(b)
	if err != nil {
		return err
	}
	p.Type = t
	p.Session = session
	p.Seq = binary.BigEndian.Uint64(b[8:16])
	p.Nonce = binary.BigEndian.Uint64(b[16:24])
	p.TxTime = int64(binary.BigEndian.Uint64(b[24:32]))
	p.RespRxTime = int64(binary.BigEndian.Uint64(b[32:40]))
	p.RespTxTime = int64(binary.BigEndian.Uint64(b[40:48]))
	return nil
}

// marshalHeader writes the unauthenticated part of p into b[:headerLen].
func marshalHeader(b []byte, p *Packet) {
	b[0], b[1], b[2], b[3] = magic0, magic1, Version, byte(p.Type)
	binary.BigEndian.PutUint32(b[4:8], p.Session)
	binary.BigEndian.PutUint64(b[8:16], p.Seq)
	binary.BigEndian.PutUint64(b[16:24], p.Nonce)
	binary.BigEndian.PutUint64(b[24:32], uint64(p.TxTime))
	binary.BigEndian.PutUint64(b[32:40], uint64(p.RespRxTime))
	binary.BigEndian.PutUint64(b[40:48], uint64(p.RespTxTime))
}

// Authenticator seals and opens packets under one key. It keeps its HMAC
// state between calls so that neither allocates; it is therefore not safe
// for concurrent use.
type Authenticator struct {
	mac hash.Hash
	sum [sha256.Size]byte
}

// NewAuthenticator returns an Authenticator for key, which must be at least
// MinKeyLen bytes (32 random bytes, or DeriveKey's output, is the intent).
func NewAuthenticator(key []byte) (*Authenticator, error) {
	if len(key) < MinKeyLen {
		return nil, fmt.Errorf("probe: key is %d bytes, want at least %d", len(key), MinKeyLen)
	}
	return &Authenticator{mac: hmac.New(sha256.New, key)}, nil
}

// tag computes the truncated MAC of b[:headerLen] into a.sum.
func (a *Authenticator) tag(b []byte) []byte {
	a.mac.Reset()
	a.mac.Write(b[:headerLen])
	return a.mac.Sum(a.sum[:0])[:MACLen]
}

// Seal writes p, with its MAC, into b, which must hold PacketLen bytes, and
// returns b[:PacketLen]. p.Type must be TypeRequest or TypeReply.
func (a *Authenticator) Seal(b []byte, p *Packet) []byte {
	b = b[:PacketLen]
	marshalHeader(b, p)
	copy(b[headerLen:], a.tag(b))
	return b
}

// Open checks that b is a well-formed packet carrying a valid MAC under a's
// key and decodes it into p. On error p is left unspecified.
func (a *Authenticator) Open(b []byte, p *Packet) error {
	if err := Unmarshal(b, p); err != nil {
		return err
	}
	if !hmac.Equal(a.tag(b), b[headerLen:PacketLen]) {
		return ErrMAC
	}
	return nil
}

// DeriveKey derives the 32-byte key of one directed session from a secret
// that the two sites share (HKDF-SHA256, the session id as context). Keys
// differ per session and so per direction: a responder only answers the
// sessions it serves, so a request cannot be reflected back to its sender
// as if it were the peer's answer.
func DeriveKey(secret []byte, session uint32) ([]byte, error) {
	if len(secret) < MinKeyLen {
		return nil, fmt.Errorf("probe: secret is %d bytes, want at least %d", len(secret), MinKeyLen)
	}
	var info [len("patronus probe v1 session ") + 4]byte
	n := copy(info[:], "patronus probe v1 session ")
	binary.BigEndian.PutUint32(info[n:], session)
	return hkdf.Key(sha256.New, secret, nil, string(info[:]), 32)
}
