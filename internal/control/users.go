package control

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/patronus-sdwan/patronus/internal/auth"
	"github.com/patronus-sdwan/patronus/internal/events"
	"github.com/patronus-sdwan/patronus/internal/sdwan"
	"github.com/patronus-sdwan/patronus/internal/store"
)

// ErrRateLimited reports too many sign-in attempts.
var ErrRateLimited = fmt.Errorf("%w: too many sign-in attempts", sdwan.ErrUnavailable)

// RateLimitError says how long to wait before trying again.
type RateLimitError struct{ Wait time.Duration }

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("too many sign-in attempts; try again in %s", e.Wait.Round(time.Second))
}

// Unwrap makes errors.Is(err, ErrRateLimited) hold.
func (e *RateLimitError) Unwrap() error { return ErrRateLimited }

// Session is what a successful sign-in returns.
type Session struct {
	AccessToken  string
	RenewalToken string
	ExpiresAt    time.Time
	User         sdwan.User
}

var errBadLogin = fmt.Errorf("%w: wrong user name or password", sdwan.ErrUnauthenticated)

// Login checks a user's password and issues tokens. client identifies the
// caller (its address) for rate limiting. Failures are audited.
func (s *Service) Login(ctx context.Context, client, name, password string) (Session, error) {
	if ok, wait := s.limiter.Allow(client, name); !ok {
		return Session{}, &RateLimitError{Wait: wait}
	}
	u, err := s.st.Read().UserByName(ctx, name)
	if err != nil && !IsNotFound(err) {
		return Session{}, err
	}
	var ok bool
	if err == nil {
		ok, err = auth.CheckPassword(u.PasswordHash, password)
		if err != nil {
			return Session{}, err
		}
	} else {
		// Spend the same time on unknown users as on known ones.
		_, _ = auth.CheckPassword(dummyHash(), password)
	}
	if !ok || !u.Active {
		_, _ = s.RecordAudit(ctx, auth.System, sdwan.RoleAdmin, sdwan.AuditEntry{Action: "user.login_failed", TargetType: "user",
			TargetID: name, Severity: sdwan.SeverityWarning, Summary: fmt.Sprintf("failed sign-in for %q from %s", name, client)})
		return Session{}, errBadLogin
	}
	return s.startSession(ctx, u, "signed in from "+client)
}

// dummyHash is hashed once, on the first failed sign-in of an unknown user.
var dummyHash = sync.OnceValue(func() string {
	h, _ := auth.HashPassword("patronus-dummy-password")
	return h
})

func (s *Service) startSession(ctx context.Context, u sdwan.User, why string) (Session, error) {
	access, renewal, exp, err := s.issuer.Issue(u)
	if err != nil {
		return Session{}, err
	}
	now := s.now().UTC()
	u.LastLogin = &now
	_, err = s.write(ctx, auth.Principal{Kind: "user", UserID: u.ID, Name: u.Name, Role: u.Role}, u.Role, func(q store.Q) (change, error) {
		if err := q.UpdateUser(ctx, &u); err != nil {
			return change{}, err
		}
		return change{audit: sdwan.AuditEntry{Action: "user.login", TargetType: "user", TargetID: u.ID, Summary: u.Name + " " + why}}, nil
	})
	if err != nil {
		return Session{}, err
	}
	return Session{AccessToken: access, RenewalToken: renewal, ExpiresAt: exp, User: u}, nil
}

// Renew exchanges a renewal token for a new session, if the user's tokens
// have not been revoked since.
func (s *Service) Renew(ctx context.Context, renewal string) (Session, error) {
	c, err := s.issuer.VerifyRenewal(renewal)
	if err != nil {
		return Session{}, err
	}
	u, err := s.liveUser(ctx, c.Subject, c.Epoch)
	if err != nil {
		return Session{}, err
	}
	return s.startSession(ctx, u, "renewed a session")
}

