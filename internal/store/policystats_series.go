package store

import (
	"context"
	"fmt"
	"time"

	"github.com/patronus-sdwan/patronus/internal/sdwan"
)

// AddPolicyStatsSeries writes n all-sites snapshots of one policy, step
// apart from start, with counters growing by 10 packets and 1,000 bytes a
// step, in one set-based statement. It exists for benchmarks and demo data
// that need millions of rows quickly.
func (q Q) AddPolicyStatsSeries(ctx context.Context, policyID int64, start time.Time, step time.Duration, n int) error {
	_, err := q.q.ExecContext(ctx, `WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i + 1 < CAST($4 AS BIGINT))
		INSERT INTO sdwan_policy_stats (policy_id, site_id, timestamp, packets_matched, bytes_matched, active_flows, resolution)
		SELECT $1, NULL, CAST($2 AS BIGINT) + i * CAST($3 AS BIGINT), i * 10, i * 1000, 3, 0 FROM seq`, policyID, ms(start), step.Milliseconds(), n)
	if err != nil {
		return fmt.Errorf("store: add stats series: %w", mapErr(err))
	}
	return nil
}

// LatestPolicyStatsAll returns the newest raw snapshot of every (policy,
// site) pair, the all-sites rows included, so a controller that restarts
// carries its totals on from where they were.
func (q Q) LatestPolicyStatsAll(ctx context.Context) ([]sdwan.PolicyStats, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT s.policy_id, s.site_id, s.timestamp, s.packets_matched, s.bytes_matched, s.active_flows
		FROM sdwan_policy_stats s
		JOIN (SELECT MAX(stat_id) AS stat_id FROM sdwan_policy_stats WHERE resolution = 0 GROUP BY policy_id, site_id) l ON l.stat_id = s.stat_id
		ORDER BY s.policy_id, s.site_id`)
	if err != nil {
		return nil, fmt.Errorf("store: latest stats: %w", mapErr(err))
	}
	return collect(rows, scanStats)
}
