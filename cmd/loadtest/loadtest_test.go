package main

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/herts-msp/taxi-renewals/internal/testdb"
)

// TestLoadTestRuns keeps the tool working: a short run on a new database (SQLite, or a
// PostgreSQL schema with RENEWALS_TEST_POSTGRES_URL) must complete a journey and a bare
// request without a single error.
func TestLoadTestRuns(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs the service for a few seconds")
	}
	opts := options{Database: testdb.URL(t, "renewals.db"), Drivers: 4, Duration: 2 * time.Second, Rounds: 2, SeedDrivers: 300, Bare: true}
	// The service may take long to start on a busy machine: wait until the test's own deadline.
	ctx := context.Background()
	if d, ok := t.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, d.Add(-time.Until(d)/10))
		defer cancel()
	}
	res, err := loadTest(ctx, opts, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	printReport(t.Output(), opts, res)
	if res.Service.Errors != 0 || res.Service.Journeys == 0 {
		t.Errorf("service: %d errors, %d journeys completed; want no errors and at least one journey; first errors: %q",
			res.Service.Errors, res.Service.Journeys, res.Service.Problems)
	}
	if res.Bare == nil || res.Bare.Errors != 0 || res.Bare.Requests == 0 {
		t.Errorf("bare handler: %+v; want requests and no errors", res.Bare)
	}
	if res.Service.RanOut {
		t.Error("ran out of seeded drivers")
	}
}

func TestParseOptions(t *testing.T) {
	t.Parallel()
	o, err := parseOptions([]string{"-drivers", "8", "-duration", "5s", "-database", "postgres://u:secret@db/renewals"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.Drivers != 8 || o.Duration != 5*time.Second || o.Rounds != 6 || !o.Bare || o.SeedDrivers != 20000 {
		t.Errorf("got %+v", o)
	}
	if got, want := redact(o.Database), "postgres://u:***@db/renewals"; got != want {
		t.Errorf("redact: got %q, want %q", got, want)
	}
	for _, bad := range [][]string{{"-drivers", "0"}, {"-duration", "-1s"}, {"-rounds", "0"}, {"extra"}} {
		if _, err := parseOptions(bad, io.Discard); err == nil {
			t.Errorf("%q: want an error", bad)
		}
	}
}
