package wanem

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// Target is what a player changes: a link, or anything that takes partial
// impairment changes per direction the way [Link.Apply] does.
type Target interface {
	Apply(Directions, Change) error
}

// Registry finds the targets a scenario names. The lab implements it over
// its topology; [Links] implements it over a map.
type Registry interface {
	LookupLink(name string) (Target, bool)
}

// Links is a Registry over a map of links by name.
type Links map[string]*Link

// LookupLink returns the link called name.
func (ls Links) LookupLink(name string) (Target, bool) {
	l, ok := ls[name]
	if !ok {
		return nil, false
	}
	return l, true
}

// PlayerConfig holds what a Player needs besides its scenario and links.
type PlayerConfig struct {
	// Logger records each step applied; nil discards.
	Logger *slog.Logger
	// OnStep, if set, is called after each step is applied, with the
	// time since the play started; the lab publishes it as an event.
	OnStep func(elapsed time.Duration, st Step)
}

// Player plays a scenario against a set of links.
type Player struct {
	sc      *Scenario
	targets []Target // parallel to sc.Steps
	log     *slog.Logger
	onStep  func(time.Duration, Step)
}

// NewPlayer checks that every link the scenario names exists in reg and
// returns a player for it.
func NewPlayer(sc *Scenario, reg Registry, cfg PlayerConfig) (*Player, error) {
	if err := sc.Validate(); err != nil {
		return nil, err
	}
	p := &Player{sc: sc, log: cfg.Logger, onStep: cfg.OnStep}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	var missing []string
	for _, st := range sc.Steps {
		t, ok := reg.LookupLink(st.Link)
		if !ok {
			missing = append(missing, st.Link)
		}
		p.targets = append(p.targets, t)
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("scenario %q: no such link: %v", sc.Name, missing)
	}
	return p, nil
}

// Run plays the scenario from now: each step is applied at its offset
// from the start, measured against the start rather than the previous step
// so that a slow step does not shift the rest. With a repeat period it
// plays until ctx ends; otherwise it returns nil after the last step. It
// returns ctx's error when cancelled, and stops at the first step a link
// refuses (a closed link, say).
func (p *Player) Run(ctx context.Context) error {
	start := time.Now()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for cycle := time.Duration(0); ; cycle++ {
		for i, st := range p.sc.Steps {
			due := start.Add(cycle*p.sc.Repeat + st.At)
			if wait := time.Until(due); wait > 0 {
				timer.Reset(wait)
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-timer.C:
				}
			} else if err := ctx.Err(); err != nil {
				return err
			}
			if err := p.targets[i].Apply(st.Dir, st.Set); err != nil {
				return fmt.Errorf("scenario %q: step at %v on %s: %w", p.sc.Name, st.At, st.Link, err)
			}
			elapsed := time.Since(start)
			p.log.Info("wanem: scenario step", "scenario", p.sc.Name, "elapsed", elapsed,
				"link", st.Link, "dir", st.Dir.String(), "set", st.Set.String())
			if p.onStep != nil {
				p.onStep(elapsed, st)
			}
		}
		if p.sc.Repeat == 0 {
			return nil
		}
	}
}
