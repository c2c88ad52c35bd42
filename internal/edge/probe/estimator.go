package probe

import (
	"math"
	"slices"
	"time"
)

// Sample is one answered probe as the Estimator sees it.
type Sample struct {
	// Seq is the probe's sequence number.
	Seq uint64
	// RTT is the round-trip time less the responder's processing time.
	RTT time.Duration
	// At is when the answer arrived.
	At time.Time
	// Fwd and Rev are the one-way transit times, each the difference of two
	// clocks (the receiver's minus the sender's) and so off by the clocks'
	// offset; RFC 3550 jitter uses only differences of successive transits,
	// in which the offset cancels. OneWay is false when the responder gave
	// no timestamps.
	Fwd, Rev time.Duration
	OneWay   bool
}

// Metrics is a snapshot of one path's measurements.
type Metrics struct {
	// State is the path's state when the snapshot was taken.
	State State
	// LatencyMs is the smoothed round-trip time (RFC 6298 SRTT).
	LatencyMs float64
	// P50Ms and P95Ms are nearest-rank percentiles of the round-trip times
	// answered within the window; MinMs and MaxMs their extremes.
	P50Ms, P95Ms, MinMs, MaxMs float64
	// JitterMs is the RFC 3550 interarrival jitter of the round trip
	// (J += (|D| - J)/16 with D the difference of successive RTTs).
	JitterMs float64
	// JitterFwdMs and JitterRevMs are RFC 3550 jitter of each one-way
	// direction, from the echoed timestamps (zero without them).
	JitterFwdMs, JitterRevMs float64
	// LossPct is the share of the window's judged probes that were not
	// answered by their deadline, in percent (round-trip loss).
	LossPct float64
	// MOS is the E-model estimate (1-4.5) and Score the documented 0-100
	// figure; see mos.go. A Down path scores 0.
	MOS, Score float64
	// Samples is the number of RTTs in the window.
	Samples int
	// Sent, Received, Lost and Late count probes since the path was
	// added: Sent = Received + Lost + in flight; Late counts answers that
	// came after their deadline (included in Received, not in Lost).
	Sent, Received, Lost, Late uint64
	// MeasuredAt is when the newest answer arrived (zero if none has).
	MeasuredAt time.Time
}

type outcome uint8

const (
	outcomeNone outcome = iota
	outcomePending
	outcomeAnswered
	outcomeMissed
)

type slot struct {
	seq uint64
	out outcome
}

// oneWayReset is the largest change in one-way transit believed to be the
// network's; anything larger is a clock step or a restarted responder, and
// restarts that direction's jitter baseline.
const oneWayReset = 10 * time.Second

// Estimator turns probe outcomes into a path's metrics. It is pure (no
// clock, no goroutines, not safe for concurrent use) and costs O(Window)
// memory; Metrics sorts the window, everything else is O(1).
type Estimator struct {
	slots            []slot // loss window, indexed by seq % len
	answered, missed int

	rtts    []time.Duration // RTT window, ring
	rttNext int
	scratch []time.Duration

	srtt, rttvar     time.Duration
	hasRTT           bool
	jitter           float64 // ns
	jitterFwd        float64
	jitterRev        float64
	prevRTT          time.Duration
	prevFwd, prevRev time.Duration
	hasPrevOneWay    bool

	sent, received, lost, late uint64
	lastAnswer                 time.Time
}

// NewEstimator returns an Estimator over a window of window probes.
func NewEstimator(window int) *Estimator {
	if window <= 0 {
		window = 100
	}
	return &Estimator{
		slots:   make([]slot, window),
		rtts:    make([]time.Duration, 0, window),
		scratch: make([]time.Duration, 0, window),
	}
}

// Sent records that probe seq left. Sequence numbers must increase.
func (e *Estimator) Sent(seq uint64) {
	e.sent++
	s := &e.slots[seq%uint64(len(e.slots))]
	switch s.out {
	case outcomeAnswered:
		e.answered--
	case outcomeMissed:
		e.missed--
	}
	*s = slot{seq: seq, out: outcomePending}
}

// Missed records that probe seq reached its deadline unanswered.
func (e *Estimator) Missed(seq uint64) {
	e.lost++
	s := &e.slots[seq%uint64(len(e.slots))]
	if s.seq == seq && s.out == outcomePending {
		s.out = outcomeMissed
		e.missed++
	}
}

