package store

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/patronus-sdwan/patronus/internal/sdwan"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// mapErr turns driver errors into domain errors so that no driver text
// reaches a caller: unique violations are sdwan.ErrConflict, foreign-key
// violations (a reference to a missing row) sdwan.ErrNotFound, and no rows
// sdwan.ErrNotFound.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return sdwan.ErrNotFound
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return fmt.Errorf("%w: %s", sdwan.ErrConflict, uniqueWhat(se.Error()))
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return fmt.Errorf("%w: a referenced object does not exist", sdwan.ErrNotFound)
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return fmt.Errorf("%w: database is busy", sdwan.ErrUnavailable)
		}
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505":
			return fmt.Errorf("%w: %s", sdwan.ErrConflict, uniqueWhat(pe.ConstraintName))
		case "23503":
			return fmt.Errorf("%w: a referenced object does not exist", sdwan.ErrNotFound)
		case "40001", "40P01":
			return fmt.Errorf("%w: transaction conflict, retry", sdwan.ErrUnavailable)
		}
	}
	return err
}

// uniqueWhat names, for a person, which uniqueness rule a write broke,
// from the constraint text of either engine.
func uniqueWhat(s string) string {
	for _, c := range []struct{ needle, say string }{
		{"sdwan_sites.name", "a site with that name exists (it may be soft-deleted: restore or purge it)"},
		{"sdwan_sites_name", "a site with that name exists (it may be soft-deleted: restore or purge it)"},
		{"sdwan_endpoints.site_pk", "the site already has an endpoint with that name"},
		{"sdwan_endpoints_site_pk", "the site already has an endpoint with that name"},
		{"sdwan_paths.src_endpoint_pk", "a path between those endpoints exists"},
		{"sdwan_paths_src_endpoint_pk", "a path between those endpoints exists"},
		{"sdwan_policies.name", "a policy with that name exists"},
		{"sdwan_policies_name", "a policy with that name exists"},
		{"sdwan_policies.priority", "another policy has that priority"},
		{"sdwan_policies_priority", "another policy has that priority"},
		{"users.name", "a user with that name exists"},
		{"users_name", "a user with that name exists"},
	} {
		if strings.Contains(s, c.needle) {
			return c.say
		}
	}
	return "it already exists"
}
