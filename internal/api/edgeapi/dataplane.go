package edgeapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/patronus-sdwan/patronus/internal/auth"
	"github.com/patronus-sdwan/patronus/internal/sdwan"
	"github.com/patronus-sdwan/patronus/internal/stats"
)

// Paths of the data plane's part of the edge API.
const (
	// PathKey is where an edge registers its WireGuard public key (PUT).
	PathKey = PathPrefix + "key"
	// PathTraffic is where an edge posts its per-policy traffic deltas
	// (POST a TrafficReport, answered with a TrafficAck).
	PathTraffic = PathPrefix + "stats"
	// PathFlowEvents is where an edge posts its failovers (POST).
	PathFlowEvents = PathPrefix + "events"
)

// DataPlaneBackend is the part of the controller that serves edges running
// a data plane. A Backend that also implements it gets the routes above;
// every method must check the principal (role edge, its own site).
type DataPlaneBackend interface {
	// RegisterKey records the principal's site's WireGuard public key.
	RegisterKey(ctx context.Context, p auth.Principal, k KeyRegistration) error
	// ReportTraffic applies a traffic report at most once and returns the
	// acknowledgement the edge needs, whether the report was new or a
	// repeat.
	ReportTraffic(ctx context.Context, p auth.Principal, r TrafficReport) (TrafficAck, error)
	// ReportFlowEvents records failovers, failbacks and forced moves.
	ReportFlowEvents(ctx context.Context, p auth.Principal, b FlowEventBatch) error
}

// KeyRegistration carries an edge's WireGuard public key, base64 as wg(8)
// prints it. The private key never leaves the edge.
type KeyRegistration struct {
	PublicKey string `json:"publicKey"`
}

// Validate checks that the key is 32 bytes of base64 and not all zero.
func (k *KeyRegistration) Validate() error {
	b, err := base64.StdEncoding.DecodeString(k.PublicKey)
	if err != nil || len(b) != 32 {
		return &sdwan.FieldError{Field: "publicKey", Value: k.PublicKey, Reason: "must be a 32-byte key in base64"}
	}
	for _, x := range b {
		if x != 0 {
			return nil
		}
	}
	return &sdwan.FieldError{Field: "publicKey", Value: k.PublicKey, Reason: "is the zero key"}
}

// TrafficDelta is one policy's traffic since the edge's previous report.
type TrafficDelta struct {
	PolicyID    int64  `json:"policyId"`
	Packets     uint64 `json:"packets"`
	Bytes       uint64 `json:"bytes"`
	FlowsOpened uint64 `json:"flowsOpened"`
	// ActiveFlows is a gauge, not a delta.
	ActiveFlows uint64 `json:"activeFlows"`
}

// TrafficReport is the wire form of a stats.Report. Edge names the edge
// within its site; the controller qualifies it with the site, so an edge
// cannot touch another site's sequence numbers.
type TrafficReport struct {
	Edge   string         `json:"edge"`
	Site   string         `json:"site"`
	Epoch  uint64         `json:"epoch"`
	Seq    uint64         `json:"seq"`
	Time   time.Time      `json:"time"`
	Deltas []TrafficDelta `json:"deltas"`
}

// TrafficAck acknowledges a report: the edge may forget sequence Seq.
// Applied says whether it was counted now (false for a repeat).
type TrafficAck struct {
	Seq     uint64 `json:"seq"`
	Applied bool   `json:"applied"`
}

// FromStats converts a Reporter's report to the wire form.
func FromStats(r stats.Report) TrafficReport {
	out := TrafficReport{Edge: r.Edge, Site: r.Site, Epoch: r.Epoch, Seq: r.Seq, Time: r.Time.UTC(),
		Deltas: make([]TrafficDelta, len(r.Deltas))}
	for i, d := range r.Deltas {
		out.Deltas[i] = TrafficDelta(d)
	}
	return out
}

// Stats converts the wire form back to a stats.Report.
func (r *TrafficReport) Stats() stats.Report {
	out := stats.Report{Edge: r.Edge, Site: r.Site, Epoch: r.Epoch, Seq: r.Seq, Time: r.Time,
		Deltas: make([]stats.Delta, len(r.Deltas))}
	for i, d := range r.Deltas {
		out.Deltas[i] = stats.Delta(d)
	}
	return out
}

