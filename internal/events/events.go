// Package events carries what happens in the controller — a site created,
// a path going down, an audit entry written — from the service that did it
// to whoever listens: GraphQL subscriptions, the dashboard, other replicas.
//
// An Event names its object by ID and carries a short summary, never the
// object itself: listeners that need the object read it from the store, so
// what they see is committed state, whichever replica wrote it, and events
// stay small enough for PostgreSQL NOTIFY.
package events

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Kind names what happened.
type Kind string

// Event kinds.
const (
	SiteCreated     Kind = "site.created"
	SiteUpdated     Kind = "site.updated"
	SiteDeleted     Kind = "site.deleted" // hard delete
	SiteSoftDeleted Kind = "site.soft_deleted"
	SiteRestored    Kind = "site.restored"
	EndpointChanged Kind = "endpoint.changed"
	PathChanged     Kind = "path.changed"
	PathState       Kind = "path.state"   // the monitor changed a path's status
	PathMetrics     Kind = "path.metrics" // new measurements arrived
	PathFailover    Kind = "path.failover"
	PolicyChanged   Kind = "policy.changed"
	PolicyDeleted   Kind = "policy.deleted"
	AuditWritten    Kind = "audit"
	Alert           Kind = "alert"
	CacheCleared    Kind = "cache.cleared"
	UserChanged     Kind = "user.changed"
	KeyRevoked      Kind = "apikey.revoked"   // Summary is the key's ID
	TrafficReported Kind = "traffic.reported" // an edge report was logged; Summary is the edge

	// A replica without the site's edge relays a check or failover to the
	// replicas (EdgeAsk); the one with the edge takes it (EdgeAccepted) and
	// passes the edge's answer back (EdgeAnswer). Summary is the ask's ID,
	// Payload the message or the answer.
	EdgeAsk      Kind = "edge.ask"
	EdgeAccepted Kind = "edge.accepted"
	EdgeAnswer   Kind = "edge.answer"
)

// Event is one thing that happened.
type Event struct {
	Kind     Kind      `json:"kind"`
	At       time.Time `json:"at"`
	SiteID   string    `json:"siteId,omitempty"`
	PathID   string    `json:"pathId,omitempty"`
	PolicyID int64     `json:"policyId,omitempty"`
	AuditID  int64     `json:"auditId,omitempty"`
	UserID   string    `json:"userId,omitempty"`
	Severity string    `json:"severity,omitempty"`
	Summary  string    `json:"summary,omitempty"`
	// Payload carries what replicas pass each other beyond IDs (edge
	// relays); events for subscribers name objects by ID instead.
	Payload json.RawMessage `json:"payload,omitempty"`
	// Origin identifies the replica that published the event, so a bridge
	// does not echo its own events back.
	Origin string `json:"origin,omitempty"`
}

// Bus fans events out to subscribers in this process. Publish never blocks:
// a subscriber that falls behind by more than its buffer loses events and
// has its Dropped count raised, rather than stalling the writer.
type Bus struct {
	log     *slog.Logger
	origin  string
	mu      sync.RWMutex
	subs    map[*Subscription]struct{}
	dropped atomic.Uint64
	hooks   []func(Event) // called on every local Publish (bridges)
}

// NewBus returns a bus whose events carry the given origin.
func NewBus(log *slog.Logger, origin string) *Bus {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Bus{log: log, origin: origin, subs: map[*Subscription]struct{}{}}
}

// Origin is the replica identity stamped on local events.
func (b *Bus) Origin() string { return b.origin }

// OnPublish registers fn to see every locally published event; a
// cross-replica bridge uses it to forward them.
func (b *Bus) OnPublish(fn func(Event)) {
	b.mu.Lock()
	b.hooks = append(b.hooks, fn)
	b.mu.Unlock()
}

// Bridged reports whether events published here reach other replicas
// (a bridge has registered with OnPublish).
func (b *Bus) Bridged() bool {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return len(b.hooks) > 0
}

// Publish stamps e as local and delivers it.
func (b *Bus) Publish(e Event) {
	if e.At.IsZero() {
		e.At = time.Now().UTC()
	}
	e.Origin = b.origin
	b.mu.RLock()
	hooks := b.hooks
	b.mu.RUnlock()
	for _, h := range hooks {
		h(e)
	}
	b.Deliver(e)
}

// Deliver hands e to local subscribers without forwarding it; bridges call
// it for events that came from another replica.
func (b *Bus) Deliver(e Event) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	for s := range b.subs {
		if s.filter != nil && !s.filter(e) {
			continue
		}
		select {
		case s.c <- e:
		default:
			s.dropped.Add(1)
			b.dropped.Add(1)
		}
	}
}

// Dropped reports how many deliveries were lost to slow subscribers.
func (b *Bus) Dropped() uint64 { return b.dropped.Load() }

// Subscription is one listener's stream of events.
type Subscription struct {
	c       chan Event
	filter  func(Event) bool
	dropped atomic.Uint64
}

// C is the stream; it is closed when the subscription's context ends.
func (s *Subscription) C() <-chan Event { return s.c }

// Dropped reports how many events this subscriber lost.
func (s *Subscription) Dropped() uint64 { return s.dropped.Load() }

// Subscribe returns a subscription to events that pass filter (nil: all),
// buffered by buf, that ends when ctx does.
func (b *Bus) Subscribe(ctx context.Context, buf int, filter func(Event) bool) *Subscription {
	s := &Subscription{c: make(chan Event, max(buf, 1)), filter: filter}
	b.mu.Lock()
	b.subs[s] = struct{}{}
	b.mu.Unlock()
	context.AfterFunc(ctx, func() {
		b.mu.Lock()
		delete(b.subs, s)
		b.mu.Unlock()
		close(s.c) // safe: Deliver holds the read lock while sending
	})
	return s
}

// Kinds returns a filter that passes the listed kinds.
func Kinds(kinds ...Kind) func(Event) bool {
	return func(e Event) bool {
		for _, k := range kinds {
			if e.Kind == k {
				return true
			}
		}
		return false
	}
}
