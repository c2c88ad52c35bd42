package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/patronus-sdwan/patronus/internal/sdwan"
)

// metricCols and metricFrom read measurements with their path's UUID, not
// the integer key the row refers to it by.
const (
	metricCols = `p.id, m.measured_at, m.latency_ms, m.jitter_ms, m.packet_loss_pct, m.bandwidth_mbps, m.mtu, m.score`
	metricFrom = ` FROM sdwan_path_metrics m JOIN sdwan_paths p ON p.pk = m.path_pk`
)

func scanMetrics(sc interface{ Scan(...any) error }) (sdwan.PathMetrics, error) {
	var m sdwan.PathMetrics
	var at int64
	err := sc.Scan(&m.PathID, &at, &m.LatencyMs, &m.JitterMs, &m.PacketLossPct, &m.BandwidthMbps, &m.MTU, &m.Score)
	m.MeasuredAt = fromMS(at)
	return m, err
}

// AddPathMetrics appends measurements to the metrics history. The paths'
// keys are looked up once for the batch, and the rows go in with one
// multi-row insert per metricsChunk of them.
func (q Q) AddPathMetrics(ctx context.Context, batch ...sdwan.PathMetrics) error {
	if len(batch) == 0 {
		return nil
	}
	pks, err := q.pathPKs(ctx, batch)
	if err != nil {
		return err
	}
	args := make([]any, 0, len(batch)*metricsArgs)
	for i := range batch {
		m := &batch[i]
		if err := m.Validate(); err != nil {
			return err
		}
		pk, ok := pks[m.PathID]
		if !ok {
			return fmt.Errorf("store: add metrics: path %s: %w", m.PathID, sdwan.ErrNotFound)
		}
		args = append(args, pk, ms(m.MeasuredAt), m.LatencyMs, m.JitterMs, m.PacketLossPct, m.BandwidthMbps, m.MTU, m.Score)
	}
	for len(args) > 0 {
		n := min(len(args), metricsChunk*metricsArgs)
		_, err := q.q.ExecContext(ctx, `INSERT INTO sdwan_path_metrics (path_pk, measured_at, latency_ms, jitter_ms, packet_loss_pct, bandwidth_mbps, mtu, score)
			VALUES `+valuesList(n/metricsArgs, metricsArgs), args[:n]...)
		if err != nil {
			return fmt.Errorf("store: add %d metrics rows: %w", n/metricsArgs, mapErr(err))
		}
		args = args[n:]
	}
	return nil
}

// metricsArgs is the number of parameters of one metrics row, and
// metricsChunk the most rows one insert takes: 500 rows are 4,000
// parameters, far within SQLite's 32,766 and PostgreSQL's 65,535.
const (
	metricsArgs  = 8
	metricsChunk = 500
)

// valuesList returns "($1,…,$cols),(…)" for rows rows of cols parameters.
func valuesList(rows, cols int) string {
	var b strings.Builder
	for r := range rows {
		if r > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('(')
		for c := range cols {
			if c > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(r*cols + c + 1))
		}
		b.WriteByte(')')
	}
	return b.String()
}

// pathPKs returns the integer keys of the batch's paths that exist, by
// UUID.
func (q Q) pathPKs(ctx context.Context, batch []sdwan.PathMetrics) (map[string]int64, error) {
	ids := make([]string, 0, len(batch))
	seen := make(map[string]bool, len(batch))
	for _, m := range batch {
		if !seen[m.PathID] {
			seen[m.PathID] = true
			ids = append(ids, m.PathID)
		}
	}
	type key struct {
		id string
		pk int64
	}
	keys, err := byIDs(ctx, q, "path keys", `SELECT id, pk FROM sdwan_paths WHERE id IN (%s)`, ids, func(sc interface{ Scan(...any) error }) (key, error) {
		var k key
		return k, sc.Scan(&k.id, &k.pk)
	})
	if err != nil {
		return nil, err
	}
	pks := make(map[string]int64, len(keys))
	for _, k := range keys {
		pks[k.id] = k.pk
	}
	return pks, nil
}

// LatestPathMetrics returns a path's newest measurement.
func (q Q) LatestPathMetrics(ctx context.Context, pathID string) (sdwan.PathMetrics, error) {
	m, err := scanMetrics(q.q.QueryRowContext(ctx, `SELECT `+metricCols+metricFrom+` WHERE p.id=$1 ORDER BY m.measured_at DESC, m.id DESC LIMIT 1`, pathID))
	if err != nil {
		return m, fmt.Errorf("store: latest metrics of path %s: %w", pathID, mapErr(err))
	}
	return m, nil
}

// PathMetricsHistory returns a path's measurements in [from, to], oldest
// first, at most limit rows.
func (q Q) PathMetricsHistory(ctx context.Context, pathID string, from, to time.Time, limit int) ([]sdwan.PathMetrics, error) {
	if limit <= 0 || limit > 100_000 {
		limit = 100_000
	}
	rows, err := q.q.QueryContext(ctx, `SELECT `+metricCols+metricFrom+` WHERE p.id=$1 AND m.measured_at >= $2 AND m.measured_at <= $3 ORDER BY m.measured_at LIMIT $4`,
		pathID, ms(from), ms(to), limit)
	if err != nil {
		return nil, fmt.Errorf("store: metrics history of path %s: %w", pathID, mapErr(err))
	}
	return collect(rows, scanMetrics)
}

// PrunePathMetrics deletes measurements older than the cut-off and reports
// how many it removed.
func (q Q) PrunePathMetrics(ctx context.Context, before time.Time) (int64, error) {
	res, err := q.q.ExecContext(ctx, `DELETE FROM sdwan_path_metrics WHERE measured_at < $1`, ms(before))
	if err != nil {
		return 0, fmt.Errorf("store: prune metrics: %w", mapErr(err))
	}
	return res.RowsAffected()
}
