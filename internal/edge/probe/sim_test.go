package probe

import (
	"container/heap"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
	"time"
)

// simLink is one direction of a simulated path.
type simLink struct {
	Delay  time.Duration // base one-way delay
	Jitter time.Duration // standard deviation of a normal variation
	Loss   float64       // probability of losing a packet, 0-1
}

// simNet is a simulated path for the tracker: requests go over Fwd, replies
// over Rev, and Cut(t) drops everything sent at t in either direction.
type simNet struct {
	Fwd, Rev simLink
	Cut      func(t time.Time) bool
	Offset   time.Duration // responder clock minus prober clock
}

type simEvent struct {
	at  time.Time
	pkt Packet
}

type simQueue []simEvent

func (q simQueue) Len() int           { return len(q) }
func (q simQueue) Less(i, j int) bool { return q[i].at.Before(q[j].at) }
func (q simQueue) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *simQueue) Push(x any)        { *q = append(*q, x.(simEvent)) }
func (q *simQueue) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}

func (l simLink) delay(rng *rand.Rand) time.Duration {
	d := l.Delay + time.Duration(rng.NormFloat64()*float64(l.Jitter))
	return max(d, 0)
}

// simulation drives a tracker against a simNet in virtual time.
type simulation struct {
	tr    *tracker
	net   simNet
	rng   *rand.Rand
	now   time.Time
	start time.Time
	q     simQueue
}

var simEpoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func newSimulation(cfg Config, net simNet, seed uint64) *simulation {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	return &simulation{
		tr:    newTracker(cfg, simEpoch, simEpoch, rng.Uint64),
		net:   net,
		rng:   rng,
		now:   simEpoch,
		start: simEpoch,
	}
}

// runUntil advances virtual time to end, sending, delivering and judging.
func (s *simulation) runUntil(end time.Time) {
	for {
		out, wake := s.tr.poll(s.now)
		for _, o := range out {
			s.transmit(o)
		}
		next := wake
		if len(s.q) > 0 && s.q[0].at.Before(next) {
			next = s.q[0].at
		}
		if next.After(end) {
			s.now = end
			return
		}
		s.now = next
		for len(s.q) > 0 && !s.q[0].at.After(s.now) {
			ev := heap.Pop(&s.q).(simEvent)
			s.tr.answer(&ev.pkt, ev.at)
		}
	}
}

func (s *simulation) transmit(o outgoing) {
	if s.net.Cut != nil && s.net.Cut(o.sent) {
		return
	}
	if s.rng.Float64() < s.net.Fwd.Loss {
		return
	}
	rx := o.sent.Add(s.net.Fwd.delay(s.rng))
	if s.net.Cut != nil && s.net.Cut(rx) {
		return
	}
	if s.rng.Float64() < s.net.Rev.Loss {
		return
	}
	const proc = 20 * time.Microsecond
	arrive := rx.Add(proc + s.net.Rev.delay(s.rng))
	clock := func(t time.Time) int64 { return int64(t.Sub(s.tr.epoch) + s.net.Offset) }
	heap.Push(&s.q, simEvent{at: arrive, pkt: Packet{
		Type: TypeReply, Seq: o.seq, Nonce: o.nonce,
		TxTime:     int64(o.sent.Sub(s.tr.epoch)),
		RespRxTime: clock(rx),
		RespTxTime: clock(rx.Add(proc)),
	}})
}

// takeTransitions returns and forgets the transitions so far.
func (s *simulation) takeTransitions() []Transition {
	tr := s.tr.transitions
	s.tr.transitions = nil
	return tr
}

func countTo(trs []Transition, to State) int {
	n := 0
	for _, tr := range trs {
		if tr.To == to {
			n++
		}
	}
	return n
}

func TestSimulationComesUp(t *testing.T) {
	s := newSimulation(DefaultConfig(), simNet{
		Fwd: simLink{Delay: 20 * time.Millisecond},
		Rev: simLink{Delay: 20 * time.Millisecond},
	}, 1)
	s.runUntil(simEpoch.Add(3 * time.Second))
	m := s.tr.metrics()
	if m.State != StateUp {
		t.Fatalf("state = %v, want up; transitions %+v", m.State, s.tr.transitions)
	}
	if m.LatencyMs < 39 || m.LatencyMs > 41 {
		t.Errorf("latency = %.3f ms, want about 40", m.LatencyMs)
	}
	if m.LossPct != 0 || m.Lost != 0 {
		t.Errorf("loss = %v%% (%d lost), want none", m.LossPct, m.Lost)
	}
}

// lossyNet is the lab's impairment: 2% random loss per direction (about 4%
// of round trips) and 10 ms jitter per direction around oneWay.
func lossyNet(oneWay time.Duration) simNet {
	l := simLink{Delay: oneWay, Jitter: 10 * time.Millisecond, Loss: 0.02}
	return simNet{Fwd: l, Rev: l, Offset: 987654321 * time.Microsecond}
}

