package wanem

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// ParseDuration reads a non-negative duration in Go's syntax ("40ms",
// "1.5s", "0").
func ParseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("%q: want a duration such as 40ms", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("%q: duration is negative", s)
	}
	return d, nil
}

// ParsePercent reads a percentage between 0% and 100% ("2%", "0.5%") and
// returns it as a probability between 0 and 1. The percent sign is
// required, so that "2" cannot be mistaken for 200% or 0.02%.
func ParsePercent(s string) (float64, error) {
	t := strings.TrimSpace(s)
	num, ok := strings.CutSuffix(t, "%")
	if !ok {
		return 0, fmt.Errorf("%q: want a percentage such as 2%%", s)
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%q: want a percentage such as 2%%", s)
	}
	if v < 0 || v > 100 {
		return 0, fmt.Errorf("%q: want a percentage between 0%% and 100%%", s)
	}
	return v / 100, nil
}

// FormatPercent writes a probability as ParsePercent reads it, to ten
// significant digits so that float noise (2.0000000000000004%) does not
// show.
func FormatPercent(p float64) string {
	return strconv.FormatFloat(p*100, 'g', 10, 64) + "%"
}

// rateUnits are the units ParseRate accepts, in bits per second. They are
// decimal (SI) like tc's, but only bit-based: tc reads "mbps" as megabytes
// per second while most people mean megabits, so "bps" spellings are
// refused rather than guessed.
var rateUnits = []struct {
	name string
	bps  int64
}{
	{"tbit", 1e12},
	{"gbit", 1e9},
	{"mbit", 1e6},
	{"kbit", 1e3},
	{"bit", 1},
}

// MaxRateBps is the highest rate a link can be limited to, 1 Pbit/s: far
// above anything loopback carries, and low enough that no arithmetic on it
// overflows.
const MaxRateBps = 1e15

// ParseRate reads a rate in bits per second: a decimal number followed by
// bit, kbit, mbit, gbit or tbit, optionally with "/s" ("10mbit", "1.5gbit/s",
// "64kbit"). "0", "none" and "unlimited" mean no limit and return 0.
func ParseRate(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	switch t {
	case "0", "none", "unlimited":
		return 0, nil
	}
	t = strings.TrimSuffix(t, "/s")
	for _, u := range rateUnits {
		num, ok := strings.CutSuffix(t, u.name)
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			break
		}
		if v < 0 {
			return 0, fmt.Errorf("%q: rate is negative", s)
		}
		bps := math.Round(v * float64(u.bps))
		if bps > MaxRateBps {
			return 0, fmt.Errorf("%q: rate is too large", s)
		}
		if bps < 1 {
			if v == 0 {
				return 0, nil
			}
			return 0, fmt.Errorf("%q: rate is below 1 bit/s", s)
		}
		return int64(bps), nil
	}
	return 0, fmt.Errorf("%q: want a rate such as 10mbit (units bit, kbit, mbit, gbit, tbit)", s)
}

// FormatRate writes a rate as ParseRate reads it, in the largest unit that
// represents it exactly; 0 is "unlimited".
func FormatRate(bps int64) string {
	if bps <= 0 {
		return "unlimited"
	}
	for _, u := range rateUnits {
		if bps%u.bps == 0 {
			return strconv.FormatInt(bps/u.bps, 10) + u.name
		}
	}
	return strconv.FormatInt(bps, 10) + "bit" // unreachable: 1 divides everything
}
