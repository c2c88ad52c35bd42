package lab

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/patronus-sdwan/patronus/internal/api/edgeapi"
	"github.com/patronus-sdwan/patronus/internal/auth"
	"github.com/patronus-sdwan/patronus/internal/sdwan"
	"github.com/patronus-sdwan/patronus/internal/store"
)

// APITraffic runs traffic between two sites of a running lab and answers
// with what it measured (operator): POST a TrafficRequest, get a
// TrafficResult.
const APITraffic = apiPrefix + "traffic"

// maxTrafficRun bounds one traffic request.
const maxTrafficRun = 2 * time.Minute

// TrafficRequest asks for a UDP stream or a TCP transfer from one site's
// LAN to another's, optionally cutting a link partway through to measure
// the failover.
type TrafficRequest struct {
	From string `json:"from"`
	To   string `json:"to"`
	// Kind is "udp" (a constant-rate stream) or "tcp" (a bulk transfer).
	Kind string `json:"kind"`
	Port uint16 `json:"port"`
	// Rate (datagrams a second) and Payload (bytes each) shape a UDP
	// stream; defaults 50 and 160, like a voice call.
	Rate    int `json:"rate,omitempty"`
	Payload int `json:"payload,omitempty"`
	// DurationMs is how long the traffic runs; default 5 s.
	DurationMs int `json:"durationMs,omitempty"`
	// Cut names a link ("site-1/wan1") to take down CutAtMs into the run
	// and bring back at its end.
	Cut     string `json:"cut,omitempty"`
	CutAtMs int    `json:"cutAtMs,omitempty"`
}

// TrafficResult is what a run measured.
type TrafficResult struct {
	UDP *UDPResult `json:"udp,omitempty"`
	TCP *TCPResult `json:"tcp,omitempty"`
}

func (r *TrafficRequest) normalize(l *Lab) error {
	if r.Kind == "" {
		r.Kind = "udp"
	}
	if r.Port == 0 {
		r.Port = 6001
		if r.Kind == "tcp" {
			r.Port = 5001
		}
	}
	if r.Rate == 0 {
		r.Rate = 50
	}
	if r.Payload == 0 {
		r.Payload = 160
	}
	if r.DurationMs == 0 {
		r.DurationMs = 5000
	}
	switch {
	case r.Kind != "udp" && r.Kind != "tcp":
		return &sdwan.FieldError{Field: "kind", Value: r.Kind, Reason: "must be udp or tcp"}
	case l.LAN(r.From) == nil:
		return &sdwan.FieldError{Field: "from", Value: r.From, Reason: fmt.Sprintf("is not a site of this lab with a data plane (sites are %v)", l.Sites())}
	case l.LAN(r.To) == nil || r.To == r.From:
		return &sdwan.FieldError{Field: "to", Value: r.To, Reason: "must be another site of this lab with a data plane"}
	case r.DurationMs < 100 || time.Duration(r.DurationMs)*time.Millisecond > maxTrafficRun:
		return &sdwan.FieldError{Field: "durationMs", Value: fmt.Sprint(r.DurationMs), Reason: "must be 100 ms to 2 minutes"}
	case r.Payload < udpHeaderLen || r.Payload > 1392:
		return &sdwan.FieldError{Field: "payload", Value: fmt.Sprint(r.Payload), Reason: "must be 16 to 1392 bytes (one datagram within the tunnel's MTU)"}
	case r.Cut != "" && l.Link(r.Cut) == nil:
		return &sdwan.FieldError{Field: "cut", Value: r.Cut, Reason: fmt.Sprintf("is not a link of this lab (links are %v)", l.LinkNames())}
	case r.CutAtMs < 0 || r.CutAtMs > r.DurationMs:
		return &sdwan.FieldError{Field: "cutAtMs", Value: fmt.Sprint(r.CutAtMs), Reason: "must be within the run"}
	}
	return nil
}

// RunTraffic runs the traffic a request describes and returns what it
// measured.
func (l *Lab) RunTraffic(ctx context.Context, r TrafficRequest) (TrafficResult, error) {
	if err := r.normalize(l); err != nil {
		return TrafficResult{}, err
	}
	d := time.Duration(r.DurationMs) * time.Millisecond
	if r.Cut != "" {
		link := l.Link(r.Cut)
		t := time.AfterFunc(time.Duration(r.CutAtMs)*time.Millisecond, func() {
			l.log.Info("lab traffic: cutting a link", "link", r.Cut)
			link.SetDown(true)
		})
		defer func() {
			if !t.Stop() {
				link.SetDown(false)
			}
		}()
	}
	if r.Kind == "tcp" {
		res, err := l.TCPBulk(ctx, r.From, r.To, r.Port, d, 0)
		return TrafficResult{TCP: &res}, err
	}
	s, err := l.StartUDP(r.From, r.To, r.Port, r.Rate, r.Payload)
	if err != nil {
		return TrafficResult{}, err
	}
	select {
	case <-time.After(d):
	case <-ctx.Done():
	}
	res := s.Stop(300 * time.Millisecond)
	return TrafficResult{UDP: &res}, ctx.Err()
}

