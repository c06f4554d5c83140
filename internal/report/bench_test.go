package report

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/internal/store"
)

// benchDrivers is the size of the history built when RENEWALS_BENCH_DB is not set.
const benchDrivers = 20_000

// benchStore opens the database named by RENEWALS_BENCH_DB (built beforehand with
// "renewals seed --synthetic --drivers 1000000 --database /tmp/bench.db"), or builds a small
// synthetic history in a temp directory.
func benchStore(tb testing.TB) *store.Store {
	tb.Helper()
	ctx := context.Background()
	path := os.Getenv("RENEWALS_BENCH_DB")
	build := path == ""
	if build {
		path = filepath.Join(tb.TempDir(), "bench.db")
	}
	st, err := store.Open(ctx, path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		tb.Fatal(err)
	}
	if build {
		_, err := GenerateSynthetic(ctx, st, SyntheticOptions{Drivers: benchDrivers, Now: time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC), Seed: 1})
		if err != nil {
			tb.Fatal(err)
		}
	}
	return st
}

// query36Months asks for every council, by month, over the 36 months up to the latest record.
func query36Months(tb testing.TB, st *store.Store) Query {
	tb.Helper()
	var latest string
	err := st.ReadQuery(context.Background(), "SELECT CAST(MAX(occurred_at) AS TEXT) FROM evidence", nil, func(scan func(...any) error) error { return scan(&latest) })
	if err != nil {
		tb.Fatal(err)
	}
	end, err := domain.ParseISODate(latest[:10])
	if err != nil {
		tb.Fatal(err)
	}
	to := domain.Date{Year: end.Year, Month: end.Month + 1, Day: 1}.AddDays(0)
	return Query{Period: Period{From: to.AddYears(-3), To: to}, Grouping: ByMonth}
}

func BenchmarkCoverage36Months(b *testing.B) {
	st := benchStore(b)
	q := query36Months(b, st)
	ctx := context.Background()
	took, err := st.RebuildCoverageSummary(ctx)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := Coverage(ctx, st, q); err != nil {
			b.Fatal(err)
		}
	}
	// After the loop: ResetTimer deletes metrics reported before it.
	b.ReportMetric(float64(took.Milliseconds()), "rebuild-ms")
}

func BenchmarkNaive36Months(b *testing.B) {
	st := benchStore(b)
	q := query36Months(b, st)
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		if _, err := Naive(ctx, st, q); err != nil {
			b.Fatal(err)
		}
	}
}

// TestBenchDataCoverageEqualsNaive holds the fast report to the naive one on the benchmark's data,
// and logs both times.
func TestBenchDataCoverageEqualsNaive(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds a synthetic history")
	}
	st := benchStore(t)
	q := query36Months(t, st)
	ctx := context.Background()
	start := time.Now()
	if _, err := Coverage(ctx, st, q); err != nil {
		t.Fatal(err)
	}
	first := time.Since(start)
	start = time.Now()
	got, err := Coverage(ctx, st, q)
	if err != nil {
		t.Fatal(err)
	}
	warm := time.Since(start)
	start = time.Now()
	want, err := Naive(ctx, st, q)
	if err != nil {
		t.Fatal(err)
	}
	naive := time.Since(start)
	t.Logf("coverage %v (first, with any summary rebuild %v), naive %v: %.0f× faster", warm, first, naive, float64(naive)/float64(warm))
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(Report{}, "GeneratedAt", "Definitions")); diff != "" {
		t.Errorf("Coverage differs from Naive (-want +got):\n%s", diff)
	}
	if len(got.Rows) != 36 || got.Rows[35].Total.LicensedDrivers == 0 || got.Rows[35].Total.DriversAware == 0 {
		t.Errorf("expected 36 rows with licensed and aware drivers, got %d rows", len(got.Rows))
	}
}

// BenchmarkCoverageAfterWrite is the first report after a write: each iteration makes one write
// a report counts (by turns a register correction of a driver's expiry and an officer's record
// of an issue), untimed, then times the report. The write itself appends its deltas, so the
// report rebuilds nothing (checked) and sums the summaries and the deltas not folded yet (none
// are folded here). write-ms is the mean time of the writes; coverage-stmts/write the statements
// each ran to count itself for the summaries.
func BenchmarkCoverageAfterWrite(b *testing.B) {
	st := benchStore(b)
	q := query36Months(b, st)
	ctx := context.Background()
	if _, err := Coverage(ctx, st, q); err != nil { // builds the summaries if they never were
		b.Fatal(err)
	}
	catchUps := st.CoverageCatchUps()
	writes0, stmts0 := st.CoverageWriteStatements()
	versions, err := st.LeafletVersions(ctx, domain.AudienceDriver)
	if err != nil || len(versions) == 0 {
		b.Fatalf("driver leaflet versions: %v, %v", versions, err)
	}
	var maxID int64
	err = st.ReadQuery(ctx, "SELECT MAX(id) FROM drivers", nil, func(scan func(...any) error) error { return scan(&maxID) })
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now().UTC()
	audit := domain.AuditEntry{At: now, Actor: "bench", Action: "bench", Detail: map[string]any{}}
	var writes time.Duration
	i := 0
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		i++
		start := time.Now()
		d, err := st.DriverByID(ctx, 1+int64(i*7919)%maxID)
		if err != nil {
			b.Fatal(err)
		}
		if i%2 == 0 {
			d.LicenceExpiry = d.LicenceExpiry.AddDays(-30)
			err = st.UpsertDrivers(ctx, []domain.Driver{d}, now)
		} else {
			_, err = st.RecordStaffEvidence(ctx, domain.Evidence{Kind: domain.KindIssue, DriverID: d.ID, CouncilID: d.CouncilID,
				LeafletID: versions[len(versions)-1].ID, Channel: domain.ChannelPost, OccurredAt: now, RecordedAt: now, ActorKind: domain.ActorStaff}, audit)
		}
		if err != nil {
			b.Fatal(err)
		}
		writes += time.Since(start)
		b.StartTimer()
		if _, err := Coverage(ctx, st, q); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if n := st.CoverageCatchUps(); n != catchUps {
		b.Fatalf("%d reports after writes had to catch the summaries up", n-catchUps)
	}
	b.ReportMetric(float64(writes.Microseconds())/1000/float64(max(i, 1)), "write-ms")
	w, n := st.CoverageWriteStatements()
	b.ReportMetric(float64(n-stmts0)/float64(max(w-writes0, 1)), "coverage-stmts/write")
}
