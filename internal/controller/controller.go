// Package controller assembles the control plane: it opens the store, runs
// migrations, builds the services, mounts the HTTP endpoints and runs the
// background jobs, so that cmd/patronus only parses flags and calls Run.
package controller

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/patronus-sdwan/patronus/internal/api/graph"
	"github.com/patronus-sdwan/patronus/internal/api/rest"
	"github.com/patronus-sdwan/patronus/internal/control"
	"github.com/patronus-sdwan/patronus/internal/events"
	"github.com/patronus-sdwan/patronus/internal/store"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Config is what a controller needs to start.
type Config struct {
	DataDir  string // SQLite lives here unless DBURL is set
	DBURL    string // postgres://… selects PostgreSQL
	RedisURL string // shares caches between replicas when set
	Listen   string // host:port; loopback unless told otherwise
	Version  string
	Logger   *slog.Logger
	Control  control.Config
	// JobInterval is how often retention jobs run.
	JobInterval time.Duration
	// SnapshotInterval is how often traffic statistics are written to the
	// store (default one minute).
	SnapshotInterval time.Duration
	// StatsRetention says how long statistics are kept.
	StatsRetention control.Retention
	// Edges configures the hub that serves the edge agents.
	Edges control.EdgeHubConfig
}

// Controller is a running control plane.
type Controller struct {
	cfg     Config
	log     *slog.Logger
	Store   *store.Store
	Bus     *events.Bus
	Service *control.Service
	// Traffic holds the live per-policy statistics the edges report.
	Traffic *control.TrafficStats
	// API is the GraphQL API mounted at /graphql.
	API *graph.API
	// Edges serves the edge agents at /api/v1/edge/.
	Edges   *control.EdgeHub
	Metrics *prometheus.Registry
	mux     *http.ServeMux
	ln      net.Listener
	srv     *http.Server
}

// New opens the store (migrating it) and builds the controller; it does
// not listen yet.
func New(ctx context.Context, cfg Config) (*Controller, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:8080"
	}
	if cfg.JobInterval == 0 {
		cfg.JobInterval = time.Hour
	}
	if cfg.Control == (control.Config{}) {
		cfg.Control = control.DefaultConfig
	}
	if cfg.SnapshotInterval == 0 {
		cfg.SnapshotInterval = time.Minute
	}
	if cfg.StatsRetention == (control.Retention{}) {
		cfg.StatsRetention = control.DefaultRetention
	}
	st, err := store.Open(ctx, store.Config{URL: cfg.DBURL, DataDir: cfg.DataDir, Logger: cfg.Logger, Migrate: true})
	if err != nil {
		return nil, err
	}
	c := &Controller{cfg: cfg, log: cfg.Logger, Store: st, Metrics: prometheus.NewRegistry(), mux: http.NewServeMux()}
	c.Bus = events.NewBus(cfg.Logger, "replica-"+rand.Text()[:8])
	if c.Service, err = control.New(ctx, st, c.Bus, cfg.Logger, time.Now, cfg.Control); err != nil {
		st.Close()
		return nil, err
	}
	if c.Traffic, err = control.NewTrafficStats(ctx, st, c.Bus, cfg.Logger, time.Now); err != nil {
		st.Close()
		return nil, err
	}
	c.Metrics.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewDBStatsCollector(st.DB(), "store"))
	c.routes()
	c.mountWeb()
	if c.Edges, err = c.mountEdges(ctx, cfg.Edges); err != nil {
		st.Close()
		return nil, err
	}
	if err := c.mountAPI(ctx); err != nil {
		st.Close()
		return nil, err
	}
	c.ConnectEdges(c.Edges)
	return c, nil
}

// Handle mounts h at pattern on the controller's mux (for the API and the
// dashboard, which are built by their own packages).
func (c *Controller) Handle(pattern string, h http.Handler) { c.mux.Handle(pattern, h) }