// Validate checks a report's size and numbering.
func (r *TrafficReport) Validate() error {
	switch {
	case r.Edge == "" || len(r.Edge) > 128:
		return &sdwan.FieldError{Field: "edge", Value: r.Edge, Reason: "must be 1 to 128 characters"}
	case r.Seq == 0:
		return &sdwan.FieldError{Field: "seq", Value: "0", Reason: "must start at 1"}
	case len(r.Deltas) > MaxBatch:
		return &sdwan.FieldError{Field: "deltas", Value: fmt.Sprint(len(r.Deltas)), Reason: fmt.Sprintf("is more than %d entries", MaxBatch)}
	}
	return nil
}

// FlowEvent is traffic moving between paths at an edge: Kind is
// "failover", "failback" or "forced"; From and To are path IDs (either may
// be empty: no path before, or none left).
type FlowEvent struct {
	Kind     string    `json:"kind"`
	At       time.Time `json:"at"`
	From     string    `json:"from,omitempty"`
	To       string    `json:"to,omitempty"`
	Peer     string    `json:"peer,omitempty"`
	Policies []int64   `json:"policies,omitempty"`
	Reason   string    `json:"reason"`
}

// FlowEventBatch carries flow events in the order they happened.
type FlowEventBatch struct {
	Events []FlowEvent `json:"events"`
}

// Validate checks a batch of flow events.
func (b *FlowEventBatch) Validate() error {
	if len(b.Events) > MaxBatch {
		return &sdwan.FieldError{Field: "events", Value: fmt.Sprint(len(b.Events)), Reason: fmt.Sprintf("is more than %d entries", MaxBatch)}
	}
	for i, e := range b.Events {
		switch e.Kind {
		case "failover", "failback", "forced":
		default:
			return &sdwan.FieldError{Field: fmt.Sprintf("events[%d].kind", i), Value: e.Kind, Reason: "must be failover, failback or forced"}
		}
		if e.From == "" && e.To == "" {
			return &sdwan.FieldError{Field: fmt.Sprintf("events[%d]", i), Reason: "names no path (from or to)"}
		}
		if len(e.Reason) > 512 || len(e.Policies) > 10_000 {
			return &sdwan.FieldError{Field: fmt.Sprintf("events[%d]", i), Reason: "has a reason over 512 characters or too many policies"}
		}
	}
	return nil
}

// mountDataPlane adds the data plane's routes when the backend serves them.
func (h *handler) mountDataPlane(mux *http.ServeMux) {
	dp, ok := h.b.(DataPlaneBackend)
	if !ok {
		return
	}
	mux.HandleFunc("PUT "+PathKey, report(h, dp.RegisterKey))
	mux.HandleFunc("POST "+PathTraffic, func(w http.ResponseWriter, r *http.Request) {
		p, ok := h.auth(w, r)
		if !ok {
			return
		}
		var rep TrafficReport
		if !decodeBody(w, r, &rep) {
			return
		}
		if err := rep.Validate(); err != nil {
			WriteError(w, err)
			return
		}
		ack, err := dp.ReportTraffic(r.Context(), p, rep)
		if err != nil {
			WriteError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, ack)
	})
	mux.HandleFunc("POST "+PathFlowEvents, report(h, dp.ReportFlowEvents))
}

// RegisterKey registers the edge's WireGuard public key with the
// controller.
func (c *Client) RegisterKey(ctx context.Context, publicKey string) error {
	resp, err := c.do(ctx, http.MethodPut, PathKey, KeyRegistration{PublicKey: publicKey})
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.Body.Close()
}

// ReportTraffic posts a traffic report and returns the controller's
// acknowledgement.
func (c *Client) ReportTraffic(ctx context.Context, r TrafficReport) (TrafficAck, error) {
	resp, err := c.do(ctx, http.MethodPost, PathTraffic, r)
	if err != nil {
		return TrafficAck{}, err
	}
	defer resp.Body.Close()
	var ack TrafficAck
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&ack); err != nil {
		return TrafficAck{}, fmt.Errorf("edgeapi: traffic acknowledgement: %w", err)
	}
	return ack, nil
}

// ReportFlowEvents posts flow events.
func (c *Client) ReportFlowEvents(ctx context.Context, b FlowEventBatch) error {
	return c.post(ctx, PathFlowEvents, b)
}
