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

// ownPaths returns the IDs of the paths that start at a site, and the
// site of every other path named in ids that exists.
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

// checkForeign refuses a report that names a path of another site; paths
// that no longer exist are skipped rather than refused, since an edge's
// report can cross the path's deletion.
func (h *EdgeHub) checkForeign(ctx context.Context, p auth.Principal, own map[string]bool, id string) (skip bool, err error) {
	if own[id] {
		return false, nil
	}
	path, err := h.svc.st.Read().Path(ctx, id)
	if IsNotFound(err) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	if path.SrcSiteID != p.SiteID {
		return false, fmt.Errorf("%w: path %s does not start at site %s", sdwan.ErrForbidden, id, p.Name)
	}
	return false, nil // created since ownPaths read
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
	own, err := h.ownPaths(ctx, p.SiteID)
	if err != nil {
		return err
	}
	for _, c := range b.Changes {
		skip, err := h.checkForeign(ctx, p, own, c.PathID)
		if err != nil {
			return err
		}
		if skip {
			continue
		}
		path, err := h.svc.st.Read().Path(ctx, c.PathID)
		if IsNotFound(err) {
			continue
		}
		if err != nil {
			return err
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
// CheckPathHealth (edgeapi.Backend). A result for a check nobody waits for
// any more (it timed out) is dropped.
func (h *EdgeHub) CompleteCheck(ctx context.Context, p auth.Principal, r edgeapi.CheckResult) error {
	if err := requireEdge(p); err != nil {
		return err
	}
	h.mu.Lock()
	pc := h.checks[r.ID]
	if pc != nil && pc.siteID == p.SiteID {
		delete(h.checks, r.ID)
	}
	h.mu.Unlock()
	if pc == nil {
		return nil
	}
	if pc.siteID != p.SiteID {
		return fmt.Errorf("%w: check %s was not asked of site %s", sdwan.ErrForbidden, r.ID, p.Name)
	}
	pc.result <- r // buffered, and only ever sent once
	return nil
}

// CheckPathHealth asks the edge that owns a path (its source site's) for
// an immediate burst of probes and returns what they measured. It fails
// with an error wrapping sdwan.ErrUnavailable when no edge of that site is
// connected or the edge does not answer within the check timeout, and
// with sdwan.ErrNotFound for an unknown path. The caller authorises.
func (h *EdgeHub) CheckPathHealth(ctx context.Context, pathID string) (sdwan.PathMetrics, error) {
	q := h.svc.st.Read()
	path, err := q.Path(ctx, pathID)
	if err != nil {
		return sdwan.PathMetrics{}, err
	}
	siteName := path.SrcSiteID
	if s, err := q.Site(ctx, path.SrcSiteID); err == nil {
		siteName = s.Name
	}
	chk := edgeapi.Check{ID: rand.Text(), PathID: pathID, Probes: h.cfg.CheckProbes, TimeoutMs: int(h.cfg.CheckTimeout / time.Millisecond)}
	pc := &pendingCheck{siteID: path.SrcSiteID, result: make(chan edgeapi.CheckResult, 1)}
	h.mu.Lock()
	cs := h.conns[path.SrcSiteID]
	var conn *edgeConn
	if len(cs) > 0 {
		conn = cs[len(cs)-1]
		h.checks[chk.ID] = pc
	}
	h.mu.Unlock()
	if conn == nil {
		return sdwan.PathMetrics{}, fmt.Errorf("%w: no edge connected for site %s", sdwan.ErrUnavailable, siteName)
	}
	defer func() {
		h.mu.Lock()
		delete(h.checks, chk.ID)
		h.mu.Unlock()
	}()
	timer := time.NewTimer(h.cfg.CheckTimeout)
	defer timer.Stop()
	select {
	case conn.checks <- chk:
	case <-timer.C:
		return sdwan.PathMetrics{}, fmt.Errorf("%w: the edge of site %s is too busy to take a check", sdwan.ErrUnavailable, siteName)
	case <-ctx.Done():
		return sdwan.PathMetrics{}, ctx.Err()
	}
	var r edgeapi.CheckResult
	select {
	case r = <-pc.result:
	case <-timer.C:
		return sdwan.PathMetrics{}, fmt.Errorf("%w: the edge of site %s did not answer the check of path %s within %v",
			sdwan.ErrUnavailable, siteName, pathID, h.cfg.CheckTimeout)
	case <-ctx.Done():
		return sdwan.PathMetrics{}, ctx.Err()
	}
	if r.Error != "" {
		return sdwan.PathMetrics{}, fmt.Errorf("%w: the edge of site %s could not check path %s: %s", sdwan.ErrUnavailable, siteName, pathID, r.Error)
	}
	m := r.Metrics.PathMetrics()
	m.PathID = pathID
	if err := m.Validate(); err != nil {
		return sdwan.PathMetrics{}, fmt.Errorf("control: check of path %s: the edge sent %w", pathID, err)
	}
	err = h.svc.st.Tx(ctx, func(q store.Q) error {
		return q.AddPathEvent(ctx, &store.PathEvent{PathID: pathID, Kind: "health_check", From: path.Status, To: path.Status,
			Reason: fmt.Sprintf("on-demand check: %d/%d answered, %.2f ms, loss %.1f%%", r.Received, r.Sent, m.LatencyMs, m.PacketLossPct)})
	})
	if err != nil && !errors.Is(err, context.Canceled) {
		h.log.Warn("record health check", "path", pathID, "err", err)
	}
	return m, nil
}
