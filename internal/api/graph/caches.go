package graph

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/patronus-sdwan/patronus/internal/cache"
	"github.com/patronus-sdwan/patronus/internal/events"
	"github.com/patronus-sdwan/patronus/internal/sdwan"
	"github.com/patronus-sdwan/patronus/internal/store"
)

// RoutingDecision is a cached answer to "which path does traffic of a
// policy from one site to another take now".
type RoutingDecision struct {
	PathID    string    `json:"pathId"` // "" when no path is eligible
	Reason    string    `json:"reason"`
	DecidedAt time.Time `json:"decidedAt"`
}

// Caches are the API's read-path caches: the newest metrics of each path
// and routing decisions. Both are in-process by default and shared through
// Redis with --redis (cache.Shared), chosen by whoever builds the API.
type Caches struct {
	Metrics cache.Store[string, sdwan.PathMetrics]
	Routing cache.Store[string, RoutingDecision]
	// Shared reports that the stores are shared between replicas.
	Shared bool
}

// Default TTLs: a path is measured every second or so, so a minute-old
// "latest" is what the seed chose as a bound; routing decisions go stale
// faster, and every change that could alter one clears them anyway.
const (
	MetricsTTL = 60 * time.Second
	RoutingTTL = 30 * time.Second
)

// LocalCaches returns in-process caches with the default TTLs.
func LocalCaches() Caches {
	return Caches{
		Metrics: cache.NewLocal(cache.New[string, sdwan.PathMetrics](cache.Config{DefaultTTL: MetricsTTL})),
		Routing: cache.NewLocal(cache.New[string, RoutingDecision](cache.Config{DefaultTTL: RoutingTTL})),
	}
}

// invalidator drops cached reads that a committed change made stale. The
// service calls it after each commit on this replica; for changes made on
// other replicas it is driven by their events (watchRemote), so replicas
// with process-local caches converge too.
type invalidator struct {
	c   Caches
	log *slog.Logger
}

// InvalidatePath implements control.Invalidator.
func (v invalidator) InvalidatePath(pathID string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := v.c.Metrics.Remove(ctx, pathID); err != nil {
		v.log.Warn("metrics cache: invalidate", "path", pathID, "err", err)
	}
}

// InvalidateRouting implements control.Invalidator.
func (v invalidator) InvalidateRouting() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := v.c.Routing.Clear(ctx); err != nil {
		v.log.Warn("routing cache: invalidate", "err", err)
	}
}

// watchRemote invalidates the process-local caches on events from other
// replicas until ctx ends; shared caches are invalidated by the writing
// replica through Redis. A burst that overflows the subscription loses
// events, and with them which entries went stale, so a loss clears both
// caches.
func (a *API) watchRemote(ctx context.Context) {
	if a.caches.Shared {
		return
	}
	sub := a.bus.Subscribe(ctx, 256, func(e events.Event) bool { return e.Origin != a.bus.Origin() })
	inv := invalidator{a.caches, a.log}
	var lost uint64
	for e := range sub.C() {
		if n := sub.Dropped(); n != lost {
			lost = n
			a.log.Warn("events: remote invalidation fell behind; clearing caches", "lost", n)
			_, _ = a.caches.Metrics.Clear(ctx)
			_, _ = a.caches.Routing.Clear(ctx)
		}
		switch e.Kind {
		case events.PathChanged, events.PathState, events.PathMetrics, events.PathFailover:
			if e.PathID != "" {
				inv.InvalidatePath(e.PathID)
			}
			inv.InvalidateRouting()
		case events.SiteUpdated, events.SiteDeleted, events.SiteSoftDeleted, events.SiteRestored,
			events.EndpointChanged, events.PolicyChanged, events.PolicyDeleted:
			inv.InvalidateRouting()
		case events.CacheCleared:
			_, _ = a.caches.Metrics.Clear(ctx)
			_, _ = a.caches.Routing.Clear(ctx)
		}
	}
}

