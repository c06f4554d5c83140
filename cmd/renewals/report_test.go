package main

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/herts-msp/taxi-renewals/internal/testdb"
	_ "github.com/mattn/go-sqlite3" // the driver GORM's SQLite dialect uses, for checking the outbox
)

func TestReportCommandWritesFilesAndQueuesEmails(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := testdb.URL(t, "renewals.db")
	if code, _, errOut := regRun(t, "migrate", "--database", db); code != 0 {
		t.Fatalf("migrate: %s", errOut)
	}
	conn := testdb.Raw(t, db)
	for slug, email := range map[string]string{"dacorum": "licensing@dacorum.example.gov.uk", "watford": "taxis@watford.example.gov.uk"} {
		if _, err := conn.Exec("UPDATE councils SET contact_email = ? WHERE slug = ?", email, slug); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(dir, "out")
	code, stdout, errOut := regRun(t, "report", "--database", db, "--period", "2026-10", "--out", out)
	if code != 0 {
		t.Fatalf("report: %d %s %s", code, stdout, errOut)
	}
	files, _ := filepath.Glob(filepath.Join(out, "*"))
	if len(files) != 20 {
		t.Errorf("%d files written, want an HTML and a CSV for each of 10 councils: %v", len(files), files)
	}
	html, err := os.ReadFile(filepath.Join(out, "dacorum.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<!DOCTYPE html>", "Awareness coverage report: Dacorum Borough Council", "October 2026", "Definitions", "licensed_drivers"} {
		if !strings.Contains(string(html), want) {
			t.Errorf("dacorum.html lacks %q", want)
		}
	}
	if strings.Contains(string(html), "/static/app.css") {
		t.Error("the HTML file links to the service's stylesheet")
	}
	f, err := os.Open(filepath.Join(out, "watford.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if recs[0][0] != "period_from" || recs[1][3] != "watford" || recs[1][0] != "2026-10-01" || recs[1][1] != "2026-10-31" || recs[2][0] != "column" {
		t.Errorf("watford.csv: %q", recs[:3])
	}
	if !strings.Contains(stdout, "Broxbourne Borough Council: wrote") || !strings.Contains(stdout, "no licensing contact address") ||
		!strings.Contains(stdout, "2 emails queued, 8 councils skipped") {
		t.Errorf("output:\n%s", stdout)
	}
	rows, err := conn.Query("SELECT to_address, subject FROM outbox ORDER BY to_address")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var to, subject string
		_ = rows.Scan(&to, &subject)
		got = append(got, to+" | "+subject)
	}
	want := []string{"licensing@dacorum.example.gov.uk | Awareness coverage report: Dacorum Borough Council, October 2026",
		"taxis@watford.example.gov.uk | Awareness coverage report: Watford Borough Council, October 2026"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("outbox:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// A bad period is refused, writing nothing.
	code, _, errOut = regRun(t, "report", "--database", db, "--period", "2026-13", "--out", filepath.Join(dir, "bad"))
	if code == 0 || !strings.Contains(errOut, "Enter the period") {
		t.Errorf("bad period: %d %s", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "bad")); !os.IsNotExist(err) {
		t.Error("a bad period made the folder")
	}
	if code, _, errOut := regRun(t, "report", "--database", db); code == 0 || !strings.Contains(errOut, "usage") {
		t.Errorf("no period: %d %s", code, errOut)
	}
}
