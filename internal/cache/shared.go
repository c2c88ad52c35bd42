package cache

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// SharedConfig configures a [Shared] cache. Client and Namespace are
// required.
type SharedConfig[K comparable, V any] struct {
	// Client is the Redis connection, shared with other users of the same
	// server. Shared does not close it. Clear and Stats scan one node, so
	// Redis Cluster is not supported.
	Client *redis.Client

	// Namespace separates this cache from others on the same server, such
	// as "patronus:metrics". Every replica sharing the cache must use the
	// same one. Values live under Namespace+":k:"+key and invalidations go
	// out on the channel Namespace+":inv".
	Namespace string

	// DefaultTTL is the Redis expiry that Set gives entries; zero or
	// negative means none.
	DefaultTTL time.Duration

	// NearTTL bounds how long a value read from Redis is kept in process
	// (never longer than its remaining Redis TTL). Invalidations normally
	// drop it much sooner; this bound only limits the damage of a message
	// lost while the subscription looked healthy. Zero means 5 s; negative
	// disables the near cache, so every Get asks Redis.
	NearTTL time.Duration

	// HealthCheck is how long the invalidation subscription may stay silent
	// before it is pinged; a missed pong makes it resubscribe. Zero means
	// 15 s.
	HealthCheck time.Duration

	// Key encodes a key for Redis. Nil means strings as they are, the
	// String method of a fmt.Stringer, or else fmt.Sprint.
	Key func(K) string

	// Marshal and Unmarshal encode values. Nil means encoding/json.
	Marshal   func(V) ([]byte, error)
	Unmarshal func([]byte, *V) error

	// Logger receives subscription failures. Nil discards them.
	Logger *slog.Logger
}

// Shared is a TTL cache in Redis shared by every controller replica, with a
// near cache in process. It implements [Store]; see the package comment for
// how replicas stay coherent. Close stops its subscription.
type Shared[K comparable, V any] struct {
	rdb       *redis.Client
	prefix    string // Namespace + ":k:"
	channel   string // Namespace + ":inv"
	ttl       time.Duration
	nearTTL   time.Duration
	health    time.Duration
	key       func(K) string
	marshal   func(V) ([]byte, error)
	unmarshal func([]byte, *V) error
	log       *slog.Logger

	near     *Cache[string, V] // nil when disabled
	coherent atomic.Bool       // the subscription is live, so near may be read
	epoch    atomic.Uint64     // bumped before every near invalidation
	hits     atomic.Uint64
	misses   atomic.Uint64
	origin   string        // this replica's name in invalidation messages
	received atomic.Uint64 // invalidation messages received, own included
	subs     atomic.Uint64 // confirmed (re)subscriptions

	cancel context.CancelFunc
	done   chan struct{} // closed when the listener exits
	ready  chan struct{} // closed on the first confirmed subscription
	mu     sync.Mutex    // guards ps
	ps     *redis.PubSub // the listener's current subscription
}

var _ Store[string, int] = (*Shared[string, int])(nil)

// Invalidation messages are "d:" + origin + ":" + encoded key to drop one
// key and "c:" + origin to drop all, where origin names the replica that sent
// it: a replica has already dropped its own near entries by the time its
// message comes back, and skipping it keeps the value it may have re-read
// meanwhile.
const (
	msgDelete = "d:"
	msgClear  = "c:"
)

