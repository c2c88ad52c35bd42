package cache

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// listen keeps a subscription to the invalidation channel until ctx is
// done, resubscribing with backoff after any failure. Redis pub/sub delivers
// at most once, so while no subscription is confirmed the near cache is
// bypassed, and each confirmed (re)subscription empties it: anything kept
// while messages could have been lost is dropped.
func (s *Shared[K, V]) listen(ctx context.Context) {
	defer close(s.done)
	var readyOnce sync.Once
	backoff := 50 * time.Millisecond
	for ctx.Err() == nil {
		ps := s.rdb.Subscribe(ctx, s.channel)
		s.mu.Lock()
		if ctx.Err() != nil { // Close ran before ps was visible to it
			s.mu.Unlock()
			ps.Close()
			return
		}
		s.ps = ps
		s.mu.Unlock()

		err := s.receive(ctx, ps, func() {
			readyOnce.Do(func() { close(s.ready) })
			backoff = 50 * time.Millisecond
		})
		s.coherent.Store(false)
		ps.Close()
		if ctx.Err() != nil {
			return
		}
		s.log.Warn("cache: invalidation subscription lost; near cache bypassed until it is back",
			"channel", s.channel, "err", err, "retry", backoff)
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// receive handles messages on ps until it fails, calling subscribed each
// time Redis confirms the subscription.
func (s *Shared[K, V]) receive(ctx context.Context, ps *redis.PubSub, subscribed func()) error {
	pinged := false
	for {
		msg, err := ps.ReceiveTimeout(ctx, s.health)
		if err != nil {
			if isTimeout(err) && !pinged {
				// Quiet channel: check the connection is still alive.
				if err := ps.Ping(ctx); err != nil {
					return err
				}
				pinged = true
				continue
			}
			return err
		}
		pinged = false
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" && m.Channel == s.channel {
				s.dropAllNear()
				s.coherent.Store(true)
				s.subs.Add(1)
				subscribed()
			}
		case *redis.Message:
			s.apply(m.Payload)
		}
	}
}

// apply acts on one invalidation message, skipping this replica's own.
func (s *Shared[K, V]) apply(payload string) {
	s.received.Add(1)
	kind, rest, _ := strings.Cut(payload, ":")
	origin, key, _ := strings.Cut(rest, ":")
	if origin == s.origin {
		return
	}
	switch kind + ":" {
	case msgDelete:
		s.dropNear(key)
	default:
		// A clear, or a message from a newer replica this one does not
		// understand: dropping everything is always safe.
		s.dropAllNear()
	}
}

// isTimeout reports whether err is a read timeout rather than a failure.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
