package cache

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"
)

// The Redis tests run against the server named by PATRONUS_TEST_REDIS (for
// example redis://127.0.0.1:6379/0) and skip without it. Each test uses its
// own random namespace, so parallel runs on one server do not collide, and
// deletes it afterwards.

// pathMetrics stands in for the metrics the controller caches.
type pathMetrics struct {
	LatencyMs float64
	LossPct   float64
	Score     int
}

// replica is one controller's view of a shared cache.
type replica struct {
	*Shared[string, pathMetrics]
	name string // the Redis client name of its connections
}

// sharedEnv is a namespace on the test server and a raw client for it.
type sharedEnv struct {
	t         *testing.T
	url       string
	namespace string
	raw       *redis.Client
}

func newSharedEnv(t *testing.T) *sharedEnv {
	t.Helper()
	url := os.Getenv("PATRONUS_TEST_REDIS")
	if url == "" {
		t.Skip("PATRONUS_TEST_REDIS not set")
	}
	e := &sharedEnv{t: t, url: url, namespace: "patronus-test:" + rand.Text()[:12]}
	e.raw = e.client("raw")
	t.Cleanup(func() {
		ctx := context.Background() // t.Context is already cancelled here
		keys, err := e.raw.Keys(ctx, globEscape(e.namespace)+"*").Result()
		if err != nil {
			t.Errorf("listing the test's keys: %v", err)
		}
		if len(keys) > 0 {
			e.raw.Del(ctx, keys...)
		}
	})
	return e
}

// client opens a connection named after the namespace and role; it is
// closed when the test ends.
func (e *sharedEnv) client(role string) *redis.Client {
	e.t.Helper()
	opt, err := redis.ParseURL(e.url)
	if err != nil {
		e.t.Fatal(err)
	}
	opt.ClientName = strings.ReplaceAll(e.namespace, ":", "-") + "-" + role
	c := redis.NewClient(opt)
	e.t.Cleanup(func() { c.Close() })
	return c
}

// replica starts a Shared cache on its own connection, as one controller
// replica would; it is closed when the test ends.
func (e *sharedEnv) replica(role string, cfg SharedConfig[string, pathMetrics]) *replica {
	e.t.Helper()
	c := e.client(role)
	cfg.Client = c
	cfg.Namespace = e.namespace
	s, err := NewShared(e.t.Context(), cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { s.Close() })
	return &replica{Shared: s, name: c.Options().ClientName}
}

// get calls Get and fails the test on error.
func (r *replica) get(t *testing.T, k string) (pathMetrics, bool) {
	t.Helper()
	v, ok, err := r.Get(t.Context(), k)
	if err != nil {
		t.Fatalf("%s: Get(%s): %v", r.name, k, err)
	}
	return v, ok
}