// NewShared checks that Redis answers, subscribes to the namespace's
// invalidation channel and returns once the subscription is confirmed, so no
// invalidation published after it returns is missed. ctx bounds only the
// start-up; call Close to stop the subscription.
func NewShared[K comparable, V any](ctx context.Context, cfg SharedConfig[K, V]) (*Shared[K, V], error) {
	if cfg.Client == nil || cfg.Namespace == "" {
		return nil, errors.New("cache: shared cache needs a Redis client and a namespace")
	}
	s := &Shared[K, V]{
		rdb:       cfg.Client,
		prefix:    cfg.Namespace + ":k:",
		channel:   cfg.Namespace + ":inv",
		ttl:       cfg.DefaultTTL,
		nearTTL:   cmp.Or(cfg.NearTTL, 5*time.Second),
		health:    cmp.Or(cfg.HealthCheck, 15*time.Second),
		key:       cfg.Key,
		marshal:   cfg.Marshal,
		unmarshal: cfg.Unmarshal,
		log:       cfg.Logger,
		origin:    rand.Text()[:10],
		done:      make(chan struct{}),
		ready:     make(chan struct{}),
	}
	if s.key == nil {
		s.key = defaultKey[K]()
	}
	if s.marshal == nil {
		s.marshal = func(v V) ([]byte, error) { return json.Marshal(v) }
	}
	if s.unmarshal == nil {
		s.unmarshal = func(b []byte, v *V) error { return json.Unmarshal(b, v) }
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.nearTTL > 0 {
		s.near = New[string, V](Config{DefaultTTL: s.nearTTL})
	}
	if err := s.rdb.Ping(ctx).Err(); err != nil {
		return nil, fmt.Errorf("cache: redis ping: %w", err)
	}
	lctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go s.listen(lctx)
	select {
	case <-s.ready:
		return s, nil
	case <-ctx.Done():
		s.Close()
		return nil, fmt.Errorf("cache: subscribe to %s: %w", s.channel, ctx.Err())
	}
}

// defaultKey returns the key encoder used when none is configured. It picks
// the conversion once, by type, so encoding a string key does not box it on
// every Get.
func defaultKey[K comparable]() func(K) string {
	var zero K
	switch any(zero).(type) {
	case string:
		return func(k K) string { return any(k).(string) }
	case fmt.Stringer:
		return func(k K) string { return any(k).(fmt.Stringer).String() }
	}
	return func(k K) string { return fmt.Sprint(k) }
}

// Close stops the invalidation subscription and waits for its goroutine. It
// does not close the Redis client. The cache must not be used afterwards.
func (s *Shared[K, V]) Close() error {
	s.cancel()
	s.mu.Lock()
	if s.ps != nil {
		s.ps.Close() // unblocks a pending receive
	}
	s.mu.Unlock()
	<-s.done
	return nil
}

// Get implements [Store]. It answers from the near cache while the
// subscription is live, and otherwise from Redis, filling the near cache.
func (s *Shared[K, V]) Get(ctx context.Context, k K) (V, bool, error) {
	var zero V
	ks := s.key(k)
	if s.near != nil && s.coherent.Load() {
		if v, ok := s.near.Get(ks); ok {
			s.hits.Add(1)
			return v, true, nil
		}
	}
	epoch := s.epoch.Load()
	var get *redis.StringCmd
	var pttl *redis.DurationCmd
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		get = p.Get(ctx, s.prefix+ks)
		pttl = p.PTTL(ctx, s.prefix+ks)
		return nil
	})
	if errors.Is(get.Err(), redis.Nil) {
		s.misses.Add(1)
		return zero, false, nil
	}
	if err != nil {
		s.misses.Add(1)
		return zero, false, fmt.Errorf("cache: get %s: %w", ks, err)
	}
	b, _ := get.Bytes()
	var v V
	if err := s.unmarshal(b, &v); err != nil {
		s.misses.Add(1)
		return zero, false, fmt.Errorf("cache: decode %s: %w", ks, err)
	}
	s.hits.Add(1)
	s.fillNear(ks, v, epoch, pttl.Val())
	return v, true, nil
}

// fillNear keeps a value just read from Redis in the near cache, unless an
// invalidation arrived since the read began (epoch changed), in which case the
// value may already be stale. The check after the insert closes the race
// with an invalidation landing between check and insert: invalidations bump
// the epoch before they remove.
func (s *Shared[K, V]) fillNear(ks string, v V, epoch uint64, remaining time.Duration) {
	if s.near == nil || !s.coherent.Load() || s.epoch.Load() != epoch {
		return
	}
	ttl := s.nearTTL
	switch {
	case remaining > 0:
		ttl = min(ttl, remaining)
	case remaining != -1: // -2: the key expired meanwhile; -1: no expiry
		return
	}
	s.near.SetWithTTL(ks, v, ttl)
	if s.epoch.Load() != epoch {
		s.near.Remove(ks)
	}
}

// Set implements [Store].
func (s *Shared[K, V]) Set(ctx context.Context, k K, v V) error {
	return s.SetWithTTL(ctx, k, v, s.ttl)
}

