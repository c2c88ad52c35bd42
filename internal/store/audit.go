package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/patronus-sdwan/patronus/internal/sdwan"
)

// AddAudit writes an audit entry and fills in its ID and time. Call it in
// the transaction of the change it records.
func (q Q) AddAudit(ctx context.Context, e *sdwan.AuditEntry) error {
	if e.At.IsZero() {
		e.At = q.now.UTC().Truncate(time.Millisecond)
	}
	if e.Severity == "" {
		e.Severity = sdwan.SeverityInfo
	}
	err := q.q.QueryRowContext(ctx, `INSERT INTO audit_log (at, actor, action, target_type, target_id, summary, severity)
		VALUES ($1,$2,$3,$4,$5,$6,$7) RETURNING id`,
		ms(e.At), e.Actor, e.Action, e.TargetType, e.TargetID, e.Summary, e.Severity).Scan(&e.ID)
	if err != nil {
		return fmt.Errorf("store: add audit entry: %w", mapErr(err))
	}
	return nil
}

// AuditFilter narrows AuditLog; zero fields match everything.
type AuditFilter struct {
	Actor        string
	ActionPrefix string // "site." matches every site action
	TargetID     string
	Severity     sdwan.Severity
	Since, Until time.Time
}

// AuditLog returns entries newest first, and how many match.
func (q Q) AuditLog(ctx context.Context, f AuditFilter, pg Page) ([]sdwan.AuditEntry, int, error) {
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.Actor != "" {
		add("actor = $%d", f.Actor)
	}
	if f.ActionPrefix != "" {
		add(`action LIKE $%d ESCAPE '\'`, escapeLike(f.ActionPrefix)+"%")
	}
	if f.TargetID != "" {
		add("target_id = $%d", f.TargetID)
	}
	if f.Severity != "" {
		add("severity = $%d", f.Severity)
	}
	if !f.Since.IsZero() {
		add("at >= $%d", ms(f.Since))
	}
	if !f.Until.IsZero() {
		add("at <= $%d", ms(f.Until))
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	return listPage(ctx, q, "audit log", "id, at, actor, action, target_type, target_id, summary, severity",
		" FROM audit_log"+cond, "id DESC", args, pg, func(sc interface{ Scan(...any) error }) (sdwan.AuditEntry, error) {
			var e sdwan.AuditEntry
			var at int64
			err := sc.Scan(&e.ID, &at, &e.Actor, &e.Action, &e.TargetType, &e.TargetID, &e.Summary, &e.Severity)
			e.At = fromMS(at)
			return e, err
		})
}