// eventually polls cond until it holds, failing after a bounded wait. This
// waits on another process (Redis delivering a message), which no fake
// clock can stand in for.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after 3 s: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestSharedAcrossReplicas(t *testing.T) {
	e := newSharedEnv(t)
	cfg := SharedConfig[string, pathMetrics]{DefaultTTL: time.Minute, NearTTL: time.Minute}
	a, b := e.replica("a", cfg), e.replica("b", cfg)
	ctx := t.Context()
	v1 := pathMetrics{LatencyMs: 5, LossPct: 0.5, Score: 95}
	v2 := pathMetrics{LatencyMs: 50, LossPct: 2, Score: 40}

	// A set on A is visible on B.
	for _, k := range []string{"p1", "p2", "p3"} {
		if err := a.Set(ctx, k, v1); err != nil {
			t.Fatal(err)
		}
	}
	// Wait until B has seen the three invalidations, so none of them
	// drops what B reads next.
	eventually(t, "B receives A's invalidations", func() bool { return b.received.Load() >= 3 })
	if got, ok := b.get(t, "p1"); !ok || got != v1 {
		t.Fatalf("B: Get(p1) = %+v, %v; want %+v", got, ok, v1)
	}

	// B now answers from its near cache: a write that bypasses the cache
	// (and so publishes nothing) is not seen.
	raw, _ := b.marshal(v2)
	if err := e.raw.Set(ctx, e.namespace+":k:p1", raw, time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	if got, _ := b.get(t, "p1"); got != v1 {
		t.Fatalf("B: Get(p1) = %+v; want the near-cached %+v", got, v1)
	}
	if st := b.NearStats(); st.Hits != 1 {
		t.Fatalf("B near cache %+v; want one hit", st)
	}

	// A write through A invalidates B's near copy.
	if err := a.Set(ctx, "p1", v2); err != nil {
		t.Fatal(err)
	}
	eventually(t, "B sees A's write to p1", func() bool {
		got, _ := b.get(t, "p1")
		return got == v2
	})

	// Removing one key on A invalidates only that key on B.
	b.get(t, "p2")
	b.get(t, "p3")
	if ok, err := a.Remove(ctx, "p2"); !ok || err != nil {
		t.Fatalf("A: Remove(p2) = %v, %v", ok, err)
	}
	if ok, err := a.Remove(ctx, "p2"); ok || err != nil {
		t.Fatalf("A: second Remove(p2) = %v, %v; want false", ok, err)
	}
	eventually(t, "B misses p2 after A removed it", func() bool {
		_, ok := b.get(t, "p2")
		return !ok
	})
	if got, ok := b.get(t, "p3"); !ok || got != v1 {
		t.Fatalf("B: Get(p3) = %+v, %v; want it untouched", got, ok)
	}

	// Clear on A counts the keys in Redis and empties B's near cache.
	st, err := b.Stats(ctx)
	if err != nil || st.Total != 2 || st.Active != 2 {
		t.Fatalf("B: Stats = %+v, %v; want 2 entries", st, err)
	}
	if n, err := a.Clear(ctx); n != 2 || err != nil {
		t.Fatalf("A: Clear = %d, %v; want 2", n, err)
	}
	eventually(t, "B misses p3 after A cleared", func() bool {
		_, ok := b.get(t, "p3")
		return !ok
	})
	if st, err := b.Stats(ctx); err != nil || st.Total != 0 {
		t.Fatalf("B: Stats after clear = %+v, %v", st, err)
	}
	if n, err := b.Clear(ctx); n != 0 || err != nil {
		t.Fatalf("B: second Clear = %d, %v; want 0", n, err)
	}
}

func TestSharedTTL(t *testing.T) {
	e := newSharedEnv(t)
	a := e.replica("a", SharedConfig[string, pathMetrics]{DefaultTTL: time.Hour, NearTTL: time.Hour})
	ctx := t.Context()
	tests := []struct {
		name     string
		ttl      time.Duration // 0: Set with the default
		min, max time.Duration // bounds on the Redis PTTL; -1: no expiry
	}{
		{"default", 0, 59 * time.Minute, time.Hour},
		{"per entry", 30 * time.Second, 29 * time.Second, 30 * time.Second},
		{"negative means none", -1, -1, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			if tt.ttl == 0 {
				err = a.Set(ctx, tt.name, pathMetrics{Score: 1})
			} else {
				err = a.SetWithTTL(ctx, tt.name, pathMetrics{Score: 1}, tt.ttl)
			}
			if err != nil {
				t.Fatal(err)
			}
			d, err := e.raw.PTTL(ctx, e.namespace+":k:"+tt.name).Result()
			if err != nil || d < tt.min || d > tt.max {
				t.Errorf("PTTL = %v, %v; want within [%v, %v]", d, err, tt.min, tt.max)
			}
		})
	}

	// The near copy never outlives the Redis entry, even with a long
	// NearTTL and no invalidation.
	if err := a.SetWithTTL(ctx, "short", pathMetrics{Score: 2}, 200*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if _, ok := a.get(t, "short"); !ok {
		t.Fatal("Get(short) missed right after Set")
	}
	if st := a.NearStats(); st.Total != 1 {
		t.Fatalf("near cache %+v; want the entry kept", st)
	}
	eventually(t, "short expires from the near cache", func() bool {
		_, ok := a.get(t, "short")
		return !ok
	})
}

