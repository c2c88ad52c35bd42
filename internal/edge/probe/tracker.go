package probe

import (
	"slices"
	"time"
)

// probeKind says why a probe was sent.
type probeKind uint8

const (
	kindRegular probeKind = iota // on the Interval schedule
	kindConfirm                  // confirming that a late probe is lost
	kindCheck                    // for CheckNow
)

// inflight is a probe awaiting its answer.
type inflight struct {
	seq, nonce     uint64
	sent           time.Time
	late, deadline time.Time
	kind           probeKind
	lateSeen       bool
	check          *check
}

// expiredLen is how many missed probes the tracker remembers so that their
// late answers still count (6.4 s of probes at the default interval).
const expiredLen = 64

// expiredProbe is what the tracker keeps of a missed probe: enough to
// match and measure a late answer, in 40 bytes.
type expiredProbe struct {
	seq, nonce uint64
	sent       time.Time
}

// outgoing is a probe the caller must now send.
type outgoing struct {
	seq, nonce uint64
	sent       time.Time
}

// check is one CheckNow: n probes paced at ConfirmInterval whose outcomes
// are collected apart from the path's window.
type check struct {
	toSend   int
	next     time.Time
	pending  int
	rtts     []time.Duration // in the order the answers arrived
	sent     int
	answered int
	done     chan struct{}
}

// tracker is the time-driven core of a Prober: it decides when each probe
// leaves, matches answers to outstanding probes, judges deadlines, runs the
// confirmation bursts, and feeds the Estimator and the Machine. It is pure
// (time is an argument, randomness a function) so tests can run 10,000
// probes of simulated network in milliseconds; it is not safe for
// concurrent use.
type tracker struct {
	cfg   Config
	epoch time.Time // zero of the packets' timestamps
	rand  func() uint64
	est   *Estimator
	mach  *Machine

	nextSeq     uint64
	nextRegular time.Time
	inflight    []inflight // in send order
	expired     [expiredLen]expiredProbe
	expiredNext int

	burst struct {
		open    bool
		trigger uint64    // the late probe that opened it
		left    int       // confirmation probes still to send
		next    time.Time // when the next one leaves
		pending int       // sent and not yet resolved
	}
	checks []*check

	out         []outgoing
	transitions []Transition

	// replays counts answers that matched no probe: duplicates, replays,
	// answers older than the expired ring.
	replays uint64
}

func newTracker(cfg Config, now, epoch time.Time, rand func() uint64) *tracker {
	cfg = cfg.Normalize()
	return &tracker{
		cfg:         cfg,
		epoch:       epoch,
		rand:        rand,
		est:         NewEstimator(cfg.Window),
		mach:        NewMachine(cfg, now),
		nextSeq:     1,
		nextRegular: now,
	}
}

func (t *tracker) setConfig(cfg Config, now time.Time) {
	cfg = cfg.Normalize()
	t.cfg = cfg
	t.mach.SetConfig(cfg)
	if t.nextRegular.After(now.Add(cfg.Interval)) {
		t.nextRegular = now.Add(cfg.Interval)
	}
}

// poll judges every deadline due at now and returns the probes to send now
// (valid until the next call) and when poll next needs to run.
func (t *tracker) poll(now time.Time) ([]outgoing, time.Time) {
	t.out = t.out[:0]
	t.judge(now)

	if !now.Before(t.nextRegular) {
		t.send(now, kindRegular, nil)
		t.nextRegular = t.nextRegular.Add(t.cfg.Interval)
		if !t.nextRegular.After(now) { // stalled: skip the slots we missed
			t.nextRegular = now.Add(t.cfg.Interval)
		}
	}
	for t.burst.open && t.burst.left > 0 && !now.Before(t.burst.next) {
		t.send(now, kindConfirm, nil)
		t.burst.left--
		t.burst.pending++
		t.burst.next = t.burst.next.Add(t.cfg.ConfirmInterval)
	}
	for _, c := range t.checks {
		for c.toSend > 0 && !now.Before(c.next) {
			t.send(now, kindCheck, c)
			c.toSend--
			c.next = c.next.Add(t.cfg.ConfirmInterval)
		}
	}

	return t.out, t.wake()
}

// wake returns when poll next has something to do.
func (t *tracker) wake() time.Time {
	wake := t.nextRegular
	if t.burst.open && t.burst.left > 0 {
		wake = minTime(wake, t.burst.next)
	}
	for _, c := range t.checks {
		if c.toSend > 0 {
			wake = minTime(wake, c.next)
		}
	}
	for i := range t.inflight {
		p := &t.inflight[i]
		if !p.lateSeen {
			wake = minTime(wake, p.late)
		}
		wake = minTime(wake, p.deadline)
	}
	return wake
}

func (t *tracker) send(now time.Time, kind probeKind, c *check) {
	late, missed := t.est.Deadlines(&t.cfg)
	p := inflight{
		seq:      t.nextSeq,
		nonce:    t.rand(),
		sent:     now,
		late:     now.Add(late),
		deadline: now.Add(missed),
		kind:     kind,
		check:    c,
	}
	t.nextSeq++
	t.inflight = append(t.inflight, p)
	t.est.Sent(p.seq)
	if c != nil {
		c.pending++
		c.sent++
	}
	t.out = append(t.out, outgoing{seq: p.seq, nonce: p.nonce, sent: now})
}

