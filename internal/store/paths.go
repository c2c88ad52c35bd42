package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/patronus-sdwan/patronus/internal/sdwan"
)

// pathCols and pathFrom read paths as the domain sees them: with the UUIDs
// of their sites and endpoints, not the integer keys the row refers to them
// by.
const (
	pathCols = `p.id, ss.id, se.id, ds.id, de.id, p.status, p.created_at, p.updated_at`
	pathFrom = ` FROM sdwan_paths p
		JOIN sdwan_sites ss ON ss.pk = p.src_site_pk JOIN sdwan_endpoints se ON se.pk = p.src_endpoint_pk
		JOIN sdwan_sites ds ON ds.pk = p.dst_site_pk JOIN sdwan_endpoints de ON de.pk = p.dst_endpoint_pk`
)

// sitePK and endpointPK look up the integer key of the site or endpoint
// whose UUID is the parameter ? (which the caller numbers).
const (
	sitePK     = `(SELECT pk FROM sdwan_sites WHERE id = ?)`
	endpointPK = `(SELECT pk FROM sdwan_endpoints WHERE id = ?)`
)

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
	ends, err := q.pathEnds(ctx, p.SrcEndpointID, p.DstEndpointID)
	if err != nil {
		return err
	}
	src, ok := ends[p.SrcEndpointID]
	if !ok {
		return sdwan.Prefixed("path", &sdwan.FieldError{Field: "srcEndpointId", Value: p.SrcEndpointID, Reason: "is not an existing endpoint"})
	}
	dst, ok := ends[p.DstEndpointID]
	if !ok {
		return sdwan.Prefixed("path", &sdwan.FieldError{Field: "dstEndpointId", Value: p.DstEndpointID, Reason: "is not an existing endpoint"})
	}
	p.SrcSiteID, p.DstSiteID = src.siteID, dst.siteID
	if err := p.Validate(); err != nil {
		return err
	}
	for _, e := range []pathEnd{src, dst} {
		if e.siteDeleted {
			return fmt.Errorf("store: site %s is deleted (restore it first): %w", e.siteID, sdwan.ErrNotFound)
		}
	}
	return q.insertPath(ctx, p, src, dst)
}

// pathEnd is what creating a path needs to know of one of its endpoints.
type pathEnd struct {
	pk, sitePK  int64
	siteID      string
	siteDeleted bool
}

