package store

import (
	"context"
	"database/sql"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/patronus-sdwan/patronus/internal/sdwan"
)

// Page selects a window of a list. Limit 0 means DefaultLimit; lists never
// return more than MaxLimit rows.
type Page struct {
	Limit, Offset int
}

// List limits.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

func (p Page) norm() (limit, offset int) {
	limit, offset = p.Limit, max(p.Offset, 0)
	if limit <= 0 {
		limit = DefaultLimit
	}
	return min(limit, MaxLimit), offset
}

// SiteFilter narrows ListSites.
type SiteFilter struct {
	NameContains string
	Status       sdwan.SiteStatus
	// Deleted selects soft-deleted sites instead of live ones.
	Deleted bool
}

const siteCols = `id, name, description, status, public_key, prefixes, created_at, updated_at, deleted_at`

func scanSite(sc interface{ Scan(...any) error }) (sdwan.Site, error) {
	var s sdwan.Site
	var prefixes string
	var created, updated int64
	var deleted sql.NullInt64
	if err := sc.Scan(&s.ID, &s.Name, &s.Description, &s.Status, &s.PublicKey, &prefixes, &created, &updated, &deleted); err != nil {
		return s, err
	}
	s.CreatedAt, s.UpdatedAt, s.DeletedAt = fromMS(created), fromMS(updated), fromNullMS(deleted)
	for p := range strings.SplitSeq(prefixes, ",") {
		if pp, err := netip.ParsePrefix(p); err == nil {
			s.Prefixes = append(s.Prefixes, pp)
		}
	}
	return s, nil
}

// CreateSite validates and inserts a site, filling in its ID and times.
func (q Q) CreateSite(ctx context.Context, s *sdwan.Site) error {
	if err := s.Validate(); err != nil {
		return err
	}
	if s.ID == "" {
		s.ID = uuid.Must(uuid.NewV7()).String()
	}
	s.CreatedAt, s.UpdatedAt = q.now.UTC().Truncate(time.Millisecond), q.now.UTC().Truncate(time.Millisecond)
	_, err := q.q.ExecContext(ctx, `INSERT INTO sdwan_sites (`+siteCols+`) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,NULL)`,
		s.ID, s.Name, s.Description, s.Status, s.PublicKey, sdwan.FormatPrefixes(s.Prefixes), ms(s.CreatedAt), ms(s.UpdatedAt))
	if err != nil {
		return fmt.Errorf("store: create site %q: %w", s.Name, mapErr(err))
	}
	return nil
}

// UpdateSite validates and writes a live site's mutable fields.
func (q Q) UpdateSite(ctx context.Context, s *sdwan.Site) error {
	if err := s.Validate(); err != nil {
		return err
	}
	s.UpdatedAt = q.now.UTC().Truncate(time.Millisecond)
	res, err := q.q.ExecContext(ctx, `UPDATE sdwan_sites SET name=$2, description=$3, status=$4, public_key=$5, prefixes=$6, updated_at=$7
		WHERE id=$1 AND deleted_at IS NULL`,
		s.ID, s.Name, s.Description, s.Status, s.PublicKey, sdwan.FormatPrefixes(s.Prefixes), ms(s.UpdatedAt))
	if err != nil {
		return fmt.Errorf("store: update site %s: %w", s.ID, mapErr(err))
	}
	return affected(res, "site", s.ID)
}

// Site returns a site by ID, including a soft-deleted one (check
// DeletedAt).
func (q Q) Site(ctx context.Context, id string) (sdwan.Site, error) {
	s, err := scanSite(q.q.QueryRowContext(ctx, `SELECT `+siteCols+` FROM sdwan_sites WHERE id=$1`, id))
	if err != nil {
		return s, fmt.Errorf("store: site %s: %w", id, mapErr(err))
	}
	return s, nil
}

// SiteByName returns a site by its unique name.
func (q Q) SiteByName(ctx context.Context, name string) (sdwan.Site, error) {
	s, err := scanSite(q.q.QueryRowContext(ctx, `SELECT `+siteCols+` FROM sdwan_sites WHERE name=$1`, name))
	if err != nil {
		return s, fmt.Errorf("store: site %q: %w", name, mapErr(err))
	}
	return s, nil
}