var pathProfiles = []struct {
	name   string
	oneWay time.Duration
}{
	{"loopback", 50 * time.Microsecond},
	{"metro 20ms", 20 * time.Millisecond},
	{"continental 50ms", 50 * time.Millisecond},
	{"satellite-like 200ms", 200 * time.Millisecond},
}

// The lab's flap figure: 10,000 probes per path at ~4% round-trip loss and
// 10 ms jitter must cause no Down at all. Several seeds per profile.
func TestNoDownUnderRandomLoss(t *testing.T) {
	for _, p := range pathProfiles {
		for seed := uint64(1); seed <= 3; seed++ {
			s := newSimulation(DefaultConfig(), lossyNet(p.oneWay), seed)
			s.runUntil(simEpoch.Add(10000 * 100 * time.Millisecond))
			trs := s.takeTransitions()
			if len(trs) == 0 || trs[0].To != StateUp {
				t.Fatalf("%s seed %d: never came up: %+v", p.name, seed, trs)
			}
			if n := countTo(trs, StateDown); n != 0 {
				t.Errorf("%s seed %d: %d Down transitions under random loss: %+v", p.name, seed, n, trs)
			}
			m := s.tr.metrics()
			if loss := float64(m.Lost) / float64(m.Sent); loss < 0.03 || loss > 0.05 {
				t.Errorf("%s seed %d: cumulative loss %.4f, want about 0.0396", p.name, seed, loss)
			}
		}
	}
}

// The DESIGN note's arithmetic, reproduced: with the classic rule (three
// misses in a row, no confirmation) the same loss does flap.
func TestClassicRuleFlapsUnderRandomLoss(t *testing.T) {
	cfg := DefaultConfig()
	cfg.NoConfirm = true
	s := newSimulation(cfg, lossyNet(20*time.Millisecond), 1)
	s.runUntil(simEpoch.Add(100000 * 100 * time.Millisecond))
	n := countTo(s.takeTransitions(), StateDown)
	// p^3 = 0.0396^3 gives about 6.2 per 100,000 probes.
	if n < 2 || n > 20 {
		t.Errorf("classic rule: %d Down transitions in 100,000 probes, want about 6", n)
	}
	t.Logf("classic rule: %d false Downs in 100,000 probes", n)
}

// detect cuts the path at 40 phases against the probe schedule and returns
// the worst time from the cut to Down.
func detect(t *testing.T, cfg Config, net simNet) time.Duration {
	t.Helper()
	var worst time.Duration
	for i := range 40 {
		cutAt := simEpoch.Add(10*time.Second + time.Duration(i)*2500*time.Microsecond)
		net.Cut = func(x time.Time) bool { return !x.Before(cutAt) }
		s := newSimulation(cfg, net, uint64(i))
		s.runUntil(cutAt)
		if st, _ := s.tr.mach.State(); st != StateUp {
			t.Fatalf("phase %d: %v before the cut", i, st)
		}
		s.takeTransitions()
		s.runUntil(cutAt.Add(5 * time.Second))
		trs := s.takeTransitions()
		if len(trs) != 1 || trs[0].To != StateDown {
			t.Fatalf("phase %d: transitions after the cut %+v, want one Down", i, trs)
		}
		worst = max(worst, trs[0].At.Sub(cutAt))
		if m := s.tr.metrics(); m.Sent < 5*10*9/10 {
			t.Errorf("phase %d: only %d probes in 5 s: a Down path must keep being probed", i, m.Sent)
		}
	}
	return worst
}

func TestCutDetection(t *testing.T) {
	cfg := DefaultConfig()
	budget := cfg.Interval*time.Duration(cfg.Multiplier) + 50*time.Millisecond
	tests := []struct {
		name  string
		net   simNet
		limit time.Duration
	}{
		{"loopback", lossyNet(50 * time.Microsecond), budget},
		{"metro 10ms", lossyNet(10 * time.Millisecond), budget},
		{"metro 20ms", lossyNet(20 * time.Millisecond), budget},
		{"clean 50ms", simNet{Fwd: simLink{Delay: 50 * time.Millisecond}, Rev: simLink{Delay: 50 * time.Millisecond}}, budget},
		// Longer paths cannot beat physics: confirming takes a round
		// trip. Bound: one way + RTT + the confirmation burst + margins.
		{"continental 50ms", lossyNet(50 * time.Millisecond), 500 * time.Millisecond},
		{"satellite-like 200ms", lossyNet(200 * time.Millisecond), 900 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			worst := detect(t, cfg, tt.net)
			if worst > tt.limit {
				t.Errorf("worst detection %v, want within %v", worst, tt.limit)
			}
			t.Logf("worst detection over 40 phases: %v", worst)
		})
	}
}

