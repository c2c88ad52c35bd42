package wanem

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
)

// recorder is a Target that records when each change arrived.
type recorder struct {
	name string
	log  *callLog
	err  error
}

type call struct {
	At   time.Duration
	Link string
	Dir  Directions
	Set  string
}

type callLog struct {
	mu    sync.Mutex
	start time.Time
	calls []call
}

func (r *recorder) Apply(ds Directions, c Change) error {
	if r.err != nil {
		return r.err
	}
	r.log.mu.Lock()
	defer r.log.mu.Unlock()
	r.log.calls = append(r.log.calls, call{At: time.Since(r.log.start), Link: r.name, Dir: ds, Set: c.String()})
	return nil
}

type registry map[string]Target

func (r registry) LookupLink(name string) (Target, bool) {
	t, ok := r[name]
	return t, ok
}

func mustScenario(t *testing.T, doc string) *Scenario {
	t.Helper()
	sc, err := ParseScenario([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func TestPlayerPlaysTimeline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		log := &callLog{start: time.Now()}
		reg := registry{"site-1/wan1": &recorder{name: "site-1/wan1", log: log}, "site-2/wan1": &recorder{name: "site-2/wan1", log: log}}
		sc := mustScenario(t, `{"name": "t", "steps": [
			{"at": "5s", "link": "site-2/wan1", "dir": "in", "set": {"loss": "2%"}},
			{"at": "0s", "link": "site-1/wan1", "set": {"delay": "40ms"}},
			{"at": "5s", "link": "site-1/wan1", "set": {"down": true}}]}`)
		var steps []time.Duration
		p, err := NewPlayer(sc, reg, PlayerConfig{OnStep: func(d time.Duration, _ Step) { steps = append(steps, d) }})
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Run(t.Context()); err != nil {
			t.Fatal(err)
		}
		want := []call{
			{At: 0, Link: "site-1/wan1", Dir: Both, Set: `{"delay":"40ms"}`},
			{At: 5 * time.Second, Link: "site-2/wan1", Dir: InOnly, Set: `{"loss":"2%"}`},
			{At: 5 * time.Second, Link: "site-1/wan1", Dir: Both, Set: `{"down":true}`},
		}
		if diff := cmp.Diff(want, log.calls); diff != "" {
			t.Errorf("calls (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]time.Duration{0, 5 * time.Second, 5 * time.Second}, steps); diff != "" {
			t.Errorf("OnStep times (-want +got):\n%s", diff)
		}
	})
}

func TestPlayerRepeatsUntilCancelled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		log := &callLog{start: time.Now()}
		reg := registry{"a": &recorder{name: "a", log: log}}
		sc := mustScenario(t, `{"repeat": "10s", "steps": [
			{"at": "1s", "link": "a", "set": {"down": true}},
			{"at": "6s", "link": "a", "set": {"down": false}}]}`)
		p, err := NewPlayer(sc, reg, PlayerConfig{})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 25*time.Second)
		defer cancel()
		if err := p.Run(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Run: %v, want the context's deadline", err)
		}
		var got []time.Duration
		for _, c := range log.calls {
			got = append(got, c.At)
		}
		want := []time.Duration{1 * time.Second, 6 * time.Second, 11 * time.Second, 16 * time.Second, 21 * time.Second}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("step times (-want +got):\n%s", diff)
		}
	})
}

func TestPlayerErrors(t *testing.T) {
	sc := mustScenario(t, `{"name": "n", "steps": [{"at": "1s", "link": "ghost", "set": {"down": true}}, {"at": "2s", "link": "a", "set": {"down": true}}]}`)
	if _, err := NewPlayer(sc, registry{"a": &recorder{}}, PlayerConfig{}); err == nil || !strings.Contains(err.Error(), "no such link: [ghost]") {
		t.Errorf("NewPlayer with a missing link: %v", err)
	}

	synctest.Test(t, func(t *testing.T) {
		refusing := &recorder{name: "a", err: errors.New("closed")}
		sc := mustScenario(t, `{"steps": [{"at": "1s", "link": "a", "set": {"down": true}}]}`)
		p, err := NewPlayer(sc, registry{"a": refusing}, PlayerConfig{})
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Run(t.Context()); err == nil || !strings.Contains(err.Error(), "closed") {
			t.Errorf("Run with a refusing link: %v", err)
		}
	})
}

func TestPlayerDrivesLinks(t *testing.T) {
	a := newTestLink(t, "site-1/wan1", 1)
	sc := mustScenario(t, `{"steps": [{"at": "0s", "link": "site-1/wan1", "dir": "out", "set": {"delay": "40ms", "loss": "2%"}}]}`)
	p, err := NewPlayer(sc, Links{"site-1/wan1": a}, PlayerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Impairment{Delay: 40 * time.Millisecond, Loss: 0.02}, a.Impairment(Out)); diff != "" {
		t.Errorf("out (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(Impairment{}, a.Impairment(In)); diff != "" {
		t.Errorf("in (-want +got):\n%s", diff)
	}
}
