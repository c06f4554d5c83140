package store_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/herts-msp/taxi-renewals/internal/store"
	"github.com/herts-msp/taxi-renewals/internal/testdb"
)

// columns lists every table's columns, in order, as the database reports them.
func columns(t *testing.T, st *store.Store, query string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	err := st.ReadQuery(context.Background(), query, nil, func(scan func(...any) error) error {
		var table, column string
		if err := scan(&table, &column); err != nil {
			return err
		}
		out[table] = append(out[table], column)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestMigrationsAgreeAcrossDialects: the SQLite and PostgreSQL migrations build the same tables
// with the same columns in the same order, so the GORM rows and raw queries fit both.
func TestMigrationsAgreeAcrossDialects(t *testing.T) {
	t.Parallel()
	if !testdb.Postgres() {
		t.Skip("compares the SQLite schema with PostgreSQL's: set " + testdb.PostgresEnv + " to run it")
	}
	ctx := context.Background()
	open := func(url string) *store.Store {
		st, err := store.Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		if _, err := st.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		return st
	}
	lite := columns(t, open(filepath.Join(t.TempDir(), "x.db")), `SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p
		WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY m.name, p.cid`)
	pg := columns(t, open(testdb.URL(t, "x.db")), `SELECT table_name, column_name FROM information_schema.columns
		WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position`)
	if diff := cmp.Diff(lite, pg); diff != "" {
		t.Fatalf("schemas differ (-SQLite +PostgreSQL):\n%s", diff)
	}
	n := 0
	for _, cols := range lite {
		n += len(cols)
	}
	t.Logf("%d tables, %d columns, the same on both", len(lite), n)
}