// TestSharedResubscribe cuts B's subscription after a change whose
// invalidation B never saw; B must drop its near copy once it has
// resubscribed instead of serving it for NearTTL.
func TestSharedResubscribe(t *testing.T) {
	e := newSharedEnv(t)
	cfg := SharedConfig[string, pathMetrics]{DefaultTTL: time.Minute, NearTTL: time.Hour}
	b := e.replica("b", cfg)
	ctx := t.Context()
	v1, v2 := pathMetrics{Score: 1}, pathMetrics{Score: 2}
	if err := b.Set(ctx, "p", v1); err != nil {
		t.Fatal(err)
	}
	b.get(t, "p") // now near-cached
	raw, _ := b.marshal(v2)
	if err := e.raw.Set(ctx, e.namespace+":k:p", raw, time.Minute).Err(); err != nil {
		t.Fatal(err) // a change whose message is lost
	}
	if got, _ := b.get(t, "p"); got != v1 {
		t.Fatalf("Get(p) = %+v; want the near-cached %+v", got, v1)
	}
	subs := b.subs.Load()
	killPubSub(t, e.raw, b.name)
	eventually(t, "B resubscribes", func() bool { return b.subs.Load() > subs && b.coherent.Load() })
	if got, _ := b.get(t, "p"); got != v2 {
		t.Fatalf("Get(p) after resubscribing = %+v; want %+v from Redis", got, v2)
	}
	// And invalidations work again on the new subscription.
	a := e.replica("a", cfg)
	if err := a.Set(ctx, "p", v1); err != nil {
		t.Fatal(err)
	}
	eventually(t, "B sees A's write after resubscribing", func() bool {
		got, _ := b.get(t, "p")
		return got == v1
	})
}

