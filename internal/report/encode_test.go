package report_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/internal/report"
	"github.com/herts-msp/taxi-renewals/internal/store"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// fixedReport is a hand-made report of two councils over two months, with a formula-like
// council name, several channels and versions, and small counts.
func fixedReport() report.Report {
	oct := report.Period{From: domain.Date{Year: 2026, Month: 10, Day: 1}, To: domain.Date{Year: 2026, Month: 11, Day: 1}}
	nov := report.Period{From: oct.To, To: domain.Date{Year: 2026, Month: 12, Day: 1}}
	dac := func(lic, aware, out, iss, ack int) report.CouncilFigures {
		return report.CouncilFigures{CouncilID: 2, Slug: "dacorum", Name: "Dacorum Borough Council", Figures: report.Figures{
			LicensedDrivers: lic, DriversAware: aware, CoveragePct: report.Percent(aware, lic), Outstanding: out,
			DriversEverAware: aware + 12, LeafletsIssued: iss, LeafletsAcknowledged: ack,
			IssuedByChannel:       map[string]int{"online": iss - 3, "in_person": 3},
			AcknowledgedByChannel: map[string]int{"online": ack - 2, "post": 2},
			IssuedByVersion:       map[string]int{"1.0": iss - 1, "2.0": 1},
			AcknowledgedByVersion: map[string]int{"1.0": ack},
			RenewalsSubmitted:     12, RenewalsApproved: 9, RenewalsRefused: 1, PublicEvents: 1, PublicLeafletsHandedOut: 40,
		}}
	}
	evil := func(lic int) report.CouncilFigures {
		aware := max(lic-1, 0)
		return report.CouncilFigures{CouncilID: 99, Slug: "evil", Name: `=HYPERLINK("http://evil.example/","click")`, Figures: report.Figures{
			LicensedDrivers: lic, DriversAware: aware, CoveragePct: report.Percent(aware, lic), Outstanding: lic - aware,
			DriversEverAware: aware, IssuedByChannel: map[string]int{}, AcknowledgedByChannel: map[string]int{}, IssuedByVersion: map[string]int{}, AcknowledgedByVersion: map[string]int{},
		}}
	}
	total := func(a, b report.CouncilFigures) report.Figures {
		f := a.Figures
		f.LicensedDrivers += b.LicensedDrivers
		f.DriversAware += b.DriversAware
		f.Outstanding += b.Outstanding
		f.DriversEverAware += b.DriversEverAware
		f.CoveragePct = report.Percent(f.DriversAware, f.LicensedDrivers)
		return f
	}
	r1a, r1b := dac(200, 150, 20, 30, 25), evil(3)
	r2a, r2b := dac(205, 160, 18, 12, 4), evil(0)
	return report.Report{From: oct.From, To: nov.To, Grouping: report.ByMonth,
		GeneratedAt: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC),
		Rows: []report.Row{
			{Period: oct, Label: "October 2026", Councils: []report.CouncilFigures{r1a, r1b}, Total: total(r1a, r1b)},
			{Period: nov, Label: "November 2026", Councils: []report.CouncilFigures{r2a, r2b}, Total: total(r2a, r2b)},
		}}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/report -run Golden -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (-want +got):\n-%s\n+%s", name, want, got)
	}
}

