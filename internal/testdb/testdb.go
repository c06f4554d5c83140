// Package testdb gives each test its own empty database: a SQLite file in the test's temp
// directory, or, when RENEWALS_TEST_POSTGRES_URL is set, a schema of its own in that PostgreSQL
// database, so tests running side by side never see each other's rows.
package testdb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx", to create and drop schemas

	"github.com/herts-msp/taxi-renewals/internal/store"
)

// PostgresEnv names the variable holding the PostgreSQL server the suite runs against.
const PostgresEnv = "RENEWALS_TEST_POSTGRES_URL"

// Postgres reports whether tests run against PostgreSQL.
func Postgres() bool { return os.Getenv(PostgresEnv) != "" }

// Name says which database the tests run against, for messages.
func Name() string {
	if Postgres() {
		return "PostgreSQL"
	}
	return "SQLite"
}

var unsafeChars = regexp.MustCompile(`[^a-z0-9]+`)

// URL returns a new, empty database for t (file is the SQLite file name to use). A PostgreSQL
// schema is dropped when the test ends, after the test's own clean-ups (which close the store).
func URL(t testing.TB, file string) string {
	t.Helper()
	base := os.Getenv(PostgresEnv)
	if base == "" {
		return filepath.Join(t.TempDir(), file)
	}
	schema := schemaName(t.Name())
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		admin.Close()
		t.Fatalf("testdb: create schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		defer admin.Close()
		if _, err := admin.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			t.Errorf("testdb: drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("testdb: %s: %v", PostgresEnv, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// schemaName makes a schema name from the test's name and a random suffix: readable when a
// test fails and leaves it behind, unique when the same test runs twice at once.
func schemaName(test string) string {
	name := strings.Trim(unsafeChars.ReplaceAllString(strings.ToLower(test), "_"), "_")
	if len(name) > 40 {
		name = name[:40]
	}
	var r [6]byte
	if _, err := rand.Read(r[:]); err != nil {
		panic(err)
	}
	return "t_" + name + "_" + hex.EncodeToString(r[:])
}

// DB is a raw connection to a test's database for statements the store does not offer (counting
// rows, trying to break the append-only rules). Queries use ? placeholders on either dialect.
type DB struct {
	*sql.DB
	postgres bool
}

// Raw opens a raw connection to the database at url (from URL), closed when the test ends.
func Raw(t testing.TB, url string) *DB {
	t.Helper()
	driver, dsn := "sqlite3", "file:"+url+"?_busy_timeout=10000&_foreign_keys=1"
	if store.IsPostgresURL(url) {
		driver, dsn = "pgx", url
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatalf("testdb: open %s: %v", driver, err)
	}
	t.Cleanup(func() { db.Close() })
	return &DB{DB: db, postgres: driver == "pgx"}
}

// Rebind adapts a query written with ? placeholders to the database, for use on a *sql.Tx.
func (db *DB) Rebind(q string) string {
	if db.postgres {
		return store.Rebind(q)
	}
	return q
}

func (db *DB) Exec(q string, args ...any) (sql.Result, error) {
	return db.DB.Exec(db.Rebind(q), args...)
}

func (db *DB) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return db.DB.ExecContext(ctx, db.Rebind(q), args...)
}

func (db *DB) Query(q string, args ...any) (*sql.Rows, error) {
	return db.DB.Query(db.Rebind(q), args...)
}

func (db *DB) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return db.DB.QueryContext(ctx, db.Rebind(q), args...)
}

func (db *DB) QueryRow(q string, args ...any) *sql.Row { return db.DB.QueryRow(db.Rebind(q), args...) }

func (db *DB) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	return db.DB.QueryRowContext(ctx, db.Rebind(q), args...)
}