// A 400 ms path whose answers come back four probes later is perfectly
// healthy: no miss, no Down.
func TestLongPathIsNotDown(t *testing.T) {
	l := simLink{Delay: 200 * time.Millisecond}
	s := newSimulation(DefaultConfig(), simNet{Fwd: l, Rev: l}, 1)
	s.runUntil(simEpoch.Add(60 * time.Second))
	trs := s.takeTransitions()
	if len(trs) != 1 || trs[0].To != StateUp {
		t.Fatalf("transitions %+v, want only the first Up", trs)
	}
	m := s.tr.metrics()
	if m.Lost != 0 || m.Late != 0 || m.LossPct != 0 {
		t.Errorf("lost %d late %d loss %v%%, want none", m.Lost, m.Late, m.LossPct)
	}
	if m.LatencyMs < 399 || m.LatencyMs > 401 {
		t.Errorf("latency %.2f ms, want 400", m.LatencyMs)
	}
}

// After a cut heals, the path returns only after the hold-down and a run
// of good probes, passing through Degraded while the outage is still in
// the loss window.
func TestRecoveryAfterCut(t *testing.T) {
	cfg := DefaultConfig()
	cut, heal := simEpoch.Add(10*time.Second), simEpoch.Add(15*time.Second)
	net := lossyNet(10 * time.Millisecond)
	net.Cut = func(x time.Time) bool { return !x.Before(cut) && x.Before(heal) }
	s := newSimulation(cfg, net, 3)
	s.runUntil(simEpoch.Add(40 * time.Second))
	trs := s.takeTransitions()
	var got []State
	for _, tr := range trs {
		got = append(got, tr.To)
	}
	want := []State{StateUp, StateDown, StateDegraded, StateUp}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("states (-want +got):\n%s\n%+v", diff, trs)
	}
	down, back := trs[1].At, trs[2].At
	if back.Sub(down) < cfg.HoldDown || back.Sub(heal) < time.Duration(cfg.RecoverProbes-1)*cfg.Interval {
		t.Errorf("back at %v: %v after Down, %v after the heal; want at least the hold-down and %d probes",
			back.Sub(simEpoch), back.Sub(down), back.Sub(heal), cfg.RecoverProbes)
	}
	if m := s.tr.metrics(); m.State != StateUp || m.LossPct > 10 {
		t.Errorf("final %v with loss %.1f%%", m.State, m.LossPct)
	}
}

// Only an answer that matches an outstanding probe's sequence number and
// nonce counts, and only once.
func TestTrackerRejectsReplaysAndWrongNonces(t *testing.T) {
	tr := newTracker(DefaultConfig(), simEpoch, simEpoch, func() uint64 { return 42 })
	out, _ := tr.poll(simEpoch)
	if len(out) != 1 {
		t.Fatalf("first poll sent %d probes, want 1", len(out))
	}
	reply := Packet{Type: TypeReply, Seq: out[0].seq, Nonce: out[0].nonce}
	wrong := reply
	wrong.Nonce++
	rx := simEpoch.Add(time.Millisecond)
	if tr.answer(&wrong, rx) {
		t.Error("accepted a wrong nonce")
	}
	if !tr.answer(&reply, rx) {
		t.Error("rejected the genuine answer")
	}
	if tr.answer(&reply, rx.Add(time.Millisecond)) {
		t.Error("accepted the same answer twice")
	}
	future := reply
	future.Seq = 99
	if tr.answer(&future, rx) {
		t.Error("accepted an answer to a probe never sent")
	}
	if m := tr.metrics(); m.Received != 1 || tr.replays != 3 {
		t.Errorf("received %d, rejected %d; want 1 and 3", m.Received, tr.replays)
	}
}

// BenchmarkSimulatedPath runs the scheduler against a simulated lossy 20 ms
// path and reports the probes it sends beyond the regular ones (the cost
// of confirmation), per regular probe.
func BenchmarkSimulatedPath(b *testing.B) {
	b.ReportAllocs()
	const probes = 10000
	var sent, regular uint64
	for i := 0; b.Loop(); i++ {
		s := newSimulation(DefaultConfig(), lossyNet(20*time.Millisecond), uint64(i))
		s.runUntil(simEpoch.Add(probes * 100 * time.Millisecond))
		sent += s.tr.metrics().Sent
		regular += probes + 1
	}
	b.ReportMetric(100*float64(sent-regular)/float64(regular), "extra-probes-%")
}

// BenchmarkTrackerProbe is the scheduler's cost per probe on a healthy
// path: send it, answer it, judge the next wake-up.
func BenchmarkTrackerProbe(b *testing.B) {
	b.ReportAllocs()
	cfg := DefaultConfig()
	tr := newTracker(cfg, simEpoch, simEpoch, func() uint64 { return 7 })
	now := simEpoch
	var reply Packet
	for b.Loop() {
		out, _ := tr.poll(now)
		for _, o := range out {
			reply = Packet{Type: TypeReply, Seq: o.seq, Nonce: o.nonce, RespRxTime: 1, RespTxTime: 2}
			tr.answer(&reply, now.Add(time.Millisecond))
		}
		now = now.Add(cfg.Interval)
	}
}
