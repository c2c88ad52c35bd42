package store

import (
	"context"
	"fmt"
	"time"
)

// LastPathEvent returns a path's newest event of a kind before a time, and
// false when it has none.
func (q Q) LastPathEvent(ctx context.Context, pathID, kind string, before time.Time) (PathEvent, bool, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT `+eventCols+eventFrom+`
		WHERE p.id = $1 AND e.kind = $2 AND e.at < $3 ORDER BY e.at DESC, e.id DESC LIMIT 1`, pathID, kind, ms(before))
	if err != nil {
		return PathEvent{}, false, fmt.Errorf("store: last %s event of path %s: %w", kind, pathID, mapErr(err))
	}
	defer rows.Close()
	if !rows.Next() {
		return PathEvent{}, false, mapErr(rows.Err())
	}
	var e PathEvent
	var at int64
	if err := rows.Scan(&e.ID, &e.PathID, &at, &e.Kind, &e.From, &e.To, &e.Reason); err != nil {
		return PathEvent{}, false, mapErr(err)
	}
	e.At = fromMS(at)
	return e, true, nil
}
