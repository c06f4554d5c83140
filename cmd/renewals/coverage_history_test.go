package main

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/internal/testdb"
)

// TestRegisterCorrectionShortensLicence is issue 11's example: 50 drivers on one council's
// register, the register re-imported with one licence's expiry moved from 2029-07-05 to
// 2026-09-30 ("1 updated"), and the report for November 2026 counts one fewer licensed driver.
func TestRegisterCorrectionShortensLicence(t *testing.T) {
	dir := t.TempDir()
	db := testdb.URL(t, "history.db")
	drivers := make([]domain.Driver, 50)
	for i := range drivers {
		drivers[i] = domain.Driver{LicenceNumber: fmt.Sprintf("DAC-%d", 1000+i), GivenNames: "Zoë", FamilyName: "Brown",
			DateOfBirth: domain.Date{Year: 1980, Month: 3, Day: 27}, Email: fmt.Sprintf("d%d@example.org", i),
			LicenceStart: domain.Date{Year: 2026, Month: 7, Day: 6}, LicenceExpiry: domain.Date{Year: 2029, Month: 7, Day: 5}, Status: "active"}
	}
	load := func(name, want string) {
		t.Helper()
		var b bytes.Buffer
		if err := domain.WriteRegister(&b, drivers); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		code, out, errOut := regRun(t, "import-register", "--database", db, "--council", "dacorum", path)
		if code != 0 || !strings.Contains(out, want) {
			t.Fatalf("import-register: exit %d, want %q in\n%s%s", code, want, out, errOut)
		}
	}
	licensed := func(run string) string {
		t.Helper()
		out := filepath.Join(dir, run)
		if code, stdout, errOut := regRun(t, "report", "--database", db, "--period", "2026-11", "--out", out); code != 0 {
			t.Fatalf("report: exit %d\n%s%s", code, stdout, errOut)
		}
		f, err := os.Open(filepath.Join(out, "dacorum.csv"))
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
		for i, c := range recs[0] {
			if c == "licensed_drivers" {
				return recs[1][i]
			}
		}
		t.Fatalf("no licensed_drivers column: %q", recs[0])
		return ""
	}
	load("register.csv", "50 added, 0 updated, 0 unchanged")
	before := licensed("before")
	drivers[17].LicenceExpiry = domain.Date{Year: 2026, Month: 9, Day: 30}
	load("corrected.csv", "0 added, 1 updated, 49 unchanged")
	after := licensed("after")
	t.Logf("licensed_drivers for Dacorum, November 2026: %s before the correction, %s after", before, after)
	if before != "50" || after != "49" {
		t.Errorf("licensed_drivers: %s before, %s after the correction; want 50 and 49", before, after)
	}
}
