// Package store keeps the service's data with GORM. It maps rows to domain types and owns
// every transaction: callers never see a *gorm.DB.
package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/herts-msp/taxi-renewals/db"
)

// Store is the service's database.
type Store struct {
	db      *gorm.DB
	dialect string
}

// Open connects to the database named by url: a file path (or "file:" URL) for the embedded
// SQLite database. It does not run migrations.
func Open(ctx context.Context, url string) (*Store, error) {
	if strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://") {
		return nil, errors.New("PostgreSQL is not supported yet: use a SQLite file path")
	}
	path := strings.TrimPrefix(url, "file:")
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
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
	dsn := "file:" + path + "?_txlock=immediate&_foreign_keys=1&_journal_mode=WAL&_busy_timeout=10000&_synchronous=FULL"
	gdb, err := gorm.Open(sqlite.Open(dsn), &gorm.Config{
		Logger:                 logger.Discard,
		SkipDefaultTransaction: true, // we open transactions ourselves, where they matter
		NowFunc:                func() time.Time { return time.Now().UTC() },
	})
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
	return &Store{db: gdb, dialect: "sqlite"}, nil
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
	return sqlDB.PingContext(ctx)
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
	if err := s.db.WithContext(ctx).Exec(createMigrationsTable).Error; err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	ms, err := s.migrations()
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	var applied []string
	for _, m := range ms {
		err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
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
	if s.db.Migrator().HasTable("schema_migrations") {
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
