package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// TrafficReport is an edge traffic report as logged: Body is its JSON,
// which the store does not read. Epoch and Seq must fit in an int64.
type TrafficReport struct {
	ID         int64
	Edge       string
	Epoch      uint64
	Seq        uint64
	Body       []byte
	ReceivedAt time.Time
}

// trafficCols are the columns scanTrafficReport reads.
const trafficCols = `report_id, edge, epoch, seq, body, received_at`

// AddTrafficReport logs a report. Logging the same (edge, epoch, seq)
// twice is an ErrConflict: another replica took the report first.
func (q Q) AddTrafficReport(ctx context.Context, r *TrafficReport) error {
	err := q.q.QueryRowContext(ctx, `INSERT INTO sdwan_traffic_reports (edge, epoch, seq, body, received_at)
		VALUES ($1,$2,$3,$4,$5) RETURNING report_id`,
		r.Edge, int64(r.Epoch), int64(r.Seq), string(r.Body), ms(r.ReceivedAt)).Scan(&r.ID)
	if err != nil {
		return fmt.Errorf("store: log traffic report %s %d/%d: %w", r.Edge, r.Epoch, r.Seq, mapErr(err))
	}
	return nil
}

// TrafficReportsAfter returns edge's logged reports past (epoch, seq), in
// the order the edge sent them.
func (q Q) TrafficReportsAfter(ctx context.Context, edge string, epoch, seq uint64) ([]TrafficReport, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT `+trafficCols+` FROM sdwan_traffic_reports
		WHERE edge = $1 AND (epoch > $2 OR (epoch = $2 AND seq > $3)) ORDER BY epoch, seq`, edge, int64(epoch), int64(seq))
	if err != nil {
		return nil, fmt.Errorf("store: traffic reports of %s: %w", edge, mapErr(err))
	}
	return collect(rows, scanTrafficReport)
}

// TrafficReports returns every logged report, each edge's in the order
// the edge sent them.
func (q Q) TrafficReports(ctx context.Context) ([]TrafficReport, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT `+trafficCols+` FROM sdwan_traffic_reports
		ORDER BY edge, epoch, seq`)
	if err != nil {
		return nil, fmt.Errorf("store: traffic reports: %w", mapErr(err))
	}
	return collect(rows, scanTrafficReport)
}

func scanTrafficReport(sc interface{ Scan(...any) error }) (TrafficReport, error) {
	var r TrafficReport
	var epoch, seq, at int64
	var body string
	err := sc.Scan(&r.ID, &r.Edge, &epoch, &seq, &body, &at)
	r.Epoch, r.Seq, r.Body, r.ReceivedAt = uint64(epoch), uint64(seq), []byte(body), fromMS(at)
	return r, err
}

// PruneTrafficReports deletes edge's logged reports up to and including
// (epoch, seq) that were received before before, and returns how many.
func (q Q) PruneTrafficReports(ctx context.Context, edge string, epoch, seq uint64, before time.Time) (int64, error) {
	res, err := q.q.ExecContext(ctx, `DELETE FROM sdwan_traffic_reports
		WHERE edge = $1 AND received_at < $4 AND (epoch < $2 OR (epoch = $2 AND seq <= $3))`,
		edge, int64(epoch), int64(seq), ms(before))
	if err != nil {
		return 0, fmt.Errorf("store: prune traffic reports of %s: %w", edge, mapErr(err))
	}
	return res.RowsAffected()
}

// TrafficState returns the stored traffic state, or false if none was
// stored yet.
func (q Q) TrafficState(ctx context.Context) ([]byte, bool, error) {
	var body string
	err := q.q.QueryRowContext(ctx, `SELECT body FROM sdwan_traffic_state WHERE id = 1`).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("store: traffic state: %w", mapErr(err))
	}
	return []byte(body), true, nil
}

// InitTrafficState stores body as the traffic state unless one is stored
// already (another replica's, which then stands).
func (q Q) InitTrafficState(ctx context.Context, body []byte, at time.Time) error {
	_, err := q.q.ExecContext(ctx, `INSERT INTO sdwan_traffic_state (id, body, updated_at) VALUES (1, $1, $2)
		ON CONFLICT (id) DO NOTHING`, string(body), ms(at))
	if err != nil {
		return fmt.Errorf("store: init traffic state: %w", mapErr(err))
	}
	return nil
}

// SetTrafficState replaces the stored traffic state.
func (q Q) SetTrafficState(ctx context.Context, body []byte, at time.Time) error {
	_, err := q.q.ExecContext(ctx, `INSERT INTO sdwan_traffic_state (id, body, updated_at) VALUES (1, $1, $2)
		ON CONFLICT (id) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at`, string(body), ms(at))
	if err != nil {
		return fmt.Errorf("store: set traffic state: %w", mapErr(err))
	}
	return nil
}
