package control

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/patronus-sdwan/patronus/internal/auth"
	"github.com/patronus-sdwan/patronus/internal/events"
	"github.com/patronus-sdwan/patronus/internal/sdwan"
	"github.com/patronus-sdwan/patronus/internal/store"
)

// CreateSite adds a site (admin).
func (s *Service) CreateSite(ctx context.Context, p auth.Principal, site *sdwan.Site) error {
	_, err := s.write(ctx, p, sdwan.RoleAdmin, func(q store.Q) (change, error) {
		if err := q.CreateSite(ctx, site); err != nil {
			return change{}, err
		}
		return change{
			audit:  sdwan.AuditEntry{Action: "site.create", TargetType: "site", TargetID: site.ID, Summary: fmt.Sprintf("created site %s", site.Name)},
			events: []events.Event{{Kind: events.SiteCreated, SiteID: site.ID, Summary: site.Name}},
		}, nil
	})
	return err
}

// SiteUpdate holds the fields an update changes; nil leaves a field as is.
type SiteUpdate struct {
	Name        *string
	Description *string
	Status      *sdwan.SiteStatus
	PublicKey   *string
}

// UpdateSite changes a live site (admin).
func (s *Service) UpdateSite(ctx context.Context, p auth.Principal, id string, u SiteUpdate) (sdwan.Site, error) {
	var site sdwan.Site
	_, err := s.write(ctx, p, sdwan.RoleAdmin, func(q store.Q) (change, error) {
		var err error
		if site, err = q.Site(ctx, id); err != nil {
			return change{}, err
		}
		if site.DeletedAt != nil {
			return change{}, fmt.Errorf("site %s is deleted; restore it first: %w", site.Name, sdwan.ErrNotFound)
		}
		var what []string
		if u.Name != nil && *u.Name != site.Name {
			what = append(what, fmt.Sprintf("name %s -> %s", site.Name, *u.Name))
			site.Name = *u.Name
		}
		if u.Description != nil {
			what = append(what, "description")
			site.Description = *u.Description
		}
		if u.Status != nil && *u.Status != site.Status {
			what = append(what, fmt.Sprintf("status %s -> %s", site.Status, *u.Status))
			site.Status = *u.Status
		}
		if u.PublicKey != nil && *u.PublicKey != site.PublicKey {
			what = append(what, "public key")
			site.PublicKey = *u.PublicKey
		}
		if err := q.UpdateSite(ctx, &site); err != nil {
			return change{}, err
		}
		return change{
			audit:   sdwan.AuditEntry{Action: "site.update", TargetType: "site", TargetID: id, Summary: fmt.Sprintf("updated site %s: %s", site.Name, joinOr(what, "no change"))},
			events:  []events.Event{{Kind: events.SiteUpdated, SiteID: id, Summary: site.Name}},
			routing: true,
		}, nil
	})
	return site, err
}

// DeleteResult reports a site deletion.
type DeleteResult struct {
	AuditID int64
	Site    sdwan.Site
	Hard    bool
	Removed store.SiteDependencies // for a hard delete: what went with it
	// PurgeAfter is when a soft-deleted site will be purged.
	PurgeAfter time.Time
}

