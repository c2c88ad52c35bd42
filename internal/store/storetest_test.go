package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"
)

// engines returns a fresh, migrated store for each engine under test:
// SQLite always, PostgreSQL when PATRONUS_TEST_POSTGRES names a server.
// Each PostgreSQL store lives in its own schema, dropped afterwards, so
// concurrent runs on one server do not collide.
func engines(t testing.TB) map[Engine]*Store {
	t.Helper()
	out := map[Engine]*Store{}
	for _, e := range openers() {
		out[e.engine] = e.open(t, true)
	}
	return out
}

// engineOpener opens a fresh store of one engine, migrated or empty.
type engineOpener struct {
	engine Engine
	open   func(t testing.TB, migrate bool) *Store
}

// openers lists the engines under test, SQLite first.
func openers() []engineOpener {
	out := []engineOpener{{SQLite, openSQLite}}
	if pg := os.Getenv("PATRONUS_TEST_POSTGRES"); pg != "" {
		out = append(out, engineOpener{Postgres, func(t testing.TB, migrate bool) *Store { return openPostgres(t, pg, migrate) }})
	}
	return out
}

// benchEngines runs fn as a sub-benchmark of every engine. Each run gets a
// store of its own: with -count the sub-benchmark runs several times, and
// the rows one run leaves behind (a peer site by name) must not collide
// with the next.
func benchEngines(b *testing.B, fn func(b *testing.B, s *Store)) {
	for _, e := range openers() {
		b.Run(string(e.engine), func(b *testing.B) { fn(b, e.open(b, true)) })
	}
}

func openSQLite(t testing.TB, migrate bool) *Store {
	t.Helper()
	s, err := Open(context.Background(), Config{DataDir: t.TempDir(), Migrate: migrate})
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// openPostgres creates a schema named for the test and opens a store whose
// search_path points at it.
func openPostgres(t testing.TB, base string, migrate bool) *Store {
	t.Helper()
	ctx := context.Background()
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	defer admin.Close()
	schema := "patronus_test_" + strings.ToLower(rand.Text()[:12])
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	qs := u.Query()
	qs.Set("search_path", schema)
	u.RawQuery = qs.Encode()
	s, err := Open(ctx, Config{URL: u.String(), Migrate: migrate})
	if err != nil {
		t.Fatalf("open postgres store: %v", err)
	}
	t.Cleanup(func() {
		s.Close()
		admin, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer admin.Close()
		if _, err := admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Logf("drop schema %s: %v", schema, err)
		}
	})
	return s
}

// forEachEngine runs fn as a subtest against every engine.
func forEachEngine(t *testing.T, fn func(t *testing.T, s *Store)) {
	for name, s := range engines(t) {
		t.Run(string(name), func(t *testing.T) { fn(t, s) })
	}
}

// tx runs fn in a transaction and fails the test on error.
func tx(t testing.TB, s *Store, fn func(Q) error) {
	t.Helper()
	if err := s.Tx(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

// counts returns the row count of every table, for before/after checks.
func counts(t testing.TB, s *Store) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, tbl := range []string{"sdwan_sites", "sdwan_endpoints", "sdwan_paths", "sdwan_path_metrics",
		"sdwan_path_events", "sdwan_policies", "sdwan_policy_stats", "users", "api_keys", "audit_log"} {
		var n int
		if err := s.r.QueryRow("SELECT COUNT(*) FROM " + tbl).Scan(&n); err != nil {
			t.Fatalf("count %s: %v", tbl, err)
		}
		out[tbl] = n
	}
	return out
}

var testEpoch = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

func suffix(i int) string { return fmt.Sprintf("%03d", i) }