// pathEnds looks up two endpoints and their sites in one query; an
// endpoint that does not exist is missing from the map.
func (q Q) pathEnds(ctx context.Context, srcID, dstID string) (map[string]pathEnd, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT e.id, e.pk, s.pk, s.id, s.deleted_at FROM sdwan_endpoints e JOIN sdwan_sites s ON s.pk = e.site_pk
		WHERE e.id IN ($1, $2)`, srcID, dstID)
	if err != nil {
		return nil, fmt.Errorf("store: endpoints %s and %s: %w", srcID, dstID, mapErr(err))
	}
	defer rows.Close()
	ends := make(map[string]pathEnd, 2)
	for rows.Next() {
		var id string
		var e pathEnd
		var deleted sql.NullInt64
		if err := rows.Scan(&id, &e.pk, &e.sitePK, &e.siteID, &deleted); err != nil {
			return nil, fmt.Errorf("store: endpoints %s and %s: %w", srcID, dstID, mapErr(err))
		}
		e.siteDeleted = deleted.Valid
		ends[id] = e
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: endpoints %s and %s: %w", srcID, dstID, mapErr(err))
	}
	return ends, nil
}

// insertPath writes a path between the endpoints src and dst, which the
// caller has checked.
func (q Q) insertPath(ctx context.Context, p *sdwan.Path, src, dst pathEnd) error {
	if p.ID == "" {
		p.ID = uuid.Must(uuid.NewV7()).String()
	}
	now := q.now.UTC().Truncate(time.Millisecond)
	p.CreatedAt, p.UpdatedAt = now, now
	_, err := q.q.ExecContext(ctx, `INSERT INTO sdwan_paths (id, src_site_pk, src_endpoint_pk, dst_site_pk, dst_endpoint_pk, status, created_at, updated_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8)`,
		p.ID, src.sitePK, src.pk, dst.sitePK, dst.pk, p.Status, ms(now), ms(now))
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
	p, err := scanPath(q.q.QueryRowContext(ctx, `SELECT `+pathCols+pathFrom+` WHERE p.id=$1`, id))
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
		add("(p.src_site_pk = "+sitePK+" OR p.dst_site_pk = "+sitePK+")", f.SiteID)
	}
	if f.SrcSiteID != "" {
		add("p.src_site_pk = "+sitePK, f.SrcSiteID)
	}
	if f.DstSiteID != "" {
		add("p.dst_site_pk = "+sitePK, f.DstSiteID)
	}
	if f.EndpointID != "" {
		add("(p.src_endpoint_pk = "+endpointPK+" OR p.dst_endpoint_pk = "+endpointPK+")", f.EndpointID)
	}
	if f.Status != "" {
		add("p.status = ?", f.Status)
	}
	from := pathFrom + ` WHERE ` + strings.Join(where, " AND ")
	return listPage(ctx, q, "paths", pathCols, from, "p.id", args, pg, scanPath)
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

// eventCols and eventFrom read path events with their path's UUID.
const (
	eventCols = `e.id, p.id, e.at, e.kind, e.from_status, e.to_status, e.reason`
	eventFrom = ` FROM sdwan_path_events e JOIN sdwan_paths p ON p.pk = e.path_pk`
)

// AddPathEvent records a path event.
func (q Q) AddPathEvent(ctx context.Context, e *PathEvent) error {
	if e.At.IsZero() {
		e.At = q.now
	}
	err := q.q.QueryRowContext(ctx, `INSERT INTO sdwan_path_events (path_pk, at, kind, from_status, to_status, reason)
		SELECT pk, $2, $3, $4, $5, $6 FROM sdwan_paths WHERE id = $1 RETURNING id`,
		e.PathID, ms(e.At), e.Kind, e.From, e.To, e.Reason).Scan(&e.ID)
	if err != nil {
		return fmt.Errorf("store: add event of path %s: %w", e.PathID, mapErr(err))
	}
	return nil
}

// PathEvents returns a path's events in a time range, newest first.
func (q Q) PathEvents(ctx context.Context, pathID string, from, to time.Time, limit int) ([]PathEvent, error) {
	limit, _ = Page{Limit: limit}.norm()
	rows, err := q.q.QueryContext(ctx, `SELECT `+eventCols+eventFrom+`
		WHERE p.id=$1 AND e.at >= $2 AND e.at <= $3 ORDER BY e.at DESC, e.id DESC LIMIT $4`, pathID, ms(from), ms(to), limit)
	if err != nil {
		return nil, fmt.Errorf("store: path events: %w", mapErr(err))
	}
	return collect(rows, scanPathEvent)
}

// LastPathEvent returns a path's newest event of a kind before a time, and
// false when it has none.
func (q Q) LastPathEvent(ctx context.Context, pathID, kind string, before time.Time) (PathEvent, bool, error) {
	e, err := scanPathEvent(q.q.QueryRowContext(ctx, `SELECT `+eventCols+eventFrom+`
		WHERE p.id = $1 AND e.kind = $2 AND e.at < $3 ORDER BY e.at DESC, e.id DESC LIMIT 1`, pathID, kind, ms(before)))
	if errors.Is(err, sql.ErrNoRows) {
		return PathEvent{}, false, nil
	}
	if err != nil {
		return PathEvent{}, false, fmt.Errorf("store: last %s event of path %s: %w", kind, pathID, mapErr(err))
	}
	return e, true, nil
}

func scanPathEvent(sc interface{ Scan(...any) error }) (PathEvent, error) {
	var e PathEvent
	var at int64
	err := sc.Scan(&e.ID, &e.PathID, &at, &e.Kind, &e.From, &e.To, &e.Reason)
	e.At = fromMS(at)
	return e, err
}