// DeleteSite deletes a site (admin). By default it is a soft delete: the
// site and its paths vanish from lists and stop carrying traffic, and can
// be restored until the retention period ends. A hard delete removes the
// site with its endpoints, paths, metrics and events in one transaction,
// counted first, and cannot be undone.
func (s *Service) DeleteSite(ctx context.Context, p auth.Principal, id string, hard bool) (DeleteResult, error) {
	res := DeleteResult{Hard: hard}
	var err error
	res.AuditID, err = s.write(ctx, p, sdwan.RoleAdmin, func(q store.Q) (change, error) {
		var err error
		if res.Site, err = q.Site(ctx, id); err != nil {
			return change{}, err
		}
		if !hard {
			if res.Site.DeletedAt != nil {
				return change{}, fmt.Errorf("site %s is already deleted (use a hard delete to remove it now): %w", res.Site.Name, sdwan.ErrConflict)
			}
			if err := q.SoftDeleteSite(ctx, id); err != nil {
				return change{}, err
			}
			n, err := q.CountSitePaths(ctx, id)
			if err != nil {
				return change{}, err
			}
			res.PurgeAfter = q.Now().Add(s.cfg.SiteRetention).UTC()
			return change{
				audit: sdwan.AuditEntry{Action: "site.soft_delete", TargetType: "site", TargetID: id, Severity: sdwan.SeverityWarning,
					Summary: fmt.Sprintf("deleted site %s (%d paths hidden); restorable until %s", res.Site.Name, n, res.PurgeAfter.Format(time.RFC3339))},
				events:  []events.Event{{Kind: events.SiteSoftDeleted, SiteID: id, Summary: res.Site.Name}},
				routing: true,
			}, nil
		}
		if res.Removed, err = q.HardDeleteSite(ctx, id); err != nil {
			return change{}, err
		}
		d := res.Removed
		return change{
			audit: sdwan.AuditEntry{Action: "site.delete", TargetType: "site", TargetID: id, Severity: sdwan.SeverityWarning,
				Summary: fmt.Sprintf("permanently deleted site %s with %d endpoints, %d paths, %d metrics rows, %d path events, %d statistics rows and %d credentials",
					res.Site.Name, d.Endpoints, d.Paths, d.Metrics, d.PathEvents, d.PolicyStats, d.Credentials)},
			events:  []events.Event{{Kind: events.SiteDeleted, SiteID: id, Summary: res.Site.Name}},
			routing: true,
		}, nil
	})
	return res, err
}

// RestoreSite brings back a soft-deleted site (admin).
func (s *Service) RestoreSite(ctx context.Context, p auth.Principal, id string) (sdwan.Site, int64, error) {
	var site sdwan.Site
	auditID, err := s.write(ctx, p, sdwan.RoleAdmin, func(q store.Q) (change, error) {
		if err := q.RestoreSite(ctx, id); err != nil {
			return change{}, fmt.Errorf("restore site %s: it is not a deleted site: %w", id, sdwan.ErrNotFound)
		}
		var err error
		if site, err = q.Site(ctx, id); err != nil {
			return change{}, err
		}
		return change{
			audit:   sdwan.AuditEntry{Action: "site.restore", TargetType: "site", TargetID: id, Summary: "restored site " + site.Name},
			events:  []events.Event{{Kind: events.SiteRestored, SiteID: id, Summary: site.Name}},
			routing: true,
		}, nil
	})
	return site, auditID, err
}

// PurgeExpiredSites hard-deletes soft-deleted sites whose retention has
// run out, each in its own transaction with its audit entry, and reports
// how many it removed.
func (s *Service) PurgeExpiredSites(ctx context.Context) (int, error) {
	cut := s.now().Add(-s.cfg.SiteRetention)
	expired, err := s.st.Read().ExpiredSites(ctx, cut)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, site := range expired {
		if _, err := s.DeleteSite(ctx, auth.System, site.ID, true); err != nil {
			if IsNotFound(err) {
				continue // another replica purged it
			}
			return n, err
		}
		n++
		s.log.Info("purged expired site", "site", site.Name, "deleted_at", site.DeletedAt)
	}
	return n, nil
}

// SiteByRef finds a live or deleted site by ID or by name.
func (s *Service) SiteByRef(ctx context.Context, p auth.Principal, ref string) (sdwan.Site, error) {
	q, err := s.Reader(p)
	if err != nil {
		return sdwan.Site{}, err
	}
	site, err := q.Site(ctx, ref)
	if IsNotFound(err) {
		site, err = q.SiteByName(ctx, ref)
	}
	return site, err
}

func joinOr(parts []string, empty string) string {
	if len(parts) == 0 {
		return empty
	}
	return strings.Join(parts, ", ")
}
