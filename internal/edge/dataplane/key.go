package dataplane

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"

	"golang.org/x/crypto/curve25519"
)

// Key is a WireGuard Curve25519 key, private or public.
type Key [32]byte

// GeneratePrivateKey returns a new random private key, clamped as
// Curve25519 requires.
func GeneratePrivateKey() (Key, error) {
	var k Key
	if _, err := rand.Read(k[:]); err != nil {
		return Key{}, fmt.Errorf("dataplane: generate key: %w", err)
	}
	k[0] &= 248
	k[31] = (k[31] & 127) | 64
	return k, nil
}

// ParseKey reads a key in WireGuard's base64 form.
func ParseKey(s string) (Key, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) != len(Key{}) {
		return Key{}, fmt.Errorf("dataplane: %q is not a base64 WireGuard key", s)
	}
	return Key(b), nil
}

// PublicKey returns the public key of the private key k.
func (k Key) PublicKey() Key {
	pub, err := curve25519.X25519(k[:], curve25519.Basepoint)
	if err != nil {
		// Only a low-order point fails, and the base point is not one.
		panic(err)
	}
	return Key(pub)
}

// IsZero reports whether k is unset.
func (k Key) IsZero() bool { return k == Key{} }

// String returns the base64 form, as wg(8) prints keys.
func (k Key) String() string { return base64.StdEncoding.EncodeToString(k[:]) }

// hex returns the form WireGuard's configuration protocol takes.
func (k Key) hex() string { return hex.EncodeToString(k[:]) }
