package sdwan

import (
	"math"
	"strconv"
	"time"
)

// ActionKind is what a policy does with the traffic it matches.
type ActionKind string

// Policy actions.
const (
	ActionSteer ActionKind = "steer" // send over the path that best meets the SLA
	ActionDrop  ActionKind = "drop"
)

// Preference chooses among the paths that meet a policy's SLA.
type Preference string

// Path preferences.
const (
	PreferQuality Preference = "best_quality"
	PreferCost    Preference = "lowest_cost"
	PreferLink    Preference = "link" // a named WAN link, falling back to best quality
)

// SLA bounds a path must keep to carry a policy's traffic. Zero means no
// bound.
type SLA struct {
	MaxLatencyMs float64
	MaxJitterMs  float64
	MaxLossPct   float64
}

// Meets reports whether metrics m keep within the SLA.
func (s SLA) Meets(m PathMetrics) bool {
	return (s.MaxLatencyMs == 0 || m.LatencyMs <= s.MaxLatencyMs) &&
		(s.MaxJitterMs == 0 || m.JitterMs <= s.MaxJitterMs) &&
		(s.MaxLossPct == 0 || m.PacketLossPct <= s.MaxLossPct)
}

// Action is a policy's decision for matched traffic.
type Action struct {
	Kind       ActionKind
	SLA        SLA
	Preference Preference
	// Link names the WAN link (such as "wan1") when Preference is PreferLink.
	Link string
}

// Policy is a routing policy. Policies are evaluated in ascending Priority
// order; the first that matches decides.
type Policy struct {
	ID          int64
	Name        string
	Description string
	Priority    int // unique; lower runs first
	Enabled     bool
	Match       Match
	Action      Action
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// MaxPriority bounds policy priorities.
const MaxPriority = 1_000_000

// Validate checks the policy, naming the first bad field with a "policy."
// prefix.
func (p *Policy) Validate() error {
	if err := ValidateName("policy.name", p.Name); err != nil {
		return err
	}
	if len(p.Description) > 1024 {
		return fieldErr("policy.description", "", "is longer than 1024 characters")
	}
	if p.Priority < 0 || p.Priority > MaxPriority {
		return fieldErr("policy.priority", strconv.Itoa(p.Priority), "is out of range 0-1000000")
	}
	if err := p.Match.Validate(); err != nil {
		return Prefixed("policy", err)
	}
	return Prefixed("policy", p.Action.Validate())
}

// Validate checks the action; field names are relative ("action.link").
func (a *Action) Validate() error {
	switch a.Kind {
	case ActionDrop:
		return nil
	case "":
		a.Kind = ActionSteer
	case ActionSteer:
	default:
		return fieldErr("action.kind", string(a.Kind), "must be steer or drop")
	}
	if a.Preference == "" {
		a.Preference = PreferQuality
	}
	switch a.Preference {
	case PreferQuality, PreferCost:
		if a.Link != "" {
			return fieldErr("action.link", a.Link, "is only allowed with preference link")
		}
	case PreferLink:
		if err := ValidateName("action.link", a.Link); err != nil {
			return err
		}
	default:
		return fieldErr("action.preference", string(a.Preference), "must be best_quality, lowest_cost or link")
	}
	bad := func(v float64) bool { return v < 0 || math.IsNaN(v) || math.IsInf(v, 0) }
	switch {
	case bad(a.SLA.MaxLatencyMs):
		return fieldErr("action.sla.maxLatencyMs", formatFloat(a.SLA.MaxLatencyMs), "must be zero (no bound) or more")
	case bad(a.SLA.MaxJitterMs):
		return fieldErr("action.sla.maxJitterMs", formatFloat(a.SLA.MaxJitterMs), "must be zero (no bound) or more")
	case bad(a.SLA.MaxLossPct) || a.SLA.MaxLossPct > 100:
		return fieldErr("action.sla.maxLossPct", formatFloat(a.SLA.MaxLossPct), "must be between 0 (no bound) and 100")
	}
	return nil
}

// SetPath renders the action's path choice the way the seed's
// actions.setPath field did: the link name, or the preference.
func (a Action) SetPath() string {
	switch {
	case a.Kind == ActionDrop:
		return ""
	case a.Preference == PreferLink:
		return a.Link
	}
	return string(a.Preference)
}

// PolicyStats is one snapshot of a policy's traffic, the seed's
// sdwan_policy_stats row plus the site it was counted at ("" for the sum
// over all sites).
type PolicyStats struct {
	PolicyID       int64
	SiteID         string
	Timestamp      time.Time
	PacketsMatched uint64
	BytesMatched   uint64
	ActiveFlows    uint64
}
