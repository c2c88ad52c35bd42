package store

import (
	"context"
	"fmt"
	"time"

	"github.com/patronus-sdwan/patronus/internal/sdwan"
)

const metricCols = `path_id, measured_at, latency_ms, jitter_ms, packet_loss_pct, bandwidth_mbps, mtu, score`

func scanMetrics(sc interface{ Scan(...any) error }) (sdwan.PathMetrics, error) {
	var m sdwan.PathMetrics
	var at int64
	err := sc.Scan(&m.PathID, &at, &m.LatencyMs, &m.JitterMs, &m.PacketLossPct, &m.BandwidthMbps, &m.MTU, &m.Score)
	m.MeasuredAt = fromMS(at)
	return m, err
}

// AddPathMetrics appends measurements to the metrics history.
func (q Q) AddPathMetrics(ctx context.Context, batch ...sdwan.PathMetrics) error {
	for i := range batch {
		m := &batch[i]
		if err := m.Validate(); err != nil {
			return err
		}
		_, err := q.q.ExecContext(ctx, `INSERT INTO sdwan_path_metrics (`+metricCols+`) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)`,
			m.PathID, ms(m.MeasuredAt), m.LatencyMs, m.JitterMs, m.PacketLossPct, m.BandwidthMbps, m.MTU, m.Score)
		if err != nil {
			return fmt.Errorf("store: add metrics of path %s: %w", m.PathID, mapErr(err))
		}
	}
	return nil
}

// LatestPathMetrics returns a path's newest measurement.
func (q Q) LatestPathMetrics(ctx context.Context, pathID string) (sdwan.PathMetrics, error) {
	m, err := scanMetrics(q.q.QueryRowContext(ctx, `SELECT `+metricCols+` FROM sdwan_path_metrics WHERE path_id=$1 ORDER BY measured_at DESC, id DESC LIMIT 1`, pathID))
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
	rows, err := q.q.QueryContext(ctx, `SELECT `+metricCols+` FROM sdwan_path_metrics WHERE path_id=$1 AND measured_at >= $2 AND measured_at <= $3 ORDER BY measured_at LIMIT $4`,
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