func TestGoldenCSVAndJSON(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		opt  report.ExportOptions
	}{
		{"coverage", report.ExportOptions{IncludeTotal: true}},
		{"coverage-suppressed", report.ExportOptions{IncludeTotal: true, Suppress: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var c, j bytes.Buffer
			if err := report.WriteCSV(&c, fixedReport(), tc.opt); err != nil {
				t.Fatal(err)
			}
			golden(t, tc.name+".csv", c.Bytes())
			if err := report.WriteJSON(&j, fixedReport(), tc.opt); err != nil {
				t.Fatal(err)
			}
			golden(t, tc.name+".json", j.Bytes())
			var doc map[string]any
			if err := json.Unmarshal(j.Bytes(), &doc); err != nil {
				t.Fatal(err)
			}
			// coverage_pct always has one decimal: 75.0, never 75 (CSV and the JSON text).
			rd := csv.NewReader(bytes.NewReader(c.Bytes()))
			rd.FieldsPerRecord = -1
			recs, _ := rd.ReadAll()
			seen := 0
			for _, rec := range recs[1:] {
				if len(rec) != len(recs[0]) {
					break
				}
				v := rec[7]
				if v == "" || v == "suppressed" {
					continue
				}
				seen++
				if i := strings.IndexByte(v, '.'); i < 0 || len(v)-i != 2 {
					t.Errorf("coverage_pct %q, want one decimal", v)
				}
			}
			if seen == 0 || !bytes.Contains(j.Bytes(), []byte(`"coverage_pct": 78.0,`)) {
				t.Errorf("no coverage_pct with one decimal (%d in the CSV)", seen)
			}
		})
	}
}

