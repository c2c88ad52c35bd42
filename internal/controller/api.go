package controller

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/patronus-sdwan/patronus/internal/api/graph"
	"github.com/patronus-sdwan/patronus/internal/api/rest"
	"github.com/patronus-sdwan/patronus/internal/cache"
	"github.com/patronus-sdwan/patronus/internal/events"
	"github.com/patronus-sdwan/patronus/internal/sdwan"
	"github.com/patronus-sdwan/patronus/internal/store"
)

// mountAPI builds the GraphQL API and mounts it at /graphql (POST, and GET
// for the WebSocket upgrade). Its background work — the metrics sampler,
// the PostgreSQL event bridge, the shared caches' subscriptions — lives
// as long as ctx, the context the controller was built with.
func (c *Controller) mountAPI(ctx context.Context) error {
	caches, err := c.apiCaches(ctx)
	if err != nil {
		return err
	}
	if _, err := cache.NewCollector(c.Metrics, 0, map[string]cache.StatsSource{
		"metrics": caches.Metrics, "routing": caches.Routing,
	}); err != nil {
		return err
	}
	api, err := graph.New(graph.Options{
		Service: c.Service,
		// The live per-policy totals the edges report.
		Stats:      c.Traffic,
		Caches:     caches,
		Registerer: c.Metrics,
		Logger:     c.log,
		Version:    c.cfg.Version,
		Checks:     []rest.Check{{Name: "store", Fn: c.Store.Ping}},
	})
	if err != nil {
		return err
	}
	c.API = api
	c.mux.Handle("POST /graphql", api)
	c.mux.Handle("GET /graphql", api) // WebSocket upgrade
	c.mux.Handle("OPTIONS /graphql", api)
	go api.Run(ctx)
	go c.Service.FollowReplicas(ctx)
	if c.Store.Engine() == store.Postgres {
		bridge, err := events.NewPGBridge(events.PGBridgeConfig{URL: c.cfg.DBURL, Bus: c.Bus, Logger: c.log})
		if err != nil {
			return err
		}
		go bridge.Run(ctx)
	}
	return nil
}

// apiCaches builds the metrics and routing-decision caches: in process, or
// in Redis when the controller was given --redis, so that every replica
// sees one cache and one replica's invalidation reaches the others.
func (c *Controller) apiCaches(ctx context.Context) (graph.Caches, error) {
	if c.cfg.RedisURL == "" {
		return graph.LocalCaches(), nil
	}
	opts, err := redis.ParseURL(c.cfg.RedisURL)
	if err != nil {
		return graph.Caches{}, fmt.Errorf("controller: --redis %q: %w", c.cfg.RedisURL, err)
	}
	rdb := redis.NewClient(opts)
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	mc, err := cache.NewShared(sctx, cache.SharedConfig[string, sdwan.PathMetrics]{
		Client: rdb, Namespace: "patronus:metrics", DefaultTTL: graph.MetricsTTL, Logger: c.log,
	})
	if err != nil {
		rdb.Close()
		return graph.Caches{}, fmt.Errorf("controller: shared metrics cache: %w", err)
	}
	rc, err := cache.NewShared(sctx, cache.SharedConfig[string, graph.RoutingDecision]{
		Client: rdb, Namespace: "patronus:routing", DefaultTTL: graph.RoutingTTL, Logger: c.log,
	})
	if err != nil {
		mc.Close()
		rdb.Close()
		return graph.Caches{}, fmt.Errorf("controller: shared routing cache: %w", err)
	}
	context.AfterFunc(ctx, func() {
		mc.Close()
		rc.Close()
		rdb.Close()
	})
	return graph.Caches{Metrics: mc, Routing: rc, Shared: true}, nil
}
