package main

import (
	"context"
	"fmt"
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
	// The service may take long to start on a busy machine: wait until the test's own deadline.
	ctx := context.Background()
	if d, ok := t.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, d.Add(-time.Until(d)/10))
		defer cancel()
	}
	// A journey is about 30 requests with a photo to decode and re-encode: on a machine busy
	// with other tests, 2 s may not see one finish. Run longer (on a new database) until one
	// does, rather than fail for the machine's load; errors fail at once.
	var opts options
	var res results
	for i, d := range []time.Duration{2 * time.Second, 8 * time.Second, 30 * time.Second} {
		opts = options{Database: testdb.URL(t, fmt.Sprintf("renewals-%d.db", i)), Drivers: 4, Duration: d, Rounds: 2, SeedDrivers: 300, Bare: true}
		var err error
		if res, err = loadTest(ctx, opts, io.Discard); err != nil {
			t.Fatal(err)
		}
		if res.Service.Errors != 0 || res.Service.Journeys > 0 {
			break
		}
		t.Logf("no journey finished in %s on this machine; running for longer", d)
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
