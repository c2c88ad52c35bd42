package control

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/patronus-sdwan/patronus/internal/api/edgeapi"
	"github.com/patronus-sdwan/patronus/internal/auth"
	"github.com/patronus-sdwan/patronus/internal/events"
	"github.com/patronus-sdwan/patronus/internal/sdwan"
	"github.com/patronus-sdwan/patronus/internal/store"
)

// ownPaths returns the IDs of the paths that start at a site.
func (h *EdgeHub) ownPaths(ctx context.Context, siteID string) (map[string]bool, error) {
	paths, err := allPaths(ctx, h.svc.st.Read(), store.PathFilter{SrcSiteID: siteID})
	if err != nil {
		return nil, err
	}
	own := make(map[string]bool, len(paths))
	for _, p := range paths {
		own[p.ID] = true
	}
	return own, nil
}

// checkForeign refuses a report that names a path of another site, as
// reportedPath does, without reading the paths in own (the site's).
func (h *EdgeHub) checkForeign(ctx context.Context, p auth.Principal, own map[string]bool, id string) (skip bool, err error) {
	if own[id] {
		return false, nil
	}
	_, skip, err = h.reportedPath(ctx, p, id)
	return skip, err
}

// reportedPath reads a path an edge reported on and refuses it when it
// starts at another site; a path that no longer exists is skipped rather
// than refused, since an edge's report can cross the path's deletion.
func (h *EdgeHub) reportedPath(ctx context.Context, p auth.Principal, id string) (path sdwan.Path, skip bool, err error) {
	path, err = h.svc.st.Read().Path(ctx, id)
	if IsNotFound(err) {
		return path, true, nil
	}
	if err != nil {
		return path, false, err
	}
	if path.SrcSiteID != p.SiteID {
		return path, false, fmt.Errorf("%w: path %s does not start at site %s", sdwan.ErrForbidden, id, p.Name)
	}
	return path, false, nil
}

// ReportMetrics stores a batch of an edge's measurements in the metrics
// history, tells the caches, and publishes a PathMetrics event per path
// (edgeapi.Backend). Telemetry is not audited: it changes no
// configuration, and a row a second per path would drown the audit log.
func (h *EdgeHub) ReportMetrics(ctx context.Context, p auth.Principal, b edgeapi.MetricsBatch) error {
	if err := requireEdge(p); err != nil {
		return err
	}
	own, err := h.ownPaths(ctx, p.SiteID)
	if err != nil {
		return err
	}
	rows := make([]sdwan.PathMetrics, 0, len(b.Metrics))
	for _, m := range b.Metrics {
		skip, err := h.checkForeign(ctx, p, own, m.PathID)
		if err != nil {
			return err
		}
		if !skip {
			rows = append(rows, m.PathMetrics())
		}
	}
	if len(rows) == 0 {
		return nil
	}
	err = h.svc.st.Tx(ctx, func(q store.Q) error { return q.AddPathMetrics(ctx, rows...) })
	if err != nil {
		return err
	}
	for _, inv := range h.svc.inval {
		for _, r := range rows {
			inv.InvalidatePath(r.PathID)
		}
	}
	for _, r := range rows {
		h.svc.bus.Publish(events.Event{Kind: events.PathMetrics, PathID: r.PathID, SiteID: p.SiteID, At: r.MeasuredAt})
	}
	return nil
}