// liveUser loads a token's user and checks the token is still honoured.
func (s *Service) liveUser(ctx context.Context, id string, epoch int64) (sdwan.User, error) {
	u, err := s.st.Read().User(ctx, id)
	if err != nil || !u.Active || u.TokenEpoch != epoch {
		return sdwan.User{}, auth.ErrBadToken
	}
	return u, nil
}

// Authenticate turns a bearer credential — an access token, an API key or
// a site credential — into a principal.
func (s *Service) Authenticate(ctx context.Context, bearer string) (auth.Principal, error) {
	if bearer == "" {
		return auth.Principal{}, fmt.Errorf("%w: no credentials; send Authorization: Bearer <token or key>", sdwan.ErrUnauthenticated)
	}
	if kind, prefix, secret, ok := auth.SplitKey(bearer); ok {
		k, err := s.st.Read().APIKeyByPrefix(ctx, prefix)
		if err != nil || k.RevokedAt != nil || !auth.SecretMatches(secret, k.SecretHash) {
			return auth.Principal{}, fmt.Errorf("%w: invalid or revoked key", sdwan.ErrUnauthenticated)
		}
		s.touchKey(ctx, k)
		if kind == auth.KeyPrefixSite {
			if k.SiteID == "" {
				return auth.Principal{}, fmt.Errorf("%w: invalid key", sdwan.ErrUnauthenticated)
			}
			site, err := s.st.Read().Site(ctx, k.SiteID)
			if err != nil || site.DeletedAt != nil {
				return auth.Principal{}, fmt.Errorf("%w: the site of this credential is deleted", sdwan.ErrUnauthenticated)
			}
			return auth.Principal{Kind: "site", Name: site.Name, Role: sdwan.RoleEdge, SiteID: site.ID, KeyID: k.ID}, nil
		}
		u, err := s.st.Read().User(ctx, k.UserID)
		if err != nil || !u.Active {
			return auth.Principal{}, fmt.Errorf("%w: the key's user is deactivated", sdwan.ErrUnauthenticated)
		}
		// A key never carries more rights than its user has now.
		role := k.Role
		if !u.Role.AtLeast(role) {
			role = u.Role
		}
		return auth.Principal{Kind: "apikey", UserID: u.ID, Name: k.Name, Role: role, KeyID: k.ID}, nil
	}
	c, err := s.issuer.VerifyAccess(bearer)
	if err != nil {
		return auth.Principal{}, err
	}
	u, err := s.liveUser(ctx, c.Subject, c.Epoch)
	if err != nil {
		return auth.Principal{}, err
	}
	return auth.Principal{Kind: "user", UserID: u.ID, Name: u.Name, Role: u.Role, Expires: c.ExpiresAt.Time}, nil
}

// Logout revokes every token of the signed-in user.
func (s *Service) Logout(ctx context.Context, p auth.Principal) error {
	if p.Kind != "user" {
		return fmt.Errorf("%w: only a signed-in user can sign out", sdwan.ErrForbidden)
	}
	return s.bumpUser(ctx, p, sdwan.RoleViewer, p.UserID, "user.logout", "signed out everywhere", nil)
}

// ChangePassword sets the caller's own password after checking the old
// one, and revokes the caller's tokens.
func (s *Service) ChangePassword(ctx context.Context, p auth.Principal, old, new string) error {
	if p.Kind != "user" {
		return fmt.Errorf("%w: only a signed-in user can change a password", sdwan.ErrForbidden)
	}
	u, err := s.st.Read().User(ctx, p.UserID)
	if err != nil {
		return err
	}
	if ok, _ := auth.CheckPassword(u.PasswordHash, old); !ok {
		return &sdwan.FieldError{Field: "oldPassword", Reason: "is wrong"}
	}
	return s.setPassword(ctx, p, sdwan.RoleViewer, u.ID, new, "user.password_change")
}

