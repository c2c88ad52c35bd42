package graph

import (
	"context"
	"time"

	"github.com/patronus-sdwan/patronus/internal/auth"
	"github.com/patronus-sdwan/patronus/internal/events"
)

// watchCredential returns the context for a WebSocket connection signed in
// as c, cancelled — which makes gqlgen end every subscription and close
// the connection — as soon as c's credential stops being honoured: its
// access token expires, its user's tokens are revoked (logout, password
// change, role change, deactivation), its key is revoked or its site
// deleted. Without it a subscription would go on streaming to a signed-out
// or demoted user for as long as the client kept the socket open.
//
// Revocations are learnt from the event bus, so one made on another
// controller replica ends the connection too; each relevant event costs
// one re-authentication of this connection's credential.
func (a *API) watchCredential(ctx context.Context, c *caller) context.Context {
	ctx, cancel := context.WithCancel(ctx)
	p := c.p
	sub := a.bus.Subscribe(ctx, 8, func(e events.Event) bool { return mayRevoke(p, e) })
	go func() {
		defer cancel()
		var expired <-chan time.Time
		if !p.Expires.IsZero() {
			t := time.NewTimer(p.Expires.Sub(a.now()))
			defer t.Stop()
			expired = t.C
		}
		for {
			select {
			case <-expired:
				a.log.InfoContext(ctx, "graphql: closing a subscription connection: its token expired", "actor", p.Actor())
				return
			case _, ok := <-sub.C():
				if !ok {
					return // the connection ended
				}
				now, err := a.svc.Authenticate(ctx, c.credential)
				if ctx.Err() != nil {
					return
				}
				if err != nil || now.Role != p.Role {
					a.log.InfoContext(ctx, "graphql: closing a subscription connection: its credential was revoked or changed", "actor", p.Actor())
					return
				}
			}
		}
	}()
	return ctx
}

// mayRevoke reports whether e may have changed whether p's credential is
// honoured.
func mayRevoke(p auth.Principal, e events.Event) bool {
	switch e.Kind {
	case events.UserChanged:
		return p.UserID != "" && e.UserID == p.UserID
	case events.KeyRevoked:
		return p.KeyID != "" && e.Summary == p.KeyID
	case events.SiteDeleted, events.SiteSoftDeleted:
		return p.SiteID != "" && e.SiteID == p.SiteID
	}
	return false
}
