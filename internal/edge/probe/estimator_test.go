package probe

import (
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

const msf = float64(time.Millisecond)

func answerAll(e *Estimator, rttsMs ...float64) {
	for i, r := range rttsMs {
		seq := uint64(i + 1)
		e.Sent(seq)
		e.Answered(Sample{Seq: seq, RTT: time.Duration(r * msf), At: simEpoch.Add(time.Duration(i) * time.Second)}, false)
	}
}

func TestEstimatorRTTAndJitter(t *testing.T) {
	tests := []struct {
		name                 string
		rtts                 []float64
		srtt, rttvar, jitter float64 // ms
	}{
		{"one sample", []float64{10}, 10, 5, 0},
		{"steady", []float64{10, 10, 10, 10}, 10, 5 * 27.0 / 64, 0},
		// Hand-computed: RFC 6298 with alpha 1/8, beta 1/4; RFC 3550
		// J += (|D| - J)/16 with D = 10 ms three times.
		{"alternating", []float64{10, 20, 10, 20}, 12.20703125, 5.9765625, 1.76025390625},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := NewEstimator(100)
			answerAll(e, tt.rtts...)
			srtt, rttvar, ok := e.SRTT()
			if !ok {
				t.Fatal("no SRTT after answers")
			}
			approx := func(what string, got time.Duration, wantMs float64) {
				if math.Abs(float64(got)-wantMs*msf) > 1000 {
					t.Errorf("%s = %v, want %.6f ms", what, got, wantMs)
				}
			}
			approx("srtt", srtt, tt.srtt)
			approx("rttvar", rttvar, tt.rttvar)
			approx("jitter", e.Jitter(), tt.jitter)
		})
	}
}

