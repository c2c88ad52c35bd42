package wanem

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// Direction names one direction of a link as seen from the site that owns
// it.
type Direction uint8

const (
	// Out is the direction from the site's edge to the rest of the WAN.
	Out Direction = iota
	// In is the direction from the rest of the WAN to the site's edge.
	In
)

// String returns "out" or "in".
func (d Direction) String() string {
	switch d {
	case Out:
		return "out"
	case In:
		return "in"
	}
	return fmt.Sprintf("Direction(%d)", uint8(d))
}

// Directions selects one or both directions of a link, as the scenario and
// the lab's impair control name them.
type Directions uint8

const (
	// Both selects the outbound and the inbound direction.
	Both Directions = iota
	// OutOnly selects the outbound direction only.
	OutOnly
	// InOnly selects the inbound direction only.
	InOnly
)

// ParseDirections reads "both", "out" or "in"; the empty string means both.
func ParseDirections(s string) (Directions, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "both":
		return Both, nil
	case "out":
		return OutOnly, nil
	case "in":
		return InOnly, nil
	}
	return 0, fmt.Errorf("direction %q: want both, out or in", s)
}

// String returns "both", "out" or "in".
func (ds Directions) String() string {
	switch ds {
	case Both:
		return "both"
	case OutOnly:
		return "out"
	case InOnly:
		return "in"
	}
	return fmt.Sprintf("Directions(%d)", uint8(ds))
}

// Each returns the directions selected, outbound first.
func (ds Directions) Each() []Direction {
	switch ds {
	case OutOnly:
		return []Direction{Out}
	case InOnly:
		return []Direction{In}
	}
	return []Direction{Out, In}
}

// GilbertElliott is the two-state bursty loss model: a Markov chain that
// moves from the good to the bad state with probability P and back with
// probability R at each packet, and drops a packet with probability
// LossGood or LossBad depending on the state it is in. The mean burst of
// bad-state packets is 1/R packets; the long-run loss is
// (R·LossGood + P·LossBad)/(P+R). All four values are in [0, 1].
type GilbertElliott struct {
	P        float64 `json:"p"`
	R        float64 `json:"r"`
	LossGood float64 `json:"lossGood"`
	LossBad  float64 `json:"lossBad"`
}

// MeanLoss returns the long-run loss probability of the chain.
func (ge GilbertElliott) MeanLoss() float64 {
	if ge.P+ge.R == 0 {
		return ge.LossGood // the chain never leaves the good state
	}
	return (ge.R*ge.LossGood + ge.P*ge.LossBad) / (ge.P + ge.R)
}

func (ge GilbertElliott) validate() error {
	for _, f := range []struct {
		name string
		v    float64
	}{{"p", ge.P}, {"r", ge.R}, {"lossGood", ge.LossGood}, {"lossBad", ge.LossBad}} {
		if err := checkProbability(f.v); err != nil {
			return fmt.Errorf("burst.%s: %w", f.name, err)
		}
	}
	return nil
}

// EvenLossBlock is the run of packets over which EvenLoss drops exactly
// the configured share.
const EvenLossBlock = 100

// DefaultQueueBytes is the rate stage's queue when Impairment.QueueBytes is
// zero: 64 KiB, about 52 ms at 10 Mbit/s.
const DefaultQueueBytes = 64 << 10

// Impairment is what one direction of a link does to the datagrams crossing
// it. The zero value passes everything at once. The package comment gives
// the order in which the fields apply and what Jitter means precisely.
type Impairment struct {
	// Delay is the one-way delay added to every packet.
	Delay time.Duration
	// Jitter is the RFC 3550 interarrival jitter this direction produces:
	// the delay varies normally with standard deviation Jitter·√π/2.
	Jitter time.Duration
	// Loss is the probability, in [0, 1], that a packet is dropped at
	// random, independently of the others.
	Loss float64
	// EvenLoss spreads the random loss evenly: of each run of
	// EvenLossBlock packets to or from one remote address, exactly
	// Loss×EvenLossBlock are dropped (fractions carry over to the next
	// run), at random places in the run. The long-run loss is the same as
	// without it, but the loss measured over N packets of one path is
	// within about EvenLossBlock/N of Loss instead of varying
	// binomially, which is what an accuracy check over a few thousand
	// probes needs. Real links and netem lose independently; that stays
	// the default.
	EvenLoss bool
	// Burst, when set, adds Gilbert-Elliott bursty loss.
	Burst *GilbertElliott
	// RateBps limits the direction to this many bits per second; 0 means
	// unlimited.
	RateBps int64
	// QueueBytes bounds the backlog of the rate stage; 0 means
	// DefaultQueueBytes. It has no effect without RateBps.
	QueueBytes int
	// Reorder is the probability, in [0, 1], that a packet skips the delay
	// and jitter and so overtakes the packets in flight.
	Reorder float64
	// Duplicate is the probability, in [0, 1], that a packet is sent twice.
	Duplicate float64
	// Down drops every packet.
	Down bool
}

