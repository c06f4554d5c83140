// Package store keeps the service's data with GORM. It maps rows to domain types and owns
// every transaction: callers never see a *gorm.DB.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/herts-msp/taxi-renewals/db"
	"github.com/herts-msp/taxi-renewals/internal/domain"
)

// Store is the service's database.
type Store struct {
	db      *gorm.DB // on SQLite, every statement prepared once per connection and kept (see newStore)
	plain   *gorm.DB // the same connections without prepared statements: migrations (many statements in one)
	dialect string
	london  *time.Location // where report days and status dates are counted

	coverage coverageStats // counts of the coverage summaries' work (coverage_incremental.go)
}

// Dialects the store speaks; each has its own migrations under db/migrations/<dialect>.
const (
	dialectSQLite   = "sqlite"
	dialectPostgres = "postgres"
)

// IsPostgresURL says whether url names a PostgreSQL database rather than a SQLite file.
func IsPostgresURL(url string) bool {
	return strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://")
}

func gormConfig() *gorm.Config {
	return &gorm.Config{
		Logger:                 logger.Discard,
		SkipDefaultTransaction: true, // we open transactions ourselves, where they matter
		TranslateError:         true, // every driver error passes through classify (faults.go)
		NowFunc:                func() time.Time { return time.Now().UTC() },
		// For s.db (newStore): at most this many prepared statements are kept, the least
		// recently used closed first (statements with IN lists differ by the list's length).
		PrepareStmtMaxSize: 512,
		PrepareStmtTTL:     time.Hour,
	}
}

// Open connects to the database named by url: a postgres:// URL, or a file path (or "file:"
// URL) for the embedded SQLite database. It does not run migrations.
func Open(ctx context.Context, url string) (*Store, error) {
	if IsPostgresURL(url) {
		return openPostgres(ctx, url)
	}
	return openSQLite(ctx, url)
}

// openPostgres connects to PostgreSQL. Sessions run in UTC so timestamps read back as text (the
// coverage summaries do that) are UTC, as they are in SQLite.
func openPostgres(ctx context.Context, url string) (*Store, error) {
	if !strings.Contains(url, "timezone=") {
		sep := "?"
		if strings.Contains(url, "?") {
			sep = "&"
		}
		url += sep + "timezone=UTC"
	}
	gdb, err := gorm.Open(postgresDialect{postgres.Open(url).(*postgres.Dialector)}, gormConfig())
	if err != nil {
		return nil, fmt.Errorf("database: open PostgreSQL: %w", err)
	}
	sqlDB, err := gdb.DB()
	if err != nil {
		return nil, err
	}
	// Several instances share one server: keep each instance's share of its connections modest.
	sqlDB.SetMaxOpenConns(16)
	sqlDB.SetMaxIdleConns(4)
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	if err := sqlDB.PingContext(ctx); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("database: ping PostgreSQL: %w", err)
	}
	return newStore(gdb, dialectPostgres)
}

func openSQLite(ctx context.Context, url string) (*Store, error) {
	path, extra := strings.TrimPrefix(url, "file:"), ""
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path, extra = path[:i], "&"+path[i+1:] // the URL's own parameters (e.g. mode=ro) go after ours
	}
	if path == "" {
		return nil, errors.New("database: empty SQLite path")
	}
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("database: create %s: %w", dir, err)
		}
	}
	// WAL and a busy timeout are not enough under concurrent writers: _txlock=immediate makes
	// every transaction take the write lock at BEGIN, so none fails with "database is locked"
	// half-way. FULL sync because evidence records must survive a power cut.
	dsn := "file:" + path + "?_txlock=immediate&_foreign_keys=1&_journal_mode=WAL&_busy_timeout=10000&_synchronous=FULL" + extra
	gdb, err := gorm.Open(sqliteDialect{sqlite.Open(dsn).(*sqlite.Dialector)}, gormConfig())
	if err != nil {
		return nil, fmt.Errorf("database: open: %w", err)
	}
	sqlDB, err := gdb.DB()
	if err != nil {
		return nil, err
	}
	sqlDB.SetMaxOpenConns(8)
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	if err := sqlDB.PingContext(ctx); err != nil {
		return nil, fmt.Errorf("database: ping: %w", err)
	}
	return newStore(gdb, dialectSQLite)
}

// Close closes the database.
func (s *Store) Close() error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return classify(sqlDB.PingContext(ctx))
}

type migration struct {
	Version string
	SQL     string
}

