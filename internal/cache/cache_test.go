package cache

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
)

// op is one step of a table-driven cache scenario, run inside a synctest
// bubble so sleeps advance a fake clock.
type op struct {
	sleep  time.Duration // advance the clock first
	set    string        // Set(set, value) with the default TTL
	setTTL time.Duration // with set: SetWithTTL instead
	value  int
	get    string // Get(get); want value/ok
	want   int
	wantOK bool
	remove string // Remove(remove); wantOK
	clean  bool   // CleanupExpired(); want count
	clear  bool   // Clear(); want count
	stats  *Stats // Stats(); compared whole
}

func TestCacheScenarios(t *testing.T) {
	tests := []struct {
		name string
		ttl  time.Duration
		ops  []op
	}{
		{
			name: "default TTL expires",
			ttl:  time.Minute,
			ops: []op{
				{set: "a", value: 1},
				{get: "a", want: 1, wantOK: true},
				{sleep: time.Minute - time.Nanosecond},
				{get: "a", want: 1, wantOK: true},
				{sleep: time.Nanosecond},
				{get: "a", wantOK: false},
				{stats: &Stats{Total: 1, Expired: 1, Hits: 2, Misses: 1}},
			},
		},
		{
			name: "per-entry TTL shorter and longer than default",
			ttl:  time.Minute,
			ops: []op{
				{set: "short", setTTL: 10 * time.Second, value: 1},
				{set: "long", setTTL: 5 * time.Minute, value: 2},
				{set: "default", value: 3},
				{sleep: 10 * time.Second},
				{get: "short", wantOK: false},
				{get: "default", want: 3, wantOK: true},
				{stats: &Stats{Total: 3, Active: 2, Expired: 1, Hits: 1, Misses: 1}},
				{sleep: 50 * time.Second},
				{get: "default", wantOK: false},
				{get: "long", want: 2, wantOK: true},
				{sleep: 4 * time.Minute},
				{get: "long", wantOK: false},
			},
		},
		{
			name: "zero default TTL never expires",
			ttl:  0,
			ops: []op{
				{set: "a", value: 1},
				{sleep: 1000 * time.Hour},
				{get: "a", want: 1, wantOK: true},
				{clean: true, want: 0},
				{stats: &Stats{Total: 1, Active: 1, Hits: 1}},
			},
		},
		{
			name: "set again renews the TTL and the value",
			ttl:  time.Minute,
			ops: []op{
				{set: "a", value: 1},
				{sleep: 50 * time.Second},
				{set: "a", value: 2},
				{sleep: 50 * time.Second},
				{get: "a", want: 2, wantOK: true},
			},
		},
		{
			name: "cleanup removes only expired entries and counts them",
			ttl:  time.Minute,
			ops: []op{
				{set: "a", value: 1},
				{set: "b", value: 2},
				{set: "c", setTTL: time.Hour, value: 3},
				{sleep: 2 * time.Minute},
				{set: "d", value: 4},
				{stats: &Stats{Total: 4, Active: 2, Expired: 2}},
				{clean: true, want: 2},
				{clean: true, want: 0},
				{stats: &Stats{Total: 2, Active: 2}},
				{get: "c", want: 3, wantOK: true},
				{get: "d", want: 4, wantOK: true},
			},
		},
		{
			name: "clear counts expired and live entries and keeps hit counts",
			ttl:  time.Minute,
			ops: []op{
				{set: "a", value: 1},
				{set: "b", setTTL: time.Second, value: 2},
				{set: "c", value: 3},
				{get: "a", want: 1, wantOK: true},
				{sleep: 2 * time.Second},
				{clear: true, want: 3},
				{get: "a", wantOK: false},
				{clear: true, want: 0},
				{stats: &Stats{Hits: 1, Misses: 1}},
			},
		},
		{
			name: "remove reports presence",
			ttl:  time.Minute,
			ops: []op{
				{remove: "a", wantOK: false},
				{set: "a", value: 1},
				{remove: "a", wantOK: true},
				{get: "a", wantOK: false},
				{set: "b", setTTL: time.Second, value: 2},
				{sleep: time.Hour},
				{remove: "b", wantOK: true}, // expired but still stored
				{stats: &Stats{Misses: 1}},
			},
		},
		{
			name: "negative per-entry TTL never expires",
			ttl:  time.Minute,
			ops: []op{
				{set: "a", setTTL: -1, value: 1},
				{sleep: 1000 * time.Hour},
				{get: "a", want: 1, wantOK: true},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := New[string, int](Config{DefaultTTL: tt.ttl})
				for i, o := range tt.ops {
					time.Sleep(o.sleep)
					switch {
					case o.set != "" && o.setTTL != 0:
						c.SetWithTTL(o.set, o.value, o.setTTL)
					case o.set != "":
						c.Set(o.set, o.value)
					case o.get != "":
						v, ok := c.Get(o.get)
						if v != o.want || ok != o.wantOK {
							t.Errorf("op %d: Get(%q) = %d, %v; want %d, %v", i, o.get, v, ok, o.want, o.wantOK)
						}
					case o.remove != "":
						if ok := c.Remove(o.remove); ok != o.wantOK {
							t.Errorf("op %d: Remove(%q) = %v; want %v", i, o.remove, ok, o.wantOK)
						}
					case o.clean:
						if n := c.CleanupExpired(); n != o.want {
							t.Errorf("op %d: CleanupExpired() = %d; want %d", i, n, o.want)
						}
					case o.clear:
						if n := c.Clear(); n != o.want {
							t.Errorf("op %d: Clear() = %d; want %d", i, n, o.want)
						}
					case o.stats != nil:
						if diff := cmp.Diff(*o.stats, c.Stats()); diff != "" {
							t.Errorf("op %d: Stats() mismatch (-want +got):\n%s", i, diff)
						}
					}
				}
			})
		})
	}
}