// ReportStates records an edge's state changes in order (edgeapi.Backend).
// A change to the status the path already has is skipped, so an edge may
// resend its whole view after a reconnect without adding events.
func (h *EdgeHub) ReportStates(ctx context.Context, p auth.Principal, b edgeapi.StateBatch) error {
	if err := requireEdge(p); err != nil {
		return err
	}
	for _, c := range b.Changes {
		path, skip, err := h.reportedPath(ctx, p, c.PathID)
		if err != nil {
			return err
		}
		if skip {
			continue
		}
		to := sdwan.PathStatus(c.To)
		if path.Status == to {
			continue
		}
		err = h.svc.SetPathStatus(ctx, p, c.PathID, to, c.Reason)
		if IsNotFound(err) {
			continue
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// CompleteCheck hands an edge's check result to the waiting
// CheckPathHealth (edgeapi.Backend), on this replica or, relayed, on
// another. A result for a check nobody waits for any more (it timed out)
// is dropped.
func (h *EdgeHub) CompleteCheck(ctx context.Context, p auth.Principal, r edgeapi.CheckResult) error {
	if err := requireEdge(p); err != nil {
		return err
	}
	found, err := h.deliver(p.SiteID, r)
	if !found && h.svc.bus.Bridged() {
		h.relayAnswer(p.SiteID, r)
	}
	return err
}

// deliver hands site's answer r to the check waiting for it here, and
// reports whether one was.
func (h *EdgeHub) deliver(siteID string, r edgeapi.CheckResult) (bool, error) {
	h.mu.Lock()
	pc := h.checks[r.ID]
	if pc != nil && pc.siteID == siteID {
		delete(h.checks, r.ID)
	}
	h.mu.Unlock()
	if pc == nil {
		return false, nil
	}
	if pc.siteID != siteID {
		return true, fmt.Errorf("%w: check %s was not asked of this site", sdwan.ErrForbidden, r.ID)
	}
	pc.accept()    // an answer can beat the relay's acceptance
	pc.result <- r // buffered, and only ever sent once
	return true, nil
}

// ask sends a check or failover down the stream of the newest connected
// edge of a site — here, or relayed to the replica that has it — and
// waits for its answer until the check timeout.
func (h *EdgeHub) ask(ctx context.Context, siteID, id string, m edgeapi.Message) (edgeapi.CheckResult, error) {
	siteName := siteID
	if s, err := h.svc.st.Read().Site(ctx, siteID); err == nil {
		siteName = s.Name
	}
	pc := &pendingCheck{siteID: siteID, result: make(chan edgeapi.CheckResult, 1), accepted: make(chan struct{}, 1)}
	h.mu.Lock()
	cs := h.conns[siteID]
	var conn *edgeConn
	if len(cs) > 0 {
		conn = cs[len(cs)-1]
	}
	h.checks[id] = pc
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		delete(h.checks, id)
		h.mu.Unlock()
	}()
	if conn == nil && (!h.svc.bus.Bridged() || !h.relayAsk(ctx, siteID, id, m, pc)) {
		return edgeapi.CheckResult{}, fmt.Errorf("%w: no edge connected for site %s; start the site's edge (patronus edge) and try again", sdwan.ErrUnavailable, siteName)
	}
	timer := time.NewTimer(h.cfg.CheckTimeout)
	defer timer.Stop()
	if conn != nil {
		select {
		case conn.asks <- m:
		case <-timer.C:
			return edgeapi.CheckResult{}, fmt.Errorf("%w: the edge of site %s is too busy to take a %s", sdwan.ErrUnavailable, siteName, m.Type)
		case <-ctx.Done():
			return edgeapi.CheckResult{}, ctx.Err()
		}
	}
	var r edgeapi.CheckResult
	select {
	case r = <-pc.result:
	case <-timer.C:
		return edgeapi.CheckResult{}, fmt.Errorf("%w: the edge of site %s did not answer the %s within %v", sdwan.ErrUnavailable, siteName, m.Type, h.cfg.CheckTimeout)
	case <-ctx.Done():
		return edgeapi.CheckResult{}, ctx.Err()
	}
	if r.Error != "" {
		return r, fmt.Errorf("%w: the edge of site %s could not do the %s: %s", sdwan.ErrUnavailable, siteName, m.Type, r.Error)
	}
	return r, nil
}

// CheckPathHealth asks the edge that owns a path (its source site's) for
// an immediate burst of probes and returns what they measured, recording
// a health_check path event. It fails with an error wrapping
// sdwan.ErrUnavailable when no edge of that site is connected to any
// replica or the edge does not answer within the check timeout. The
// caller authorises. It implements the GraphQL API's EdgeHub.
func (h *EdgeHub) CheckPathHealth(ctx context.Context, path sdwan.Path) (sdwan.PathMetrics, error) {
	id := rand.Text()
	chk := edgeapi.Check{ID: id, PathID: path.ID, Probes: h.cfg.CheckProbes, TimeoutMs: int(h.cfg.CheckTimeout / time.Millisecond)}
	r, err := h.ask(ctx, path.SrcSiteID, id, edgeapi.Message{Type: edgeapi.MsgCheck, Check: &chk})
	if err != nil {
		return sdwan.PathMetrics{}, err
	}
	m := r.Metrics.PathMetrics()
	m.PathID = path.ID
	if err := m.Validate(); err != nil {
		return sdwan.PathMetrics{}, fmt.Errorf("control: check of path %s: the edge sent %w", path.ID, err)
	}
	err = h.svc.st.Tx(ctx, func(q store.Q) error {
		return q.AddPathEvent(ctx, &store.PathEvent{PathID: path.ID, Kind: "health_check", From: path.Status, To: path.Status,
			Reason: fmt.Sprintf("on-demand check: %d/%d answered, %.2f ms, loss %.1f%%", r.Received, r.Sent, m.LatencyMs, m.PacketLossPct)})
	})
	if err != nil && !errors.Is(err, context.Canceled) {
		h.log.Warn("record health check", "path", path.ID, "err", err)
	}
	return m, nil
}

// CheckPathHealthByID is CheckPathHealth for a path named by its ID.
func (h *EdgeHub) CheckPathHealthByID(ctx context.Context, pathID string) (sdwan.PathMetrics, error) {
	path, err := h.svc.st.Read().Path(ctx, pathID)
	if err != nil {
		return sdwan.PathMetrics{}, err
	}
	return h.CheckPathHealth(ctx, path)
}

// Failover asks the edge that owns a path to move the flows on it to
// target (a path ID; empty means the best eligible path) and waits for
// its acknowledgement. What moving flows means is the edge's data plane's
// business; an edge without one answers that it cannot. The caller
// authorises and audits. It implements the GraphQL API's EdgeHub.
func (h *EdgeHub) Failover(ctx context.Context, path sdwan.Path, target, reason string) error {
	id := rand.Text()
	_, err := h.ask(ctx, path.SrcSiteID, id, edgeapi.Message{Type: edgeapi.MsgFailover,
		Failover: &edgeapi.Failover{ID: id, PathID: path.ID, Target: target, Reason: reason}})
	return err
}
