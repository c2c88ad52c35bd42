package dataplane

import (
	"github.com/patronus-sdwan/patronus/internal/edge/probe"
	"github.com/patronus-sdwan/patronus/internal/sdwan"
)

// FromProbe converts what the path monitor measured into UpdatePath's
// arguments, so an OnTransition callback can be as short as
//
//	func(tr probe.Transition, m probe.Metrics) { e.UpdatePath(FromProbe(id, m)) }
func FromProbe(pathID string, m probe.Metrics) (string, sdwan.PathStatus, sdwan.PathMetrics) {
	st := sdwan.PathDown
	switch m.State {
	case probe.StateUp:
		st = sdwan.PathUp
	case probe.StateDegraded:
		st = sdwan.PathDegraded
	}
	return pathID, st, sdwan.PathMetrics{
		PathID:        pathID,
		LatencyMs:     m.LatencyMs,
		JitterMs:      m.JitterMs,
		PacketLossPct: m.LossPct,
		MeasuredAt:    m.MeasuredAt,
		Score:         int(m.Score + 0.5),
	}
}
