package control

import (
	"context"
	"fmt"
	"strings"

	"github.com/patronus-sdwan/patronus/internal/api/edgeapi"
	"github.com/patronus-sdwan/patronus/internal/auth"
	"github.com/patronus-sdwan/patronus/internal/events"
	"github.com/patronus-sdwan/patronus/internal/sdwan"
	"github.com/patronus-sdwan/patronus/internal/store"
)

// SetTraffic gives the hub the controller's traffic totals, which the
// edges' statistics reports feed. Until it is called those reports fail as
// unavailable. Call it before serving.
func (h *EdgeHub) SetTraffic(t *TrafficStats) { h.traffic = t }

// RegisterKey records the WireGuard public key of the principal's site
// (edgeapi.DataPlaneBackend), audited through the service when it changes.
// The new key reaches the site's peers with their next configuration.
func (h *EdgeHub) RegisterKey(ctx context.Context, p auth.Principal, k edgeapi.KeyRegistration) error {
	if err := requireEdge(p); err != nil {
		return err
	}
	changed, err := h.svc.SetSiteKey(ctx, p, p.SiteID, k.PublicKey)
	if err == nil && changed {
		h.log.Info("edge registered its WireGuard key", "site", p.Name, "public_key", k.PublicKey)
	}
	return err
}

// ReportTraffic applies an edge's per-policy traffic deltas to the live
// totals (edgeapi.DataPlaneBackend). The report is applied at most once
// per (edge, epoch, sequence); a repeat is acknowledged without counting
// again. The edge name is qualified with the site, so one site's edge
// cannot disturb another's numbering.
func (h *EdgeHub) ReportTraffic(ctx context.Context, p auth.Principal, r edgeapi.TrafficReport) (edgeapi.TrafficAck, error) {
	if err := requireEdge(p); err != nil {
		return edgeapi.TrafficAck{}, err
	}
	if h.traffic == nil {
		return edgeapi.TrafficAck{}, fmt.Errorf("%w: this controller keeps no traffic statistics", sdwan.ErrUnavailable)
	}
	rep := r.Stats()
	rep.Edge = p.SiteID + "/" + r.Edge
	applied, err := h.traffic.Apply(ctx, p, &rep)
	if err != nil {
		return edgeapi.TrafficAck{}, err
	}
	return edgeapi.TrafficAck{Seq: r.Seq, Applied: applied}, nil
}

// ReportFlowEvents records an edge's failovers, failbacks and forced moves
// as path events of their kind on the path the traffic left (or, when it
// had none, the one it went to), and publishes each as a PathFailover
// event (edgeapi.DataPlaneBackend). Telemetry of the data plane, not a
// configuration change, so it is not audited; the operator's failoverPath
// that may have caused it is.
func (h *EdgeHub) ReportFlowEvents(ctx context.Context, p auth.Principal, b edgeapi.FlowEventBatch) error {
	if err := requireEdge(p); err != nil {
		return err
	}
	for _, e := range b.Events {
		pathID := e.From
		if pathID == "" {
			pathID = e.To
		}
		path, skip, err := h.reportedPath(ctx, p, pathID)
		if err != nil {
			return err
		}
		if skip {
			continue
		}
		reason := flowEventReason(e)
		pe := &store.PathEvent{PathID: pathID, At: e.At, Kind: e.Kind, From: path.Status, To: path.Status, Reason: reason}
		if err := h.svc.st.Tx(ctx, func(q store.Q) error { return q.AddPathEvent(ctx, pe) }); err != nil {
			return err
		}
		sev := sdwan.SeverityInfo
		if e.Kind == "failover" {
			sev = sdwan.SeverityWarning
		}
		h.svc.bus.Publish(events.Event{Kind: events.PathFailover, At: pe.At, PathID: pathID, SiteID: p.SiteID,
			Severity: string(sev), Summary: reason})
	}
	return nil
}

// flowEventReason writes a flow event for a person: what moved, where, why.
func flowEventReason(e edgeapi.FlowEvent) string {
	var sb strings.Builder
	sb.WriteString(e.Kind)
	switch {
	case e.From != "" && e.To != "":
		fmt.Fprintf(&sb, " from path %s to path %s", e.From, e.To)
	case e.To != "":
		fmt.Fprintf(&sb, " to path %s", e.To)
	default:
		fmt.Fprintf(&sb, " from path %s: no path left", e.From)
	}
	if len(e.Policies) > 0 {
		sb.WriteString(" (policies")
		for i, id := range e.Policies {
			if i == 5 {
				fmt.Fprintf(&sb, " and %d more", len(e.Policies)-5)
				break
			}
			fmt.Fprintf(&sb, " %d", id)
		}
		sb.WriteString(")")
	}
	if e.Reason != "" {
		sb.WriteString(": ")
		sb.WriteString(e.Reason)
	}
	s := sb.String()
	if len(s) > 1000 {
		s = s[:1000]
	}
	return s
}
