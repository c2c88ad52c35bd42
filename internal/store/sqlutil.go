package store

import (
	"context"
	"fmt"
)

// listPage counts the rows that from (the query after its column list: FROM,
// joins and WHERE, with args as its parameters) selects, and returns the
// page of them that pg names, in order. what names the rows in errors.
func listPage[T any](ctx context.Context, q Q, what, cols, from, order string, args []any, pg Page, scan func(interface{ Scan(...any) error }) (T, error)) ([]T, int, error) {
	var total int
	if err := q.q.QueryRowContext(ctx, `SELECT COUNT(*)`+from, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("store: count %s: %w", what, mapErr(err))
	}
	limit, offset := pg.norm()
	args = append(args, limit, offset)
	rows, err := q.q.QueryContext(ctx, fmt.Sprintf(`SELECT %s%s ORDER BY %s LIMIT $%d OFFSET $%d`,
		cols, from, order, len(args)-1, len(args)), args...)
	if err != nil {
		return nil, 0, fmt.Errorf("store: list %s: %w", what, mapErr(err))
	}
	xs, err := collect(rows, scan)
	if err != nil {
		return nil, 0, fmt.Errorf("store: list %s: %w", what, err)
	}
	return xs, total, nil
}
