package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/patronus-sdwan/patronus/internal/sdwan"
)

const pathCols = `id, src_site_id, src_endpoint_id, dst_site_id, dst_endpoint_id, status, created_at, updated_at`

func scanPath(sc interface{ Scan(...any) error }) (sdwan.Path, error) {
	var p sdwan.Path
	var created, updated int64
	if err := sc.Scan(&p.ID, &p.SrcSiteID, &p.SrcEndpointID, &p.DstSiteID, &p.DstEndpointID, &p.Status, &created, &updated); err != nil {
		return p, err
	}
	p.CreatedAt, p.UpdatedAt = fromMS(created), fromMS(updated)
	return p, nil
}

// CreatePath inserts a path between two endpoints of two live sites; the
// sites are taken from the endpoints.
func (q Q) CreatePath(ctx context.Context, p *sdwan.Path) error {
	if err := p.Validate(); err != nil {
		return err
	}
	src, err := q.Endpoint(ctx, p.SrcEndpointID)
	if err != nil {
		return sdwan.Prefixed("path", &sdwan.FieldError{Field: "srcEndpointId", Value: p.SrcEndpointID, Reason: "is not an existing endpoint"})
	}
	dst, err := q.Endpoint(ctx, p.DstEndpointID)
	if err != nil {
		return sdwan.Prefixed("path", &sdwan.FieldError{Field: "dstEndpointId", Value: p.DstEndpointID, Reason: "is not an existing endpoint"})
	}
	p.SrcSiteID, p.DstSiteID = src.SiteID, dst.SiteID
	if err := p.Validate(); err != nil {
		return err
	}
	for _, id := range []string{p.SrcSiteID, p.DstSiteID} {
		if err := q.liveSite(ctx, id); err != nil {
			return err
		}
	}
	return q.insertPath(ctx, p)
}

// insertPath writes a path whose endpoints and sites the caller has
// checked.
func (q Q) insertPath(ctx context.Context, p *sdwan.Path) error {
	if p.ID == "" {
		p.ID = uuid.Must(uuid.NewV7()).String()
	}
	now := q.now.UTC().Truncate(time.Millisecond)
	p.CreatedAt, p.UpdatedAt = now, now
	_, err := q.q.ExecContext(ctx, `INSERT INTO sdwan_paths (`+pathCols+`) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)`,
		p.ID, p.SrcSiteID, p.SrcEndpointID, p.DstSiteID, p.DstEndpointID, p.Status, ms(now), ms(now))
	if err != nil {
		return fmt.Errorf("store: create path: %w", mapErr(err))
	}
	return nil
}

// SetPathStatus records the monitor's verdict on a path and reports the
// previous status.
func (q Q) SetPathStatus(ctx context.Context, id string, st sdwan.PathStatus) (prev sdwan.PathStatus, err error) {
	if err := q.q.QueryRowContext(ctx, `SELECT status FROM sdwan_paths WHERE id=$1`, id).Scan(&prev); err != nil {
		return "", fmt.Errorf("store: path %s: %w", id, mapErr(err))
	}
	if prev == st {
		return prev, nil
	}
	_, err = q.q.ExecContext(ctx, `UPDATE sdwan_paths SET status=$2, updated_at=$3 WHERE id=$1`, id, st, ms(q.now))
	if err != nil {
		return "", fmt.Errorf("store: set path %s status: %w", id, mapErr(err))
	}
	return prev, nil
}

// Path returns a path by ID.
func (q Q) Path(ctx context.Context, id string) (sdwan.Path, error) {
	p, err := scanPath(q.q.QueryRowContext(ctx, `SELECT `+pathCols+` FROM sdwan_paths WHERE id=$1`, id))
	if err != nil {
		return p, fmt.Errorf("store: path %s: %w", id, mapErr(err))
	}
	return p, nil
}

// PathFilter narrows ListPaths.
type PathFilter struct {
	SiteID     string // paths from or to the site
	SrcSiteID  string
	DstSiteID  string
	EndpointID string // paths from or to the endpoint
	Status     sdwan.PathStatus
}

// ListPaths returns the paths between live sites, and how many match.
func (q Q) ListPaths(ctx context.Context, f PathFilter, pg Page) ([]sdwan.Path, int, error) {
	where := []string{"ss.deleted_at IS NULL", "ds.deleted_at IS NULL"}
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "?", fmt.Sprintf("$%d", len(args))))
	}
	if f.SiteID != "" {
		add("(p.src_site_id = ? OR p.dst_site_id = ?)", f.SiteID)
	}
	if f.SrcSiteID != "" {
		add("p.src_site_id = ?", f.SrcSiteID)
	}
	if f.DstSiteID != "" {
		add("p.dst_site_id = ?", f.DstSiteID)
	}
	if f.EndpointID != "" {
		add("(p.src_endpoint_id = ? OR p.dst_endpoint_id = ?)", f.EndpointID)
	}
	if f.Status != "" {
		add("p.status = ?", f.Status)
	}
	from := ` FROM sdwan_paths p JOIN sdwan_sites ss ON ss.id = p.src_site_id JOIN sdwan_sites ds ON ds.id = p.dst_site_id WHERE ` + strings.Join(where, " AND ")
	return listPage(ctx, q, "paths", prefixCols("p", pathCols), from, "p.id", args, pg, scanPath)
}

// DeletePath removes a path with its metrics and events.
func (q Q) DeletePath(ctx context.Context, id string) error {
	res, err := q.q.ExecContext(ctx, `DELETE FROM sdwan_paths WHERE id=$1`, id)
	if err != nil {
		return fmt.Errorf("store: delete path %s: %w", id, mapErr(err))
	}
	return affected(res, "path", id)
}

// PathEvent is one health or failover event of a path.
type PathEvent struct {
	ID       int64
	PathID   string
	At       time.Time
	Kind     string // "state", "failover", "health_check"
	From, To sdwan.PathStatus
	Reason   string
}

// AddPathEvent records a path event.
func (q Q) AddPathEvent(ctx context.Context, e *PathEvent) error {
	if e.At.IsZero() {
		e.At = q.now
	}
	err := q.q.QueryRowContext(ctx, `INSERT INTO sdwan_path_events (path_id, at, kind, from_status, to_status, reason) VALUES ($1,$2,$3,$4,$5,$6) RETURNING id`,
		e.PathID, ms(e.At), e.Kind, e.From, e.To, e.Reason).Scan(&e.ID)
	if err != nil {
		return fmt.Errorf("store: add path event: %w", mapErr(err))
	}
	return nil
}

// PathEvents returns a path's events in a time range, newest first.
func (q Q) PathEvents(ctx context.Context, pathID string, from, to time.Time, limit int) ([]PathEvent, error) {
	limit, _ = Page{Limit: limit}.norm()
	rows, err := q.q.QueryContext(ctx, `SELECT id, path_id, at, kind, from_status, to_status, reason FROM sdwan_path_events
		WHERE path_id=$1 AND at >= $2 AND at <= $3 ORDER BY at DESC, id DESC LIMIT $4`, pathID, ms(from), ms(to), limit)
	if err != nil {
		return nil, fmt.Errorf("store: path events: %w", mapErr(err))
	}
	return collect(rows, func(sc interface{ Scan(...any) error }) (PathEvent, error) {
		var e PathEvent
		var at int64
		err := sc.Scan(&e.ID, &e.PathID, &at, &e.Kind, &e.From, &e.To, &e.Reason)
		e.At = fromMS(at)
		return e, err
	})
}
