package main

import (
	"context"
	"strings"
	"testing"

	"github.com/herts-msp/taxi-renewals/internal/store"
	"github.com/herts-msp/taxi-renewals/internal/testdb"
)

func TestSeedSynthetic(t *testing.T) {
	t.Parallel()
	dbPath := testdb.URL(t, "seed.db")
	code, out, errOut := runCmd(t, "seed", "--synthetic", "--drivers", "2000", "--councils", "12", "--years", "3",
		"--now", "2026-11-26T10:00:00Z", "--database", dbPath)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"2000/2000 drivers", "wrote 2000 drivers", "built the coverage summaries"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	ctx := context.Background()
	st, err := store.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var drivers, councils, usedCouncils, evidence, voids, versions, minor, renewals, decided, periods int
	err = st.ReadQuery(ctx, `SELECT (SELECT COUNT(*) FROM drivers), (SELECT COUNT(*) FROM councils),
		(SELECT COUNT(DISTINCT council_id) FROM drivers), (SELECT COUNT(*) FROM evidence WHERE kind <> 'void'),
		(SELECT COUNT(*) FROM evidence WHERE kind = 'void'), (SELECT COUNT(*) FROM leaflets WHERE audience = 'driver'),
		(SELECT COUNT(*) FROM leaflets WHERE NOT requires_reack), (SELECT COUNT(*) FROM renewals),
		(SELECT COUNT(*) FROM renewals WHERE decided_at IS NOT NULL), (SELECT COUNT(*) FROM licence_periods)`, nil,
		func(scan func(...any) error) error {
			return scan(&drivers, &councils, &usedCouncils, &evidence, &voids, &versions, &minor, &renewals, &decided, &periods)
		})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("drivers %d, councils %d, evidence %d (+%d voids), versions %d (%d minor), renewals %d (%d decided), licence periods %d",
		drivers, councils, evidence, voids, versions, minor, renewals, decided, periods)
	switch {
	case drivers != 2000 || councils != 12 || usedCouncils != 12:
		t.Errorf("drivers %d in %d of %d councils, want 2000 in 12 of 12", drivers, usedCouncils, councils)
	case evidence < 2*drivers || evidence > 4*drivers:
		t.Errorf("%d evidence records for %d drivers, want about 3 each", evidence, drivers)
	case voids == 0 || minor == 0 || versions < 3 || decided == 0 || periods <= drivers:
		t.Errorf("history lacks variety: voids %d, versions %d (%d minor), decided %d, licence periods %d", voids, versions, minor, decided, periods)
	}
	if _, err := st.CouncilBySlug(ctx, "synthetic-12"); err != nil {
		t.Errorf("council synthetic-12: %v", err)
	}

	// A database with drivers in it is refused.
	code, _, errOut = runCmd(t, "seed", "--synthetic", "--drivers", "10", "--database", dbPath)
	if code == 0 || !strings.Contains(errOut, "new database") {
		t.Errorf("seeding twice: exit %d, %s", code, errOut)
	}
	// --synthetic is required.
	code, _, errOut = runCmd(t, "seed", "--drivers", "10", "--database", testdb.URL(t, "x.db"))
	if code == 0 || !strings.Contains(errOut, "--synthetic") {
		t.Errorf("without --synthetic: exit %d, %s", code, errOut)
	}
}