func TestEstimatorPercentiles(t *testing.T) {
	seq := func(from, to int) []float64 {
		var s []float64
		for i := from; i <= to; i++ {
			s = append(s, float64(i))
		}
		return s
	}
	tests := []struct {
		name               string
		window             int
		rtts               []float64
		p50, p95, min, max float64
		samples            int
	}{
		{"one to hundred", 100, seq(1, 100), 50, 95, 1, 100, 100},
		{"window keeps the newest", 100, seq(1, 150), 100, 145, 51, 150, 100},
		{"reversed", 10, []float64{9, 8, 7, 6, 5, 4, 3, 2, 1, 0}, 4, 9, 0, 9, 10},
		{"single", 100, []float64{7}, 7, 7, 7, 7, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := NewEstimator(tt.window)
			answerAll(e, tt.rtts...)
			m := e.Metrics()
			got := []float64{m.P50Ms, m.P95Ms, m.MinMs, m.MaxMs, float64(m.Samples)}
			want := []float64{tt.p50, tt.p95, tt.min, tt.max, float64(tt.samples)}
			if diff := cmp.Diff(want, got, cmpopts.EquateApprox(0, 1e-9)); diff != "" {
				t.Errorf("p50, p95, min, max, samples (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEstimatorLoss(t *testing.T) {
	// Window 10 over probes 1..20; every fourth is lost.
	e := NewEstimator(10)
	for seq := uint64(1); seq <= 20; seq++ {
		e.Sent(seq)
		if seq%4 == 0 {
			e.Missed(seq)
		} else {
			e.Answered(Sample{Seq: seq, RTT: time.Millisecond}, false)
		}
	}
	check := func(step string, loss float64, sent, received, lost, late uint64) {
		t.Helper()
		m := e.Metrics()
		got := []float64{m.LossPct, float64(m.Sent), float64(m.Received), float64(m.Lost), float64(m.Late)}
		want := []float64{loss, float64(sent), float64(received), float64(lost), float64(late)}
		if diff := cmp.Diff(want, got, cmpopts.EquateApprox(0, 1e-9)); diff != "" {
			t.Errorf("%s: loss, sent, received, lost, late (-want +got):\n%s", step, diff)
		}
	}
	check("window 11..20 has 12, 16, 20 lost", 30, 20, 15, 5, 0)

	e.Answered(Sample{Seq: 20, RTT: 300 * time.Millisecond}, true)
	check("20 answers late", 20, 20, 16, 4, 1)

	e.Sent(21) // 11 leaves the window; 21 is in flight, not yet judged
	check("21 in flight", 100*2.0/9, 21, 16, 4, 1)
	e.Missed(21)
	check("21 missed", 100*3.0/10, 21, 16, 5, 1)
}

// RFC 3550 jitter needs no synchronised clocks: a constant offset between
// the two clocks cancels in the difference of successive transit times.
func TestEstimatorOneWayJitterIgnoresClockOffset(t *testing.T) {
	fwd := []float64{10, 12, 9, 15, 10, 11}
	jitters := make([]float64, 0, 2)
	for _, offset := range []time.Duration{0, 123456 * time.Second} {
		e := NewEstimator(100)
		for i, f := range fwd {
			seq := uint64(i + 1)
			e.Sent(seq)
			e.Answered(Sample{
				Seq: seq, RTT: time.Duration(2 * f * msf), OneWay: true,
				Fwd: time.Duration(f*msf) + offset, Rev: time.Duration(f*msf) - offset,
			}, false)
		}
		m := e.Metrics()
		if math.Abs(m.JitterFwdMs-m.JitterRevMs) > 1e-9 {
			t.Errorf("offset %v: forward jitter %v != reverse %v for equal transits", offset, m.JitterFwdMs, m.JitterRevMs)
		}
		jitters = append(jitters, m.JitterFwdMs)
	}
	if jitters[0] == 0 || math.Abs(jitters[0]-jitters[1]) > 1e-9 {
		t.Errorf("forward jitter %v with no offset, %v with a huge one; want equal and non-zero", jitters[0], jitters[1])
	}
}

func TestEstimatorDeadlines(t *testing.T) {
	cfg := DefaultConfig()
	tests := []struct {
		name           string
		rtts           []float64
		late, deadline time.Duration
	}{
		{"no answer yet", nil, cfg.MaxTimeout, cfg.MaxTimeout},
		{"sub-millisecond path uses the floors", []float64{0.1, 0.1}, cfg.MinTimeout / 2, cfg.MinTimeout},
		// A steady 400 ms path: RTTVAR decays to nothing, so the margins
		// are the 5 ms and 10 ms minimums.
		{"steady 400 ms", repeat(400, 200), 405 * time.Millisecond, 410 * time.Millisecond},
		{"beyond the ceiling", repeat(5000, 20), cfg.MaxTimeout, cfg.MaxTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := NewEstimator(cfg.Window)
			answerAll(e, tt.rtts...)
			late, deadline := e.Deadlines(&cfg)
			if absDur(late-tt.late) > 100*time.Microsecond || absDur(deadline-tt.deadline) > 100*time.Microsecond {
				t.Errorf("Deadlines = %v, %v; want %v, %v", late, deadline, tt.late, tt.deadline)
			}
		})
	}
}

func repeat(v float64, n int) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = v
	}
	return s
}

func TestQuality(t *testing.T) {
	tests := []struct {
		name                  string
		latency, jitter, loss float64
		mos, score            float64
	}{
		// d = 10 ms: Id = 0.24, R = 92.96.
		{"perfect", 0, 0, 0, 4.4046, 99.742},
		// d = 12.7: Id = 0.3048; ppl = 0.2503: IeEff = 0.9380.
		{"seed's example path", 5, 0.1, 0.5, 4.3839, 98.666},
		// d = 250: Id = 6 + 0.11*72.7 = 13.997, R = 79.203.
		{"long path", 480, 0, 0, 3.9935, 84.982},
		// 2% per direction is 3.96% round trip: ppl = 2, IeEff = 7.0111;
		// d = 20 + 20 + 10 = 50: Id = 1.2.
		{"lab's 4% loss and 10 ms jitter", 40, 10, 3.96, 4.1978, 91.190},
		// ppl = 100: IeEff = 75.939; d = 15: Id = 0.36.
		{"everything lost", 10, 0, 100, 1.1678, 18.134},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mos, score := Quality(tt.latency, tt.jitter, tt.loss)
			if math.Abs(mos-tt.mos) > 0.001 || math.Abs(score-tt.score) > 0.01 {
				t.Errorf("Quality(%v, %v, %v) = %.4f, %.3f; want %.4f, %.3f", tt.latency, tt.jitter, tt.loss, mos, score, tt.mos, tt.score)
			}
		})
	}
	if m := mosFromR(-5); m != 1 {
		t.Errorf("MOS of R<0 = %v, want 1", m)
	}
	if m := mosFromR(120); m != 4.5 {
		t.Errorf("MOS of R>100 = %v, want 4.5", m)
	}
}
