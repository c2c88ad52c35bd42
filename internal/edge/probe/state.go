package probe

import (
	"fmt"
	"time"
)

// State is a path's health as the monitor judges it.
type State uint8

// Path states. The zero value is Down: a path nobody has answered yet is
// Down, never guessed Up.
const (
	StateDown State = iota
	StateDegraded
	StateUp
)

// String returns "down", "degraded" or "up".
func (s State) String() string {
	switch s {
	case StateDown:
		return "down"
	case StateDegraded:
		return "degraded"
	case StateUp:
		return "up"
	}
	return fmt.Sprintf("state(%d)", uint8(s))
}

// Transition is a change of state with the reason for it.
type Transition struct {
	From, To State
	At       time.Time
	Reason   string
}

// Observation is what the Machine checks against the SLA after each event:
// the Estimator's current smoothed latency, jitter, loss and MOS.
type Observation struct {
	Latency time.Duration
	Jitter  time.Duration
	LossPct float64
	MOS     float64
}

// Observe returns e's current Observation.
func (e *Estimator) Observe() Observation {
	srtt, _, _ := e.SRTT()
	o := Observation{Latency: srtt, Jitter: e.Jitter(), LossPct: e.LossPct()}
	o.MOS, _ = Quality(ms(o.Latency), ms(o.Jitter), o.LossPct)
	return o
}

type miss struct {
	seq     uint64
	confirm bool
}

// Machine is the Up / Degraded / Down state machine of one path. It is pure
// logic driven by answered and missed probes at given times, so tests can
// replay any history without sockets or clocks; it is not safe for
// concurrent use.
//
// Down: the probes sent after the newest answered one include at least
// Multiplier misses, ConfirmProbes of them confirmation probes. "After the
// newest answered one" makes the run consecutive in send order whatever the
// order in which deadlines and answers arrive: an answer to any later probe,
// even a late one, breaks the run.
//
// Degraded: an answered path whose Observation crosses an SLA limit.
//
// Back: a Down or Degraded path is promoted once RecoverProbes consecutive
// probes were good (answered; for Degraded, also every metric under its
// clear threshold) and HoldDown has passed since it entered the state. A
// Down path goes to Degraded instead of Up when the SLA is still broken.
type Machine struct {
	cfg     Config
	state   State
	since   time.Time
	initial bool // Down since creation: no hold-down to serve

	hasAnswered     bool
	highestAnswered uint64
	streak          []miss // misses of probes sent after highestAnswered
	confirmMisses   int
	good            int
}

// NewMachine returns a Machine, Down since now, for cfg (normalised).
func NewMachine(cfg Config, now time.Time) *Machine {
	cfg = cfg.Normalize()
	return &Machine{
		cfg:     cfg,
		state:   StateDown,
		since:   now,
		initial: true,
		streak:  make([]miss, 0, cfg.Multiplier+cfg.ConfirmProbes+8),
	}
}

// SetConfig replaces the configuration, keeping the state and history.
func (m *Machine) SetConfig(cfg Config) { m.cfg = cfg.Normalize() }

// State returns the current state and when it was entered.
func (m *Machine) State() (State, time.Time) { return m.state, m.since }

// Streak returns the misses counted towards Down: all of them and the
// confirmation probes among them.
func (m *Machine) Streak() (misses, confirm int) { return len(m.streak), m.confirmMisses }

// Answered feeds an answer to probe seq (late or not) arriving at at, with
// the estimates after it. It returns the transition it caused, if any.
func (m *Machine) Answered(seq uint64, at time.Time, obs Observation) (Transition, bool) {
	if !m.hasAnswered || seq > m.highestAnswered {
		m.hasAnswered, m.highestAnswered = true, seq
		m.trimStreak(seq)
	}
	switch m.state {
	case StateUp:
		if what := m.breach(obs, 1); what != slaOK {
			return m.move(StateDegraded, at, m.reason(what, obs)), true
		}
	case StateDegraded:
		if m.breach(obs, m.cfg.SLA.ClearRatio) != slaOK {
			m.good = 0
			return Transition{}, false
		}
		m.good++
		if m.good >= m.cfg.RecoverProbes && at.Sub(m.since) >= m.cfg.HoldDown {
			return m.move(StateUp, at, fmt.Sprintf("%d probes within SLA, hold-down %v served", m.good, m.cfg.HoldDown)), true
		}
	case StateDown:
		m.good++
		if m.good >= m.cfg.RecoverProbes && (m.initial || at.Sub(m.since) >= m.cfg.HoldDown) {
			reason := fmt.Sprintf("%d probes answered in a row", m.good)
			if !m.initial {
				reason += fmt.Sprintf(", hold-down %v served", m.cfg.HoldDown)
			}
			if what := m.breach(obs, 1); what != slaOK {
				return m.move(StateDegraded, at, reason+"; "+m.reason(what, obs)), true
			}
			return m.move(StateUp, at, reason), true
		}
	}
	return Transition{}, false
}

