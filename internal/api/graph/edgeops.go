package graph

import (
	"context"

	"github.com/patronus-sdwan/patronus/internal/auth"
	"github.com/patronus-sdwan/patronus/internal/events"
	"github.com/patronus-sdwan/patronus/internal/sdwan"
)

// auditEdgeOp records an operation carried out by an edge (an on-demand
// check, a forced failover) in the audit log, and publishes failovers as
// path events. The change itself lives on the edge, so the entry is
// written after the edge has confirmed it.
func (a *API) auditEdgeOp(ctx context.Context, p auth.Principal, action string, path sdwan.Path, summary string) error {
	var evs []events.Event
	if action != "path.check" {
		evs = append(evs, events.Event{Kind: events.PathFailover, PathID: path.ID, SiteID: path.SrcSiteID, Severity: string(sdwan.SeverityWarning), Summary: summary})
	}
	_, err := a.svc.RecordAudit(ctx, p, sdwan.RoleOperator, sdwan.AuditEntry{Action: action, TargetType: "path", TargetID: path.ID,
		Summary: summary, Severity: sdwan.SeverityInfo}, evs...)
	return err
}