// ResetPassword sets another user's password (admin) and revokes their
// tokens.
func (s *Service) ResetPassword(ctx context.Context, p auth.Principal, userID, new string) error {
	return s.setPassword(ctx, p, sdwan.RoleAdmin, userID, new, "user.password_reset")
}

func (s *Service) setPassword(ctx context.Context, p auth.Principal, need sdwan.Role, userID, pw, action string) error {
	if err := sdwan.ValidatePassword("password", pw); err != nil {
		return err
	}
	hash, err := auth.HashPassword(pw)
	if err != nil {
		return err
	}
	return s.bumpUser(ctx, p, need, userID, action, "changed the password", func(u *sdwan.User) { u.PasswordHash = hash })
}

// bumpUser applies edit to a user, raises its token epoch so every token
// issued before stops working, and audits it.
func (s *Service) bumpUser(ctx context.Context, p auth.Principal, need sdwan.Role, userID, action, what string, edit func(*sdwan.User)) error {
	_, err := s.write(ctx, p, need, func(q store.Q) (change, error) {
		u, err := q.User(ctx, userID)
		if err != nil {
			return change{}, err
		}
		if edit != nil {
			edit(&u)
		}
		u.TokenEpoch++
		if err := q.UpdateUser(ctx, &u); err != nil {
			return change{}, err
		}
		return change{
			audit:  sdwan.AuditEntry{Action: action, TargetType: "user", TargetID: u.ID, Summary: fmt.Sprintf("%s: %s", u.Name, what)},
			events: []events.Event{{Kind: events.UserChanged, UserID: u.ID, Summary: u.Name}},
		}, nil
	})
	return err
}

// CreateUser adds a user with a password (admin). Bootstrap callers (the
// CLI's user add) pass auth.System.
func (s *Service) CreateUser(ctx context.Context, p auth.Principal, name string, role sdwan.Role, password string) (sdwan.User, error) {
	if err := sdwan.ValidatePassword("user.password", password); err != nil {
		return sdwan.User{}, err
	}
	hash, err := auth.HashPassword(password)
	if err != nil {
		return sdwan.User{}, err
	}
	u := sdwan.User{Name: name, Role: role, PasswordHash: hash}
	_, err = s.write(ctx, p, sdwan.RoleAdmin, func(q store.Q) (change, error) {
		if err := q.CreateUser(ctx, &u); err != nil {
			return change{}, err
		}
		return change{
			audit:  sdwan.AuditEntry{Action: "user.create", TargetType: "user", TargetID: u.ID, Summary: fmt.Sprintf("created user %s (%s)", u.Name, u.Role)},
			events: []events.Event{{Kind: events.UserChanged, UserID: u.ID, Summary: u.Name}},
		}, nil
	})
	return u, err
}

// UpdateUserRole changes a user's role (admin) and revokes their tokens.
func (s *Service) UpdateUserRole(ctx context.Context, p auth.Principal, userID string, role sdwan.Role) error {
	if _, err := sdwan.ParseRole("role", string(role)); err != nil {
		return err
	}
	return s.bumpUser(ctx, p, sdwan.RoleAdmin, userID, "user.role", "role set to "+string(role), func(u *sdwan.User) { u.Role = role })
}

// DeactivateUser stops a user from signing in (admin) and revokes their
// tokens and keys at once.
func (s *Service) DeactivateUser(ctx context.Context, p auth.Principal, userID string) error {
	if p.UserID == userID {
		return fmt.Errorf("%w: you cannot deactivate yourself", sdwan.ErrConflict)
	}
	return s.bumpUser(ctx, p, sdwan.RoleAdmin, userID, "user.deactivate", "deactivated", func(u *sdwan.User) { u.Active = false })
}

// CreatedKey is a freshly minted key; Key is shown once and never stored.
type CreatedKey struct {
	Key    string
	Record store.APIKey
}