// SetWithTTL implements [Store]. The write and the invalidation for other
// replicas go out in one round trip.
func (s *Shared[K, V]) SetWithTTL(ctx context.Context, k K, v V, ttl time.Duration) error {
	ks := s.key(k)
	b, err := s.marshal(v)
	if err != nil {
		return fmt.Errorf("cache: encode %s: %w", ks, err)
	}
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, s.prefix+ks, b, max(ttl, 0))
		p.Publish(ctx, s.channel, msgDelete+s.origin+":"+ks)
		return nil
	})
	s.dropNear(ks) // after the write, so a racing local read cannot refill the old value
	if err != nil {
		return fmt.Errorf("cache: set %s: %w", ks, err)
	}
	return nil
}

// Remove implements [Store].
func (s *Shared[K, V]) Remove(ctx context.Context, k K) (bool, error) {
	ks := s.key(k)
	var del *redis.IntCmd
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		del = p.Del(ctx, s.prefix+ks)
		p.Publish(ctx, s.channel, msgDelete+s.origin+":"+ks)
		return nil
	})
	s.dropNear(ks)
	if err != nil {
		return false, fmt.Errorf("cache: remove %s: %w", ks, err)
	}
	return del.Val() > 0, nil
}

// CleanupExpired implements [Store]. Redis deletes expired keys itself and
// does not report them, so the count is of this process's expired near-cache
// entries only.
func (s *Shared[K, V]) CleanupExpired(context.Context) (int, error) {
	if s.near == nil {
		return 0, nil
	}
	return s.near.CleanupExpired(), nil
}

// Clear implements [Store]. It deletes the namespace's keys in batches and
// counts what Redis reports deleted, so two replicas clearing at once do not
// count a key twice; a key set while the scan runs may survive. Every
// replica then drops its near cache.
func (s *Shared[K, V]) Clear(ctx context.Context) (int, error) {
	n := 0
	err := s.scan(ctx, func(keys []string) error {
		d, err := s.rdb.Unlink(ctx, keys...).Result()
		n += int(d)
		return err
	})
	// Invalidate even after a partial failure: some keys are gone.
	perr := s.rdb.Publish(ctx, s.channel, msgClear+s.origin).Err()
	s.dropAllNear()
	if err = errors.Join(err, perr); err != nil {
		return n, fmt.Errorf("cache: clear %s: %w", s.prefix, err)
	}
	return n, nil
}

// Stats implements [Store]. Total and Active count the namespace's keys in
// Redis (Expired is always zero: Redis never returns expired keys); Hits and
// Misses are this replica's, near-cache hits included.
func (s *Shared[K, V]) Stats(ctx context.Context) (Stats, error) {
	n := 0
	err := s.scan(ctx, func(keys []string) error {
		n += len(keys)
		return nil
	})
	st := Stats{Total: n, Active: n, Hits: s.hits.Load(), Misses: s.misses.Load()}
	if err != nil {
		return st, fmt.Errorf("cache: stats %s: %w", s.prefix, err)
	}
	return st, nil
}

// NearStats returns the in-process near cache's stats, all zero when it is
// disabled.
func (s *Shared[K, V]) NearStats() Stats {
	if s.near == nil {
		return Stats{}
	}
	return s.near.Stats()
}

// scan calls fn with batches of the namespace's keys.
func (s *Shared[K, V]) scan(ctx context.Context, fn func([]string) error) error {
	match := globEscape(s.prefix) + "*"
	var cursor uint64
	for {
		keys, next, err := s.rdb.Scan(ctx, cursor, match, 512).Result()
		if err != nil {
			return err
		}
		if len(keys) > 0 {
			if err := fn(keys); err != nil {
				return err
			}
		}
		if next == 0 {
			return nil
		}
		cursor = next
	}
}

// globEscape escapes the characters Redis's MATCH treats as patterns.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\^`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// dropNear removes one key from the near cache, bumping the epoch first so
// that a concurrent fill started before the bump discards itself.
func (s *Shared[K, V]) dropNear(ks string) {
	if s.near == nil {
		return
	}
	s.epoch.Add(1)
	s.near.Remove(ks)
}

// dropAllNear empties the near cache, bumping the epoch first.
func (s *Shared[K, V]) dropAllNear() {
	if s.near == nil {
		return
	}
	s.epoch.Add(1)
	s.near.Clear()
}