// Answered records an answer. late says the probe had already been counted
// as missed: its answer still proves the path alive and still measures it,
// so it moves from Lost to Received (and to Late).
func (e *Estimator) Answered(smp Sample, late bool) {
	e.received++
	if late {
		e.late++
		e.lost--
	}
	s := &e.slots[smp.Seq%uint64(len(e.slots))]
	if s.seq == smp.Seq {
		switch s.out {
		case outcomePending:
			s.out = outcomeAnswered
			e.answered++
		case outcomeMissed:
			s.out = outcomeAnswered
			e.missed--
			e.answered++
		}
	}
	if smp.At.After(e.lastAnswer) {
		e.lastAnswer = smp.At
	}
	e.addRTT(smp.RTT)
	if smp.OneWay {
		if e.hasPrevOneWay && absDur(smp.Fwd-e.prevFwd) < oneWayReset && absDur(smp.Rev-e.prevRev) < oneWayReset {
			e.jitterFwd += (math.Abs(float64(smp.Fwd-e.prevFwd)) - e.jitterFwd) / 16
			e.jitterRev += (math.Abs(float64(smp.Rev-e.prevRev)) - e.jitterRev) / 16
		}
		e.prevFwd, e.prevRev, e.hasPrevOneWay = smp.Fwd, smp.Rev, true
	}
}

func (e *Estimator) addRTT(r time.Duration) {
	if r < 0 {
		r = 0
	}
	if !e.hasRTT {
		e.srtt, e.rttvar, e.hasRTT = r, r/2, true
	} else {
		// RFC 6298 section 2.3, alpha = 1/8 and beta = 1/4.
		e.rttvar = (3*e.rttvar + absDur(e.srtt-r)) / 4
		e.srtt = (7*e.srtt + r) / 8
		e.jitter += (math.Abs(float64(r-e.prevRTT)) - e.jitter) / 16
	}
	e.prevRTT = r
	if len(e.rtts) < cap(e.rtts) {
		e.rtts = append(e.rtts, r)
	} else {
		e.rtts[e.rttNext] = r
		e.rttNext = (e.rttNext + 1) % len(e.rtts)
	}
}

// SRTT returns the smoothed RTT and its variation, and false before the
// first answer.
func (e *Estimator) SRTT() (srtt, rttvar time.Duration, ok bool) {
	return e.srtt, e.rttvar, e.hasRTT
}

// Deadlines returns how long after sending a probe it becomes late (the
// moment to start confirming) and missed, for the RTT measured so far:
// missed at SRTT + max(4 x RTTVAR, 10 ms) and late at
// SRTT + max(3 x RTTVAR, 5 ms), both within [MinTimeout/2, MaxTimeout] and
// late never after missed. With no answer yet both are MaxTimeout.
func (e *Estimator) Deadlines(c *Config) (late, missed time.Duration) {
	if !e.hasRTT {
		return c.MaxTimeout, c.MaxTimeout
	}
	missed = clampDur(e.srtt+max(4*e.rttvar, 10*time.Millisecond), c.MinTimeout, c.MaxTimeout)
	late = clampDur(e.srtt+max(3*e.rttvar, 5*time.Millisecond), c.MinTimeout/2, missed)
	return late, missed
}

// LossPct returns the loss over the window in percent (0 with no judged
// probe).
func (e *Estimator) LossPct() float64 {
	n := e.answered + e.missed
	if n == 0 {
		return 0
	}
	return 100 * float64(e.missed) / float64(n)
}

// Jitter returns the round-trip RFC 3550 jitter.
func (e *Estimator) Jitter() time.Duration { return time.Duration(e.jitter) }

// Metrics returns a snapshot of every estimate, with State left zero for
// the caller to fill. It sorts a copy of the RTT window.
func (e *Estimator) Metrics() Metrics {
	m := Metrics{
		LossPct:     e.LossPct(),
		JitterMs:    e.jitter / 1e6,
		JitterFwdMs: e.jitterFwd / 1e6,
		JitterRevMs: e.jitterRev / 1e6,
		Samples:     len(e.rtts),
		Sent:        e.sent,
		Received:    e.received,
		Lost:        e.lost,
		Late:        e.late,
		MeasuredAt:  e.lastAnswer,
	}
	if e.hasRTT {
		m.LatencyMs = ms(e.srtt)
	}
	if n := len(e.rtts); n > 0 {
		e.scratch = append(e.scratch[:0], e.rtts...)
		slices.Sort(e.scratch)
		m.P50Ms = ms(percentile(e.scratch, 0.50))
		m.P95Ms = ms(percentile(e.scratch, 0.95))
		m.MinMs = ms(e.scratch[0])
		m.MaxMs = ms(e.scratch[n-1])
	}
	if e.hasRTT {
		m.MOS, m.Score = Quality(m.LatencyMs, m.JitterMs, m.LossPct)
	}
	return m
}

// percentile returns the nearest-rank q-quantile of sorted: the smallest
// value with at least q of the samples at or below it.
func percentile(sorted []time.Duration, q float64) time.Duration {
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

func clampDur(d, lo, hi time.Duration) time.Duration {
	return max(lo, min(d, hi))
}
