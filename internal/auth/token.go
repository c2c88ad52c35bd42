package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/patronus-sdwan/patronus/internal/sdwan"
)

// Principal is an authenticated caller.
type Principal struct {
	Kind   string // "user", "apikey" or "site"
	UserID string
	Name   string // user name, key name or site name
	Role   sdwan.Role
	SiteID string // for site credentials: the only site it may act for
	KeyID  string // for API keys and site credentials
	// Expires is when the credential stops being honoured: an access
	// token's expiry; zero for keys, which live until revoked.
	Expires time.Time
}

// Actor is how the principal appears in the audit log.
func (p Principal) Actor() string {
	switch p.Kind {
	case "apikey":
		return "apikey:" + p.Name
	case "site":
		return "site:" + p.Name
	case "":
		return "system"
	}
	return p.Name
}

// System is the principal of the controller's own jobs.
var System = Principal{Kind: "", Name: "system", Role: sdwan.RoleAdmin}

// Token lifetimes.
const (
	AccessTTL  = 15 * time.Minute
	RenewalTTL = 7 * 24 * time.Hour
)

// Token uses, carried in the "use" claim so that a renewal token cannot
// pass as an access token.
const (
	useAccess  = "access"
	useRenewal = "renewal"
)

// Claims are a token's contents.
type Claims struct {
	jwt.RegisteredClaims
	Role  sdwan.Role `json:"role"`
	Name  string     `json:"name"`
	Epoch int64      `json:"epoch"`
	Use   string     `json:"use"`
}

// Issuer signs and verifies tokens with one secret.
type Issuer struct {
	secret []byte
	now    func() time.Time
}

// NewIssuer returns an issuer for the secret (at least 32 bytes), with a
// clock (nil: time.Now).
func NewIssuer(secret []byte, now func() time.Time) (*Issuer, error) {
	if len(secret) < 32 {
		return nil, errors.New("auth: token secret must be at least 32 bytes")
	}
	if now == nil {
		now = time.Now
	}
	return &Issuer{secret: secret, now: now}, nil
}

// NewSecret returns a fresh random signing secret, hex-encoded.
func NewSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Issue returns an access token and a renewal token for the user.
func (is *Issuer) Issue(u sdwan.User) (access, renewal string, accessExp time.Time, err error) {
	now := is.now()
	accessExp = now.Add(AccessTTL)
	if access, err = is.sign(u, useAccess, now, accessExp); err != nil {
		return "", "", time.Time{}, err
	}
	renewal, err = is.sign(u, useRenewal, now, now.Add(RenewalTTL))
	return access, renewal, accessExp, err
}

func (is *Issuer) sign(u sdwan.User, use string, now, exp time.Time) (string, error) {
	c := Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   u.ID,
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(exp),
			ID:        rand.Text(),
		},
		Role: u.Role, Name: u.Name, Epoch: u.TokenEpoch, Use: use,
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(is.secret)
}

// ErrBadToken reports a token that is malformed, forged, expired or of
// the wrong use.
var ErrBadToken = fmt.Errorf("%w: invalid or expired token", sdwan.ErrUnauthenticated)

// parse verifies signature, algorithm, expiry and use.
func (is *Issuer) parse(tok, use string) (*Claims, error) {
	c := &Claims{}
	_, err := jwt.ParseWithClaims(tok, c, func(*jwt.Token) (any, error) { return is.secret, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(is.now),
	)
	if err != nil || c.Use != use || c.Subject == "" {
		return nil, ErrBadToken
	}
	return c, nil
}

// VerifyAccess checks an access token; the caller must still compare the
// claims' Epoch with the user's current one.
func (is *Issuer) VerifyAccess(tok string) (*Claims, error) { return is.parse(tok, useAccess) }

// VerifyRenewal checks a renewal token.
func (is *Issuer) VerifyRenewal(tok string) (*Claims, error) { return is.parse(tok, useRenewal) }

// Key kinds, the first word of a key, so a leaked key says what it is.
const (
	KeyPrefixAPI  = "pat"
	KeyPrefixSite = "pse"
)

// NewKey mints a key "<kind>_<prefix>_<secret>" and returns it with the
// lookup prefix and the SHA-256 of the secret, which is all that is
// stored. The key itself is shown once.
func NewKey(kind string) (key, prefix, hash string) {
	prefix = strings.ToLower(rand.Text()[:10])
	secret := rand.Text()
	return kind + "_" + prefix + "_" + secret, prefix, HashSecret(secret)
}

// HashSecret is the stored form of a key's secret.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// SplitKey parses a key into kind, prefix and secret.
func SplitKey(key string) (kind, prefix, secret string, ok bool) {
	parts := strings.SplitN(key, "_", 3)
	if len(parts) != 3 || (parts[0] != KeyPrefixAPI && parts[0] != KeyPrefixSite) || parts[1] == "" || parts[2] == "" {
		return "", "", "", false
	}
	return parts[0], parts[1], parts[2], true
}

// SecretMatches compares a presented secret with a stored hash in constant
// time.
func SecretMatches(secret, hash string) bool {
	return subtle.ConstantTimeCompare([]byte(HashSecret(secret)), []byte(hash)) == 1
}
