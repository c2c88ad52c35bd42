package graph

import (
	"context"
	"errors"
	"time"

	"github.com/vikstrous/dataloadgen"

	"github.com/patronus-sdwan/patronus/internal/sdwan"
	"github.com/patronus-sdwan/patronus/internal/store"
)

// loaders batch the lookups of one operation: every srcSite of a thousand
// paths becomes one query for the distinct sites, not a thousand. They
// live for one query or mutation; subscriptions, whose objects change
// between events, read through without them.
type loaders struct {
	sites         *dataloadgen.Loader[string, sdwan.Site]
	endpoints     *dataloadgen.Loader[string, sdwan.Endpoint]
	siteEndpoints *dataloadgen.Loader[string, []sdwan.Endpoint]
	latestMetrics *dataloadgen.Loader[string, sdwan.PathMetrics]
}

type loadersKey struct{}

// loaderWait is how long a loader collects keys before it queries. gqlgen
// resolves a list's fields concurrently, so the keys of one list arrive
// within microseconds; a short wait keeps single lookups fast.
const loaderWait = 500 * time.Microsecond

func (a *API) newLoaders() *loaders {
	opts := []dataloadgen.Option{dataloadgen.WithWait(loaderWait), dataloadgen.WithBatchCapacity(store.MaxLimit)}
	return &loaders{
		sites: dataloadgen.NewMappedLoader(func(ctx context.Context, ids []string) (map[string]sdwan.Site, error) {
			rows, err := a.st.Read().SitesByIDs(ctx, ids)
			return index(rows, func(s sdwan.Site) string { return s.ID }), err
		}, opts...),
		endpoints: dataloadgen.NewMappedLoader(func(ctx context.Context, ids []string) (map[string]sdwan.Endpoint, error) {
			rows, err := a.st.Read().EndpointsByIDs(ctx, ids)
			return index(rows, func(e sdwan.Endpoint) string { return e.ID }), err
		}, opts...),
		siteEndpoints: dataloadgen.NewMappedLoader(func(ctx context.Context, ids []string) (map[string][]sdwan.Endpoint, error) {
			rows, err := a.st.Read().EndpointsBySiteIDs(ctx, ids)
			out := make(map[string][]sdwan.Endpoint, len(ids))
			for _, id := range ids {
				out[id] = nil // a site without endpoints is found, with none
			}
			for _, e := range rows {
				out[e.SiteID] = append(out[e.SiteID], e)
			}
			return out, err
		}, opts...),
		latestMetrics: dataloadgen.NewMappedLoader(a.loadLatestMetrics, opts...),
	}
}

func index[T any](rows []T, key func(T) string) map[string]T {
	m := make(map[string]T, len(rows))
	for _, r := range rows {
		m[key(r)] = r
	}
	return m
}

func withLoaders(ctx context.Context, l *loaders) context.Context {
	return context.WithValue(ctx, loadersKey{}, l)
}

func loadersFrom(ctx context.Context) *loaders {
	l, _ := ctx.Value(loadersKey{}).(*loaders)
	return l
}

// load reads one key through the operation's loader, or directly when
// there is none; a key the batch did not find is (zero, false, nil).
func load[V any](ctx context.Context, l *dataloadgen.Loader[string, V], key string, direct func(context.Context, string) (V, error)) (V, bool, error) {
	var v V
	var err error
	if l != nil {
		v, err = l.Load(ctx, key)
	} else {
		v, err = direct(ctx, key)
	}
	switch {
	case errors.Is(err, dataloadgen.ErrNotFound), errors.Is(err, sdwan.ErrNotFound):
		var zero V
		return zero, false, nil
	case err != nil:
		return v, false, err
	}
	return v, true, nil
}

func (a *API) site(ctx context.Context, id string) (sdwan.Site, bool, error) {
	var l *dataloadgen.Loader[string, sdwan.Site]
	if ls := loadersFrom(ctx); ls != nil {
		l = ls.sites
	}
	return load(ctx, l, id, func(ctx context.Context, id string) (sdwan.Site, error) { return a.st.Read().Site(ctx, id) })
}

func (a *API) endpoint(ctx context.Context, id string) (sdwan.Endpoint, bool, error) {
	var l *dataloadgen.Loader[string, sdwan.Endpoint]
	if ls := loadersFrom(ctx); ls != nil {
		l = ls.endpoints
	}
	return load(ctx, l, id, func(ctx context.Context, id string) (sdwan.Endpoint, error) { return a.st.Read().Endpoint(ctx, id) })
}

func (a *API) endpointsOf(ctx context.Context, siteID string) ([]sdwan.Endpoint, error) {
	var l *dataloadgen.Loader[string, []sdwan.Endpoint]
	if ls := loadersFrom(ctx); ls != nil {
		l = ls.siteEndpoints
	}
	es, _, err := load(ctx, l, siteID, func(ctx context.Context, id string) ([]sdwan.Endpoint, error) {
		return a.st.Read().ListEndpoints(ctx, id)
	})
	return es, err
}

// latestMetrics returns a path's newest measurement through the metrics
// cache, then the operation's loader.
func (a *API) latestMetrics(ctx context.Context, pathID string) (sdwan.PathMetrics, bool, error) {
	var l *dataloadgen.Loader[string, sdwan.PathMetrics]
	if ls := loadersFrom(ctx); ls != nil {
		l = ls.latestMetrics
	}
	return load(ctx, l, pathID, func(ctx context.Context, id string) (sdwan.PathMetrics, error) {
		m, err := a.loadLatestMetrics(ctx, []string{id})
		if err != nil {
			return sdwan.PathMetrics{}, err
		}
		v, ok := m[id]
		if !ok {
			return v, sdwan.ErrNotFound
		}
		return v, nil
	})
}

// loadLatestMetrics answers from the metrics cache where it can and asks
// the store, in one query, for the rest, which it then caches. A cache
// failure (Redis down) degrades to the store, never to an error.
func (a *API) loadLatestMetrics(ctx context.Context, ids []string) (map[string]sdwan.PathMetrics, error) {
	out := make(map[string]sdwan.PathMetrics, len(ids))
	var miss []string
	for _, id := range ids {
		if m, ok, err := a.caches.Metrics.Get(ctx, id); err == nil && ok {
			out[id] = m
		} else {
			miss = append(miss, id)
		}
	}
	if len(miss) == 0 {
		return out, nil
	}
	rows, err := a.st.Read().LatestPathMetricsFor(ctx, miss)
	if err != nil {
		return out, err
	}
	for _, m := range rows {
		out[m.PathID] = m
		if err := a.caches.Metrics.Set(ctx, m.PathID, m); err != nil {
			a.log.WarnContext(ctx, "metrics cache: set", "path", m.PathID, "err", err)
		}
	}
	return out, nil
}
