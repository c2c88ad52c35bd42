package control

import (
	"context"
	"fmt"
	"net/netip"
	"slices"

	"github.com/patronus-sdwan/patronus/internal/auth"
	"github.com/patronus-sdwan/patronus/internal/events"
	"github.com/patronus-sdwan/patronus/internal/sdwan"
	"github.com/patronus-sdwan/patronus/internal/store"
)

// SetSiteKey records a site's WireGuard public key. An edge may set only its
// own site's key (its private key never leaves it); admins may set any.
// Setting the key the site already has changes nothing and writes no audit
// entry, so an edge may register at every start. It returns whether the key
// changed.
func (s *Service) SetSiteKey(ctx context.Context, p auth.Principal, siteID, publicKey string) (bool, error) {
	need := sdwan.RoleAdmin
	if p.Role == sdwan.RoleEdge {
		need = sdwan.RoleEdge
		if p.SiteID != siteID {
			return false, fmt.Errorf("%w: an edge sets only its own site's key", sdwan.ErrForbidden)
		}
	}
	if site, err := s.st.Read().Site(ctx, siteID); err == nil && site.PublicKey == publicKey {
		return false, nil
	}
	_, err := s.editLiveSite(ctx, p, need, siteID, func(site *sdwan.Site) sdwan.AuditEntry {
		what := "registered"
		if site.PublicKey != "" {
			what = "replaced"
		}
		site.PublicKey = publicKey
		return sdwan.AuditEntry{Action: "site.key",
			Summary: fmt.Sprintf("%s the WireGuard public key of site %s: %s", what, site.Name, publicKey)}
	})
	return err == nil, err
}

// AssignSitePrefixes sets the LAN prefixes routed to a site over the overlay
// (admin). Every edge's configuration carries them; the site's own edge
// delivers only packets addressed to them.
func (s *Service) AssignSitePrefixes(ctx context.Context, p auth.Principal, siteID string, prefixes []netip.Prefix) (sdwan.Site, error) {
	for i, pf := range prefixes {
		if !pf.IsValid() || pf != pf.Masked() {
			return sdwan.Site{}, &sdwan.FieldError{Field: fmt.Sprintf("prefixes[%d]", i), Value: pf.String(), Reason: "must be a valid prefix with no host bits set"}
		}
	}
	if cur, err := s.st.Read().Site(ctx, siteID); err == nil && cur.DeletedAt == nil && slices.Equal(cur.Prefixes, prefixes) {
		if err := Require(p, sdwan.RoleAdmin); err != nil {
			return sdwan.Site{}, err
		}
		return cur, nil // nothing to change, nothing to audit
	}
	return s.editLiveSite(ctx, p, sdwan.RoleAdmin, siteID, func(site *sdwan.Site) sdwan.AuditEntry {
		site.Prefixes = slices.Clone(prefixes)
		return sdwan.AuditEntry{Action: "site.prefixes",
			Summary: fmt.Sprintf("assigned prefixes %s to site %s", sdwan.FormatPrefixes(prefixes), site.Name)}
	})
}

// editLiveSite applies edit to a site that is not soft-deleted and
// writes it back in one audited write (the audit entry is edit's, about
// the site), announcing the change to the edges' configurations.
func (s *Service) editLiveSite(ctx context.Context, p auth.Principal, need sdwan.Role, siteID string, edit func(*sdwan.Site) sdwan.AuditEntry) (sdwan.Site, error) {
	var site sdwan.Site
	_, err := s.write(ctx, p, need, func(q store.Q) (change, error) {
		var err error
		if site, err = q.Site(ctx, siteID); err != nil {
			return change{}, err
		}
		if site.DeletedAt != nil {
			return change{}, fmt.Errorf("site %s is deleted; restore it first: %w", site.Name, sdwan.ErrNotFound)
		}
		audit := edit(&site)
		if err := q.UpdateSite(ctx, &site); err != nil {
			return change{}, err
		}
		audit.TargetType, audit.TargetID = "site", siteID
		return change{
			audit:   audit,
			events:  []events.Event{{Kind: events.SiteUpdated, SiteID: siteID, Summary: site.Name}},
			routing: true,
		}, nil
	})
	return site, err
}
