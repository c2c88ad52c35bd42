package lab

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/patronus-sdwan/patronus/internal/auth"
)

func authAdmin(t *testing.T, l *Lab) auth.Principal {
	t.Helper()
	p, err := l.Controller.Service.Authenticate(context.Background(), l.Admin.APIKey)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// stallWatch records how late a 5 ms ticker runs: a process that stalls
// (a loaded machine descheduling it, the race detector's pauses) delays
// every probe answer by as much, and a long enough stall is an outage of
// the measuring host that the monitor rightly calls Down. Scenario tests
// use it to tell such outages from flaps.
type stallWatch struct {
	mu     sync.Mutex
	stalls []stall
	stop   chan struct{}
	done   chan struct{}
}

type stall struct {
	at   time.Time // when the late tick came
	late time.Duration
}

func watchStalls(t *testing.T, min time.Duration) *stallWatch {
	w := &stallWatch{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		const tick = 5 * time.Millisecond
		last := time.Now()
		for {
			select {
			case <-w.stop:
				return
			case <-time.After(tick):
			}
			now := time.Now()
			if late := now.Sub(last) - tick; late >= min {
				w.mu.Lock()
				w.stalls = append(w.stalls, stall{now, late})
				w.mu.Unlock()
			}
			last = now
		}
	}()
	t.Cleanup(func() { close(w.stop); <-w.done })
	return w
}

// near returns the longest stall in [at-before, at].
func (w *stallWatch) near(at time.Time, before time.Duration) time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	var longest time.Duration
	for _, s := range w.stalls {
		if !s.at.Before(at.Add(-before)) && !s.at.After(at) {
			longest = max(longest, s.late)
		}
	}
	return longest
}

// covered returns how much of [from, to] lies within window after a
// stall of at least min: the time in which near would excuse a Down.
func (w *stallWatch) covered(from, to time.Time, min, window time.Duration) time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	var total time.Duration
	for _, s := range w.stalls { // in time order
		if s.late < min {
			continue
		}
		a, b := s.at, s.at.Add(window)
		if a.Before(from) {
			a = from // from is where the previous window ended
		}
		if b.After(to) {
			b = to
		}
		if b.After(a) {
			total += b.Sub(a)
			from = b
		}
	}
	return total
}

// summary describes the stalls seen.
func (w *stallWatch) summary() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var longest time.Duration
	for _, s := range w.stalls {
		longest = max(longest, s.late)
	}
	return fmt.Sprintf("%d stalls, longest %v", len(w.stalls), longest.Round(time.Millisecond))
}

// timingScenario skips a scenario whose criteria are timings (±1 ms of
// RTT, Down within 350 ms, no Down under loss) when the race detector is
// on: its instrumentation slows the probes' path unevenly and pauses the
// process for tens to hundreds of milliseconds, which measures the
// detector, not the monitor. TestLabEndToEnd runs the same stack under
// the detector; CI runs these without it (see docs/bench/lab.md).
func timingScenario(t *testing.T) {
	t.Helper()
	if raceEnabled {
		t.Skip("timing criteria are measured without -race: go test -run 'TestAccuracy|TestDetection|TestStability|TestOverhead' ./internal/lab")
	}
}

// spread describes durations as min, median and max.
func spread(ds []time.Duration) string {
	if len(ds) == 0 {
		return "none"
	}
	ds = slices.Clone(ds)
	slices.Sort(ds)
	r := func(d time.Duration) time.Duration { return d.Round(time.Millisecond) }
	return fmt.Sprintf("min %v, median %v, max %v (n=%d)", r(ds[0]), r(ds[len(ds)/2]), r(ds[len(ds)-1]), len(ds))
}

func TestStallWatchCovered(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	w := &stallWatch{stalls: []stall{
		{at(100), 60 * time.Millisecond},  // under min: no window
		{at(200), 150 * time.Millisecond}, // [200, 1200]
		{at(700), 100 * time.Millisecond}, // overlaps: adds [1200, 1700]
		{at(5500), time.Second},           // clipped at to: [5500, 6000]
	}}
	tests := []struct {
		from, to int
		want     time.Duration
	}{
		{0, 6000, 2000 * time.Millisecond},
		{1000, 6000, 1200 * time.Millisecond}, // a window begun before from counts only from it
		{1800, 5000, 0},
	}
	for _, tt := range tests {
		if got := w.covered(at(tt.from), at(tt.to), 100*time.Millisecond, time.Second); got != tt.want {
			t.Errorf("covered(%d ms, %d ms) = %v, want %v", tt.from, tt.to, got, tt.want)
		}
	}
}
