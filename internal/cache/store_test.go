package cache

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestLocal checks that the Store adapter passes every operation through.
func TestLocal(t *testing.T) {
	synctest.Test(t, testLocal)
}

func testLocal(t *testing.T) {
	ctx := t.Context()
	var s Store[string, int] = NewLocal(New[string, int](Config{DefaultTTL: time.Hour}))
	mustNil := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	mustNil(s.Set(ctx, "a", 1))
	mustNil(s.SetWithTTL(ctx, "b", 2, time.Second))
	time.Sleep(time.Second) // b has expired
	if v, ok, err := s.Get(ctx, "a"); v != 1 || !ok || err != nil {
		t.Errorf("Get(a) = %d, %v, %v", v, ok, err)
	}
	if _, ok, _ := s.Get(ctx, "b"); ok {
		t.Error("Get(b) found an expired entry")
	}
	st, err := s.Stats(ctx)
	mustNil(err)
	if diff := cmp.Diff(Stats{Total: 2, Active: 1, Expired: 1, Hits: 1, Misses: 1}, st); diff != "" {
		t.Errorf("Stats (-want +got):\n%s", diff)
	}
	if n, err := s.CleanupExpired(ctx); n != 1 || err != nil {
		t.Errorf("CleanupExpired = %d, %v; want 1", n, err)
	}
	if ok, err := s.Remove(ctx, "a"); !ok || err != nil {
		t.Errorf("Remove(a) = %v, %v", ok, err)
	}
	mustNil(s.Set(ctx, "c", 3))
	if n, err := s.Clear(ctx); n != 1 || err != nil {
		t.Errorf("Clear = %d, %v; want 1", n, err)
	}
}

// clearerFunc is a Clearer made of a function.
type clearerFunc func(context.Context) (int, error)

func (f clearerFunc) Clear(ctx context.Context) (int, error) { return f(ctx) }

func TestClearAll(t *testing.T) {
	errDown := errors.New("redis down")
	metrics := New[string, int](Config{})
	routing := New[string, string](Config{})
	for _, k := range []string{"p1", "p2", "p3"} {
		metrics.Set(k, 1)
	}
	routing.Set("f1", "p1")
	tests := []struct {
		name    string
		stores  []Clearer
		want    int
		wantErr error
	}{
		{"none", nil, 0, nil},
		{"both caches", []Clearer{NewLocal(metrics), NewLocal(routing)}, 4, nil},
		{
			name: "one fails, the others are still cleared",
			stores: []Clearer{
				clearerFunc(func(context.Context) (int, error) { return 2, errDown }),
				clearerFunc(func(context.Context) (int, error) { return 5, nil }),
			},
			want:    7,
			wantErr: errDown,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := ClearAll(t.Context(), tt.stores...)
			if n != tt.want || !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Errorf("ClearAll = %d, %v; want %d, %v", n, err, tt.want, tt.wantErr)
			}
		})
	}
}