func (s *Store) migrations() ([]migration, error) {
	dir := "migrations/" + s.dialect
	entries, err := fs.ReadDir(db.Migrations, dir)
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		b, err := fs.ReadFile(db.Migrations, dir+"/"+e.Name())
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{Version: strings.TrimSuffix(e.Name(), ".sql"), SQL: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	return ms, nil
}

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
    version    TEXT PRIMARY KEY,
    applied_at TIMESTAMP NOT NULL
)`

// Migrate applies every embedded migration not yet recorded, each in its own transaction,
// and returns the versions it applied.
func (s *Store) Migrate(ctx context.Context) ([]string, error) {
	// Each step is a write transaction, so instances starting together on one PostgreSQL
	// database take turns (see transaction), as SQLite's BEGIN IMMEDIATE makes them.
	err := s.transactionOn(ctx, s.plain, func(tx *gorm.DB) error {
		return tx.Exec(createMigrationsTable).Error
	})
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	ms, err := s.migrations()
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	var applied []string
	for _, m := range ms {
		err := s.transactionOn(ctx, s.plain, func(tx *gorm.DB) error {
			var n int64
			if err := tx.Table("schema_migrations").Where("version = ?", m.Version).Count(&n).Error; err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			if err := tx.Exec(m.SQL).Error; err != nil {
				return err
			}
			applied = append(applied, m.Version)
			return tx.Exec("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)", m.Version, time.Now().UTC()).Error
		})
		if err != nil {
			return applied, fmt.Errorf("migrate %s: %w", m.Version, err)
		}
	}
	return applied, nil
}

// PendingMigrations lists the embedded migrations not yet applied.
func (s *Store) PendingMigrations(ctx context.Context) ([]string, error) {
	ms, err := s.migrations()
	if err != nil {
		return nil, err
	}
	var done []string
	if s.db.WithContext(ctx).Migrator().HasTable("schema_migrations") {
		if err := s.db.WithContext(ctx).Table("schema_migrations").Pluck("version", &done).Error; err != nil {
			return nil, err
		}
	}
	have := map[string]bool{}
	for _, v := range done {
		have[v] = true
	}
	var pending []string
	for _, m := range ms {
		if !have[m.Version] {
			pending = append(pending, m.Version)
		}
	}
	return pending, nil
}

// notFound turns gorm's record-not-found into a domain not-found error.
func isNotFound(err error) bool { return errors.Is(err, gorm.ErrRecordNotFound) }

// Backup writes a consistent copy of the live database to path with SQLite's VACUUM INTO,
// which reads one snapshot while the service keeps running. The file must not exist yet.
func (s *Store) Backup(ctx context.Context, path string) error {
	if s.dialect == dialectPostgres {
		return errors.New("backup: this is a PostgreSQL database; back it up with pg_dump -Fc (see the README)")
	}
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("backup: %s already exists", path)
	}
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return fmt.Errorf("backup: %w", err)
		}
	}
	return s.db.WithContext(ctx).Exec("VACUUM INTO ?", path).Error
}

// rebindPool runs queries written with SQLite's ? placeholders on PostgreSQL, which wants $1,
// $2, …. GORM rebinds its own statements; this is for the report code that uses the raw
// connection for speed.
type rebindPool struct{ gorm.ConnPool }

func (p rebindPool) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	return p.ConnPool.PrepareContext(ctx, Rebind(query))
}

func (p rebindPool) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return p.ConnPool.ExecContext(ctx, Rebind(query), args...)
}

func (p rebindPool) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return p.ConnPool.QueryContext(ctx, Rebind(query), args...)
}

func (p rebindPool) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return p.ConnPool.QueryRowContext(ctx, Rebind(query), args...)
}

// rawPool wraps a raw connection so the same SQL runs on either dialect.
func (s *Store) rawPool(cp gorm.ConnPool) gorm.ConnPool {
	if s.dialect == dialectPostgres {
		return rebindPool{cp}
	}
	return cp
}

// Rebind replaces each ? outside quoted text with PostgreSQL's $n. It is for the store's own
// queries and tests' raw statements, not for text from outside.
func Rebind(query string) string {
	if !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	var quote byte
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '?':
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// Advisory lock keys (PostgreSQL): one per kind of writer that must take turns.
const (
	lockWrites = 7216408 // store write transactions (shared by one driver's own, see driverTransaction)
	lockDriver = 7216411 // with the driver's id: one driver's own write transactions
)

// transaction runs fn as one write transaction, one at a time. SQLite's BEGIN IMMEDIATE runs write
// transactions one after another, and the store's check-then-write steps (is this renewal still
// a draft? was this leaflet already issued? is this the newest audit entry?) rely on that. On
// PostgreSQL each write transaction first takes one advisory lock exclusively, so they too run
// one after another, and READ COMMITTED then sees every earlier commit. Page reads, sessions,
// rate-limit counters and the outbox claim are single statements outside these and run side by
// side on every instance.
//
// Before it commits, the coverage summaries are brought up to date with what it wrote
// (updateCoverage), rebuilt in full if a write asked for that (a leaflet version requiring
// re-acknowledgement).
func (s *Store) transaction(ctx context.Context, fn func(tx *gorm.DB) error) error {
	return s.transactionOn(ctx, s.db, func(tx *gorm.DB) error {
		if err := fn(tx); err != nil {
			return err
		}
		return s.updateCoverage(ctx, s.rawPool(tx.Statement.ConnPool), true)
	})
}

// transactionOn is transaction on db (s.db, or s.plain for migrations) without the coverage
// update (migrations may run before the tables it reads exist).
func (s *Store) transactionOn(ctx context.Context, db *gorm.DB, fn func(tx *gorm.DB) error) error {
	fn, committing := watchCommit(fn)
	if s.dialect != dialectPostgres {
		return committing(db.WithContext(ctx).Transaction(fn))
	}
	return committing(db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec("SELECT pg_advisory_xact_lock(?)", lockWrites).Error; err != nil {
			return err
		}
		return fn(tx)
	}))
}

// driverTransaction runs fn as a write transaction that touches only one driver's own rows (their
// sign-in codes, draft, renewal and evidence) and appends to shared tables (the outbox, the
// report counter). It is the driver's journey, most of the service's writes. On PostgreSQL it
// takes the write lock shared, then the driver's own lock: journeys of different drivers run side
// by side, one driver's steps still run one at a time, and every other write transaction (which
// takes the write lock exclusively: an officer's decision, a register import) still runs alone.
// Locks are always taken in that order, so they cannot deadlock.
//
// Before it commits, the coverage summaries are brought up to date for the driver's writes
// (updateCoverage; never a full rebuild).
func (s *Store) driverTransaction(ctx context.Context, driverID int64, fn func(tx *gorm.DB) error) error {
	body := fn
	fn, committing := watchCommit(func(tx *gorm.DB) error {
		if err := body(tx); err != nil {
			return err
		}
		return s.updateCoverage(ctx, s.rawPool(tx.Statement.ConnPool), false)
	})
	if s.dialect != dialectPostgres {
		return committing(s.db.WithContext(ctx).Transaction(fn))
	}
	return committing(s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec("SELECT pg_advisory_xact_lock_shared(?)", lockWrites).Error; err != nil {
			return err
		}
		// The two-key form: (lockDriver, id) never meets the single-key locks above. The key is an
		// int4: a larger id wraps and shares a lock with another driver, which is only slower.
		if err := tx.Exec("SELECT pg_advisory_xact_lock(?, ?)", lockDriver, int32(driverID)).Error; err != nil {
			return err
		}
		return fn(tx)
	}))
}

func newStore(gdb *gorm.DB, dialect string) (*Store, error) {
	loc, err := time.LoadLocation(domain.ReportZone)
	if err != nil {
		return nil, err
	}
	// Prepared statements on SQLite: GORM prepares each statement once on the connection pool
	// and keeps it, so SQLite no longer compiles every query again on every call (9% of a
	// driver's journey before), and transactions use the same statements (Stmt on the
	// transaction). Not on PostgreSQL: pgx already prepares and caches every statement per
	// connection (its default statement cache), so GORM's layer would only add a second cache.
	// (With it on, the suite passed on PostgreSQL too; the load test did not show it faster.)
	// Migrations run unprepared (s.plain): a migration holds many statements, which SQLite does
	// not prepare as one.
	if err := classifyRowErrors(gdb); err != nil {
		return nil, err
	}
	db := gdb
	if dialect == dialectSQLite {
		db = gdb.Session(&gorm.Session{PrepareStmt: true})
	}
	return &Store{db: db, plain: gdb, dialect: dialect, london: loc}, nil
}

// londonDay is the London calendar day of t.
func (s *Store) londonDay(t time.Time) domain.Date { return domain.DateOf(t.In(s.london)) }