// CreateAPIKey mints a key for the caller's user, with at most the
// caller's role (admin).
func (s *Service) CreateAPIKey(ctx context.Context, p auth.Principal, name string, role sdwan.Role) (CreatedKey, error) {
	if err := sdwan.ValidateName("apiKey.name", name); err != nil {
		return CreatedKey{}, err
	}
	if _, err := sdwan.ParseRole("apiKey.role", string(role)); err != nil {
		return CreatedKey{}, err
	}
	if p.Kind != "user" {
		return CreatedKey{}, fmt.Errorf("%w: API keys are created by signed-in users", sdwan.ErrForbidden)
	}
	key, prefix, hash := auth.NewKey(auth.KeyPrefixAPI)
	rec := store.APIKey{Prefix: prefix, SecretHash: hash, Name: name, UserID: p.UserID, Role: role}
	_, err := s.write(ctx, p, sdwan.RoleAdmin, func(q store.Q) (change, error) {
		if err := q.CreateAPIKey(ctx, &rec); err != nil {
			return change{}, err
		}
		return change{audit: sdwan.AuditEntry{Action: "apikey.create", TargetType: "apikey", TargetID: rec.ID, Summary: fmt.Sprintf("created API key %s (%s, prefix %s)", name, role, prefix)}}, nil
	})
	return CreatedKey{Key: key, Record: rec}, err
}

// IssueSiteCredential mints the credential an edge signs in with (admin).
func (s *Service) IssueSiteCredential(ctx context.Context, p auth.Principal, siteID string) (CreatedKey, error) {
	key, prefix, hash := auth.NewKey(auth.KeyPrefixSite)
	rec := store.APIKey{Prefix: prefix, SecretHash: hash, Name: "edge", SiteID: siteID, Role: sdwan.RoleEdge}
	_, err := s.write(ctx, p, sdwan.RoleAdmin, func(q store.Q) (change, error) {
		site, err := q.Site(ctx, siteID)
		if err != nil {
			return change{}, err
		}
		if site.DeletedAt != nil {
			return change{}, fmt.Errorf("site %s is deleted: %w", site.Name, sdwan.ErrNotFound)
		}
		rec.Name = "edge-" + site.Name
		if err := q.CreateAPIKey(ctx, &rec); err != nil {
			return change{}, err
		}
		return change{audit: sdwan.AuditEntry{Action: "site.credential", TargetType: "site", TargetID: siteID, Summary: "issued an edge credential for site " + site.Name + " (prefix " + prefix + ")"}}, nil
	})
	return CreatedKey{Key: key, Record: rec}, err
}

// RevokeAPIKey revokes a key or site credential (admin).
func (s *Service) RevokeAPIKey(ctx context.Context, p auth.Principal, id string) error {
	_, err := s.write(ctx, p, sdwan.RoleAdmin, func(q store.Q) (change, error) {
		if err := q.RevokeAPIKey(ctx, id); err != nil {
			return change{}, err
		}
		return change{
			audit:  sdwan.AuditEntry{Action: "apikey.revoke", TargetType: "apikey", TargetID: id, Severity: sdwan.SeverityWarning, Summary: "revoked key " + id},
			events: []events.Event{{Kind: events.KeyRevoked, Summary: id}},
		}, nil
	})
	return err
}

// keyTouchEvery is how stale a key's last-use time may get: recording every
// request would put a write on every read.
const keyTouchEvery = time.Minute

// touchKey records that a key was used, at most once a keyTouchEvery, so
// that lastUsed in the API tells live keys from forgotten ones.
func (s *Service) touchKey(ctx context.Context, k store.APIKey) {
	if k.LastUsed != nil && s.now().Sub(*k.LastUsed) < keyTouchEvery {
		return
	}
	if err := s.st.Tx(ctx, func(q store.Q) error { return q.TouchAPIKey(ctx, k.ID) }); err != nil {
		s.log.Warn("record api key use", "key", k.Prefix, "err", err)
	}
}