func (a *api) traffic(w http.ResponseWriter, r *http.Request) {
	p, ok := a.principal(w, r, sdwan.RoleOperator)
	if !ok {
		return
	}
	var req TrafficRequest
	if !readJSON(w, r, &req) {
		return
	}
	a.l.log.Info("lab: running traffic", "from", req.From, "to", req.To, "kind", req.Kind, "by", p.Actor())
	res, err := a.l.RunTraffic(r.Context(), req)
	if err != nil {
		edgeapi.WriteError(w, err)
		return
	}
	writeJSON(w, res)
}

// Traffic runs traffic in a running lab and waits for its result.
func (c *Client) Traffic(ctx context.Context, req TrafficRequest) (TrafficResult, error) {
	var out TrafficResult
	_, err := c.do(ctx, http.MethodPost, APITraffic, req, &out)
	return out, err
}

// Demo traffic: a voice-like stream and periodic bulk transfers, each
// under its own policy, so the dashboard's packets_matched moves.
const (
	demoVoicePort = 6001
	demoBulkPort  = 5001
)

// demoPolicies creates the background traffic's policies unless they
// exist.
func (l *Lab) demoPolicies(ctx context.Context) error {
	svc := l.Controller.Service
	want := []sdwan.Policy{
		{Name: "lab-voice", Description: "lab voice stream: UDP 6001, low latency", Priority: 100, Enabled: true,
			Match:  sdwan.Match{Protocol: sdwan.ProtoUDP, DstPorts: []sdwan.PortRange{{Lo: demoVoicePort, Hi: demoVoicePort}}},
			Action: sdwan.Action{Kind: sdwan.ActionSteer, Preference: sdwan.PreferQuality, SLA: sdwan.SLA{MaxLatencyMs: 150, MaxLossPct: 2}}},
		{Name: "lab-bulk", Description: "lab bulk transfers: TCP 5001, cheapest link", Priority: 200, Enabled: true,
			Match:  sdwan.Match{Protocol: sdwan.ProtoTCP, DstPorts: []sdwan.PortRange{{Lo: demoBulkPort, Hi: demoBulkPort}}},
			Action: sdwan.Action{Kind: sdwan.ActionSteer, Preference: sdwan.PreferCost}},
	}
	have, _, err := l.Controller.Store.Read().ListPolicies(ctx, store.PolicyFilter{}, store.Page{Limit: store.MaxLimit})
	if err != nil {
		return err
	}
	for _, p := range want {
		exists := false
		for _, h := range have {
			exists = exists || h.Name == p.Name
		}
		if exists {
			continue
		}
		if err := svc.CreatePolicy(ctx, auth.System, &p); err != nil && !errors.Is(err, sdwan.ErrConflict) {
			return fmt.Errorf("lab: demo policy %s: %w", p.Name, err)
		}
	}
	return nil
}

// runBackground keeps a voice stream from site-1 to site-2 running and
// sends a bulk transfer from site-2 to the last site every 20 s, until ctx
// ends.
func (l *Lab) runBackground(ctx context.Context) error {
	if err := l.demoPolicies(ctx); err != nil {
		return err
	}
	sites := l.Sites()
	src, dst, bulkTo := sites[0], sites[1], sites[len(sites)-1]
	// Let the edges come up first.
	select {
	case <-ctx.Done():
		return nil
	case <-time.After(3 * time.Second):
	}
	s, err := l.StartUDP(src, dst, demoVoicePort, 50, 160)
	if err != nil {
		return err
	}
	defer s.Stop(0)
	t := time.NewTicker(20 * time.Second)
	defer t.Stop()
	for {
		res, err := l.TCPBulk(ctx, dst, bulkTo, demoBulkPort, 2*time.Second, 8<<20)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil && !errors.Is(err, context.Canceled):
			l.log.Warn("lab: background bulk transfer", "err", err)
		default:
			l.log.Debug("lab: background bulk transfer", "from", dst, "to", bulkTo, "result", res.String())
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// WriteTraffic writes a traffic result for a person.
func WriteTraffic(w io.Writer, req TrafficRequest, r TrafficResult) {
	var sb strings.Builder
	if u := r.UDP; u != nil {
		fmt.Fprintf(&sb, "UDP %s -> %s port %d, %d datagrams/s of %d bytes for %v\n", req.From, req.To, req.Port,
			int(time.Second/max(u.Interval, 1)), u.Payload, u.Elapsed.Round(time.Millisecond))
		fmt.Fprintf(&sb, "  sent %d, received %d, lost %d (%.2f%%), %v of traffic lost\n", u.Sent, u.Received, u.Lost, u.LossPct(), u.LostTime())
		fmt.Fprintf(&sb, "  longest gap %v, reordered %d, duplicated %d\n", u.LongestGap, u.Reordered, u.Duplicates)
	}
	if t := r.TCP; t != nil {
		fmt.Fprintf(&sb, "TCP %s -> %s port %d: %d bytes in %v, %.1f Mbit/s\n", req.From, req.To, req.Port, t.Bytes,
			t.Elapsed.Round(time.Millisecond), t.Mbps())
	}
	if req.Cut != "" {
		fmt.Fprintf(&sb, "  (link %s cut %v into the run)\n", req.Cut, time.Duration(req.CutAtMs)*time.Millisecond)
	}
	_, _ = io.WriteString(w, sb.String())
}
