package probe

import (
	"testing"
	"time"
)

func TestExploreDetection(t *testing.T) {
	for _, oneWay := range []time.Duration{50 * time.Microsecond, 10 * time.Millisecond, 20 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond} {
		for _, jit := range []time.Duration{0, 10 * time.Millisecond} {
			var worst, sum time.Duration
			n := 0
			for i := 0; i < 40; i++ {
				cutAt := simEpoch.Add(10*time.Second + time.Duration(i)*7*time.Millisecond/2)
				s := newSimulation(DefaultConfig(), simNet{
					Fwd: simLink{Delay: oneWay, Jitter: jit, Loss: 0.02},
					Rev: simLink{Delay: oneWay, Jitter: jit, Loss: 0.02},
					Cut: func(x time.Time) bool { return !x.Before(cutAt) },
				}, uint64(i))
				s.runUntil(cutAt)
				s.takeTransitions()
				s.runUntil(cutAt.Add(3 * time.Second))
				for _, tr := range s.takeTransitions() {
					if tr.To == StateDown {
						d := tr.At.Sub(cutAt)
						worst = max(worst, d)
						sum += d
						n++
						break
					}
				}
			}
			t.Logf("oneway %v jitter %v: detected %d/40 mean %v worst %v", oneWay, jit, n, sum/time.Duration(max(n, 1)), worst)
		}
	}
}