// Missed feeds the miss of probe seq, judged at at; confirm says it was a
// confirmation probe. It returns the transition it caused, if any.
func (m *Machine) Missed(seq uint64, confirm bool, at time.Time, obs Observation) (Transition, bool) {
	m.good = 0
	if m.state == StateDown {
		return Transition{}, false
	}
	if !m.hasAnswered || seq > m.highestAnswered {
		m.streak = append(m.streak, miss{seq: seq, confirm: confirm})
		if confirm {
			m.confirmMisses++
		}
	}
	if n := len(m.streak); n >= m.cfg.Multiplier && m.confirmMisses >= m.cfg.ConfirmProbes {
		reason := fmt.Sprintf("%d consecutive probes unanswered (%d of them confirmation probes)", n, m.confirmMisses)
		m.trimStreak(^uint64(0))
		return m.move(StateDown, at, reason), true
	}
	if m.state == StateUp {
		if what := m.breach(obs, 1); what != slaOK {
			return m.move(StateDegraded, at, m.reason(what, obs)), true
		}
	}
	return Transition{}, false
}

// trimStreak forgets the misses of probes sent before seq.
func (m *Machine) trimStreak(seq uint64) {
	kept := m.streak[:0]
	m.confirmMisses = 0
	for _, x := range m.streak {
		if x.seq > seq {
			kept = append(kept, x)
			if x.confirm {
				m.confirmMisses++
			}
		}
	}
	m.streak = kept
}

func (m *Machine) move(to State, at time.Time, reason string) Transition {
	t := Transition{From: m.state, To: to, At: at, Reason: reason}
	m.state, m.since, m.good = to, at, 0
	if to == StateDown {
		m.initial = false
	}
	return t
}

// SLA metrics, as breach reports them.
const (
	slaOK = iota
	slaLoss
	slaLatency
	slaJitter
	slaMOS
)

// breach returns the first SLA limit, scaled by ratio, that obs crosses, or
// slaOK. It does not allocate; reason formats its answer on a transition.
func (m *Machine) breach(obs Observation, ratio float64) int {
	sla := &m.cfg.SLA
	switch {
	case sla.MaxLossPct > 0 && obs.LossPct > sla.MaxLossPct*ratio:
		return slaLoss
	case sla.MaxLatency > 0 && float64(obs.Latency) > float64(sla.MaxLatency)*ratio:
		return slaLatency
	case sla.MaxJitter > 0 && float64(obs.Jitter) > float64(sla.MaxJitter)*ratio:
		return slaJitter
	case sla.MinMOS > 0 && obs.MOS < sla.MinMOS+(4.5-sla.MinMOS)*(1-ratio):
		return slaMOS
	}
	return slaOK
}

func (m *Machine) reason(what int, obs Observation) string {
	sla := &m.cfg.SLA
	switch what {
	case slaLoss:
		return fmt.Sprintf("loss %.1f%% over %.1f%%", obs.LossPct, sla.MaxLossPct)
	case slaLatency:
		return fmt.Sprintf("latency %v over %v", obs.Latency.Round(time.Microsecond), sla.MaxLatency)
	case slaJitter:
		return fmt.Sprintf("jitter %v over %v", obs.Jitter.Round(time.Microsecond), sla.MaxJitter)
	case slaMOS:
		return fmt.Sprintf("MOS %.2f under %.2f", obs.MOS, sla.MinMOS)
	}
	return "within SLA"
}
