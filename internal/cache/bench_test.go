package cache

import (
	"strconv"
	"testing"
	"time"
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
