package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/herts-msp/taxi-renewals/internal/config"
	"github.com/herts-msp/taxi-renewals/internal/report"
)

// seedCmd builds a synthetic history for reports and benchmarks:
//
//	renewals seed --synthetic --drivers N [--councils K] [--years 3] [--seed S] [--now RFC3339] [--database PATH]
//
// It refuses a database that already has drivers or driver leaflet versions: synthetic data is
// never mixed with real records.
func seedCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var synthetic, rebuild bool
	var drivers, councils, years int
	var seed uint64
	var nowText string
	extra := func(fs *flag.FlagSet) {
		fs.BoolVar(&synthetic, "synthetic", false, "build a synthetic history (required: the only kind of seed)")
		fs.IntVar(&drivers, "drivers", 10_000, "how many drivers")
		fs.IntVar(&councils, "councils", 10, "how many councils: the ten Hertfordshire councils, then \"Synthetic Authority 11\", …")
		fs.IntVar(&years, "years", 3, "years of history, ending now")
		fs.Uint64Var(&seed, "seed", 1, "random seed: the same seed gives the same history")
		fs.StringVar(&nowText, "now", "", "end of the history (RFC 3339; default: the current time)")
		fs.BoolVar(&rebuild, "summary", true, "build the coverage report summaries at the end")
	}
	cfg, st, _, err := open(ctx, "seed", args, getenv, stderr, extra)
	if err != nil {
		return err
	}
	defer st.Close()
	if !synthetic {
		return errors.New("seed: only --synthetic is supported (demo data comes with serve --demo)")
	}
	if drivers < 1 || drivers > 50_000_000 {
		return errors.New("seed: --drivers must be between 1 and 50,000,000")
	}
	if councils < 1 || councils > 1000 {
		return errors.New("seed: --councils must be between 1 and 1000")
	}
	if years < 1 || years > 20 {
		return errors.New("seed: --years must be between 1 and 20")
	}
	now := time.Now().UTC()
	if nowText != "" {
		if now, err = time.Parse(time.RFC3339, nowText); err != nil {
			return fmt.Errorf("seed: --now: %w", err)
		}
	}
	var existing int64
	err = st.ReadQuery(ctx, "SELECT (SELECT COUNT(*) FROM drivers) + (SELECT COUNT(*) FROM leaflets WHERE audience = 'driver')", nil,
		func(scan func(...any) error) error { return scan(&existing) })
	if err != nil {
		return err
	}
	if existing > 0 {
		return fmt.Errorf("seed: %s already has drivers or leaflet versions; synthetic data needs a new database (--database PATH)", config.RedactURL(cfg.DatabaseURL))
	}
	fmt.Fprintf(stdout, "seeding %s: %d drivers, %d councils, %d years to %s\n", config.RedactURL(cfg.DatabaseURL), drivers, councils, years, now.Format(time.RFC3339))
	stats, err := report.GenerateSynthetic(ctx, st, report.SyntheticOptions{Drivers: drivers, Councils: councils, Years: years, Now: now, Seed: seed,
		Progress: func(s report.SyntheticStats) {
			fmt.Fprintf(stdout, "  %d/%d drivers, %d evidence records, %d renewals (%.1fs)\n", s.Drivers, drivers, s.Evidence, s.Renewals, s.Elapsed.Seconds())
		}})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %d drivers, %d licence periods, %d evidence records (%d voids), %d renewals in %.1fs\n",
		stats.Drivers, stats.LicencePeriods, stats.Evidence, stats.Voids, stats.Renewals, stats.Elapsed.Seconds())
	if rebuild {
		took, err := st.RebuildCoverageSummary(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "built the coverage summaries in %.1fs\n", took.Seconds())
	}
	return nil
}
