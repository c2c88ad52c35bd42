package cache

import (
	"context"
	"crypto/rand"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/jellydator/ttlcache/v3"
	"github.com/redis/go-redis/v9"
)

// benchKeys fills a cache with n path-like keys and returns them.
func benchCache(b *testing.B, n int) (*Cache[string, int], []string) {
	b.Helper()
	c := New[string, int](Config{DefaultTTL: time.Hour})
	keys := make([]string, n)
	for i := range keys {
		keys[i] = "0198c6a2-7b1e-7c3a-9f00-" + strconv.Itoa(100000000000+i)
		c.Set(keys[i], i)
	}
	return c, keys
}

// BenchmarkCacheHit measures one Get that finds a live entry.
func BenchmarkCacheHit(b *testing.B) {
	c, keys := benchCache(b, 1024)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, ok := c.Get(keys[i&1023]); !ok {
			b.Fatal("miss")
		}
		i++
	}
}

// BenchmarkCacheHitParallel measures hits from every core at once.
func BenchmarkCacheHitParallel(b *testing.B) {
	c, keys := benchCache(b, 1024)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, ok := c.Get(keys[i&1023]); !ok {
				b.Fatal("miss")
			}
			i++
		}
	})
}

// BenchmarkTTLCacheHit is the same hit on github.com/jellydator/ttlcache/v3,
// kept as the reference the package comment cites for not using it.
func BenchmarkTTLCacheHit(b *testing.B) {
	c := ttlcache.New(ttlcache.WithTTL[string, int](time.Hour), ttlcache.WithDisableTouchOnHit[string, int]())
	_, keys := benchCache(b, 1024)
	for i, k := range keys {
		c.Set(k, i, ttlcache.DefaultTTL)
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if c.Get(keys[i&1023]) == nil {
				b.Fatal("miss")
			}
			i++
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				if c.Get(keys[i&1023]) == nil {
					b.Fatal("miss")
				}
				i++
			}
		})
	})
}

// BenchmarkSharedGet measures a shared cache's Get answered by the near
// cache and, with the near cache off, by a Redis round trip.
func BenchmarkSharedGet(b *testing.B) {
	url := os.Getenv("PATRONUS_TEST_REDIS")
	if url == "" {
		b.Skip("PATRONUS_TEST_REDIS not set")
	}
	opt, err := redis.ParseURL(url)
	if err != nil {
		b.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	ns := "patronus-bench:" + rand.Text()[:12]
	for _, bc := range []struct {
		name string
		near time.Duration
	}{{"near", time.Hour}, {"redis", -1}} {
		b.Run(bc.name, func(b *testing.B) {
			s, err := NewShared(b.Context(), SharedConfig[string, int]{
				Client: rdb, Namespace: ns + bc.name, DefaultTTL: time.Hour, NearTTL: bc.near,
			})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			defer s.Clear(context.Background())
			_, keys := benchCache(b, 64)
			for i, k := range keys {
				if err := s.Set(b.Context(), k, i); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, ok, err := s.Get(b.Context(), keys[i&63]); !ok || err != nil {
					b.Fatal("miss", err)
				}
				i++
			}
		})
	}
}
