package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

//go:embed migrations
var migrations embed.FS

// Engine names a database engine.
type Engine string

// Engines.
const (
	SQLite   Engine = "sqlite"
	Postgres Engine = "postgres"
)

// Config says which database to open.
type Config struct {
	// URL selects PostgreSQL when it starts with postgres:// or
	// postgresql://. Empty means SQLite in DataDir.
	URL string
	// DataDir holds the SQLite file patronus.db. Created if missing.
	DataDir string
	// Logger receives migration and maintenance messages.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Migrate applies pending migrations when the store opens.
	Migrate bool
}

// Store is the database. It is safe for concurrent use.
type Store struct {
	engine Engine
	w      *sql.DB // the writer: one connection on SQLite, the pool on PostgreSQL
	r      *sql.DB // readers; the same pool as w on PostgreSQL
	log    *slog.Logger
	now    func() time.Time
	// hook, when set by tests, runs at named steps inside multi-statement
	// writes; an error it returns aborts the write there.
	hook func(step string) error
}

// Open opens (and with cfg.Migrate, migrates) the database cfg names.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	s := &Store{log: cfg.Logger, now: cfg.Now}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	var err error
	switch {
	case strings.HasPrefix(cfg.URL, "postgres://"), strings.HasPrefix(cfg.URL, "postgresql://"):
		s.engine = Postgres
		if s.w, err = sql.Open("pgx", cfg.URL); err != nil {
			return nil, fmt.Errorf("store: open postgres: %w", err)
		}
		s.w.SetMaxOpenConns(20)
		s.w.SetMaxIdleConns(10)
		s.w.SetConnMaxIdleTime(5 * time.Minute)
		s.r = s.w
	case cfg.URL == "" || strings.HasPrefix(cfg.URL, "sqlite:") || strings.HasPrefix(cfg.URL, "file:"):
		s.engine = SQLite
		path, err := sqlitePath(cfg)
		if err != nil {
			return nil, err
		}
		if s.w, err = sql.Open("sqlite", sqliteDSN(path, true)); err != nil {
			return nil, fmt.Errorf("store: open sqlite: %w", err)
		}
		// SQLite allows one writer at a time; one connection makes writers
		// queue in Go rather than fail with SQLITE_BUSY.
		s.w.SetMaxOpenConns(1)
		if s.r, err = sql.Open("sqlite", sqliteDSN(path, false)); err != nil {
			s.w.Close()
			return nil, fmt.Errorf("store: open sqlite: %w", err)
		}
		s.r.SetMaxOpenConns(4)
	default:
		return nil, fmt.Errorf("store: database URL %q: want postgres://… or empty for SQLite", redact(cfg.URL))
	}
	if err := s.Ping(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if cfg.Migrate {
		if err := s.Migrate(ctx); err != nil {
			s.Close()
			return nil, err
		}
	}
	return s, nil
}

func sqlitePath(cfg Config) (string, error) {
	if cfg.URL != "" {
		p := strings.TrimPrefix(strings.TrimPrefix(cfg.URL, "sqlite:"), "file:")
		p, _, _ = strings.Cut(p, "?")
		return p, nil
	}
	dir := cfg.DataDir
	if dir == "" {
		dir = "data"
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("store: create data directory: %w", err)
	}
	return filepath.Join(dir, "patronus.db"), nil
}

func sqliteDSN(path string, writer bool) string {
	q := url.Values{}
	for _, p := range []string{"foreign_keys(1)", "journal_mode(WAL)", "busy_timeout(10000)", "synchronous(NORMAL)", "cache_size(-65536)", "temp_store(MEMORY)"} {
		q.Add("_pragma", p)
	}
	if writer {
		// BEGIN IMMEDIATE takes the write lock up front, so a transaction
		// never fails half-way when it first writes.
		q.Set("_txlock", "immediate")
	} else {
		q.Add("_pragma", "query_only(1)")
	}
	return "file:" + path + "?" + q.Encode()
}

// redact hides a password in a database URL.
func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// Engine reports which engine the store runs on.
func (s *Store) Engine() Engine { return s.engine }

// DB returns the writer pool, for the few callers that need the driver
// directly (PostgreSQL LISTEN/NOTIFY, tests).
func (s *Store) DB() *sql.DB { return s.w }

// Stats returns connection-pool statistics of the writer and reader pools.
func (s *Store) Stats() (writer, reader sql.DBStats) { return s.w.Stats(), s.r.Stats() }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.w.PingContext(ctx); err != nil {
		return fmt.Errorf("store: ping %s: %w", s.engine, err)
	}
	return nil
}

// Close closes the database.
func (s *Store) Close() error {
	err := s.w.Close()
	if s.r != s.w {
		err = errors.Join(err, s.r.Close())
	}
	return err
}

