package cache

import (
	"context"
	"hash/maphash"
	"math/bits"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Config configures a [Cache].
type Config struct {
	// DefaultTTL is how long entries stored with Set live. Zero or
	// negative means they never expire.
	DefaultTTL time.Duration

	// Now returns the current time. Nil means the runtime clock, read
	// through its monotonic reading only, which is also what
	// testing/synctest fakes; set it only to drive a cache by hand.
	Now func() time.Time

	// Shards is the number of independently locked parts of the map,
	// rounded up to a power of two. Zero picks four per CPU, so readers on
	// different cores seldom share a lock's cache line.
	Shards int
}

// Stats describes a cache at one moment. Total counts every stored entry,
// Expired those past their TTL that no cleanup has removed yet, and Active
// the rest (Total = Active + Expired). Hits and Misses count Get calls since
// the cache was made; Clear does not reset them, so they can be exported as
// Prometheus counters.
type Stats struct {
	Total   int
	Active  int
	Expired int
	Hits    uint64
	Misses  uint64
}

// Cache is an in-process map whose entries expire after a TTL. It is safe for
// concurrent use. Expired entries are never returned by Get; they keep their
// memory until CleanupExpired (or RunCleanup) removes them, or the key is
// set again.
type Cache[K comparable, V any] struct {
	ttl    time.Duration
	now    func() time.Time // nil: use time.Since(base)
	base   time.Time
	seed   maphash.Seed
	mask   uint64
	shards []shard[K, V]
}

// entry is one stored value. expires is the deadline in nanoseconds since
// the cache's base time; zero means never.
type entry[V any] struct {
	value   V
	expires int64
}

// shard is one part of the map with its own lock and counters. The padding
// keeps neighbouring shards' locks on different cache lines.
type shard[K comparable, V any] struct {
	mu     sync.RWMutex
	m      map[K]entry[V]
	hits   atomic.Uint64
	misses atomic.Uint64
	_      [64]byte
}

// New returns an empty cache.
func New[K comparable, V any](cfg Config) *Cache[K, V] {
	n := cfg.Shards
	if n <= 0 {
		n = 4 * runtime.GOMAXPROCS(0)
	}
	n = 1 << bits.Len(uint(n-1)) // round up to a power of two
	c := &Cache[K, V]{
		ttl:    cfg.DefaultTTL,
		now:    cfg.Now,
		seed:   maphash.MakeSeed(),
		mask:   uint64(n - 1),
		shards: make([]shard[K, V], n),
	}
	if c.now != nil {
		c.base = c.now()
	} else {
		c.base = time.Now()
	}
	for i := range c.shards {
		c.shards[i].m = make(map[K]entry[V])
	}
	return c
}

// DefaultTTL returns the TTL that Set gives entries.
func (c *Cache[K, V]) DefaultTTL() time.Duration { return c.ttl }

// clock returns nanoseconds since the cache's base time. Without an
// injected clock it reads only the monotonic clock, which costs half of
// time.Now (one clock read instead of two) on the hit path.
func (c *Cache[K, V]) clock() int64 {
	if c.now != nil {
		return int64(c.now().Sub(c.base))
	}
	return int64(time.Since(c.base))
}

// deadline returns the expiry for an entry stored now with ttl.
func (c *Cache[K, V]) deadline(ttl time.Duration) int64 {
	if ttl <= 0 {
		return 0
	}
	// The +1 keeps a deadline at the base instant distinct from "never".
	return max(c.clock()+int64(ttl), 1)
}

// shard returns the shard that holds k.
func (c *Cache[K, V]) shard(k K) *shard[K, V] {
	if c.mask == 0 {
		return &c.shards[0]
	}
	return &c.shards[shardHash(c.seed, k)&c.mask]
}

// shardHash hashes a key to pick its shard. Strings, the common key, skip
// maphash.Comparable's generic path, which costs half as much again.
func shardHash[K comparable](seed maphash.Seed, k K) uint64 {
	if s, ok := any(k).(string); ok {
		return maphash.String(seed, s)
	}
	return maphash.Comparable(seed, k)
}

// expired reports whether e is past its deadline at time now.
func (e *entry[V]) expired(now int64) bool {
	return e.expires != 0 && now >= e.expires
}

// Set stores v under k with the default TTL, replacing any earlier entry.
func (c *Cache[K, V]) Set(k K, v V) {
	c.SetWithTTL(k, v, c.ttl)
}

// SetWithTTL stores v under k for ttl, replacing any earlier entry. A zero
// or negative ttl stores it without expiry.
func (c *Cache[K, V]) SetWithTTL(k K, v V, ttl time.Duration) {
	e := entry[V]{value: v, expires: c.deadline(ttl)}
	s := c.shard(k)
	s.mu.Lock()
	s.m[k] = e
	s.mu.Unlock()
}

// Get returns the value stored under k, and false if there is none or it
// has expired.
func (c *Cache[K, V]) Get(k K) (V, bool) {
	s := c.shard(k)
	s.mu.RLock()
	e, ok := s.m[k]
	s.mu.RUnlock()
	if !ok || (e.expires != 0 && e.expired(c.clock())) {
		s.misses.Add(1)
		var zero V
		return zero, false
	}
	s.hits.Add(1)
	return e.value, true
}

// Remove deletes the entry under k and reports whether one was stored
// (expired or not).
func (c *Cache[K, V]) Remove(k K) bool {
	s := c.shard(k)
	s.mu.Lock()
	_, ok := s.m[k]
	delete(s.m, k)
	s.mu.Unlock()
	return ok
}

// CleanupExpired deletes every expired entry and returns how many it
// deleted.
func (c *Cache[K, V]) CleanupExpired() int {
	now := c.clock()
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		for k, e := range s.m {
			if e.expired(now) {
				delete(s.m, k)
				n++
			}
		}
		s.mu.Unlock()
	}
	return n
}

// Clear deletes every entry, expired or not, and returns how many it
// deleted. An entry set concurrently with Clear may survive it.
func (c *Cache[K, V]) Clear() int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		n += len(s.m)
		clear(s.m)
		s.mu.Unlock()
	}
	return n
}

// Stats counts the entries and returns the hit and miss counts. It visits
// every entry, so it costs as much as CleanupExpired without the writes.
func (c *Cache[K, V]) Stats() Stats {
	now := c.clock()
	var st Stats
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		st.Total += len(s.m)
		for _, e := range s.m {
			if e.expired(now) {
				st.Expired++
			}
		}
		s.mu.RUnlock()
		st.Hits += s.hits.Load()
		st.Misses += s.misses.Load()
	}
	st.Active = st.Total - st.Expired
	return st
}

// RunCleanup calls CleanupExpired every interval until ctx is done, so
// expired entries do not hold memory indefinitely. It blocks; run it in its
// own goroutine.
func (c *Cache[K, V]) RunCleanup(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			c.CleanupExpired()
		}
	}
}
