package store

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/patronus-sdwan/patronus/internal/sdwan"
)

// TestTrafficLog: reports are logged once per (edge, epoch, seq), read
// back per edge in sending order past a mark, pruned only up to a mark
// and an age; the state is replaced whole.
func TestTrafficLog(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		t0 := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
		add := func(edge string, epoch, seq uint64, at time.Time) error {
			return s.Tx(ctx, func(q Q) error {
				return q.AddTrafficReport(ctx, &TrafficReport{Edge: edge, Epoch: epoch, Seq: seq, Body: []byte(`{"n":1}`), ReceivedAt: at})
			})
		}
		// Out of order on purpose: the log orders by epoch and sequence.
		for _, r := range []struct {
			edge       string
			epoch, seq uint64
			at         time.Duration
		}{{"a", 1, 2, 2}, {"a", 1, 1, 1}, {"b", 5, 1, 1}, {"a", 2, 1, 3}, {"a", 1, 3, 2}} {
			if err := add(r.edge, r.epoch, r.seq, t0.Add(r.at*time.Minute)); err != nil {
				t.Fatal(err)
			}
		}
		if err := add("a", 1, 2, t0); !errors.Is(err, sdwan.ErrConflict) {
			t.Fatalf("logging a report twice: %v, want ErrConflict", err)
		}
		seqs := func(rs []TrafficReport) (out [][2]uint64) {
			for _, r := range rs {
				out = append(out, [2]uint64{r.Epoch, r.Seq})
			}
			return out
		}
		got, err := s.Read().TrafficReportsAfter(ctx, "a", 1, 1)
		if err != nil {
			t.Fatal(err)
		}
		if want := [][2]uint64{{1, 2}, {1, 3}, {2, 1}}; !slices.Equal(seqs(got), want) {
			t.Fatalf("after 1/1: %v, want %v", seqs(got), want)
		}
		if string(got[0].Body) != `{"n":1}` || !got[0].ReceivedAt.Equal(t0.Add(2*time.Minute)) {
			t.Errorf("report read back as %+v", got[0])
		}
		all, err := s.Read().TrafficReports(ctx)
		if err != nil || len(all) != 5 || all[4].Edge != "b" {
			t.Fatalf("all reports: %d, %v", len(all), err)
		}
		// Prune a's reports up to 1/3 received before t0+2m: only 1/1.
		var n int64
		tx(t, s, func(q Q) (err error) {
			n, err = q.PruneTrafficReports(ctx, "a", 1, 3, t0.Add(2*time.Minute))
			return err
		})
		if n != 1 {
			t.Fatalf("pruned %d, want 1", n)
		}
		if got, _ := s.Read().TrafficReportsAfter(ctx, "a", 0, 0); !slices.Equal(seqs(got), [][2]uint64{{1, 2}, {1, 3}, {2, 1}}) {
			t.Fatalf("after pruning: %v", seqs(got))
		}

		if _, ok, err := s.Read().TrafficState(ctx); ok || err != nil {
			t.Fatalf("fresh store has a traffic state (%v, %v)", ok, err)
		}
		tx(t, s, func(q Q) error { return q.InitTrafficState(ctx, []byte(`{"v":0}`), t0) })
		for _, body := range []string{`{"v":1}`, `{"v":2}`} {
			tx(t, s, func(q Q) error { return q.SetTrafficState(ctx, []byte(body), t0) })
		}
		tx(t, s, func(q Q) error { return q.InitTrafficState(ctx, []byte(`{"v":3}`), t0) }) // one stands
		if body, ok, err := s.Read().TrafficState(ctx); !ok || err != nil || string(body) != `{"v":2}` {
			t.Fatalf("state = %s, %v, %v", body, ok, err)
		}
	})
}
