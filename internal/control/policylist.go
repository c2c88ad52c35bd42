package control

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/patronus-sdwan/patronus/internal/auth"
	"github.com/patronus-sdwan/patronus/internal/events"
	"github.com/patronus-sdwan/patronus/internal/sdwan"
	"github.com/patronus-sdwan/patronus/internal/store"
)

// PolicyListTTL bounds how long a replica may serve its in-memory policy
// list without rereading the store. Changes normally reach the list at
// once (this replica's writes) or within an event's delivery (other
// replicas'), so the bound matters only when events are lost: a PostgreSQL
// bridge that reconnects misses the notifications sent meanwhile, and a
// process writing the database directly publishes none.
const PolicyListTTL = 5 * time.Second

// PolicyList is every policy in evaluation order (ascending priority) as
// one read of the store saw it. It is shared by every caller that asks
// while it is current, so its Policies must not be modified.
type PolicyList struct {
	Policies []sdwan.Policy

	gen    uint64    // policyCache.gen when the read began
	expiry time.Time // when it must be read again regardless
}

// policyCache keeps the policy list in memory, so listing policies, which
// the dashboard does on every refresh, reads no rows. Policies change only
// by an operator's hand, so the list is reread after each change rather
// than patched.
//
// Staleness is tracked by a generation: every change bumps gen, and a list
// read while gen had another value is not served. The generation is read
// before the store is, so a change that commits during a read leaves that
// list already outdated.
type policyCache struct {
	gen  atomic.Uint64
	cur  atomic.Pointer[PolicyList]
	load sync.Mutex // one reread at a time; the others wait for its result
}

// invalidate marks the cached list stale.
func (c *policyCache) invalidate() { c.gen.Add(1) }

// fresh returns the cached list if it is still current at now.
func (c *policyCache) fresh(now time.Time) *PolicyList {
	l := c.cur.Load()
	if l == nil || l.gen != c.gen.Load() || !now.Before(l.expiry) {
		return nil
	}
	return l
}

// Policies returns every policy in evaluation order, from memory while no
// change has been made since it was last read (reader, or an edge).
func (s *Service) Policies(ctx context.Context, p auth.Principal) (*PolicyList, error) {
	if p.Role != sdwan.RoleEdge {
		if err := Require(p, sdwan.RoleViewer); err != nil {
			return nil, err
		}
	}
	c := &s.policies
	if l := c.fresh(s.now()); l != nil {
		return l, nil
	}
	c.load.Lock()
	defer c.load.Unlock()
	now := s.now()
	if l := c.fresh(now); l != nil {
		return l, nil // another caller reread it while this one waited
	}
	gen := c.gen.Load()
	q := s.st.Read()
	ps, err := listEvery(func(pg store.Page) ([]sdwan.Policy, int, error) {
		return q.ListPolicies(ctx, store.PolicyFilter{}, pg)
	})
	if err != nil {
		return nil, err
	}
	l := &PolicyList{Policies: ps, gen: gen, expiry: now.Add(PolicyListTTL)}
	c.cur.Store(l)
	return l, nil
}

// FollowReplicas keeps the in-memory policy list in step with other
// replicas' policy changes until ctx ends. The service's own changes make
// the list stale as they commit (write); another replica's arrive as its
// events, and a burst that overflows the subscription, losing some, makes
// the list stale too.
func (s *Service) FollowReplicas(ctx context.Context) {
	origin := s.bus.Origin()
	sub := s.bus.Subscribe(ctx, 256, func(e events.Event) bool {
		return e.Origin != origin && (e.Kind == events.PolicyChanged || e.Kind == events.PolicyDeleted)
	})
	var lost uint64
	for range sub.C() {
		if n := sub.Dropped(); n != lost {
			lost = n
			s.log.Warn("control: policy events from other replicas were lost; rereading the policy list", "lost", n)
		}
		s.policies.invalidate()
	}
}
