package probe

import (
	"container/heap"
	"math/rand/v2"
	"testing"
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