// judge notices late probes (opening a confirmation burst) and misses.
func (t *tracker) judge(now time.Time) {
	kept := t.inflight[:0]
	for i := range t.inflight {
		p := t.inflight[i]
		if !p.lateSeen && !now.Before(p.late) {
			p.lateSeen = true
			if p.kind != kindConfirm && !t.burst.open && t.cfg.ConfirmProbes > 0 && t.mach.state != StateDown {
				t.burst.open = true
				t.burst.trigger = p.seq
				t.burst.left = t.cfg.ConfirmProbes
				t.burst.next = now
				t.burst.pending = 0
			}
		}
		if now.Before(p.deadline) {
			kept = append(kept, p)
			continue
		}
		t.est.Missed(p.seq)
		t.record(t.mach.Missed(p.seq, p.kind == kindConfirm, p.deadline, t.est.Observe()))
		if p.kind == kindConfirm && t.burst.open {
			t.burst.pending--
		}
		t.resolveCheck(p.check, 0, false)
		t.expired[t.expiredNext] = expiredProbe{seq: p.seq, nonce: p.nonce, sent: p.sent}
		t.expiredNext = (t.expiredNext + 1) % expiredLen
	}
	clear(t.inflight[len(kept):])
	t.inflight = kept
	if t.burst.open && (t.mach.state == StateDown || t.burst.left == 0 && t.burst.pending <= 0) {
		t.burst.open = false
	}
}

// answer matches a reply to its probe and feeds it to the estimators. It
// returns false for a reply that matches no probe it is waiting for (a
// duplicate, a replay, or an answer too old to remember), which it ignores.
// rx is the reply's arrival time; p has been authenticated by the caller.
func (t *tracker) answer(p *Packet, rx time.Time) bool {
	for i := range t.inflight {
		q := &t.inflight[i]
		if q.seq != p.Seq {
			continue
		}
		if q.nonce != p.Nonce {
			break
		}
		probe := *q
		t.inflight = append(t.inflight[:i], t.inflight[i+1:]...)
		if probe.kind == kindConfirm && t.burst.open {
			t.burst.pending--
		}
		rtt := t.measure(&probe, p, rx, false)
		t.resolveCheck(probe.check, rtt, true)
		if t.burst.open && p.Seq >= t.burst.trigger {
			t.burst.open = false
		}
		return true
	}
	for i := range t.expired {
		q := &t.expired[i]
		if q.seq == p.Seq && q.seq != 0 && q.nonce == p.Nonce {
			probe := inflight{seq: q.seq, nonce: q.nonce, sent: q.sent}
			*q = expiredProbe{}
			t.measure(&probe, p, rx, true)
			return true
		}
	}
	t.replays++
	return false
}

// measure computes the sample of an answered probe and feeds it on.
func (t *tracker) measure(q *inflight, p *Packet, rx time.Time, late bool) time.Duration {
	rtt := rx.Sub(q.sent)
	if proc := time.Duration(p.RespTxTime - p.RespRxTime); proc > 0 && proc < rtt {
		rtt -= proc
	}
	smp := Sample{Seq: q.seq, RTT: rtt, At: rx}
	if p.RespRxTime != 0 || p.RespTxTime != 0 {
		smp.OneWay = true
		smp.Fwd = time.Duration(p.RespRxTime - int64(q.sent.Sub(t.epoch)))
		smp.Rev = time.Duration(int64(rx.Sub(t.epoch)) - p.RespTxTime)
	}
	t.est.Answered(smp, late)
	t.record(t.mach.Answered(q.seq, rx, t.est.Observe()))
	return rtt
}

func (t *tracker) record(tr Transition, ok bool) {
	if ok {
		t.transitions = append(t.transitions, tr)
	}
}

// startCheck begins a check of n probes; n is at least 1 (CheckNow sees
// to it), so the check completes only once its probes are resolved.
func (t *tracker) startCheck(n int, now time.Time) *check {
	c := &check{toSend: n, next: now, done: make(chan struct{})}
	t.checks = append(t.checks, c)
	return c
}

func (t *tracker) resolveCheck(c *check, rtt time.Duration, answered bool) {
	if c == nil {
		return
	}
	c.pending--
	if answered {
		c.answered++
		c.rtts = append(c.rtts, rtt)
	}
	if c.toSend == 0 && c.pending == 0 {
		close(c.done)
		t.forgetCheck(c)
	}
}

func (t *tracker) forgetCheck(c *check) {
	if i := slices.Index(t.checks, c); i >= 0 {
		t.checks = slices.Delete(t.checks, i, i+1)
	}
}

// cancelCheck forgets c (its caller gave up); its probes still count for
// the path.
func (t *tracker) cancelCheck(c *check) {
	t.forgetCheck(c)
	for i := range t.inflight {
		if t.inflight[i].check == c {
			t.inflight[i].check = nil
		}
	}
}

// metrics returns the path's snapshot. A Down path scores 0 whatever its
// last measurements were: no answers means no quality.
func (t *tracker) metrics() Metrics {
	m := t.est.Metrics()
	m.State, _ = t.mach.State()
	if m.State == StateDown {
		m.Score = 0
	}
	return m
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
