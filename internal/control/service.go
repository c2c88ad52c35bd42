package control

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/patronus-sdwan/patronus/internal/auth"
	"github.com/patronus-sdwan/patronus/internal/events"
	"github.com/patronus-sdwan/patronus/internal/sdwan"
	"github.com/patronus-sdwan/patronus/internal/store"
)

// Invalidator is told which cached reads a committed change made stale.
type Invalidator interface {
	InvalidatePath(pathID string)
	InvalidateRouting()
}

// Config holds the service's tunables.
type Config struct {
	// SiteRetention is how long a soft-deleted site stays restorable.
	SiteRetention time.Duration
	// LoginInterval and LoginBurst limit sign-in attempts per client and
	// per user.
	LoginInterval time.Duration
	LoginBurst    int
}

// DefaultConfig is what the controller runs with unless told otherwise.
var DefaultConfig = Config{SiteRetention: 30 * 24 * time.Hour, LoginInterval: 2 * time.Second, LoginBurst: 5}

// Service is the controller's domain layer.
type Service struct {
	st      *store.Store
	bus     *events.Bus
	log     *slog.Logger
	now     func() time.Time
	cfg     Config
	issuer  *auth.Issuer
	limiter *auth.LoginLimiter
	inval   []Invalidator

	policies policyCache
}

// New returns a service over the store. The token signing secret is read
// from the store, or generated and stored at first start, so that it is
// never a constant and every replica on one database shares it.
func New(ctx context.Context, st *store.Store, bus *events.Bus, log *slog.Logger, now func() time.Time, cfg Config) (*Service, error) {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var secret string
	err := st.Tx(ctx, func(q store.Q) (err error) {
		secret, err = q.SetSettingIfAbsent(ctx, "token_secret", auth.NewSecret())
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("control: token secret: %w", err)
	}
	issuer, err := auth.NewIssuer([]byte(secret), now)
	if err != nil {
		return nil, err
	}
	return &Service{
		st: st, bus: bus, log: log, now: now, cfg: cfg, issuer: issuer,
		limiter: auth.NewLoginLimiter(cfg.LoginInterval, cfg.LoginBurst, now),
	}, nil
}

// AddInvalidator registers a cache to be told of changes.
func (s *Service) AddInvalidator(i Invalidator) { s.inval = append(s.inval, i) }

// Store returns the store, for readers.
func (s *Service) Store() *store.Store { return s.st }

// Bus returns the event bus.
func (s *Service) Bus() *events.Bus { return s.bus }

// Config returns the service's configuration.
func (s *Service) Config() Config { return s.cfg }

// Require checks that p has at least role want. Edge principals pass only
// a RoleEdge requirement.
func Require(p auth.Principal, want sdwan.Role) error {
	if p.Role == "" {
		return fmt.Errorf("%w: sign in first", sdwan.ErrUnauthenticated)
	}
	if !p.Role.AtLeast(want) {
		return fmt.Errorf("%w: this needs the %s role; you are %s", sdwan.ErrForbidden, want, p.Role)
	}
	return nil
}

// change is what a mutation's body reports back to write.
type change struct {
	audit  sdwan.AuditEntry
	events []events.Event
	// paths and routing name cached reads the change makes stale.
	paths   []string
	routing bool
}

// touchesPolicies reports whether the change makes the in-memory policy
// list stale: it publishes a policy event, as every policy change does.
func (ch *change) touchesPolicies() bool {
	for _, e := range ch.events {
		if e.Kind == events.PolicyChanged || e.Kind == events.PolicyDeleted {
			return true
		}
	}
	return false
}

// write runs one mutation: role check, body and audit entry in one
// transaction, then events and cache invalidation after commit. It returns
// the audit entry's ID.
func (s *Service) write(ctx context.Context, p auth.Principal, need sdwan.Role, body func(q store.Q) (change, error)) (int64, error) {
	if err := Require(p, need); err != nil {
		return 0, err
	}
	var ch change
	err := s.st.Tx(ctx, func(q store.Q) error {
		var err error
		if ch, err = body(q); err != nil {
			return err
		}
		ch.audit.Actor = p.Actor()
		return q.AddAudit(ctx, &ch.audit)
	})
	if ch.touchesPolicies() {
		// Even when the commit reported an error: it may have landed, and
		// a needless reread costs little.
		s.policies.invalidate()
	}
	if err != nil {
		return 0, err
	}
	for _, inv := range s.inval {
		for _, id := range ch.paths {
			inv.InvalidatePath(id)
		}
		if ch.routing {
			inv.InvalidateRouting()
		}
	}
	for _, e := range ch.events {
		e.At = ch.audit.At
		s.bus.Publish(e)
	}
	s.bus.Publish(events.Event{Kind: events.AuditWritten, AuditID: ch.audit.ID, At: ch.audit.At,
		Severity: string(ch.audit.Severity), Summary: ch.audit.Summary})
	return ch.audit.ID, nil
}

// Reader returns a store reader for p if p may read.
func (s *Service) Reader(p auth.Principal) (store.Q, error) {
	if p.Role == sdwan.RoleEdge {
		return s.st.Read(), nil
	}
	if err := Require(p, sdwan.RoleViewer); err != nil {
		return store.Q{}, err
	}
	return s.st.Read(), nil
}

// RecordAudit writes a stand-alone audit entry (for actions whose change
// lives outside the store, such as clearing caches) and publishes it.
func (s *Service) RecordAudit(ctx context.Context, p auth.Principal, need sdwan.Role, e sdwan.AuditEntry, evs ...events.Event) (int64, error) {
	return s.write(ctx, p, need, func(store.Q) (change, error) {
		return change{audit: e, events: evs}, nil
	})
}

// IsNotFound reports whether err is a not-found error.
func IsNotFound(err error) bool { return errors.Is(err, sdwan.ErrNotFound) }
