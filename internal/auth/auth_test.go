package auth

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/patronus-sdwan/patronus/internal/sdwan"
)

func TestPasswordHash(t *testing.T) {
	h, err := HashPassword("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=65536,t=1,p=2$") {
		t.Errorf("hash %q is not an argon2id PHC string", h)
	}
	for _, tt := range []struct {
		pw   string
		want bool
	}{{"correct horse", true}, {"correct horsE", false}, {"", false}} {
		if ok, err := CheckPassword(h, tt.pw); ok != tt.want || err != nil {
			t.Errorf("CheckPassword(%q) = %v, %v; want %v", tt.pw, ok, err, tt.want)
		}
	}
	if _, err := CheckPassword("$2a$10$bcrypt", "x"); !errors.Is(err, ErrBadHash) {
		t.Errorf("foreign hash: %v", err)
	}
	if h2, _ := HashPassword("correct horse"); h2 == h {
		t.Error("two hashes of one password are equal: salt missing")
	}
}

func TestTokens(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	is, err := NewIssuer([]byte(NewSecret()), clock)
	if err != nil {
		t.Fatal(err)
	}
	u := sdwan.User{ID: "u1", Name: "alice", Role: sdwan.RoleOperator, TokenEpoch: 3}
	access, renewal, exp, err := is.Issue(u)
	if err != nil {
		t.Fatal(err)
	}
	if !exp.Equal(now.Add(AccessTTL)) {
		t.Errorf("expiry %v", exp)
	}
	c, err := is.VerifyAccess(access)
	if err != nil || c.Subject != "u1" || c.Role != sdwan.RoleOperator || c.Epoch != 3 {
		t.Fatalf("VerifyAccess = %+v, %v", c, err)
	}
	if _, err := is.VerifyAccess(renewal); !errors.Is(err, sdwan.ErrUnauthenticated) {
		t.Errorf("renewal token accepted as access token: %v", err)
	}
	if _, err := is.VerifyRenewal(access); err == nil {
		t.Error("access token accepted as renewal token")
	}
	other, _ := NewIssuer([]byte(NewSecret()), clock)
	if _, err := other.VerifyAccess(access); err == nil {
		t.Error("token verified under another secret")
	}
	// alg "none" and a token without expiry are refused.
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, Claims{Use: useAccess, RegisteredClaims: jwt.RegisteredClaims{Subject: "u1", ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour))}}).SignedString(jwt.UnsafeAllowNoneSignatureType)
	if _, err := is.VerifyAccess(none); err == nil {
		t.Error("alg none accepted")
	}
	noExp, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, Claims{Use: useAccess, RegisteredClaims: jwt.RegisteredClaims{Subject: "u1"}}).SignedString(is.secret)
	if _, err := is.VerifyAccess(noExp); err == nil {
		t.Error("token without expiry accepted")
	}
	now = now.Add(AccessTTL + time.Second)
	if _, err := is.VerifyAccess(access); err == nil {
		t.Error("expired token accepted")
	}
	if _, err := is.VerifyRenewal(renewal); err != nil {
		t.Errorf("renewal token expired early: %v", err)
	}
	if _, err := NewIssuer([]byte("short"), nil); err == nil {
		t.Error("short secret accepted")
	}
}

func TestKeys(t *testing.T) {
	key, prefix, hash := NewKey(KeyPrefixAPI)
	kind, p, secret, ok := SplitKey(key)
	if !ok || kind != KeyPrefixAPI || p != prefix {
		t.Fatalf("SplitKey(%q) = %q %q %v", key, kind, p, ok)
	}
	if !SecretMatches(secret, hash) || SecretMatches(secret+"x", hash) {
		t.Error("SecretMatches wrong")
	}
	if strings.Contains(hash, secret) {
		t.Error("hash contains the secret")
	}
	for _, bad := range []string{"", "pat_", "pat__x", "xyz_a_b", "pat_a"} {
		if _, _, _, ok := SplitKey(bad); ok {
			t.Errorf("SplitKey(%q) ok", bad)
		}
	}
}

func TestLoginLimiter(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	l := NewLoginLimiter(time.Second, 3, func() time.Time { return now })
	for i := range 3 {
		if ok, _ := l.Allow("1.2.3.4", "alice"); !ok {
			t.Fatalf("attempt %d refused", i)
		}
	}
	ok, wait := l.Allow("1.2.3.4", "alice")
	if ok || wait <= 0 {
		t.Errorf("fourth attempt: ok=%v wait=%v; want refused with a wait", ok, wait)
	}
	// Another client is still limited on the same user.
	if ok, _ := l.Allow("5.6.7.8", "alice"); ok {
		t.Error("per-user limit not applied to another client")
	}
	// The same client is limited on other users.
	if ok, _ := l.Allow("1.2.3.4", "bob"); ok {
		t.Error("per-client limit not applied to another user")
	}
	now = now.Add(2 * time.Second)
	if ok, _ := l.Allow("1.2.3.4", "alice"); !ok {
		t.Error("attempt after waiting refused")
	}
}