func TestCSVNeutralisesFormulas(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := report.WriteCSV(&b, fixedReport(), report.ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	r := csv.NewReader(&b)
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, rec := range recs[1:5] {
		names = append(names, rec[4])
	}
	want := `'=HYPERLINK("http://evil.example/","click")`
	if names[1] != want || names[3] != want {
		t.Errorf("council names %q, want %q neutralised", names, want)
	}
	for _, rec := range recs {
		for _, cell := range rec {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Errorf("cell %q not neutralised", cell)
			}
		}
	}
	// The detail export too: a reason starting with = or - and one with a comma and quotes.
	var e bytes.Buffer
	rows := []domain.EvidenceExportRow{
		{ID: 1, Kind: "issue", CouncilSlug: "dacorum", LicenceNumber: "-DAC1", LeafletVer: "1.0", Channel: "online", ActorKind: "driver", ActorID: 7},
		{ID: 2, Kind: "void", CouncilSlug: "dacorum", LicenceNumber: "DAC1", LeafletVer: "1.0", Channel: "online", ActorKind: "staff", ActorID: 3,
			VoidsID: sql.NullInt64{Int64: 1, Valid: true}, Reason: `=cmd|' /C calc'!A0, "wrong driver"`},
	}
	n, err := report.WriteEvidenceCSV(&e, func(fn func(*domain.EvidenceExportRow) error) error {
		for i := range rows {
			if err := fn(&rows[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil || n != 2 {
		t.Fatal(n, err)
	}
	recs, err = csv.NewReader(&e).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if recs[1][3] != "'-DAC1" || recs[2][12] != `'=cmd|' /C calc'!A0, "wrong driver"` || recs[2][11] != "1" || recs[1][11] != "" {
		t.Errorf("evidence rows %q", recs)
	}
	if recs[1][7] != "" {
		t.Errorf("occurred_at %q", recs[1][7])
	}
}

func TestXLSXReadsBack(t *testing.T) {
	t.Parallel()
	open := func(opt report.ExportOptions) (*excelize.File, [][]string) {
		var b bytes.Buffer
		if err := report.WriteXLSX(&b, fixedReport(), opt); err != nil {
			t.Fatal(err)
		}
		f, err := excelize.OpenReader(&b)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		rows, err := f.GetRows("Coverage")
		if err != nil {
			t.Fatal(err)
		}
		return f, rows
	}
	cols := report.Columns(fixedReport())
	col := map[string]int{}
	for i, c := range cols {
		col[c] = i
	}
	addr := func(c string, row int) string {
		a, _ := excelize.CoordinatesToCellName(col[c]+1, row)
		return a
	}
	f, rows := open(report.ExportOptions{IncludeTotal: true})
	if len(rows) != 1+2*3 || strings.Join(rows[0], ",") != strings.Join(cols, ",") {
		t.Fatalf("rows %d, header %v", len(rows), rows[0])
	}
	// Counts and percentages are numbers, days are dates: the cell holds a number and its format
	// shows it as wanted.
	for _, tc := range []struct {
		col       string
		row       int
		shown     string
		raw       string
		numFmtFor string
	}{
		{"licensed_drivers", 2, "200", "200", "0"},
		{"coverage_pct", 2, "75.0", "75", "0.0"},
		{"coverage_pct", 4, "74.9", "74.9", "0.0"},
		{"period_from", 2, "2026-10-01", "", "yyyy-mm-dd"},
		{"period_to", 5, "2026-11-30", "", "yyyy-mm-dd"},
	} {
		t.Run(tc.col, func(t *testing.T) {
			a := addr(tc.col, tc.row)
			if typ, _ := f.GetCellType("Coverage", a); typ != excelize.CellTypeNumber && typ != excelize.CellTypeUnset {
				t.Errorf("%s cell type %v, want a number", a, typ)
			}
			if v, _ := f.GetCellValue("Coverage", a); v != tc.shown {
				t.Errorf("%s shows %q, want %q", a, v, tc.shown)
			}
			raw, _ := f.GetCellValue("Coverage", a, excelize.Options{RawCellValue: true})
			if tc.raw != "" && raw != tc.raw {
				t.Errorf("%s holds %q, want %q", a, raw, tc.raw)
			}
			if tc.raw == "" { // a day: the serial number of that date
				n, err := strconv.ParseFloat(raw, 64)
				if err != nil {
					t.Fatalf("%s holds %q, not a date number", a, raw)
				}
				d, _ := excelize.ExcelDateToTime(n, false)
				if d.Format("2006-01-02") != tc.shown {
					t.Errorf("%s is the date %v, want %s", a, d, tc.shown)
				}
			}
			style, _ := f.GetCellStyle("Coverage", a)
			st, err := f.GetStyle(style)
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			if st.CustomNumFmt != nil {
				got = *st.CustomNumFmt
			} else if st.NumFmt == 1 {
				got = "0"
			}
			if got != tc.numFmtFor {
				t.Errorf("%s number format %q (id %d), want %q", a, got, st.NumFmt, tc.numFmtFor)
			}
		})
	}
	if rows[2][col["council_name"]] != `'=HYPERLINK("http://evil.example/","click")` {
		t.Errorf("name %q", rows[2][col["council_name"]])
	}

	f, rows = open(report.ExportOptions{IncludeTotal: true, Suppress: true})
	// evil's 3 licensed drivers are hidden (primary), and so is Dacorum's 200, which the total
	// of 203 would otherwise give away (secondary); the line says so.
	if rows[2][col["licensed_drivers"]] != "<5" || rows[1][col["licensed_drivers"]] != "suppressed" || rows[2][col["coverage_pct"]] != "suppressed" {
		t.Errorf("row values: %v / %v", rows[1], rows[2])
	}
	if got := rows[2][col["suppressed_cells"]]; !strings.Contains(got, "licensed_drivers=primary") {
		t.Errorf("suppressed_cells %q", got)
	}
	if got := rows[1][col["suppressed_cells"]]; !strings.Contains(got, "licensed_drivers=secondary") {
		t.Errorf("suppressed_cells %q", got)
	}
	if rows[4][col["leaflets_acknowledged_post"]] != "<5" || rows[3][col["council"]] != report.TotalSlug {
		t.Errorf("rows %v %v", rows[3], rows[4])
	}
	defs, _ := f.GetRows("Definitions")
	text := map[string]string{}
	for _, d := range defs {
		if len(d) > 1 {
			text[d[0]] = d[1]
		}
	}
	if defs[0][0] != "column" || defs[1][0] != "licensed_drivers" || text["suppression_primary"] != report.SuppressionPrimaryText ||
		text["suppression_secondary"] != report.SuppressionSecondaryText || !strings.Contains(text["generated_at"], "2026-12-01 09:00:00") {
		t.Errorf("definitions %v", defs)
	}
}

// ----- the detail export's benchmark

// benchStore opens RENEWALS_BENCH_DB when set (e.g. made by renewals seed --synthetic), or
// builds a small synthetic database.
func benchStore(b *testing.B) (*store.Store, string) {
	b.Helper()
	ctx := context.Background()
	path := os.Getenv("RENEWALS_BENCH_DB")
	if path == "" {
		path = filepath.Join(b.TempDir(), "bench.db")
		st, err := store.Open(ctx, path)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := st.Migrate(ctx); err != nil {
			b.Fatal(err)
		}
		if _, err := report.GenerateSynthetic(ctx, st, report.SyntheticOptions{Drivers: 20000, Seed: 1}); err != nil {
			b.Fatal(err)
		}
		return st, path
	}
	st, err := store.Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	return st, path
}

// countingWriter counts bytes and throws them away.
type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

// BenchmarkEvidenceExportCSV streams every evidence record as CSV, and runs `sqlite3 -csv` on
// the same query for comparison (skipped without the sqlite3 binary). It samples the heap while
// exporting and reports the peak (HeapInuse and Sys), which must stay under 64 MB.
func BenchmarkEvidenceExportCSV(b *testing.B) {
	st, path := benchStore(b)
	st.Close() // building a small database is not part of the measure: start afresh
	st, err := store.Open(context.Background(), path)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	var rows int64
	runtime.GC()
	debug.FreeOSMemory()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	var peakHeap, peakSys atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		var m runtime.MemStats
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peakHeap.Load() {
				peakHeap.Store(m.HeapInuse)
			}
			if m.Sys > peakSys.Load() {
				peakSys.Store(m.Sys)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	b.ResetTimer()
	var goTime time.Duration
	for b.Loop() {
		w := &countingWriter{}
		start := time.Now()
		n, err := report.WriteEvidenceCSV(w, func(fn func(*domain.EvidenceExportRow) error) error {
			return st.StreamEvidence(ctx, nil, fn)
		})
		goTime += time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		rows = n
		b.SetBytes(w.n)
	}
	b.StopTimer()
	close(stop)
	<-done
	perRun := goTime / time.Duration(b.N)
	b.ReportMetric(float64(rows), "rows")
	b.ReportMetric(float64(rows)/perRun.Seconds(), "rows/s")
	b.ReportMetric(float64(peakHeap.Load())/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(peakSys.Load())/(1<<20), "peak-sys-MB")
	b.ReportMetric(float64(base.Sys)/(1<<20), "start-sys-MB")
	if peakHeap.Load() > 64<<20 {
		b.Errorf("peak heap in use %d MB, over 64 MB", peakHeap.Load()>>20)
	}
	if os.Getenv("RENEWALS_BENCH_DB") != "" && peakSys.Load() > 64<<20 {
		b.Errorf("peak memory from the OS %d MB, over 64 MB", peakSys.Load()>>20)
	}

	bin, err := exec.LookPath("sqlite3")
	if err != nil {
		b.Logf("sqlite3 not found (apt package sqlite3): no comparison")
		return
	}
	start := time.Now()
	cmd := exec.Command(bin, "-readonly", "-csv", path, store.EvidenceExportSQL(0)+";")
	cw := &countingWriter{}
	cmd.Stdout = cw
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		b.Fatalf("sqlite3: %v: %s", err, stderr.String())
	}
	sqliteTime := time.Since(start)
	b.ReportMetric(perRun.Seconds()/sqliteTime.Seconds(), "x-sqlite3-time")
	b.Logf("%d rows: Go export %v (%.0f rows/s), sqlite3 -csv %v (%d bytes); Go takes %.2f× sqlite3's time; peak heap %.1f MB, peak sys %.1f MB",
		rows, perRun, float64(rows)/perRun.Seconds(), sqliteTime, cw.n, perRun.Seconds()/sqliteTime.Seconds(),
		float64(peakHeap.Load())/(1<<20), float64(peakSys.Load())/(1<<20))
	if perRun > 2*sqliteTime {
		b.Errorf("the export is slower than half the speed of sqlite3 -csv: %v against %v", perRun, sqliteTime)
	}
}

var _ = fmt.Sprint
var _ io.Writer = (*countingWriter)(nil)