func (c *Controller) routes() {
	c.mux.Handle("GET /health", rest.Health(c.cfg.Version))
	c.mux.Handle("GET /health/ready", rest.Ready(3*time.Second,
		rest.Check{Name: "store", Fn: c.Store.Ping},
		rest.Check{Name: "migrations", Fn: func(ctx context.Context) error {
			st, err := c.Store.Status(ctx)
			if err != nil {
				return err
			}
			if st.Current != st.Latest {
				return fmt.Errorf("at version %d of %d; run patronus migrate", st.Current, st.Latest)
			}
			return nil
		}},
	))
	c.mux.Handle("GET /metrics", promhttp.HandlerFor(c.Metrics, promhttp.HandlerOpts{Registry: c.Metrics}))
	c.mux.Handle("GET /api/v1/stats/export", rest.Export(c.Service, func() rest.StatsRows { return c.Store.Read() }))
}

// Listen binds the listener; Addr reports it.
func (c *Controller) Listen() error {
	ln, err := net.Listen("tcp", c.cfg.Listen)
	if err != nil {
		return fmt.Errorf("controller: listen on %s: %w", c.cfg.Listen, err)
	}
	c.ln = ln
	return nil
}

// Addr is the address the controller listens on.
func (c *Controller) Addr() string { return c.ln.Addr().String() }

// Serve serves HTTP and runs the background jobs until ctx ends, then
// shuts down gracefully.
func (c *Controller) Serve(ctx context.Context) error {
	if c.ln == nil {
		if err := c.Listen(); err != nil {
			return err
		}
	}
	c.srv = &http.Server{
		Handler:           c.mux,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	var jobs sync.WaitGroup
	jobs.Go(func() { c.runJobs(ctx) })
	jobs.Go(func() { c.Traffic.Run(ctx) })
	jobs.Go(func() { c.Edges.RunRelay(ctx) })
	jobs.Go(func() { c.Edges.RunRetention(ctx) })
	c.log.Info("controller listening", "addr", c.Addr(), "store", c.Store.Engine())
	errc := make(chan error, 1)
	go func() { errc <- c.srv.Serve(c.ln) }()
	var err error
	select {
	case err = <-errc:
	case <-ctx.Done():
		shutCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err = c.srv.Shutdown(shutCtx)
		if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
			c.log.Error("serve", "err", serr)
		}
	}
	jobs.Wait()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// Close releases the store.
func (c *Controller) Close() error { return c.Store.Close() }

// runJobs runs the retention jobs every JobInterval and the statistics
// snapshot every SnapshotInterval. With PostgreSQL only the replica that
// holds a job's lock runs it: every replica has the same totals (each
// applies the traffic reports the others take, Traffic.Run), so one
// snapshot serves all.
func (c *Controller) runJobs(ctx context.Context) {
	retain := time.NewTicker(c.cfg.JobInterval)
	defer retain.Stop()
	snap := time.NewTicker(c.cfg.SnapshotInterval)
	defer snap.Stop()
	c.retention(ctx)
	for {
		select {
		case <-ctx.Done():
			// A last snapshot, so a clean shutdown loses no counts.
			c.snapshot(context.WithoutCancel(ctx))
			return
		case <-retain.C:
			c.retention(ctx)
		case <-snap.C:
			if n := c.Traffic.ExpireGauges(); n > 0 {
				c.log.Info("aged out the active-flow counts of silent edges", "edges", n)
			}
			c.snapshot(ctx)
		}
	}
}

// snapshot writes the statistics snapshot and folds the traffic log.
func (c *Controller) snapshot(ctx context.Context) {
	release, ok, err := c.Store.TryLock(ctx, store.LockStats)
	if err != nil || !ok {
		return
	}
	defer release()
	if _, err := c.Traffic.Snapshot(ctx); err != nil && ctx.Err() == nil {
		c.log.Error("statistics snapshot", "err", err)
	}
	if err := c.Traffic.Fold(ctx); err != nil && ctx.Err() == nil {
		c.log.Error("fold the traffic log", "err", err)
	}
}

func (c *Controller) retention(ctx context.Context) {
	release, ok, err := c.Store.TryLock(ctx, store.LockRetention)
	if err != nil || !ok {
		return
	}
	defer release()
	if n, err := c.Service.PurgeExpiredSites(ctx); err != nil && ctx.Err() == nil {
		c.log.Error("purge expired sites", "err", err)
	} else if n > 0 {
		c.log.Info("purged expired sites", "count", n)
	}
	if err := c.Traffic.Retain(ctx, c.cfg.StatsRetention); err != nil && ctx.Err() == nil {
		c.log.Error("statistics retention", "err", err)
	}
}
