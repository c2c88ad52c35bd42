package control

import (
	"context"
	"slices"
	"time"

	"github.com/patronus-sdwan/patronus/internal/auth"
	"github.com/patronus-sdwan/patronus/internal/sdwan"
	"github.com/patronus-sdwan/patronus/internal/store"
)

// AvailabilityWindow is how a path spent one window of time.
type AvailabilityWindow struct {
	// Window is the length asked for (24 h, 7 d); Covered is the part of it
	// the path existed for, which the durations add up to.
	Window, Covered    time.Duration
	Up, Degraded, Down time.Duration
	// UptimePct is the share of Covered the path was Up or Degraded (able
	// to carry traffic), in percent; UpPct the share it was fully Up.
	UptimePct, UpPct float64
}

// Availability is a path's record over the last day and week.
type Availability struct {
	PathID string
	Status sdwan.PathStatus
	// Since is when the path entered its current status (its creation if
	// it never changed).
	Since time.Time
	Day   AvailabilityWindow
	Week  AvailabilityWindow
	// Last holds the most recent state transitions, newest first (at most
	// 10).
	Last []store.PathEvent
}

// PathAvailability computes a path's availability from its recorded state
// transitions (viewer). A path that has never been reported on is Down
// from its creation: nothing measured it, so nothing vouches for it.
func (s *Service) PathAvailability(ctx context.Context, p auth.Principal, pathID string) (Availability, error) {
	q, err := s.Reader(p)
	if err != nil {
		return Availability{}, err
	}
	path, err := q.Path(ctx, pathID)
	if err != nil {
		return Availability{}, err
	}
	now := s.now().UTC()
	weekStart := now.Add(-7 * 24 * time.Hour)
	evs, err := stateEvents(ctx, q, pathID, weekStart, now)
	if err != nil {
		return Availability{}, err
	}
	// The status at the start of the week is where the last transition
	// before it left the path.
	initial, lastBefore := sdwan.PathDown, time.Time{}
	last, ok, err := q.LastPathEvent(ctx, pathID, "state", weekStart)
	if err != nil {
		return Availability{}, err
	}
	if ok {
		initial, lastBefore = last.To, last.At
	}
	a := Availability{PathID: pathID, Status: path.Status, Since: path.CreatedAt}
	if len(evs) > 0 {
		a.Since = evs[len(evs)-1].At
	} else if !lastBefore.IsZero() {
		a.Since = lastBefore
	}
	a.Day = integrate(initial, evs, path.CreatedAt, now, 24*time.Hour)
	a.Week = integrate(initial, evs, path.CreatedAt, now, 7*24*time.Hour)
	for i := len(evs) - 1; i >= 0 && len(a.Last) < 10; i-- {
		a.Last = append(a.Last, evs[i])
	}
	return a, nil
}

// stateEvents returns a path's state events in [from, to], oldest first,
// paging through the store's newest-first lists.
func stateEvents(ctx context.Context, q store.Q, pathID string, from, to time.Time) ([]store.PathEvent, error) {
	var out []store.PathEvent
	seen := map[int64]bool{}
	for {
		page, err := q.PathEvents(ctx, pathID, from, to, store.MaxLimit)
		if err != nil {
			return nil, err
		}
		fresh := 0
		for _, e := range page {
			if seen[e.ID] {
				continue
			}
			seen[e.ID] = true
			fresh++
			if e.Kind == "state" {
				out = append(out, e)
			}
		}
		if len(page) < store.MaxLimit || fresh == 0 {
			break
		}
		to = page[len(page)-1].At // events at that instant are re-read and skipped
	}
	slices.SortStableFunc(out, func(a, b store.PathEvent) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		return int(a.ID - b.ID)
	})
	return out, nil
}

// integrate adds up the time spent in each status over the window that
// ends at now, starting from status initial and following evs (oldest
// first), counting only time after created.
func integrate(initial sdwan.PathStatus, evs []store.PathEvent, created, now time.Time, window time.Duration) AvailabilityWindow {
	w := AvailabilityWindow{Window: window}
	start := now.Add(-window)
	if created.After(start) {
		start = created
	}
	if !now.After(start) {
		return w
	}
	cur, at := initial, start
	add := func(st sdwan.PathStatus, d time.Duration) {
		switch st {
		case sdwan.PathUp:
			w.Up += d
		case sdwan.PathDegraded:
			w.Degraded += d
		default:
			w.Down += d
		}
	}
	for _, e := range evs {
		if !e.At.After(start) {
			cur = e.To
			continue
		}
		if e.At.After(now) {
			break
		}
		add(cur, e.At.Sub(at))
		cur, at = e.To, e.At
	}
	add(cur, now.Sub(at))
	w.Covered = now.Sub(start)
	w.UptimePct = 100 * float64(w.Up+w.Degraded) / float64(w.Covered)
	w.UpPct = 100 * float64(w.Up) / float64(w.Covered)
	return w
}

// PrunePathMetrics deletes path metrics older than keep and reports how
// many rows went. It is a maintenance job, not a user's action, so it is
// logged rather than audited.
func (s *Service) PrunePathMetrics(ctx context.Context, keep time.Duration) (int64, error) {
	var n int64
	err := s.st.Tx(ctx, func(q store.Q) (err error) {
		n, err = q.PrunePathMetrics(ctx, s.now().Add(-keep))
		return err
	})
	return n, err
}

// RunRetention prunes path metrics older than the configured retention
// now and every retention interval until ctx ends. Pruning is idempotent,
// so replicas that run it together do no harm.
func (h *EdgeHub) RunRetention(ctx context.Context) {
	t := time.NewTicker(h.cfg.RetentionInterval)
	defer t.Stop()
	for {
		n, err := h.svc.PrunePathMetrics(ctx, h.cfg.MetricsRetention)
		switch {
		case err != nil && ctx.Err() == nil:
			h.log.Error("prune path metrics", "err", err)
		case n > 0:
			h.log.Info("pruned path metrics", "rows", n, "older than", h.cfg.MetricsRetention)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
