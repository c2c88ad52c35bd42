package sdwan

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// PathStatus is a path's health as judged by the path monitor.
type PathStatus string

// Path statuses.
const (
	PathUp       PathStatus = "up"
	PathDegraded PathStatus = "degraded"
	PathDown     PathStatus = "down"
)

// ParsePathStatus parses a path status, case-insensitively.
func ParsePathStatus(field, s string) (PathStatus, error) {
	st := PathStatus(strings.ToLower(strings.TrimSpace(s)))
	switch st {
	case PathUp, PathDegraded, PathDown:
		return st, nil
	}
	return "", fieldErr(field, s, "must be one of up, degraded, down")
}

// Path is one way through the overlay: from a local WAN link of one site to
// a WAN link of another. Each path is its own WireGuard tunnel so it can be
// probed and chosen on its own.
type Path struct {
	ID            string // UUID
	SrcSiteID     string
	SrcEndpointID string
	DstSiteID     string
	DstEndpointID string
	Status        PathStatus
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// Validate checks the path's fields, naming the first bad one.
func (p *Path) Validate() error {
	switch {
	case p.SrcEndpointID == "":
		return fieldErr("path.srcEndpointId", "", "is required")
	case p.DstEndpointID == "":
		return fieldErr("path.dstEndpointId", "", "is required")
	case p.SrcEndpointID == p.DstEndpointID:
		return fieldErr("path.dstEndpointId", p.DstEndpointID, "must differ from the source endpoint")
	case p.SrcSiteID != "" && p.SrcSiteID == p.DstSiteID:
		return fieldErr("path.dstEndpointId", p.DstEndpointID, "belongs to the source site; a path joins two different sites")
	}
	if p.Status == "" {
		p.Status = PathDown // unmeasured paths are down until probes say otherwise
	}
	if _, err := ParsePathStatus("path.status", string(p.Status)); err != nil {
		return err
	}
	return nil
}

// PathMetrics is one measurement of a path, with the seed's field names in
// the API (latency_ms, jitter_ms, packet_loss_pct, bandwidth_mbps, mtu,
// measured_at, score).
type PathMetrics struct {
	PathID        string
	LatencyMs     float64 // round-trip time
	JitterMs      float64 // RFC 3550 interarrival jitter
	PacketLossPct float64 // 0-100
	BandwidthMbps float64
	MTU           int
	MeasuredAt    time.Time
	Score         int // 0-100
}

// Validate checks that a reported measurement is physically possible.
func (m *PathMetrics) Validate() error {
	bad := func(v float64) bool { return v < 0 || math.IsNaN(v) || math.IsInf(v, 0) }
	switch {
	case m.PathID == "":
		return fieldErr("metrics.pathId", "", "is required")
	case bad(m.LatencyMs):
		return fieldErr("metrics.latency_ms", formatFloat(m.LatencyMs), "must be zero or more")
	case bad(m.JitterMs):
		return fieldErr("metrics.jitter_ms", formatFloat(m.JitterMs), "must be zero or more")
	case bad(m.PacketLossPct) || m.PacketLossPct > 100:
		return fieldErr("metrics.packet_loss_pct", formatFloat(m.PacketLossPct), "must be between 0 and 100")
	case bad(m.BandwidthMbps):
		return fieldErr("metrics.bandwidth_mbps", formatFloat(m.BandwidthMbps), "must be zero or more")
	case m.MTU < 0 || m.MTU > 65535:
		return fieldErr("metrics.mtu", strconv.Itoa(m.MTU), "must be between 0 and 65535")
	case m.Score < 0 || m.Score > 100:
		return fieldErr("metrics.score", strconv.Itoa(m.Score), "must be between 0 and 100")
	case m.MeasuredAt.IsZero():
		return fieldErr("metrics.measured_at", "", "is required")
	}
	return nil
}

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
