package store

import (
	"context"
	"database/sql"
	"fmt"
	"iter"
	"time"

	"github.com/patronus-sdwan/patronus/internal/sdwan"
)

// Resolutions of sdwan_policy_stats rows, in seconds.
const (
	ResolutionRaw    = 0
	ResolutionHourly = 3600
)

// AddPolicyStats writes statistics snapshots (the seed's
// store_policy_stats). Counters are cumulative totals at Timestamp.
func (q Q) AddPolicyStats(ctx context.Context, rows ...sdwan.PolicyStats) error {
	for _, r := range rows {
		_, err := q.q.ExecContext(ctx, `INSERT INTO sdwan_policy_stats (policy_id, site_id, timestamp, packets_matched, bytes_matched, active_flows, resolution)
			VALUES ($1,$2,$3,$4,$5,$6,0)`, r.PolicyID, nullString(r.SiteID), ms(r.Timestamp), int64(r.PacketsMatched), int64(r.BytesMatched), int64(r.ActiveFlows))
		if err != nil {
			return fmt.Errorf("store: add stats of policy %d: %w", r.PolicyID, mapErr(err))
		}
	}
	return nil
}

func scanStats(sc interface{ Scan(...any) error }) (sdwan.PolicyStats, error) {
	var r sdwan.PolicyStats
	var site sql.NullString
	var at, p, b, f int64
	err := sc.Scan(&r.PolicyID, &site, &at, &p, &b, &f)
	r.SiteID, r.Timestamp = site.String, fromMS(at)
	r.PacketsMatched, r.BytesMatched, r.ActiveFlows = uint64(p), uint64(b), uint64(f)
	return r, err
}

// LatestPolicyStats is the seed's get_latest_policy_stats: the newest
// snapshot of a policy, summed over sites when siteID is "" (per site
// otherwise).
func (q Q) LatestPolicyStats(ctx context.Context, policyID int64, siteID string) (sdwan.PolicyStats, error) {
	r, err := scanStats(q.q.QueryRowContext(ctx, `SELECT policy_id, site_id, timestamp, packets_matched, bytes_matched, active_flows
		FROM sdwan_policy_stats WHERE policy_id=$1 AND COALESCE(site_id, '') = $2 ORDER BY timestamp DESC, stat_id DESC LIMIT 1`, policyID, siteID))
	if err != nil {
		return r, fmt.Errorf("store: latest stats of policy %d: %w", policyID, mapErr(err))
	}
	return r, nil
}

// StatsQuery selects statistics rows for history and export.
type StatsQuery struct {
	PolicyID int64  // 0 = every policy
	SiteID   string // "" = the all-sites rows; "*" = every site's rows
	From, To time.Time
	// Step downsamples to at most one row per policy and site per step,
	// the last of each bucket (counters are cumulative, so the last row of
	// a bucket is its value). Zero returns every row.
	Step time.Duration
}

// PolicyStatsRows streams the rows StatsQuery selects, oldest first, one
// at a time so an export of millions of rows keeps memory flat. The
// sequence stops at the first error, which it yields.
func (q Q) PolicyStatsRows(ctx context.Context, sq StatsQuery) iter.Seq2[sdwan.PolicyStats, error] {
	return func(yield func(sdwan.PolicyStats, error) bool) {
		where := `timestamp >= $1 AND timestamp <= $2 AND ($3 = 0 OR policy_id = $3) AND ($4 = '*' OR COALESCE(site_id, '') = $4)`
		args := []any{ms(sq.From), ms(sq.To), sq.PolicyID, sq.SiteID}
		query := `SELECT policy_id, site_id, timestamp, packets_matched, bytes_matched, active_flows FROM sdwan_policy_stats WHERE ` + where + ` ORDER BY timestamp, stat_id`
		if sq.Step > 0 {
			args = append(args, sq.Step.Milliseconds())
			query = `SELECT s.policy_id, s.site_id, s.timestamp, s.packets_matched, s.bytes_matched, s.active_flows FROM sdwan_policy_stats s
				JOIN (SELECT MAX(stat_id) AS stat_id FROM sdwan_policy_stats WHERE ` + where + `
				      GROUP BY policy_id, site_id, timestamp / $5) b ON b.stat_id = s.stat_id
				ORDER BY s.timestamp, s.stat_id`
		}
		rows, err := q.q.QueryContext(ctx, query, args...)
		if err != nil {
			yield(sdwan.PolicyStats{}, fmt.Errorf("store: stats history: %w", mapErr(err)))
			return
		}
		defer rows.Close()
		for rows.Next() {
			r, err := scanStats(rows)
			if err != nil {
				yield(r, fmt.Errorf("store: stats history: %w", mapErr(err)))
				return
			}
			if !yield(r, nil) {
				return
			}
		}
		if err := rows.Err(); err != nil {
			yield(sdwan.PolicyStats{}, fmt.Errorf("store: stats history: %w", mapErr(err)))
		}
	}
}

// PolicyStatsHistory is the seed's get_policy_stats_history, collected
// into a slice of at most limit rows.
func (q Q) PolicyStatsHistory(ctx context.Context, sq StatsQuery, limit int) ([]sdwan.PolicyStats, error) {
	var out []sdwan.PolicyStats
	for r, err := range q.PolicyStatsRows(ctx, sq) {
		if err != nil {
			return nil, err
		}
		out = append(out, r)
		if limit > 0 && len(out) >= limit {
			break
		}
	}
	return out, nil
}

// RollUpPolicyStats writes one hourly row (the last raw snapshot of each
// hour, per policy and site) for every complete hour before the cut-off
// that has raw rows and no roll-up yet, and reports how many it wrote.
func (q Q) RollUpPolicyStats(ctx context.Context, before time.Time) (int64, error) {
	cut := before.Truncate(time.Hour)
	res, err := q.q.ExecContext(ctx, `INSERT INTO sdwan_policy_stats (policy_id, site_id, timestamp, packets_matched, bytes_matched, active_flows, resolution)
		SELECT s.policy_id, s.site_id, s.timestamp, s.packets_matched, s.bytes_matched, s.active_flows, 3600
		FROM sdwan_policy_stats s
		JOIN (SELECT MAX(stat_id) AS stat_id FROM sdwan_policy_stats
		      WHERE resolution = 0 AND timestamp < $1
		      GROUP BY policy_id, site_id, timestamp / 3600000) last ON last.stat_id = s.stat_id
		WHERE NOT EXISTS (SELECT 1 FROM sdwan_policy_stats h WHERE h.resolution = 3600 AND h.policy_id = s.policy_id
		      AND COALESCE(h.site_id, '') = COALESCE(s.site_id, '') AND h.timestamp / 3600000 = s.timestamp / 3600000)`, ms(cut))
	if err != nil {
		return 0, fmt.Errorf("store: roll up stats: %w", mapErr(err))
	}
	return res.RowsAffected()
}

// PrunePolicyStats deletes rows of a resolution older than the cut-off.
func (q Q) PrunePolicyStats(ctx context.Context, resolution int, before time.Time) (int64, error) {
	res, err := q.q.ExecContext(ctx, `DELETE FROM sdwan_policy_stats WHERE resolution = $1 AND timestamp < $2`, resolution, ms(before))
	if err != nil {
		return 0, fmt.Errorf("store: prune stats: %w", mapErr(err))
	}
	return res.RowsAffected()
}