func (s *Store) provider() (*goose.Provider, error) {
	dir, err := fs.Sub(migrations, "migrations/"+string(s.engine))
	if err != nil {
		return nil, err
	}
	dialect := goose.DialectSQLite3
	var opts []goose.ProviderOption
	if s.engine == Postgres {
		dialect = goose.DialectPostgres
	}
	return goose.NewProvider(dialect, s.w, dir, opts...)
}

// Migrate applies every pending migration.
func (s *Store) Migrate(ctx context.Context) error {
	p, err := s.provider()
	if err != nil {
		return fmt.Errorf("store: migrations: %w", err)
	}
	if s.engine == Postgres {
		// Two replicas starting at once must not both migrate.
		unlock, err := s.advisoryLock(ctx, lockMigrate)
		if err != nil {
			return err
		}
		defer unlock()
	}
	res, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	for _, r := range res {
		s.log.Info("applied migration", "version", r.Source.Version, "file", r.Source.Path, "duration", r.Duration)
	}
	return nil
}

// MigrationStatus reports the applied and the latest known versions.
type MigrationStatus struct {
	Current, Latest int64
	Pending         []string // file names not yet applied
}

// Status reports which migrations are applied.
func (s *Store) Status(ctx context.Context) (MigrationStatus, error) {
	p, err := s.provider()
	if err != nil {
		return MigrationStatus{}, fmt.Errorf("store: migrations: %w", err)
	}
	st, err := p.Status(ctx)
	if err != nil {
		return MigrationStatus{}, fmt.Errorf("store: migration status: %w", err)
	}
	var ms MigrationStatus
	for _, m := range st {
		ms.Latest = max(ms.Latest, m.Source.Version)
		if m.State == goose.StateApplied {
			ms.Current = max(ms.Current, m.Source.Version)
		} else {
			ms.Pending = append(ms.Pending, filepath.Base(m.Source.Path))
		}
	}
	return ms, nil
}

// Advisory lock keys for singleton jobs across PostgreSQL replicas.
const (
	lockMigrate int64 = 0x70617472_0001
	// LockRetention guards the retention jobs (purges, roll-ups).
	LockRetention int64 = 0x70617472_0002
	// LockStats guards the statistics snapshots and the folding of the
	// traffic log, which one replica does for all.
	LockStats int64 = 0x70617472_0003
)

// advisoryLock takes a session-level PostgreSQL advisory lock on a
// dedicated connection and returns the function that releases it.
func (s *Store) advisoryLock(ctx context.Context, key int64) (func(), error) {
	conn, err := s.w.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: advisory lock: %w", err)
	}
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, key); err != nil {
		conn.Close()
		return nil, fmt.Errorf("store: advisory lock: %w", err)
	}
	return func() {
		_, _ = conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock($1)`, key)
		conn.Close()
	}, nil
}

// TryLock takes the named singleton lock if no other replica holds it. On
// SQLite there is one process, so it always succeeds. The returned release
// function must be called.
func (s *Store) TryLock(ctx context.Context, key int64) (release func(), ok bool, err error) {
	if s.engine != Postgres {
		return func() {}, true, nil
	}
	conn, err := s.w.Conn(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("store: try lock: %w", err)
	}
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&ok); err != nil || !ok {
		conn.Close()
		return nil, false, err
	}
	return func() {
		_, _ = conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock($1)`, key)
		conn.Close()
	}, true, nil
}

// querier is what both *sql.DB and *sql.Tx provide.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Q runs store operations against one querier: the reader pool (Read) or a
// transaction (Tx).
type Q struct {
	q   querier
	s   *Store
	now time.Time
}

// Read returns a Q on the reader pool, for queries outside a transaction.
func (s *Store) Read() Q { return Q{q: s.r, s: s, now: s.now()} }

// Tx runs fn in one transaction and commits it if fn returns nil. Every
// write in Patronus goes through here, so a change and its audit entry land
// together or not at all.
func (s *Store) Tx(ctx context.Context, fn func(Q) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", mapErr(err))
	}
	if err := fn(Q{q: tx, s: s, now: s.now()}); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", mapErr(err))
	}
	return nil
}

// Now is the transaction's clock reading, shared by all its rows.
func (q Q) Now() time.Time { return q.now }

// step runs the test hook, if any, at a named point of a multi-statement
// write.
func (q Q) step(name string) error {
	if q.s.hook == nil {
		return nil
	}
	return q.s.hook(name)
}

// ms and fromMS convert between times and the stored Unix milliseconds.
func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

func fromNullMS(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMS(v.Int64)
	return &t
}

func nullMS(t *time.Time) sql.NullInt64 {
	if t == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: ms(*t), Valid: true}
}
