package graph

import (
	"context"

	"github.com/patronus-sdwan/patronus/internal/auth"
	"github.com/patronus-sdwan/patronus/internal/sdwan"
)

// auditEdgeOp records an operation carried out by an edge (an on-demand
// check, a forced failover) in the audit log. The change itself lives on
// the edge, so the entry is written after the edge has confirmed it; the
// edge reports the failover it made as a path event of its own.
func (a *API) auditEdgeOp(ctx context.Context, p auth.Principal, action string, path sdwan.Path, summary string) error {
	_, err := a.svc.RecordAudit(ctx, p, sdwan.RoleOperator, sdwan.AuditEntry{Action: action, TargetType: "path", TargetID: path.ID,
		Summary: summary, Severity: sdwan.SeverityInfo})
	return err
}
