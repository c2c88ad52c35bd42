package cache

import (
	"context"
	"errors"
	"time"
)

// Store is a TTL cache as the controller's read paths use it: the
// in-process [Local] and the Redis-backed [Shared] both provide it, so the
// controller picks one at start-up (with or without --redis) and its
// handlers do not care which.
//
// Errors come only from a remote backing store; the in-process cache never
// fails. A cache is an optimisation, so a caller may treat a failed Get as a
// miss, but a failed Remove or Clear means other replicas may still serve the
// old value and should be reported.
type Store[K comparable, V any] interface {
	// Get returns the live value under k; ok is false if there is none or
	// it has expired. An expired entry is never returned, even before
	// cleanup.
	Get(ctx context.Context, k K) (v V, ok bool, err error)

	// Set stores v under k with the store's default TTL, replacing any
	// earlier value everywhere the store is shared.
	Set(ctx context.Context, k K, v V) error

	// SetWithTTL stores v under k for ttl; zero or negative means no
	// expiry.
	SetWithTTL(ctx context.Context, k K, v V, ttl time.Duration) error

	// Remove deletes k, which every replica sharing the store then sees as
	// a miss, and reports whether it was stored.
	Remove(ctx context.Context, k K) (bool, error)

	// CleanupExpired deletes expired entries that still hold memory in this
	// process and returns how many it deleted.
	CleanupExpired(ctx context.Context) (int, error)

	// Clear deletes every entry, for every replica sharing the store, and
	// returns how many it deleted.
	Clear(ctx context.Context) (int, error)

	// Stats counts the entries and reports this process's hits and misses.
	Stats(ctx context.Context) (Stats, error)
}

// Local adapts an in-process [Cache] to [Store].
type Local[K comparable, V any] struct {
	c *Cache[K, V]
}

var _ Store[string, int] = (*Local[string, int])(nil)

// NewLocal returns a Store backed by c.
func NewLocal[K comparable, V any](c *Cache[K, V]) *Local[K, V] {
	return &Local[K, V]{c: c}
}

// Cache returns the underlying in-process cache.
func (l *Local[K, V]) Cache() *Cache[K, V] { return l.c }

// Get implements [Store].
func (l *Local[K, V]) Get(_ context.Context, k K) (V, bool, error) {
	v, ok := l.c.Get(k)
	return v, ok, nil
}

// Set implements [Store].
func (l *Local[K, V]) Set(_ context.Context, k K, v V) error {
	l.c.Set(k, v)
	return nil
}

// SetWithTTL implements [Store].
func (l *Local[K, V]) SetWithTTL(_ context.Context, k K, v V, ttl time.Duration) error {
	l.c.SetWithTTL(k, v, ttl)
	return nil
}

// Remove implements [Store].
func (l *Local[K, V]) Remove(_ context.Context, k K) (bool, error) {
	return l.c.Remove(k), nil
}

// CleanupExpired implements [Store].
func (l *Local[K, V]) CleanupExpired(context.Context) (int, error) {
	return l.c.CleanupExpired(), nil
}

// Clear implements [Store].
func (l *Local[K, V]) Clear(context.Context) (int, error) {
	return l.c.Clear(), nil
}

// Stats implements [Store].
func (l *Local[K, V]) Stats(context.Context) (Stats, error) {
	return l.c.Stats(), nil
}

// Clearer is the part of a [Store] that ClearAll needs.
type Clearer interface {
	Clear(ctx context.Context) (int, error)
}

// ClearAll clears every store and returns the total number of entries
// removed, as the clearCache mutation reports it. It clears them all even
// when one fails, and returns the failures joined.
func ClearAll(ctx context.Context, stores ...Clearer) (int, error) {
	total := 0
	var errs []error
	for _, s := range stores {
		n, err := s.Clear(ctx)
		total += n
		if err != nil {
			errs = append(errs, err)
		}
	}
	return total, errors.Join(errs...)
}
