package cache

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// StatsSource is the part of a [Store] that the [Collector] reads.
type StatsSource interface {
	Stats(ctx context.Context) (Stats, error)
}

// Collector exports the stats of named caches to Prometheus at scrape
// time, so the caches themselves keep no Prometheus state on their hit path:
//
//	patronus_cache_hits_total{cache}         counter
//	patronus_cache_misses_total{cache}       counter
//	patronus_cache_entries{cache,state}      gauge, state "active" or "expired"
//	patronus_cache_stats_error{cache}        gauge, 1 when the entries could not be counted
//
// For a [Shared] cache, hits and misses are this replica's and the entries
// are counted in Redis, which takes a scan of the namespace per scrape.
type Collector struct {
	sources map[string]StatsSource
	names   []string // sorted, for a stable output order
	timeout time.Duration
	hits    *prometheus.Desc
	misses  *prometheus.Desc
	entries *prometheus.Desc
	failed  *prometheus.Desc
}

// NewCollector registers a collector for the given caches, keyed by the
// name used as the cache label, on reg. timeout bounds each cache's Stats
// call during a scrape; zero means 2 s.
func NewCollector(reg prometheus.Registerer, timeout time.Duration, sources map[string]StatsSource) (*Collector, error) {
	c := &Collector{
		sources: maps.Clone(sources),
		names:   slices.Sorted(maps.Keys(sources)),
		timeout: cmp.Or(timeout, 2*time.Second),
		hits: prometheus.NewDesc("patronus_cache_hits_total",
			"Cache lookups that found a live entry.", []string{"cache"}, nil),
		misses: prometheus.NewDesc("patronus_cache_misses_total",
			"Cache lookups that found no live entry.", []string{"cache"}, nil),
		entries: prometheus.NewDesc("patronus_cache_entries",
			"Entries stored in the cache, by whether they have expired.", []string{"cache", "state"}, nil),
		failed: prometheus.NewDesc("patronus_cache_stats_error",
			"1 if the cache's entries could not be counted at this scrape.", []string{"cache"}, nil),
	}
	if err := reg.Register(c); err != nil {
		return nil, fmt.Errorf("cache: register collector: %w", err)
	}
	return c, nil
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.hits
	ch <- c.misses
	ch <- c.entries
	ch <- c.failed
}

// Collect implements prometheus.Collector. A cache whose entries cannot be
// counted still reports its hit and miss counters.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	for _, name := range c.names {
		ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
		st, err := c.sources[name].Stats(ctx)
		cancel()
		ch <- prometheus.MustNewConstMetric(c.hits, prometheus.CounterValue, float64(st.Hits), name)
		ch <- prometheus.MustNewConstMetric(c.misses, prometheus.CounterValue, float64(st.Misses), name)
		failed := 0.0
		if err != nil {
			failed = 1
		} else {
			ch <- prometheus.MustNewConstMetric(c.entries, prometheus.GaugeValue, float64(st.Active), name, "active")
			ch <- prometheus.MustNewConstMetric(c.entries, prometheus.GaugeValue, float64(st.Expired), name, "expired")
		}
		ch <- prometheus.MustNewConstMetric(c.failed, prometheus.GaugeValue, failed, name)
	}
}
