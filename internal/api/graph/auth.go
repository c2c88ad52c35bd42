package graph

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/patronus-sdwan/patronus/internal/api/graph/model"
	"github.com/patronus-sdwan/patronus/internal/auth"
	"github.com/patronus-sdwan/patronus/internal/control"
	"github.com/patronus-sdwan/patronus/internal/sdwan"
)

// caller is what a request's credentials came to: a principal, or the
// reason there is none. An invalid token does not fail the request outright,
// so that login still works for a client holding a stale one; every field
// but the @public ones then reports err.
type caller struct {
	p      auth.Principal
	err    error
	client string // the client's address, for login rate limits
	// credential is what p was authenticated from, kept so that a
	// long-lived WebSocket connection can check it again (watchCredential).
	credential string
}

type callerKey struct{}

func withCaller(ctx context.Context, c *caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

func callerFrom(ctx context.Context) *caller {
	c, _ := ctx.Value(callerKey{}).(*caller)
	if c == nil {
		return &caller{}
	}
	return c
}

// errSignIn is returned to callers who sent no credentials at all.
var errSignIn = fmt.Errorf("%w: sign in first: call login and send Authorization: Bearer <token>, or use an API key", sdwan.ErrUnauthenticated)

// principal returns the authenticated caller or why there is none.
func principal(ctx context.Context) (auth.Principal, error) {
	c := callerFrom(ctx)
	if c.err != nil {
		return auth.Principal{}, c.err
	}
	if c.p.Role == "" {
		return auth.Principal{}, errSignIn
	}
	return c.p, nil
}

// bearer extracts the credential from an Authorization header value; a bare
// token is accepted too.
func bearer(h string) string {
	h = strings.TrimSpace(h)
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return h
}

// authenticate resolves a credential (possibly empty) into a caller.
func (a *API) authenticate(ctx context.Context, credential, client string) *caller {
	c := &caller{client: client, credential: credential}
	if credential == "" {
		return c
	}
	c.p, c.err = a.svc.Authenticate(ctx, credential)
	return c
}

// clientAddr is the request's remote host, for rate limiting sign-ins. The
// controller does not trust forwarding headers: behind a proxy every client
// shares the proxy's limit, which errs on the safe side.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// sdwanRole converts an API role to the domain's.
func sdwanRole(r model.Role) sdwan.Role { return sdwan.Role(r.Lower()) }

// apiRole converts a domain role to the API's.
func apiRole(r sdwan.Role) model.Role { return model.Role(strings.ToUpper(string(r))) }

// hasRole is the @hasRole directive: the caller must hold role, or be an
// edge where edge is true. The service checks again; this makes the schema
// the declaration a reader (and the authorisation matrix test) can trust.
func hasRole(ctx context.Context, _ any, next graphql.Resolver, role model.Role, edge *bool) (any, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	if p.Role == sdwan.RoleEdge && edge != nil && *edge {
		return next(ctx)
	}
	if err := control.Require(p, sdwanRole(role)); err != nil {
		return nil, err
	}
	return next(ctx)
}

// public is the @public directive. It marks a field for requireAuth and
// the authorisation matrix; at run time it lets the field run.
func public(ctx context.Context, _ any, next graphql.Resolver) (any, error) { return next(ctx) }

// publicFields lists the root fields marked @public in the schema.
func publicFields(s *ast.Schema) map[string]bool {
	out := map[string]bool{}
	for _, def := range []*ast.Definition{s.Query, s.Mutation, s.Subscription} {
		if def == nil {
			continue
		}
		for _, f := range def.Fields {
			if f.Directives.ForName("public") != nil {
				out[def.Name+"."+f.Name] = true
			}
		}
	}
	return out
}

// requireAuth is the root-field middleware that makes authentication the
// default: every query and mutation field, introspection included, needs a
// principal unless the schema marks it @public. Subscriptions are
// authenticated when the WebSocket connection starts (initWebsocket) and
// again by each subscription resolver.
func (a *API) requireAuth(ctx context.Context, next graphql.RootResolver) graphql.Marshaler {
	// RootFieldContext.Object holds the field's name, not its type's, so
	// the type comes from the field's definition.
	fc := graphql.GetRootFieldContext(ctx)
	if fc != nil && fc.Field.Field != nil && fc.Field.ObjectDefinition != nil &&
		a.public[fc.Field.ObjectDefinition.Name+"."+fc.Field.Name] {
		return next(ctx)
	}
	if _, err := principal(ctx); err != nil {
		graphql.AddError(ctx, err)
		return graphql.Null
	}
	if m := a.writePolicies(ctx); m != nil {
		return m
	}
	return next(ctx)
}

// mayRead reports whether p may read: viewers and above, and edges.
func mayRead(p auth.Principal) error {
	if p.Role == sdwan.RoleEdge {
		return nil
	}
	return control.Require(p, sdwan.RoleViewer)
}

// reader returns the caller if they may read.
func reader(ctx context.Context) (auth.Principal, error) {
	p, err := principal(ctx)
	if err != nil {
		return p, err
	}
	return p, mayRead(p)
}
