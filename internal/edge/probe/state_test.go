package probe

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// step is one event fed to a Machine: the answer or miss of probe seq at
// at (ms since simEpoch) with the given observation.
type step struct {
	at      int
	seq     uint64
	miss    bool
	confirm bool
	obs     Observation
}

type gotTransition struct {
	At       int
	From, To State
}

func runMachine(cfg Config, steps []step) ([]gotTransition, []Transition) {
	m := NewMachine(cfg, simEpoch)
	var got []gotTransition
	var full []Transition
	for _, s := range steps {
		at := simEpoch.Add(time.Duration(s.at) * time.Millisecond)
		var tr Transition
		var ok bool
		if s.miss {
			tr, ok = m.Missed(s.seq, s.confirm, at, s.obs)
		} else {
			tr, ok = m.Answered(s.seq, at, s.obs)
		}
		if ok {
			got = append(got, gotTransition{int(tr.At.Sub(simEpoch) / time.Millisecond), tr.From, tr.To})
			full = append(full, tr)
		}
	}
	return got, full
}

// answers returns answers to seqs from..to, one every 100 ms from at.
func answers(at int, from, to uint64, obs Observation) []step {
	var s []step
	for seq := from; seq <= to; seq++ {
		s = append(s, step{at: at, seq: seq, obs: obs})
		at += 100
	}
	return s
}

func concat(parts ...[]step) []step {
	var s []step
	for _, p := range parts {
		s = append(s, p...)
	}
	return s
}

