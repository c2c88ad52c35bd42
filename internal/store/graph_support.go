package store

// Batched reads for the GraphQL API's dataloaders: one query answers the
// lookups of a whole response (the sites and endpoints of a thousand paths,
// their newest metrics), so listing paths with their sites is not one query
// per path.

import (
	"context"
	"fmt"
	"strings"

	"github.com/patronus-sdwan/patronus/internal/sdwan"
)

// inChunk bounds the placeholders of one IN list; SQLite allows 32766 and
// PostgreSQL 65535, and smaller statements plan faster.
const inChunk = 500

// inList returns "$1,$2,…" for n placeholders and the ids as arguments.
func inList(ids []string) (string, []any) {
	var b strings.Builder
	args := make([]any, len(ids))
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "$%d", i+1)
		args[i] = id
	}
	return b.String(), args
}

// byIDs runs query (with %s standing for the placeholder list) over ids in
// chunks and collects the rows.
func byIDs[T any](ctx context.Context, q Q, what, query string, ids []string, scan func(interface{ Scan(...any) error }) (T, error)) ([]T, error) {
	var out []T
	for len(ids) > 0 {
		n := min(len(ids), inChunk)
		list, args := inList(ids[:n])
		ids = ids[n:]
		rows, err := q.q.QueryContext(ctx, fmt.Sprintf(query, list), args...)
		if err != nil {
			return nil, fmt.Errorf("store: %s: %w", what, mapErr(err))
		}
		got, err := collect(rows, scan)
		if err != nil {
			return nil, fmt.Errorf("store: %s: %w", what, mapErr(err))
		}
		out = append(out, got...)
	}
	return out, nil
}

// SitesByIDs returns the sites, live or soft-deleted, among ids; missing
// IDs are left out.
func (q Q) SitesByIDs(ctx context.Context, ids []string) ([]sdwan.Site, error) {
	return byIDs(ctx, q, "sites by id", `SELECT `+siteCols+` FROM sdwan_sites WHERE id IN (%s)`, ids, scanSite)
}

// EndpointsByIDs returns the endpoints among ids.
func (q Q) EndpointsByIDs(ctx context.Context, ids []string) ([]sdwan.Endpoint, error) {
	return byIDs(ctx, q, "endpoints by id", `SELECT `+endpointCols+endpointFrom+` WHERE e.id IN (%s)`, ids, scanEndpoint)
}

// EndpointsBySiteIDs returns the endpoints of the sites among siteIDs,
// ordered by site and name.
func (q Q) EndpointsBySiteIDs(ctx context.Context, siteIDs []string) ([]sdwan.Endpoint, error) {
	return byIDs(ctx, q, "endpoints by site", `SELECT `+endpointCols+endpointFrom+` WHERE s.id IN (%s) ORDER BY s.id, e.name`, siteIDs, scanEndpoint)
}

// LatestPathMetricsFor returns the newest measurement of each path among
// pathIDs that has one. Each path's row is found through the (path_pk,
// measured_at) index, so the cost does not grow with the history kept.
func (q Q) LatestPathMetricsFor(ctx context.Context, pathIDs []string) ([]sdwan.PathMetrics, error) {
	return byIDs(ctx, q, "latest metrics", `SELECT `+metricCols+` FROM sdwan_paths p
		JOIN sdwan_path_metrics m ON m.id = (SELECT m2.id FROM sdwan_path_metrics m2 WHERE m2.path_pk = p.pk ORDER BY m2.measured_at DESC, m2.id DESC LIMIT 1)
		WHERE p.id IN (%s)`, pathIDs, scanMetrics)
}

// AuditEntry returns one audit entry by ID.
func (q Q) AuditEntry(ctx context.Context, id int64) (sdwan.AuditEntry, error) {
	var e sdwan.AuditEntry
	var at int64
	err := q.q.QueryRowContext(ctx, `SELECT id, at, actor, action, target_type, target_id, summary, severity FROM audit_log WHERE id=$1`, id).
		Scan(&e.ID, &at, &e.Actor, &e.Action, &e.TargetType, &e.TargetID, &e.Summary, &e.Severity)
	if err != nil {
		return e, fmt.Errorf("store: audit entry %d: %w", id, mapErr(err))
	}
	e.At = fromMS(at)
	return e, nil
}

// PathStatusCounts counts the paths between live sites by status.
func (q Q) PathStatusCounts(ctx context.Context) (map[sdwan.PathStatus]int, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT p.status, COUNT(*) FROM sdwan_paths p
		JOIN sdwan_sites ss ON ss.pk = p.src_site_pk JOIN sdwan_sites ds ON ds.pk = p.dst_site_pk
		WHERE ss.deleted_at IS NULL AND ds.deleted_at IS NULL GROUP BY p.status`)
	if err != nil {
		return nil, fmt.Errorf("store: count paths by status: %w", mapErr(err))
	}
	defer rows.Close()
	out := map[sdwan.PathStatus]int{}
	for rows.Next() {
		var st sdwan.PathStatus
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, fmt.Errorf("store: count paths by status: %w", mapErr(err))
		}
		out[st] = n
	}
	return out, mapErr(rows.Err())
}

// LatestMetricsAverages averages the newest measurement of every path
// between live sites: the fleet's latency and loss at a glance.
func (q Q) LatestMetricsAverages(ctx context.Context) (latencyMs, lossPct float64, n int, err error) {
	err = q.q.QueryRowContext(ctx, `SELECT COALESCE(AVG(m.latency_ms), 0), COALESCE(AVG(m.packet_loss_pct), 0), COUNT(m.id) FROM sdwan_paths p
		JOIN sdwan_sites ss ON ss.pk = p.src_site_pk JOIN sdwan_sites ds ON ds.pk = p.dst_site_pk
		JOIN sdwan_path_metrics m ON m.id = (SELECT m2.id FROM sdwan_path_metrics m2 WHERE m2.path_pk = p.pk ORDER BY m2.measured_at DESC, m2.id DESC LIMIT 1)
		WHERE ss.deleted_at IS NULL AND ds.deleted_at IS NULL`).Scan(&latencyMs, &lossPct, &n)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("store: metrics averages: %w", mapErr(err))
	}
	return latencyMs, lossPct, n, nil
}
