package store

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/google/uuid"
	"github.com/patronus-sdwan/patronus/internal/sdwan"
)

// endpointCols and endpointFrom read endpoints as the domain sees them:
// with their site's UUID, not the integer key the row refers to it by.
const (
	endpointCols = `e.id, s.id, e.name, e.address, e.interface, e.kind, e.cost_per_gb, e.bandwidth_mbps, e.reachable, e.created_at, e.updated_at`
	endpointFrom = ` FROM sdwan_endpoints e JOIN sdwan_sites s ON s.pk = e.site_pk`
)

func scanEndpoint(sc interface{ Scan(...any) error }) (sdwan.Endpoint, error) {
	var e sdwan.Endpoint
	var addr string
	var created, updated int64
	if err := sc.Scan(&e.ID, &e.SiteID, &e.Name, &addr, &e.Interface, &e.Kind, &e.CostPerGB, &e.BandwidthMbps, &e.Reachable, &created, &updated); err != nil {
		return e, err
	}
	e.Address, _ = netip.ParseAddrPort(addr)
	e.CreatedAt, e.UpdatedAt = fromMS(created), fromMS(updated)
	return e, nil
}

// CreateEndpoint validates and inserts a WAN link of a live site.
func (q Q) CreateEndpoint(ctx context.Context, e *sdwan.Endpoint) error {
	if err := e.Validate(); err != nil {
		return err
	}
	sitePK, err := q.liveSite(ctx, e.SiteID)
	if err != nil {
		return err
	}
	if e.ID == "" {
		e.ID = uuid.Must(uuid.NewV7()).String()
	}
	now := q.now.UTC().Truncate(time.Millisecond)
	e.CreatedAt, e.UpdatedAt = now, now
	_, err = q.q.ExecContext(ctx, `INSERT INTO sdwan_endpoints (id, site_pk, name, address, interface, kind, cost_per_gb, bandwidth_mbps, reachable, created_at, updated_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)`,
		e.ID, sitePK, e.Name, e.Address.String(), e.Interface, e.Kind, e.CostPerGB, e.BandwidthMbps, e.Reachable, ms(now), ms(now))
	if err != nil {
		return fmt.Errorf("store: create endpoint %q: %w", e.Name, mapErr(err))
	}
	return nil
}

// UpdateEndpoint validates and writes an endpoint's mutable fields.
func (q Q) UpdateEndpoint(ctx context.Context, e *sdwan.Endpoint) error {
	if err := e.Validate(); err != nil {
		return err
	}
	e.UpdatedAt = q.now.UTC().Truncate(time.Millisecond)
	res, err := q.q.ExecContext(ctx, `UPDATE sdwan_endpoints SET name=$2, address=$3, interface=$4, kind=$5, cost_per_gb=$6, bandwidth_mbps=$7, reachable=$8, updated_at=$9 WHERE id=$1`,
		e.ID, e.Name, e.Address.String(), e.Interface, e.Kind, e.CostPerGB, e.BandwidthMbps, e.Reachable, ms(e.UpdatedAt))
	if err != nil {
		return fmt.Errorf("store: update endpoint %s: %w", e.ID, mapErr(err))
	}
	return affected(res, "endpoint", e.ID)
}

// Endpoint returns an endpoint by ID.
func (q Q) Endpoint(ctx context.Context, id string) (sdwan.Endpoint, error) {
	e, err := scanEndpoint(q.q.QueryRowContext(ctx, `SELECT `+endpointCols+endpointFrom+` WHERE e.id=$1`, id))
	if err != nil {
		return e, fmt.Errorf("store: endpoint %s: %w", id, mapErr(err))
	}
	return e, nil
}

// ListEndpoints returns a site's endpoints by name; an empty siteID lists
// the endpoints of every live site.
func (q Q) ListEndpoints(ctx context.Context, siteID string) ([]sdwan.Endpoint, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT `+endpointCols+endpointFrom+`
		WHERE ($1 = '' OR s.id = $1) AND s.deleted_at IS NULL ORDER BY s.name, e.name`, siteID)
	if err != nil {
		return nil, fmt.Errorf("store: list endpoints: %w", mapErr(err))
	}
	return collect(rows, scanEndpoint)
}

// DeleteEndpoint removes an endpoint and, by cascade, its paths.
func (q Q) DeleteEndpoint(ctx context.Context, id string) error {
	res, err := q.q.ExecContext(ctx, `DELETE FROM sdwan_endpoints WHERE id=$1`, id)
	if err != nil {
		return fmt.Errorf("store: delete endpoint %s: %w", id, mapErr(err))
	}
	return affected(res, "endpoint", id)
}

// liveSite checks that a site exists and is not soft-deleted, and returns
// its integer key.
func (q Q) liveSite(ctx context.Context, id string) (pk int64, err error) {
	var deleted *int64
	err = q.q.QueryRowContext(ctx, `SELECT pk, deleted_at FROM sdwan_sites WHERE id=$1`, id).Scan(&pk, &deleted)
	if err != nil {
		return 0, fmt.Errorf("store: site %s: %w", id, mapErr(err))
	}
	if deleted != nil {
		return 0, fmt.Errorf("store: site %s is deleted (restore it first): %w", id, sdwan.ErrNotFound)
	}
	return pk, nil
}