// ListSites returns sites ordered by name, and how many match in all.
func (q Q) ListSites(ctx context.Context, f SiteFilter, p Page) ([]sdwan.Site, int, error) {
	where := []string{"deleted_at IS NULL"}
	if f.Deleted {
		where[0] = "deleted_at IS NOT NULL"
	}
	var args []any
	if f.NameContains != "" {
		args = append(args, "%"+escapeLike(f.NameContains)+"%")
		where = append(where, fmt.Sprintf(`name LIKE $%d ESCAPE '\'`, len(args)))
	}
	if f.Status != "" {
		args = append(args, f.Status)
		where = append(where, fmt.Sprintf("status = $%d", len(args)))
	}
	return listPage(ctx, q, "sites", siteCols, " FROM sdwan_sites WHERE "+strings.Join(where, " AND "), "name", args, p, scanSite)
}

// CountSites returns how many live sites there are.
func (q Q) CountSites(ctx context.Context) (int, error) {
	var n int
	err := q.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM sdwan_sites WHERE deleted_at IS NULL`).Scan(&n)
	return n, mapErr(err)
}

// SiteDependencies counts what a hard delete of a site removes with it.
type SiteDependencies struct {
	Endpoints   int
	Paths       int // the seed's count_site_paths
	Metrics     int // path metrics history rows
	PathEvents  int // health and failover events
	PolicyStats int // statistics snapshots counted at the site
	Credentials int // site credentials
}

// CountSiteDependencies reports what deleting the site would remove.
func (q Q) CountSiteDependencies(ctx context.Context, id string) (SiteDependencies, error) {
	var d SiteDependencies
	err := q.q.QueryRowContext(ctx, `SELECT
		(SELECT COUNT(*) FROM sdwan_endpoints WHERE site_pk = `+siteKey+`),
		`+sitePathCount+`,
		(SELECT COUNT(*) FROM sdwan_path_metrics WHERE path_pk IN (`+sitePaths+`)),
		(SELECT COUNT(*) FROM sdwan_path_events WHERE path_pk IN (`+sitePaths+`)),
		(SELECT COUNT(*) FROM sdwan_policy_stats WHERE site_id = $1),
		(SELECT COUNT(*) FROM api_keys WHERE site_id = $1)`, id).
		Scan(&d.Endpoints, &d.Paths, &d.Metrics, &d.PathEvents, &d.PolicyStats, &d.Credentials)
	if err != nil {
		return d, fmt.Errorf("store: count dependencies of site %s: %w", id, mapErr(err))
	}
	return d, nil
}

// CountSitePaths is the seed's count_site_paths: the paths that start or
// end at the site.
func (q Q) CountSitePaths(ctx context.Context, id string) (int, error) {
	var n int
	err := q.q.QueryRowContext(ctx, `SELECT `+sitePathCount, id).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: count paths of site %s: %w", id, mapErr(err))
	}
	return n, nil
}

// SoftDeleteSite marks a live site deleted; it and its paths disappear from
// lists until RestoreSite or the retention purge.
func (q Q) SoftDeleteSite(ctx context.Context, id string) error {
	res, err := q.q.ExecContext(ctx, `UPDATE sdwan_sites SET deleted_at=$2, updated_at=$2 WHERE id=$1 AND deleted_at IS NULL`, id, ms(q.now))
	if err != nil {
		return fmt.Errorf("store: soft delete site %s: %w", id, mapErr(err))
	}
	return affected(res, "live site", id)
}

// RestoreSite brings back a soft-deleted site.
func (q Q) RestoreSite(ctx context.Context, id string) error {
	res, err := q.q.ExecContext(ctx, `UPDATE sdwan_sites SET deleted_at=NULL, updated_at=$2 WHERE id=$1 AND deleted_at IS NOT NULL`, id, ms(q.now))
	if err != nil {
		return fmt.Errorf("store: restore site %s: %w", id, mapErr(err))
	}
	return affected(res, "deleted site", id)
}

// HardDeleteSite removes a site with everything that hangs off it: the
// paths to and from it with their metrics and events, its endpoints, its
// statistics and its credentials. It returns what was removed.
//
// It deletes the dependants itself, children before parents, one
// set-based statement per table, and counts them by the rows each statement
// removes, so the figures are exact without a counting pass of their own.
// ON DELETE CASCADE stays in the schema as the net under it, but is left
// nothing to do: on SQLite a cascade runs a trigger program per deleted
// path for each of the paths' child tables, which deleting those rows
// first, in one statement each, avoids.
func (q Q) HardDeleteSite(ctx context.Context, id string) (SiteDependencies, error) {
	var d SiteDependencies
	for _, del := range siteDeletes {
		res, err := q.q.ExecContext(ctx, del.query, id)
		if err != nil {
			return d, fmt.Errorf("store: delete %s of site %s: %w", del.what, id, mapErr(err))
		}
		n, err := res.RowsAffected()
		if err != nil {
			return d, fmt.Errorf("store: delete %s of site %s: %w", del.what, id, err)
		}
		if del.count == nil && n == 0 {
			return d, fmt.Errorf("store: site %s: %w", id, sdwan.ErrNotFound)
		}
		if del.count != nil {
			*del.count(&d) += int(n)
		}
		if err := q.step("site.delete:" + del.what); err != nil {
			return d, err
		}
	}
	return d, nil
}

// siteKey is the integer key of the site whose UUID is $1.
const siteKey = `(SELECT pk FROM sdwan_sites WHERE id = $1)`

// sitePaths selects the keys of the paths from or to the site $1. A path
// never joins a site to itself, so the two sets are disjoint and each is
// one index range.
const sitePaths = `SELECT pk FROM sdwan_paths WHERE src_site_pk = ` + siteKey + ` UNION ALL SELECT pk FROM sdwan_paths WHERE dst_site_pk = ` + siteKey

// sitePathCount counts the paths from or to the site $1, one index range
// each.
const sitePathCount = `(SELECT COUNT(*) FROM sdwan_paths WHERE src_site_pk = ` + siteKey + `) + (SELECT COUNT(*) FROM sdwan_paths WHERE dst_site_pk = ` + siteKey + `)`

// siteDeletes are HardDeleteSite's statements in the order they run; each
// takes the site ID as $1 and adds the rows it removes to one count. The
// last deletes the site itself and has no count.
var siteDeletes = []struct {
	what  string
	query string
	count func(*SiteDependencies) *int
}{
	{"metrics", `DELETE FROM sdwan_path_metrics WHERE path_pk IN (` + sitePaths + `)`, func(d *SiteDependencies) *int { return &d.Metrics }},
	{"path events", `DELETE FROM sdwan_path_events WHERE path_pk IN (` + sitePaths + `)`, func(d *SiteDependencies) *int { return &d.PathEvents }},
	{"paths from it", `DELETE FROM sdwan_paths WHERE src_site_pk = ` + siteKey, func(d *SiteDependencies) *int { return &d.Paths }},
	{"paths to it", `DELETE FROM sdwan_paths WHERE dst_site_pk = ` + siteKey, func(d *SiteDependencies) *int { return &d.Paths }},
	{"endpoints", `DELETE FROM sdwan_endpoints WHERE site_pk = ` + siteKey, func(d *SiteDependencies) *int { return &d.Endpoints }},
	{"statistics", `DELETE FROM sdwan_policy_stats WHERE site_id = $1`, func(d *SiteDependencies) *int { return &d.PolicyStats }},
	{"credentials", `DELETE FROM api_keys WHERE site_id = $1`, func(d *SiteDependencies) *int { return &d.Credentials }},
	{"site", `DELETE FROM sdwan_sites WHERE id = $1`, nil},
}

// ExpiredSites lists soft-deleted sites deleted before the cut-off.
func (q Q) ExpiredSites(ctx context.Context, before time.Time) ([]sdwan.Site, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT `+siteCols+` FROM sdwan_sites WHERE deleted_at IS NOT NULL AND deleted_at < $1 ORDER BY deleted_at`, ms(before))
	if err != nil {
		return nil, fmt.Errorf("store: expired sites: %w", mapErr(err))
	}
	return collect(rows, scanSite)
}

// affected turns "no row changed" into a wrapped sdwan.ErrNotFound.
func affected(res sql.Result, what, id string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("store: %s %s: %w", what, id, err)
	}
	if n == 0 {
		return fmt.Errorf("store: %s %s: %w", what, id, sdwan.ErrNotFound)
	}
	return nil
}

// collect scans every row with scan and closes rows.
func collect[T any](rows *sql.Rows, scan func(interface{ Scan(...any) error }) (T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, mapErr(err)
		}
		out = append(out, v)
	}
	return out, mapErr(rows.Err())
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
