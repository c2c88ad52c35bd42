package probe

import (
	"testing"
	"time"
)

func TestExploreFlaps(t *testing.T) {
	for _, noConfirm := range []bool{true, false} {
		for _, oneWay := range []time.Duration{50 * time.Microsecond, 20 * time.Millisecond, 200 * time.Millisecond} {
			cfg := DefaultConfig()
			cfg.NoConfirm = noConfirm
			cfg = cfg.Normalize()
			s := newSimulation(cfg, simNet{
				Fwd: simLink{Delay: oneWay, Jitter: 10 * time.Millisecond, Loss: 0.02},
				Rev: simLink{Delay: oneWay, Jitter: 10 * time.Millisecond, Loss: 0.02},
			}, 7)
			s.runUntil(simEpoch.Add(100000 * cfg.Interval))
			trs := s.takeTransitions()
			m := s.tr.metrics()
			t.Logf("noConfirm=%v oneway %v: downs %d degraded %d sent %d lost %d late %d loss %.2f jitter %.2f fwd %.2f", noConfirm, oneWay, countTo(trs, StateDown), countTo(trs, StateDegraded), m.Sent, m.Lost, m.Late, m.LossPct, m.JitterMs, m.JitterFwdMs)
		}
	}
}