func TestMachine(t *testing.T) {
	def := DefaultConfig()
	noConfirm := def
	noConfirm.NoConfirm = true
	noConfirm = noConfirm.Normalize()
	strict := def
	strict.SLA = SLA{MaxLossPct: 10, MaxLatency: 50 * time.Millisecond, MaxJitter: 20 * time.Millisecond, MinMOS: 4}
	strict = strict.Normalize()

	lossy := Observation{LossPct: 15}
	hovering := Observation{LossPct: 9} // under the 10% limit, over its 8% clear threshold
	clean := Observation{LossPct: 1}

	tests := []struct {
		name  string
		cfg   Config
		steps []step
		want  []gotTransition
	}{
		{
			name:  "a new path comes up after RecoverProbes answers, without hold-down",
			cfg:   def,
			steps: answers(100, 1, 10, Observation{}),
			want:  []gotTransition{{1000, StateDown, StateUp}},
		},
		{
			name:  "nothing answered: stays down",
			cfg:   def,
			steps: []step{{at: 1000, seq: 1, miss: true}, {at: 1100, seq: 2, miss: true}},
		},
		{
			name: "classic rule: Multiplier misses in a row are Down",
			cfg:  noConfirm,
			steps: concat(answers(100, 1, 10, Observation{}), []step{
				{at: 1200, seq: 11, miss: true}, {at: 1300, seq: 12, miss: true}, {at: 1400, seq: 13, miss: true},
			}),
			want: []gotTransition{{1000, StateDown, StateUp}, {1400, StateUp, StateDown}},
		},
		{
			name: "regular misses alone do not make Down while confirmations are required",
			cfg:  def,
			steps: concat(answers(100, 1, 10, Observation{}), []step{
				{at: 1200, seq: 11, miss: true}, {at: 1300, seq: 12, miss: true}, {at: 1400, seq: 13, miss: true},
				{at: 1500, seq: 14, miss: true}, {at: 1600, seq: 15, miss: true},
			}),
			want: []gotTransition{{1000, StateDown, StateUp}},
		},
		{
			name: "a miss and four missed confirmations are Down",
			cfg:  def,
			steps: concat(answers(100, 1, 10, Observation{}), []step{
				{at: 1200, seq: 11, miss: true},
				{at: 1250, seq: 12, miss: true, confirm: true}, {at: 1270, seq: 13, miss: true, confirm: true},
				{at: 1290, seq: 14, miss: true, confirm: true}, {at: 1310, seq: 15, miss: true, confirm: true},
			}),
			want: []gotTransition{{1000, StateDown, StateUp}, {1310, StateUp, StateDown}},
		},
		{
			name: "an answer to a later probe breaks the run",
			cfg:  def,
			steps: concat(answers(100, 1, 10, Observation{}), []step{
				{at: 1200, seq: 11, miss: true},
				{at: 1250, seq: 12, miss: true, confirm: true}, {at: 1270, seq: 13, miss: true, confirm: true},
				{at: 1280, seq: 15},
				{at: 1290, seq: 14, miss: true, confirm: true}, // sent before 15: not in the run
				{at: 1310, seq: 16, miss: true, confirm: true},
				{at: 1330, seq: 17, miss: true, confirm: true},
			}),
			want: []gotTransition{{1000, StateDown, StateUp}},
		},
		{
			name: "a late answer forgives the misses of probes sent before it",
			cfg:  def,
			steps: concat(answers(100, 1, 10, Observation{}), []step{
				{at: 1200, seq: 11, miss: true},
				{at: 1250, seq: 12, miss: true, confirm: true}, {at: 1270, seq: 13, miss: true, confirm: true},
				{at: 1280, seq: 12}, // late: 11 and 12 no longer count; 13 does
				{at: 1290, seq: 14, miss: true, confirm: true}, {at: 1310, seq: 15, miss: true, confirm: true},
				{at: 1330, seq: 16, miss: true, confirm: true}, // 13..16: four, all confirmations
			}),
			want: []gotTransition{{1000, StateDown, StateUp}, {1330, StateUp, StateDown}},
		},
		{
			name: "hold-down: a cut path answering again waits 2 s before Up",
			cfg:  noConfirm,
			steps: concat(answers(100, 1, 10, Observation{}), []step{
				{at: 1200, seq: 11, miss: true}, {at: 1300, seq: 12, miss: true}, {at: 1400, seq: 13, miss: true},
			}, answers(1500, 14, 40, Observation{})),
			// Down at 1400; ten answers by 2400 but hold-down until 3400.
			want: []gotTransition{{1000, StateDown, StateUp}, {1400, StateUp, StateDown}, {3400, StateDown, StateUp}},
		},
		{
			name: "a miss during recovery restarts the run",
			cfg:  noConfirm,
			steps: concat(answers(100, 1, 10, Observation{}), []step{
				{at: 1200, seq: 11, miss: true}, {at: 1300, seq: 12, miss: true}, {at: 1400, seq: 13, miss: true},
			}, answers(1500, 14, 29, Observation{}), []step{{at: 3050, seq: 30, miss: true}},
				answers(3100, 31, 50, Observation{})),
			// Hold-down ends at 3400 but the run restarts at 3100: its
			// tenth answer is at 4000.
			want: []gotTransition{{1000, StateDown, StateUp}, {1400, StateUp, StateDown}, {4000, StateDown, StateUp}},
		},
		{
			name:  "a new path that breaks its SLA comes up Degraded",
			cfg:   strict,
			steps: answers(100, 1, 10, lossy),
			want:  []gotTransition{{1000, StateDown, StateDegraded}},
		},
		{
			name: "loss over the limit degrades; hovering under it does not restore",
			cfg:  strict,
			steps: concat(answers(100, 1, 10, clean), answers(1100, 11, 11, lossy),
				answers(1200, 12, 60, hovering)),
			want: []gotTransition{{1000, StateDown, StateUp}, {1100, StateUp, StateDegraded}},
		},
		{
			name: "clean again: restored after the run and the hold-down",
			cfg:  strict,
			steps: concat(answers(100, 1, 10, clean), answers(1100, 11, 11, lossy),
				answers(1200, 12, 60, clean)),
			want: []gotTransition{{1000, StateDown, StateUp}, {1100, StateUp, StateDegraded}, {3100, StateDegraded, StateUp}},
		},
		{
			name: "loss counted by a miss also degrades",
			cfg:  strict,
			steps: concat(answers(100, 1, 10, clean), []step{
				{at: 1200, seq: 11, miss: true, obs: lossy},
			}),
			want: []gotTransition{{1000, StateDown, StateUp}, {1200, StateUp, StateDegraded}},
		},
		{
			name:  "latency over the limit",
			cfg:   strict,
			steps: concat(answers(100, 1, 10, clean), answers(1100, 11, 11, Observation{Latency: 60 * time.Millisecond, MOS: 4.4})),
			want:  []gotTransition{{1000, StateDown, StateUp}, {1100, StateUp, StateDegraded}},
		},
		{
			name:  "jitter over the limit",
			cfg:   strict,
			steps: concat(answers(100, 1, 10, clean), answers(1100, 11, 11, Observation{Jitter: 30 * time.Millisecond, MOS: 4.4})),
			want:  []gotTransition{{1000, StateDown, StateUp}, {1100, StateUp, StateDegraded}},
		},
		{
			name: "Degraded paths still go Down",
			cfg:  strict,
			steps: concat(answers(100, 1, 10, clean), answers(1100, 11, 11, lossy), []step{
				{at: 1200, seq: 12, miss: true, obs: lossy},
				{at: 1250, seq: 13, miss: true, confirm: true, obs: lossy}, {at: 1270, seq: 14, miss: true, confirm: true, obs: lossy},
				{at: 1290, seq: 15, miss: true, confirm: true, obs: lossy}, {at: 1310, seq: 16, miss: true, confirm: true, obs: lossy},
			}),
			want: []gotTransition{{1000, StateDown, StateUp}, {1100, StateUp, StateDegraded}, {1310, StateDegraded, StateDown}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			if cfg.SLA.MinMOS > 0 {
				// Give every observation without a MOS a perfect one, so
				// that only the metric under test breaks the SLA.
				for i := range tt.steps {
					if tt.steps[i].obs.MOS == 0 {
						tt.steps[i].obs.MOS = 4.4
					}
				}
			}
			got, _ := runMachine(cfg, tt.steps)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("transitions (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMachineReasons(t *testing.T) {
	cfg := DefaultConfig()
	cfg.SLA.MinMOS = 4
	_, full := runMachine(cfg, concat(answers(100, 1, 10, Observation{MOS: 4.4}), []step{
		{at: 1150, seq: 11, obs: Observation{MOS: 3.5}},
		{at: 1200, seq: 12, miss: true},
		{at: 1250, seq: 13, miss: true, confirm: true}, {at: 1270, seq: 14, miss: true, confirm: true},
		{at: 1290, seq: 15, miss: true, confirm: true}, {at: 1310, seq: 16, miss: true, confirm: true},
	}))
	want := []string{"10 probes answered in a row", "MOS 3.50 under 4.00", "5 consecutive probes unanswered (4 of them confirmation probes)"}
	if len(full) != len(want) {
		t.Fatalf("got %d transitions %+v, want %d", len(full), full, len(want))
	}
	for i, w := range want {
		if !strings.Contains(full[i].Reason, w) {
			t.Errorf("transition %d reason %q, want it to contain %q", i, full[i].Reason, w)
		}
	}
}

func BenchmarkMachineStep(b *testing.B) {
	b.ReportAllocs()
	m := NewMachine(DefaultConfig(), simEpoch)
	at := simEpoch
	obs := Observation{Latency: 20 * time.Millisecond, LossPct: 1, MOS: 4.3}
	var seq uint64
	for b.Loop() {
		seq++
		at = at.Add(100 * time.Millisecond)
		if seq%25 == 0 {
			m.Missed(seq, false, at, obs)
		} else {
			m.Answered(seq, at, obs)
		}
	}
	if s, _ := m.State(); s != StateUp {
		b.Fatalf("state %v after the run, want up", s)
	}
}