// killPubSub closes the server side of the pub/sub connection of the client
// named name.
func killPubSub(t *testing.T, raw *redis.Client, name string) {
	t.Helper()
	list, err := raw.ClientList(t.Context()).Result()
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(list, "\n") {
		if !strings.Contains(line, " name="+name+" ") || !strings.Contains(line, "cmd=subscribe") {
			continue
		}
		var id int64
		if _, err := fmt.Sscanf(line, "id=%d", &id); err != nil {
			t.Fatal(err)
		}
		if err := raw.ClientKillByFilter(t.Context(), "ID", fmt.Sprint(id)).Err(); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Fatalf("no subscriber named %s in CLIENT LIST:\n%s", name, list)
}

// TestSharedClearBatches clears more keys than one scan batch holds.
func TestSharedClearBatches(t *testing.T) {
	e := newSharedEnv(t)
	a := e.replica("a", SharedConfig[string, pathMetrics]{DefaultTTL: time.Minute, NearTTL: -1})
	ctx := t.Context()
	const n = 1300
	pipe := e.raw.Pipeline()
	for i := range n {
		pipe.Set(ctx, fmt.Sprintf("%s:k:p%d", e.namespace, i), `{"Score":1}`, time.Minute)
	}
	pipe.Set(ctx, e.namespace+"-other:k:x", "1", time.Minute) // a neighbouring namespace
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if st, err := a.Stats(ctx); err != nil || st.Total != n {
		t.Fatalf("Stats = %+v, %v; want %d entries", st, err, n)
	}
	if got, err := a.Clear(ctx); got != n || err != nil {
		t.Fatalf("Clear = %d, %v; want %d", got, err, n)
	}
	if err := e.raw.Get(ctx, e.namespace+"-other:k:x").Err(); err != nil {
		t.Fatalf("the neighbouring namespace was cleared too: %v", err)
	}
}

// flowKey is a struct key with a String method, as routing decisions use.
type flowKey struct {
	Src, Dst string
	Port     uint16
}

func (k flowKey) String() string { return fmt.Sprintf("%s>%s:%d", k.Src, k.Dst, k.Port) }

func TestSharedStructKey(t *testing.T) {
	e := newSharedEnv(t)
	s, err := NewShared(t.Context(), SharedConfig[flowKey, string]{
		Client: e.client("a"), Namespace: e.namespace, DefaultTTL: time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	k := flowKey{"10.0.0.1", "10.1.0.1", 443}
	if err := s.Set(t.Context(), k, "path-7"); err != nil {
		t.Fatal(err)
	}
	if got, err := e.raw.Get(t.Context(), e.namespace+":k:10.0.0.1>10.1.0.1:443").Result(); err != nil || got != `"path-7"` {
		t.Fatalf("stored %q, %v; want JSON under the String form of the key", got, err)
	}
	if v, ok, err := s.Get(t.Context(), k); v != "path-7" || !ok || err != nil {
		t.Fatalf("Get = %q, %v, %v", v, ok, err)
	}
}

// TestSharedConcurrent runs every operation from both replicas at once;
// run with -race.
func TestSharedConcurrent(t *testing.T) {
	e := newSharedEnv(t)
	// A short health check exercises the ping path while messages flow.
	cfg := SharedConfig[string, pathMetrics]{DefaultTTL: time.Minute, HealthCheck: 20 * time.Millisecond}
	reps := []*replica{e.replica("a", cfg), e.replica("b", cfg)}
	ctx := t.Context()
	var wg sync.WaitGroup
	for w := range 4 {
		r := reps[w%2]
		wg.Go(func() {
			for i := range 150 {
				k := fmt.Sprint("p", i%10)
				var err error
				switch i % 6 {
				case 0:
					err = r.Set(ctx, k, pathMetrics{Score: i})
				case 1:
					_, err = r.Remove(ctx, k)
				case 2:
					if i%30 == 2 {
						_, err = r.Clear(ctx)
					}
				default:
					_, _, err = r.Get(ctx, k)
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	// Quiesced: both replicas must agree with Redis for every key.
	if err := reps[0].Set(ctx, "p0", pathMetrics{Score: -1}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "both replicas agree on p0", func() bool {
		x, _ := reps[0].get(t, "p0")
		y, _ := reps[1].get(t, "p0")
		return x.Score == -1 && y.Score == -1
	})
}

func TestNewSharedErrors(t *testing.T) {
	down := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	defer down.Close()
	tests := []struct {
		name string
		cfg  SharedConfig[string, int]
		want string
	}{
		{"no client", SharedConfig[string, int]{Namespace: "x"}, "needs a Redis client"},
		{"no namespace", SharedConfig[string, int]{Client: down}, "needs a Redis client"},
		{"unreachable", SharedConfig[string, int]{Client: down, Namespace: "x"}, "redis ping"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewShared(t.Context(), tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewShared error = %v; want it to mention %q", err, tt.want)
			}
		})
	}
}

func TestGlobEscape(t *testing.T) {
	got := globEscape(`a*b?c[d]e\f^g:k:`)
	if diff := cmp.Diff(`a\*b\?c\[d\]e\\f\^g:k:`, got); diff != "" {
		t.Error(diff)
	}
}

func TestDefaultKey(t *testing.T) {
	if got := defaultKey[string]()("a:b"); got != "a:b" {
		t.Errorf("string key = %q", got)
	}
	if got := defaultKey[flowKey]()(flowKey{"a", "b", 1}); got != "a>b:1" {
		t.Errorf("Stringer key = %q", got)
	}
	if got := defaultKey[int]()(42); got != "42" {
		t.Errorf("int key = %q", got)
	}
}
