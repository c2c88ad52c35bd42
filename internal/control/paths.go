package control

import (
	"context"
	"fmt"

	"github.com/patronus-sdwan/patronus/internal/auth"
	"github.com/patronus-sdwan/patronus/internal/events"
	"github.com/patronus-sdwan/patronus/internal/sdwan"
	"github.com/patronus-sdwan/patronus/internal/store"
)

// CreateEndpoint adds a WAN link to a site (admin: links are part of a
// site's definition).
func (s *Service) CreateEndpoint(ctx context.Context, p auth.Principal, e *sdwan.Endpoint) error {
	_, err := s.write(ctx, p, sdwan.RoleAdmin, func(q store.Q) (change, error) {
		if err := q.CreateEndpoint(ctx, e); err != nil {
			return change{}, err
		}
		return change{
			audit:  sdwan.AuditEntry{Action: "endpoint.create", TargetType: "endpoint", TargetID: e.ID, Summary: fmt.Sprintf("added link %s (%s) to site %s", e.Name, e.Address, e.SiteID)},
			events: []events.Event{{Kind: events.EndpointChanged, SiteID: e.SiteID, Summary: e.Name}},
		}, nil
	})
	return err
}

// UpdateEndpoint rewrites an endpoint (admin); apply edits the current
// value in place.
func (s *Service) UpdateEndpoint(ctx context.Context, p auth.Principal, id string, apply func(*sdwan.Endpoint) error) (sdwan.Endpoint, error) {
	var e sdwan.Endpoint
	_, err := s.write(ctx, p, sdwan.RoleAdmin, func(q store.Q) (change, error) {
		var err error
		if e, err = q.Endpoint(ctx, id); err != nil {
			return change{}, err
		}
		if err := apply(&e); err != nil {
			return change{}, err
		}
		if err := q.UpdateEndpoint(ctx, &e); err != nil {
			return change{}, err
		}
		return change{
			audit:   sdwan.AuditEntry{Action: "endpoint.update", TargetType: "endpoint", TargetID: id, Summary: fmt.Sprintf("updated link %s (%s)", e.Name, e.Address)},
			events:  []events.Event{{Kind: events.EndpointChanged, SiteID: e.SiteID, Summary: e.Name}},
			routing: true,
		}, nil
	})
	return e, err
}

// DeleteEndpoint removes a WAN link and its paths (admin).
func (s *Service) DeleteEndpoint(ctx context.Context, p auth.Principal, id string) (int64, error) {
	return s.write(ctx, p, sdwan.RoleAdmin, func(q store.Q) (change, error) {
		e, err := q.Endpoint(ctx, id)
		if err != nil {
			return change{}, err
		}
		paths, _, err := q.ListPaths(ctx, store.PathFilter{EndpointID: id}, store.Page{Limit: store.MaxLimit})
		if err != nil {
			return change{}, err
		}
		if err := q.DeleteEndpoint(ctx, id); err != nil {
			return change{}, err
		}
		ch := change{
			audit:   sdwan.AuditEntry{Action: "endpoint.delete", TargetType: "endpoint", TargetID: id, Severity: sdwan.SeverityWarning, Summary: fmt.Sprintf("removed link %s and its paths", e.Name)},
			events:  []events.Event{{Kind: events.EndpointChanged, SiteID: e.SiteID, Summary: e.Name}},
			routing: true,
		}
		for _, p := range paths {
			ch.paths = append(ch.paths, p.ID)
		}
		return ch, nil
	})
}

// CreatePath adds a path between two sites' links (operator).
func (s *Service) CreatePath(ctx context.Context, p auth.Principal, path *sdwan.Path) error {
	_, err := s.write(ctx, p, sdwan.RoleOperator, func(q store.Q) (change, error) {
		if err := q.CreatePath(ctx, path); err != nil {
			return change{}, err
		}
		return change{
			audit:   sdwan.AuditEntry{Action: "path.create", TargetType: "path", TargetID: path.ID, Summary: fmt.Sprintf("created path %s -> %s", path.SrcEndpointID, path.DstEndpointID)},
			events:  []events.Event{{Kind: events.PathChanged, PathID: path.ID, SiteID: path.SrcSiteID}},
			routing: true,
		}, nil
	})
	return err
}

// DeletePath removes a path with its history (operator).
func (s *Service) DeletePath(ctx context.Context, p auth.Principal, id string) (int64, error) {
	return s.write(ctx, p, sdwan.RoleOperator, func(q store.Q) (change, error) {
		path, err := q.Path(ctx, id)
		if err != nil {
			return change{}, err
		}
		if err := q.DeletePath(ctx, id); err != nil {
			return change{}, err
		}
		return change{
			audit:   sdwan.AuditEntry{Action: "path.delete", TargetType: "path", TargetID: id, Summary: "deleted path " + id},
			events:  []events.Event{{Kind: events.PathChanged, PathID: id, SiteID: path.SrcSiteID}},
			paths:   []string{id},
			routing: true,
		}, nil
	})
}

// SetPathStatus records the monitor's verdict on a path (operator, or the
// edge that owns the path's source site) with a path event.
func (s *Service) SetPathStatus(ctx context.Context, p auth.Principal, id string, st sdwan.PathStatus, reason string) error {
	need := sdwan.RoleOperator
	if p.Role == sdwan.RoleEdge {
		need = sdwan.RoleEdge
	}
	_, err := s.write(ctx, p, need, func(q store.Q) (change, error) {
		path, err := q.Path(ctx, id)
		if err != nil {
			return change{}, err
		}
		if p.Role == sdwan.RoleEdge && path.SrcSiteID != p.SiteID {
			return change{}, fmt.Errorf("%w: path %s does not start at your site", sdwan.ErrForbidden, id)
		}
		prev, err := q.SetPathStatus(ctx, id, st)
		if err != nil {
			return change{}, err
		}
		if err := q.AddPathEvent(ctx, &store.PathEvent{PathID: id, Kind: "state", From: prev, To: st, Reason: reason}); err != nil {
			return change{}, err
		}
		sev := sdwan.SeverityInfo
		switch st {
		case sdwan.PathDown:
			sev = sdwan.SeverityCritical
		case sdwan.PathDegraded:
			sev = sdwan.SeverityWarning
		}
		return change{
			audit:   sdwan.AuditEntry{Action: "path.status", TargetType: "path", TargetID: id, Severity: sev, Summary: fmt.Sprintf("path %s %s -> %s: %s", id, prev, st, reason)},
			events:  []events.Event{{Kind: events.PathState, PathID: id, SiteID: path.SrcSiteID, Severity: string(sev), Summary: fmt.Sprintf("%s -> %s: %s", prev, st, reason)}},
			paths:   []string{id},
			routing: true,
		}, nil
	})
	return err
}