// TestCacheInjectedClock drives expiry through Config.Now, without synctest.
func TestCacheInjectedClock(t *testing.T) {
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	c := New[string, string](Config{DefaultTTL: 30 * time.Second, Now: func() time.Time { return now }})
	c.Set("flow", "path-1")
	now = now.Add(29 * time.Second)
	if v, ok := c.Get("flow"); !ok || v != "path-1" {
		t.Fatalf("Get before expiry = %q, %v; want path-1, true", v, ok)
	}
	now = now.Add(time.Second)
	if _, ok := c.Get("flow"); ok {
		t.Fatal("Get at expiry found the entry")
	}
}

// TestCacheShardCounts checks that the shard count rounds up to a power of
// two and that every layout behaves the same.
func TestCacheShardCounts(t *testing.T) {
	for _, shards := range []int{0, 1, 3, 64} {
		t.Run(fmt.Sprint(shards), func(t *testing.T) {
			c := New[int, int](Config{Shards: shards})
			n := len(c.shards)
			if n&(n-1) != 0 || (shards > 0 && n < shards) {
				t.Fatalf("%d shards for Shards=%d", n, shards)
			}
			for i := range 500 {
				c.Set(i, i*i)
			}
			for i := range 500 {
				if v, ok := c.Get(i); !ok || v != i*i {
					t.Fatalf("Get(%d) = %d, %v", i, v, ok)
				}
			}
			if got := c.Clear(); got != 500 {
				t.Fatalf("Clear() = %d; want 500", got)
			}
		})
	}
}

// TestCacheStructKey uses a comparable struct key, as a routing cache keyed
// by flow would.
func TestCacheStructKey(t *testing.T) {
	type flow struct {
		src, _ [16]byte // a destination, never set here, sizes the key like a real flow
		sport  uint16
	}
	c := New[flow, string](Config{Shards: 8})
	a := flow{src: [16]byte{10, 0, 0, 1}, sport: 443}
	b := flow{src: [16]byte{10, 0, 0, 1}, sport: 444}
	c.Set(a, "wan1")
	c.Set(b, "wan2")
	for k, want := range map[flow]string{a: "wan1", b: "wan2"} {
		if got, ok := c.Get(k); !ok || got != want {
			t.Errorf("Get(%v) = %q, %v; want %q", k, got, ok, want)
		}
	}
}

// TestRunCleanup checks that the background cleanup removes expired entries
// on its interval and stops with its context.
func TestRunCleanup(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := New[string, int](Config{DefaultTTL: time.Minute})
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() {
			c.RunCleanup(ctx, 45*time.Second)
			close(done)
		}()
		c.Set("a", 1)
		time.Sleep(61 * time.Second) // expired; the run at 45 s found nothing, the next is at 90 s
		synctest.Wait()
		if st := c.Stats(); st.Total != 1 || st.Expired != 1 {
			t.Fatalf("at 61 s: %+v; want 1 expired entry still stored", st)
		}
		time.Sleep(30 * time.Second)
		synctest.Wait()
		if st := c.Stats(); st.Total != 0 {
			t.Fatalf("at 91 s: %+v; want the cleanup to have removed it", st)
		}
		cancel()
		<-done
	})
}

// TestCacheConcurrent hammers every operation from several goroutines; run
// with -race. Afterwards the counters must add up.
func TestCacheConcurrent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := New[int, int](Config{DefaultTTL: time.Second, Shards: 4})
		const workers, rounds = 8, 2000
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				for i := range rounds {
					k := (w*rounds + i) % 97
					switch i % 7 {
					case 0:
						c.SetWithTTL(k, i, time.Duration(i%3)*time.Second)
					case 1:
						c.Remove(k)
					case 2:
						c.CleanupExpired()
					case 3:
						if i%50 == 3 {
							c.Clear()
						}
					case 4:
						c.Stats()
					default:
						c.Set(k, i)
						c.Get(k)
					}
					if i%100 == 0 {
						time.Sleep(300 * time.Millisecond)
					}
				}
			})
		}
		wg.Wait()
		st := c.Stats()
		if st.Active+st.Expired != st.Total || st.Total > 97 {
			t.Errorf("inconsistent stats %+v", st)
		}
		// Each worker calls Get on rounds*2/7 of its rounds (cases 5 and 6).
		var gets uint64
		for i := range rounds {
			if i%7 >= 5 {
				gets++
			}
		}
		if st.Hits+st.Misses != workers*gets {
			t.Errorf("hits %d + misses %d != %d gets", st.Hits, st.Misses, workers*gets)
		}
	})
}
