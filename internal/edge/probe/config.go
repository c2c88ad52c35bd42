package probe

import (
	"errors"
	"fmt"
	"time"
)

// Config tunes one path's probing and its state machine. Paths of one class
// (say, LTE links) share a Config; the zero value of a field means "use the
// default" so that a path class need only name what it changes.
type Config struct {
	// Interval is the time between regular probes. Default 100 ms.
	Interval time.Duration
	// Multiplier is the least number of consecutive missed probes (in send
	// order) that make a path Down. Default 3.
	Multiplier int
	// ConfirmProbes is how many confirmation probes a late probe triggers,
	// and how many of them must be missed, on top of Multiplier, before the
	// path is Down. Zero after Normalize only if NoConfirm is set: it gives
	// the classic "Multiplier misses in a row" rule, which flaps under
	// random loss. Default 4.
	ConfirmProbes int
	// NoConfirm disables confirmation probes (ConfirmProbes is forced to 0).
	NoConfirm bool
	// ConfirmInterval spaces confirmation probes. Default Interval/5.
	ConfirmInterval time.Duration
	// MinTimeout and MaxTimeout bound the deadline after which an
	// unanswered probe counts as missed; between them the deadline follows
	// the RTT as SRTT + max(4 x RTTVAR, 10 ms) (RFC 6298 without its 1 s
	// floor). Defaults 50 ms and 3 s. Before the first answer the deadline
	// is MaxTimeout.
	MinTimeout time.Duration
	MaxTimeout time.Duration
	// RecoverProbes is the run of consecutive good probes a Down or
	// Degraded path needs before it is promoted. Default 10.
	RecoverProbes int
	// HoldDown is the least time a path stays Down or Degraded after a
	// failure before it may be promoted. Default 2 s. It does not apply to
	// the initial Down of a path that has never been answered.
	HoldDown time.Duration
	// Window is the number of probes over which loss and the RTT
	// percentiles are computed. Default 100 (10 s at the default interval).
	// It takes effect when the path is added; SetPath keeps the window of
	// a running path.
	Window int
	// SLA holds the thresholds that make an answered path Degraded.
	SLA SLA
}

// SLA holds the thresholds beyond which a path is Degraded. A zero limit is
// not checked. A Degraded path is promoted only once every metric is back
// under its limit times ClearRatio (for MinMOS: above it by 1-ClearRatio of
// the headroom to 4.5), so a metric that hovers around a limit does not
// toggle the state.
type SLA struct {
	// MaxLatency limits the smoothed round-trip time.
	MaxLatency time.Duration
	// MaxJitter limits the round-trip RFC 3550 jitter.
	MaxJitter time.Duration
	// MaxLossPct limits the loss over the window, in percent.
	MaxLossPct float64
	// MinMOS is the lowest acceptable MOS estimate (1-4.5).
	MinMOS float64
	// ClearRatio scales each limit into its clear threshold. Default 0.8.
	ClearRatio float64
}

// DefaultConfig returns the defaults described on Config's fields, with an
// SLA of 20% loss: enough that a path losing a fifth of its probes is not
// Up, far enough from the 4% of ordinary random loss that the windowed loss
// does not wander over it.
func DefaultConfig() Config {
	var c Config
	c.SLA.MaxLossPct = 20
	return c.Normalize()
}

// Normalize returns c with every zero field replaced by its default.
func (c Config) Normalize() Config {
	if c.Interval <= 0 {
		c.Interval = 100 * time.Millisecond
	}
	if c.Multiplier <= 0 {
		c.Multiplier = 3
	}
	if c.NoConfirm {
		c.ConfirmProbes = 0
	} else if c.ConfirmProbes <= 0 {
		c.ConfirmProbes = 4
	}
	if c.ConfirmInterval <= 0 {
		c.ConfirmInterval = c.Interval / 5
	}
	if c.MinTimeout <= 0 {
		c.MinTimeout = 50 * time.Millisecond
	}
	if c.MaxTimeout <= 0 {
		c.MaxTimeout = 3 * time.Second
	}
	if c.MaxTimeout < c.MinTimeout {
		c.MaxTimeout = c.MinTimeout
	}
	if c.RecoverProbes <= 0 {
		c.RecoverProbes = 10
	}
	if c.HoldDown <= 0 {
		c.HoldDown = 2 * time.Second
	}
	if c.Window <= 0 {
		c.Window = 100
	}
	if c.SLA.ClearRatio <= 0 || c.SLA.ClearRatio > 1 {
		c.SLA.ClearRatio = 0.8
	}
	return c
}

// Validate reports settings that Normalize cannot repair.
func (c Config) Validate() error {
	var errs []error
	if c.Interval < time.Millisecond {
		errs = append(errs, fmt.Errorf("interval %v is under 1ms", c.Interval))
	}
	if c.ConfirmInterval > c.Interval {
		errs = append(errs, fmt.Errorf("confirm interval %v exceeds interval %v", c.ConfirmInterval, c.Interval))
	}
	if c.Window > 1<<16 {
		errs = append(errs, fmt.Errorf("window %d exceeds 65536 probes", c.Window))
	}
	if c.SLA.MaxLossPct < 0 || c.SLA.MaxLossPct > 100 {
		errs = append(errs, fmt.Errorf("sla loss %v%% is outside 0-100", c.SLA.MaxLossPct))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("probe: config: %w", err)
	}
	return nil
}