func routingKey(policyID int64, src, dst string) string {
	return strconv.FormatInt(policyID, 10) + "|" + src + "|" + dst
}

// decideRoute picks the path from src to dst for a policy (0: none, best
// quality), answering from the routing cache when it can. Down paths and,
// under a steering policy's SLA, paths whose newest metrics break it are
// not eligible; among the rest the preference decides: best quality (score,
// then latency), lowest cost (the source link's cost per GB, then score),
// or a named link (falling back to best quality).
func (a *API) decideRoute(ctx context.Context, policyID int64, src, dst string) (RoutingDecision, bool, error) {
	key := routingKey(policyID, src, dst)
	if d, ok, err := a.caches.Routing.Get(ctx, key); err == nil && ok {
		return d, true, nil
	}
	q := a.st.Read()
	action := sdwan.Action{Kind: sdwan.ActionSteer, Preference: sdwan.PreferQuality}
	if policyID != 0 {
		pol, err := q.Policy(ctx, policyID)
		if err != nil {
			return RoutingDecision{}, false, fmt.Errorf("policy %d: %w", policyID, err)
		}
		action = pol.Action
	}
	now := a.now().UTC()
	decide := func(d RoutingDecision) (RoutingDecision, bool, error) {
		d.DecidedAt = now
		if err := a.caches.Routing.Set(ctx, key, d); err != nil {
			a.log.WarnContext(ctx, "routing cache: set", "err", err)
		}
		return d, false, nil
	}
	if action.Kind == sdwan.ActionDrop {
		return decide(RoutingDecision{Reason: "the policy drops this traffic"})
	}
	paths, _, err := q.ListPaths(ctx, store.PathFilter{SrcSiteID: src, DstSiteID: dst}, store.Page{Limit: store.MaxLimit})
	if err != nil {
		return RoutingDecision{}, false, err
	}
	type cand struct {
		p    sdwan.Path
		m    sdwan.PathMetrics
		link sdwan.Endpoint
	}
	var cands []cand
	ids := make([]string, len(paths))
	for i, p := range paths {
		ids[i] = p.ID
	}
	latest, err := a.loadLatestMetrics(ctx, ids)
	if err != nil {
		return RoutingDecision{}, false, err
	}
	down, unmeasured, slaMissed := 0, 0, 0
	for _, p := range paths {
		if p.Status == sdwan.PathDown {
			down++
			continue
		}
		m, ok := latest[p.ID]
		if !ok {
			unmeasured++
			continue
		}
		if !action.SLA.Meets(m) {
			slaMissed++
			continue
		}
		link, _, err := a.endpoint(ctx, p.SrcEndpointID)
		if err != nil {
			return RoutingDecision{}, false, err
		}
		cands = append(cands, cand{p, m, link})
	}
	if len(cands) == 0 {
		return decide(RoutingDecision{Reason: fmt.Sprintf("no eligible path: %d paths, %d down, %d unmeasured, %d missing the SLA", len(paths), down, unmeasured, slaMissed)})
	}
	i, _ := sdwan.ChoosePath(action, cands, func(c *cand) sdwan.PathChoice {
		return sdwan.PathChoice{ID: c.p.ID, Link: c.link.Name, CostPerGB: c.link.CostPerGB, Status: c.p.Status, Metrics: c.m}
	})
	best := cands[i]
	reason := "best quality"
	switch {
	case action.Preference == sdwan.PreferCost:
		reason = "lowest cost"
	case action.Preference == sdwan.PreferLink && best.link.Name == action.Link:
		reason = "pinned to link " + action.Link
	case action.Preference == sdwan.PreferLink:
		reason = "link " + action.Link + " unavailable; best quality"
	}
	return decide(RoutingDecision{PathID: best.p.ID, Reason: fmt.Sprintf("%s: score %d, %.1f ms, %.2f%% loss over link %s (%d eligible of %d)",
		reason, best.m.Score, best.m.LatencyMs, best.m.PacketLossPct, best.link.Name, len(cands), len(paths))})
}
