package probe

import (
	"bytes"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var testKey = []byte("0123456789abcdef0123456789abcdef")

func mustAuth(t testing.TB, key []byte) *Authenticator {
	t.Helper()
	a, err := NewAuthenticator(key)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func samplePacket() Packet {
	return Packet{
		Type: TypeReply, Session: 0xdeadbeef, Seq: 1<<40 + 7, Nonce: 0x0123456789abcdef,
		TxTime: 1_000_000_123, RespRxTime: -5, RespTxTime: 9_000_000_000,
	}
}

func TestSealOpenRoundTrip(t *testing.T) {
	a := mustAuth(t, testKey)
	for _, want := range []Packet{
		samplePacket(),
		{Type: TypeRequest, Session: 1, Seq: 1, Nonce: 2, TxTime: 3},
		{Type: TypeRequest},
	} {
		var buf [PacketLen]byte
		b := a.Seal(buf[:], &want)
		if len(b) != PacketLen {
			t.Fatalf("sealed %d bytes, want %d", len(b), PacketLen)
		}
		var got Packet
		if err := a.Open(b, &got); err != nil {
			t.Fatalf("Open(Seal(%+v)) = %v", want, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("round trip (-want +got):\n%s", diff)
		}
	}
}

// Every single-bit change anywhere in a packet must be rejected: the MAC
// covers the header and the MAC itself is compared in full.
func TestOpenRejectsEveryBitFlip(t *testing.T) {
	a := mustAuth(t, testKey)
	p := samplePacket()
	var buf [PacketLen]byte
	good := a.Seal(buf[:], &p)
	for i := range PacketLen * 8 {
		b := bytes.Clone(good)
		b[i/8] ^= 1 << (i % 8)
		var got Packet
		if err := a.Open(b, &got); err == nil {
			t.Fatalf("flipping bit %d was accepted", i)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	a := mustAuth(t, testKey)
	other := mustAuth(t, []byte("another key, sixteen bytes or more"))
	p := samplePacket()
	var buf [PacketLen]byte
	good := bytes.Clone(a.Seal(buf[:], &p))
	with := func(i int, v byte) []byte { b := bytes.Clone(good); b[i] = v; return b }
	tests := []struct {
		name string
		auth *Authenticator
		b    []byte
		want error
	}{
		{"empty", a, nil, ErrLength},
		{"short", a, good[:PacketLen-1], ErrLength},
		{"long", a, append(bytes.Clone(good), 0), ErrLength},
		{"magic", a, with(0, 'X'), ErrMagic},
		{"version", a, with(2, 2), ErrVersion},
		{"type zero", a, with(3, 0), ErrType},
		{"type three", a, with(3, 3), ErrType},
		{"wrong key", other, good, ErrMAC},
		{"forged mac", a, with(PacketLen-1, good[PacketLen-1]^0xff), ErrMAC},
		{"tampered seq", a, with(15, good[15]+1), ErrMAC},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got Packet
			if err := tt.auth.Open(tt.b, &got); !errors.Is(err, tt.want) {
				t.Errorf("Open = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestNewAuthenticatorShortKey(t *testing.T) {
	if _, err := NewAuthenticator(make([]byte, MinKeyLen-1)); err == nil {
		t.Error("accepted a 15-byte key")
	}
}

func TestDeriveKey(t *testing.T) {
	secret := []byte("a secret the two sites share, 32b")
	k1, err := DeriveKey(secret, 1)
	if err != nil {
		t.Fatal(err)
	}
	k1again, _ := DeriveKey(secret, 1)
	k2, _ := DeriveKey(secret, 2)
	if len(k1) != 32 || !bytes.Equal(k1, k1again) || bytes.Equal(k1, k2) {
		t.Errorf("keys: %x %x %x; want 32 bytes, stable per session, distinct across sessions", k1, k1again, k2)
	}
	if _, err := DeriveKey([]byte("short"), 1); err == nil {
		t.Error("derived from a 5-byte secret")
	}
}

func TestSealOpenDoNotAllocate(t *testing.T) {
	a := mustAuth(t, testKey)
	p := samplePacket()
	var buf [PacketLen]byte
	var got Packet
	allocs := testing.AllocsPerRun(100, func() {
		if err := a.Open(a.Seal(buf[:], &p), &got); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("Seal+Open allocate %v times per run, want 0", allocs)
	}
}

// FuzzUnmarshal feeds arbitrary datagrams to the decoder and the
// authenticator. Whatever decodes must re-encode to the same header, and
// whatever authenticates must be exactly what Seal would produce.
func FuzzUnmarshal(f *testing.F) {
	a := mustAuth(f, testKey)
	p := samplePacket()
	var buf [PacketLen]byte
	f.Add(bytes.Clone(a.Seal(buf[:], &p)))
	p.Type = TypeRequest
	f.Add(bytes.Clone(a.Seal(buf[:], &p)))
	f.Add([]byte("PR\x01\x01"))
	f.Add(make([]byte, PacketLen))
	f.Fuzz(func(t *testing.T, b []byte) {
		var got Packet
		err := Unmarshal(b, &got)
		if err != nil {
			if a.Open(b, &got) == nil {
				t.Fatal("Open accepted what Unmarshal rejected")
			}
			return
		}
		var hdr [PacketLen]byte
		marshalHeader(hdr[:], &got)
		if !bytes.Equal(hdr[:headerLen], b[:headerLen]) {
			t.Fatalf("re-encoded header %x, want %x", hdr[:headerLen], b[:headerLen])
		}
		if a.Open(b, &got) == nil {
			var again [PacketLen]byte
			if !bytes.Equal(a.Seal(again[:], &got), b) {
				t.Fatal("an authentic packet differs from its re-sealed self")
			}
		}
	})
}

func BenchmarkSeal(b *testing.B) {
	b.ReportAllocs()
	a := mustAuth(b, testKey)
	p := samplePacket()
	var buf [PacketLen]byte
	for b.Loop() {
		p.Seq++
		a.Seal(buf[:], &p)
	}
}

func BenchmarkOpen(b *testing.B) {
	b.ReportAllocs()
	a := mustAuth(b, testKey)
	p := samplePacket()
	var buf [PacketLen]byte
	sealed := a.Seal(buf[:], &p)
	var got Packet
	for b.Loop() {
		if err := a.Open(sealed, &got); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUnmarshal(b *testing.B) {
	b.ReportAllocs()
	a := mustAuth(b, testKey)
	p := samplePacket()
	var buf [PacketLen]byte
	sealed := a.Seal(buf[:], &p)
	var got Packet
	for b.Loop() {
		if err := Unmarshal(sealed, &got); err != nil {
			b.Fatal(err)
		}
	}
}
