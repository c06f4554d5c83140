package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/internal/store"
	"github.com/herts-msp/taxi-renewals/internal/testdb"
)

// TestCoverageVerifyAndRebuild: verify is clean after seeding and after a register correction
// (kept up to date by the write itself), finds a summary cell altered behind the store's back and
// exits 1, and rebuild mends it.
func TestCoverageVerifyAndRebuild(t *testing.T) {
	t.Parallel()
	dbPath := testdb.URL(t, "coverage.db")
	if code, out, errOut := runCmd(t, "seed", "--synthetic", "--drivers", "300", "--councils", "3", "--years", "2",
		"--now", "2026-11-26T10:00:00Z", "--database", dbPath); code != 0 {
		t.Fatalf("seed: exit %d\n%s%s", code, out, errOut)
	}
	verify := func(step string, wantCode int, wantOut string) {
		t.Helper()
		code, out, errOut := runCmd(t, "coverage", "verify", "--database", dbPath)
		if code != wantCode || !strings.Contains(out, wantOut) {
			t.Errorf("%s: verify exit %d, want %d with %q\n%s%s", step, code, wantCode, wantOut, out, errOut)
		}
		if wantCode != 0 && !strings.Contains(errOut, "differ from a fresh build") {
			t.Errorf("%s: verify says %q", step, errOut)
		}
	}
	verify("after seeding", 0, "equal a fresh build")

	ctx := context.Background()
	st, err := store.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	d, err := st.DriverByID(ctx, 7)
	if err != nil {
		t.Fatal(err)
	}
	d.LicenceExpiry = d.LicenceStart.AddDays(30) // a correction shortening the licence
	if err := st.UpsertDrivers(ctx, []domain.Driver{d}, time.Now().UTC()); err != nil {
		t.Fatal(err)
	}
	verify("after a register correction", 0, "equal a fresh build")

	err = st.BulkLoad(ctx, func(b *store.Bulk) error {
		_, err := b.Exec(ctx, "UPDATE coverage_stock SET licensed = licensed + 1 WHERE grain = 'm' AND day = (SELECT MIN(day) FROM coverage_stock WHERE grain = 'm')")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	verify("after altering a cell", 1, "stock m ")

	if code, out, errOut := runCmd(t, "coverage", "rebuild", "--database", dbPath); code != 0 || !strings.Contains(out, "rebuilt the coverage summaries") {
		t.Fatalf("rebuild: exit %d\n%s%s", code, out, errOut)
	}
	verify("after rebuilding", 0, "equal a fresh build")

	if code, _, errOut := runCmd(t, "coverage", "--database", dbPath); code != 1 || !strings.Contains(errOut, "usage: renewals coverage rebuild|verify") {
		t.Errorf("no subcommand: exit %d, %s", code, errOut)
	}
}
