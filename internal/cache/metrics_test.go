package cache

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// statsFunc is a StatsSource made of a function.
type statsFunc func(context.Context) (Stats, error)

func (f statsFunc) Stats(ctx context.Context) (Stats, error) { return f(ctx) }

func TestCollector(t *testing.T) {
	now := time.Unix(0, 0)
	metrics := New[string, int](Config{DefaultTTL: time.Minute, Now: func() time.Time { return now }})
	metrics.Set("p1", 1)
	metrics.Set("p2", 2)
	metrics.SetWithTTL("p3", 3, time.Second)
	now = now.Add(2 * time.Second) // p3 expired
	metrics.Get("p1")
	metrics.Get("p3")
	metrics.Get("p4")

	reg := prometheus.NewPedanticRegistry()
	_, err := NewCollector(reg, time.Second, map[string]StatsSource{
		"metrics": NewLocal(metrics),
		"routing": statsFunc(func(context.Context) (Stats, error) {
			return Stats{Hits: 7, Misses: 1}, errors.New("redis down")
		}),
	})
	if err != nil {
		t.Fatal(err)
	}
	want := `
# HELP patronus_cache_entries Entries stored in the cache, by whether they have expired.
# TYPE patronus_cache_entries gauge
patronus_cache_entries{cache="metrics",state="active"} 2
patronus_cache_entries{cache="metrics",state="expired"} 1
# HELP patronus_cache_hits_total Cache lookups that found a live entry.
# TYPE patronus_cache_hits_total counter
patronus_cache_hits_total{cache="metrics"} 1
patronus_cache_hits_total{cache="routing"} 7
# HELP patronus_cache_misses_total Cache lookups that found no live entry.
# TYPE patronus_cache_misses_total counter
patronus_cache_misses_total{cache="metrics"} 2
patronus_cache_misses_total{cache="routing"} 1
# HELP patronus_cache_stats_error 1 if the cache's entries could not be counted at this scrape.
# TYPE patronus_cache_stats_error gauge
patronus_cache_stats_error{cache="metrics"} 0
patronus_cache_stats_error{cache="routing"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
	if _, err := NewCollector(reg, 0, nil); err == nil {
		t.Error("registering a second collector with the same metrics succeeded")
	}
}
