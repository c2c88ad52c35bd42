package probe

import "math"

// E-model constants (ITU-T G.107, with the simplifications of Cole and
// Rosenbluth, "Voice over IP performance monitoring", 2001) for G.711 with
// packet loss concealment under random loss (G.113 Appendix I: Ie = 0,
// Bpl = 25.1).
const (
	rDefault   = 93.2  // R0 - Is - A with every other default of G.107
	bpl        = 25.1  // packet-loss robustness of G.711 with PLC
	codecDelay = 10.0  // ms, packetisation and codec look-ahead
	idKnee     = 177.3 // ms, where delay starts to hurt conversation
)

// Quality computes the E-model MOS and the 0-100 score of a path from its
// smoothed round-trip latency, round-trip jitter (both ms) and round-trip
// loss (percent). The formula, which docs/bench/probe.md repeats:
//
//	d      = latency/2 + 2*jitter + 10        one-way mouth-to-ear delay, ms:
//	                                          half the RTT, a jitter buffer of
//	                                          twice the jitter, the codec
//	ppl    = 100 * (1 - sqrt(1 - loss/100))  one-way loss, assuming both
//	                                          directions lose alike
//	Id     = 0.024*d + 0.11*(d - 177.3)*[d > 177.3]
//	IeEff  = 95 * ppl / (ppl + 25.1)
//	R      = 93.2 - Id - IeEff, limited to 0..100
//	MOS    = 1 + 0.035*R + 7e-6*R*(R-60)*(100-R)   (1 when R = 0)
//	Score  = 100 * R / 93.2, limited to 0..100
//
// So a perfect path scores 100 and MOS 4.41; 4% round-trip loss alone
// costs about 7 points; latency costs little until the one-way delay nears
// 177 ms and then falls steeply. Using the round-trip jitter where the
// model wants one-way jitter errs on the pessimistic side.
func Quality(latencyMs, jitterMs, lossPct float64) (mos, score float64) {
	latencyMs = max(0, latencyMs)
	jitterMs = max(0, jitterMs)
	loss := min(max(lossPct, 0), 100) / 100
	d := latencyMs/2 + 2*jitterMs + codecDelay
	id := 0.024 * d
	if d > idKnee {
		id += 0.11 * (d - idKnee)
	}
	ppl := 100 * (1 - math.Sqrt(1-loss))
	ie := 95 * ppl / (ppl + bpl)
	r := min(max(rDefault-id-ie, 0), 100)
	return mosFromR(r), min(100*r/rDefault, 100)
}

// mosFromR is G.107's mapping of R to a mean opinion score.
func mosFromR(r float64) float64 {
	switch {
	case r <= 0:
		return 1
	case r >= 100:
		return 4.5
	}
	return 1 + 0.035*r + 7e-6*r*(r-60)*(100-r)
}