// Validate reports the first field that is out of range, naming it.
func (imp Impairment) Validate() error {
	if imp.Delay < 0 {
		return fmt.Errorf("delay: %v is negative", imp.Delay)
	}
	if imp.Jitter < 0 {
		return fmt.Errorf("jitter: %v is negative", imp.Jitter)
	}
	if err := checkProbability(imp.Loss); err != nil {
		return fmt.Errorf("loss: %w", err)
	}
	if imp.Burst != nil {
		if err := imp.Burst.validate(); err != nil {
			return err
		}
	}
	if imp.RateBps < 0 {
		return fmt.Errorf("rate: %d bit/s is negative", imp.RateBps)
	}
	if imp.RateBps > MaxRateBps {
		return fmt.Errorf("rate: %d bit/s is above %s", imp.RateBps, FormatRate(MaxRateBps))
	}
	if imp.QueueBytes < 0 {
		return fmt.Errorf("queue: %d bytes is negative", imp.QueueBytes)
	}
	if err := checkProbability(imp.Reorder); err != nil {
		return fmt.Errorf("reorder: %w", err)
	}
	if err := checkProbability(imp.Duplicate); err != nil {
		return fmt.Errorf("duplicate: %w", err)
	}
	return nil
}

var errProbability = errors.New("want a probability between 0 and 1")

func checkProbability(p float64) error {
	if math.IsNaN(p) || p < 0 || p > 1 {
		return fmt.Errorf("%v: %w", p, errProbability)
	}
	return nil
}

// queueBytes returns the effective queue bound of the rate stage.
func (imp Impairment) queueBytes() int {
	if imp.QueueBytes == 0 {
		return DefaultQueueBytes
	}
	return imp.QueueBytes
}

// sigma returns the standard deviation of the delay variation that makes
// RFC 3550 jitter converge to imp.Jitter (see the package comment).
func (imp Impairment) sigma() float64 {
	return float64(imp.Jitter) * math.Sqrt(math.Pi) / 2
}

// String describes the impairment in the units the CLI takes, leaving out
// what is unset; the zero value is "none".
func (imp Impairment) String() string {
	var parts []string
	if imp.Down {
		parts = append(parts, "down")
	}
	if imp.Delay != 0 {
		parts = append(parts, "delay "+imp.Delay.String())
	}
	if imp.Jitter != 0 {
		parts = append(parts, "jitter "+imp.Jitter.String())
	}
	if imp.Loss != 0 {
		parts = append(parts, "loss "+FormatPercent(imp.Loss))
	}
	if imp.EvenLoss {
		parts = append(parts, "even")
	}
	if b := imp.Burst; b != nil {
		parts = append(parts, fmt.Sprintf("burst p=%s r=%s good=%s bad=%s",
			FormatPercent(b.P), FormatPercent(b.R), FormatPercent(b.LossGood), FormatPercent(b.LossBad)))
	}
	if imp.RateBps != 0 {
		parts = append(parts, "rate "+FormatRate(imp.RateBps))
	}
	if imp.QueueBytes != 0 {
		parts = append(parts, fmt.Sprintf("queue %dB", imp.QueueBytes))
	}
	if imp.Reorder != 0 {
		parts = append(parts, "reorder "+FormatPercent(imp.Reorder))
	}
	if imp.Duplicate != 0 {
		parts = append(parts, "duplicate "+FormatPercent(imp.Duplicate))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, " ")
}
