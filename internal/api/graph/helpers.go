package graph

// Helpers shared by the resolvers, kept out of the *.resolvers.go files
// that gqlgen rewrites.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/patronus-sdwan/patronus/internal/api/graph/model"
	"github.com/patronus-sdwan/patronus/internal/control"
	"github.com/patronus-sdwan/patronus/internal/sdwan"
	"github.com/patronus-sdwan/patronus/internal/store"
)

// session converts a signed-in session.
func session(s control.Session) *model.AuthPayload {
	return &model.AuthPayload{Token: s.AccessToken, ExpiresAt: s.ExpiresAt, RenewalToken: s.RenewalToken, User: toUser(s.User)}
}

// deref reads an optional string argument.
func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// notFound rewrites a store's raw not-found error to name what the caller
// asked for; the service's own errors, which already say what to do, pass
// unchanged.
func notFound(err error, what, id string) error {
	if errors.Is(err, sdwan.ErrNotFound) && strings.HasPrefix(err.Error(), "store: ") {
		return fmt.Errorf("%w: no %s %q", sdwan.ErrNotFound, what, id)
	}
	return err
}

// endpointModel reads an endpoint for a reference field.
func (a *API) endpointModel(ctx context.Context, id string) (*model.Endpoint, error) {
	e, ok, err := a.endpoint(ctx, id)
	if err != nil || !ok {
		return nil, err
	}
	return toEndpoint(e), nil
}

// invalidatePath drops a path's cached metrics.
func (a *API) invalidatePath(ctx context.Context, id string) {
	if _, err := a.caches.Metrics.Remove(ctx, id); err != nil {
		a.log.WarnContext(ctx, "metrics cache: remove", "path", id, "err", err)
	}
}

// timeRange fills in a query's time range: to defaults to now and from to
// span before to.
func (a *API) timeRange(from, to *time.Time, span time.Duration) (time.Time, time.Time, error) {
	t := a.now()
	if to != nil {
		t = *to
	}
	f := t.Add(-span)
	if from != nil {
		f = *from
	}
	if f.After(t) {
		return f, t, badInput("from", f.Format(time.RFC3339), "is after to")
	}
	return f, t, nil
}

// derefInt reads an optional int argument.
func derefInt(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

// siteModel reads a site (live or deleted) for a reference field; a
// reference to a purged site reads null.
func (a *API) siteModel(ctx context.Context, id string) (*model.Site, error) {
	s, ok, err := a.site(ctx, id)
	if err != nil || !ok {
		return nil, err
	}
	return a.withPurge(toSite(s)), nil
}

// withPurge fills in when a soft-deleted site will be purged.
func (a *API) withPurge(s *model.Site) *model.Site {
	if s.DeletedAt != nil {
		s.PurgeAfter = ptr(s.DeletedAt.Add(a.svc.Config().SiteRetention).UTC())
	}
	return s
}

// allEndpoints lists the endpoints of every live site.
func (a *API) allEndpoints(ctx context.Context) ([]sdwan.Endpoint, error) {
	q := a.st.Read()
	sites, err := listAll(nil, func(pg store.Page) ([]sdwan.Site, int, error) { return q.ListSites(ctx, store.SiteFilter{}, pg) })
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(sites))
	for i, s := range sites {
		ids[i] = s.ID
	}
	return q.EndpointsBySiteIDs(ctx, ids)
}

// severityRank orders severities for the systemAlerts filter.
func severityRank(s model.Severity) int {
	switch s {
	case model.SeverityWarning:
		return 1
	case model.SeverityCritical:
		return 2
	}
	return 0
}

// clampLimit reads the earlier release's optional limit: 100 by default,
// at most a page.
func clampLimit(limit *int) int {
	if limit == nil || *limit <= 0 {
		return 100
	}
	return min(*limit, store.MaxLimit)
}

// health runs every readiness check now.
func (a *API) health(ctx context.Context) *model.SystemHealth {
	h := &model.SystemHealth{Status: "ok", Version: a.version, UptimeSeconds: a.now().Sub(a.started).Seconds(), Checks: []*model.HealthCheck{}}
	for _, c := range a.checks {
		cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		start := time.Now()
		err := c.Fn(cctx)
		cancel()
		hc := &model.HealthCheck{Name: c.Name, Ok: err == nil, LatencyMs: float64(time.Since(start).Microseconds()) / 1000}
		if err != nil {
			hc.Error = ptr(err.Error())
			h.Status = "degraded"
		}
		h.Checks = append(h.Checks, hc)
	}
	return h
}
