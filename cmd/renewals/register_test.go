package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/internal/store"
	"github.com/herts-msp/taxi-renewals/internal/testdb"
)

// regRun runs the program as the user alice.
func regRun(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut syncBuffer
	env := func(k string) string {
		if k == "USER" {
			return "alice"
		}
		return testSecretKeyEnv(k)
	}
	code := run(context.Background(), args, env, &out, &errOut)
	return code, out.String(), errOut.String()
}

// regToday is today where the command works it out (Europe/London, the default).
func regToday(t *testing.T) domain.Date {
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	return domain.DateOf(time.Now().In(loc))
}

// regWriteFile writes a register file of drivers expiring in the given numbers of days.
func regWriteFile(t *testing.T, dir, name string, days ...int) string {
	t.Helper()
	today := regToday(t)
	var ds []domain.Driver
	for i, d := range days {
		exp := today.AddDays(d)
		ds = append(ds, domain.Driver{LicenceNumber: fmt.Sprintf("DAC-%d", 100+i), GivenNames: "Zoë", FamilyName: "李",
			DateOfBirth: domain.Date{Year: 1980, Month: 3, Day: 27}, Email: fmt.Sprintf("d%d@example.org", i),
			LicenceStart: exp.AddYears(-3), LicenceExpiry: exp, Status: "active"})
	}
	var b bytes.Buffer
	if err := domain.WriteRegister(&b, ds); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func regDrivers(t *testing.T, dbPath string) int {
	t.Helper()
	st, err := store.Open(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c, err := st.CouncilBySlug(context.Background(), "dacorum")
	if err != nil {
		t.Fatal(err)
	}
	stats, err := st.RegisterStatsOf(context.Background(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	return stats.Total
}

func TestImportRegisterCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := testdb.URL(t, "r.db")
	file := regWriteFile(t, dir, "register.csv", 40, 20, 200)

	t.Run("dry run writes nothing", func(t *testing.T) {
		code, out, errOut := regRun(t, "import-register", "--database", db, "--council", "dacorum", "--dry-run", file)
		if code != 0 {
			t.Fatalf("exit %d\n%s%s", code, out, errOut)
		}
		for _, want := range []string{"checking register.csv", "validated 3/3 rows", "council: Dacorum Borough Council (dacorum)", "to add:", "dry run: nothing was written"} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
		if n := regDrivers(t, db); n != 0 {
			t.Errorf("%d drivers after a dry run", n)
		}
	})
	t.Run("flags after the file; the import is applied and audited", func(t *testing.T) {
		code, out, errOut := regRun(t, "import-register", "--council", "dacorum", file, "--database", db)
		if code != 0 {
			t.Fatalf("exit %d\n%s%s", code, out, errOut)
		}
		for _, want := range []string{"validated 3/3 rows", "applied 3/3 rows", "loaded into Dacorum Borough Council's register: 3 added, 0 updated, 0 unchanged"} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
		if n := regDrivers(t, db); n != 3 {
			t.Errorf("%d drivers", n)
		}
		st, _ := store.Open(context.Background(), db)
		defer st.Close()
		entries, _, _ := st.AuditEntries(context.Background(), store.AuditFilter{Action: "register.import"})
		if len(entries) != 1 || entries[0].Actor != "cli:alice" || entries[0].Detail["added"] != 3.0 {
			t.Errorf("audit: %+v", entries)
		}
	})
	t.Run("the same file again changes nothing and says so", func(t *testing.T) {
		code, out, errOut := regRun(t, "import-register", "--database", db, "--council", "dacorum", file)
		if code != 0 || !strings.Contains(out, "this same file was already loaded") || !strings.Contains(out, "nothing to change") ||
			!strings.Contains(out, "0 added, 0 updated, 3 unchanged") {
			t.Fatalf("exit %d\n%s%s", code, out, errOut)
		}
	})
	t.Run("a bad file exits non-zero and writes nothing", func(t *testing.T) {
		bad := filepath.Join(dir, "bad.csv")
		content, _ := os.ReadFile(file)
		content = bytes.Replace(content, []byte(",active\r\n"), []byte(",lapsed\r\n"), 1)
		content = append(content, []byte("DAC-999,Ama,Mensah,1980-02-30,,,,2024-01-01,2027-01-01,active\r\n")...)
		if err := os.WriteFile(bad, content, 0o600); err != nil {
			t.Fatal(err)
		}
		code, out, errOut := regRun(t, "import-register", "--database", db, "--council", "dacorum", bad)
		if code != 1 {
			t.Fatalf("exit %d\n%s%s", code, out, errOut)
		}
		for _, want := range []string{`line 2, column status: "lapsed" is not a status`, `line 5, column date_of_birth: "1980-02-30" is not a real date`,
			"the file has 2 problem(s), so nothing was written"} {
			if !strings.Contains(errOut, want) {
				t.Errorf("errors lack %q:\n%s", want, errOut)
			}
		}
		if n := regDrivers(t, db); n != 3 {
			t.Errorf("%d drivers", n)
		}
	})
	t.Run("another council's file", func(t *testing.T) {
		code, _, errOut := regRun(t, "import-register", "--database", db, "--council", "watford", file)
		if code != 1 || !strings.Contains(errOut, "licence DAC-100 is on Dacorum Borough Council's register") {
			t.Fatalf("exit %d\n%s", code, errOut)
		}
	})
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"no council", []string{file}, "usage: renewals import-register"},
		{"no file", []string{"--council", "dacorum"}, "usage: renewals import-register"},
		{"two files", []string{"--council", "dacorum", file, file}, "usage: renewals import-register"},
		{"unknown council", []string{"--council", "gotham", file}, `There is no council "gotham"`},
		{"missing file", []string{"--council", "dacorum", filepath.Join(dir, "nope.csv")}, "no such file"},
		{"a file over 200 MB", []string{"--council", "dacorum", regSparse(t, dir, 201<<20)}, "huge.csv is 201 MB; the limit is 200 MB"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := regRun(t, append([]string{"import-register", "--database", db}, tt.args...)...)
			if code != 1 || !strings.Contains(errOut, tt.want) {
				t.Fatalf("exit %d: %s", code, errOut)
			}
		})
	}
}

func TestImportRegisterCommand10k(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("slow")
	}
	dir := t.TempDir()
	days := make([]int, 10000)
	for i := range days {
		days[i] = 30 + i%300
	}
	file := regWriteFile(t, dir, "big.csv", days...)
	start := time.Now()
	code, out, errOut := regRun(t, "import-register", "--database", testdb.URL(t, "r.db"), "--council", "dacorum", file)
	if code != 0 || !strings.Contains(out, "validated 10000/10000 rows") || !strings.Contains(out, "applied 10000/10000 rows") {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	t.Logf("renewals import-register, 10,000 rows, including opening and migrating the database: %v", time.Since(start).Round(time.Millisecond))
}

func TestRemindCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := testdb.URL(t, "r.db")
	file := regWriteFile(t, dir, "register.csv", 45, 10, 200)
	if code, out, errOut := regRun(t, "import-register", "--database", db, "--council", "dacorum", file); code != 0 {
		t.Fatalf("import: %d\n%s%s", code, out, errOut)
	}
	code, out, errOut := regRun(t, "remind", "--database", db)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"reminders for " + regToday(t).String(), "Dacorum Borough Council  1        0        1        2", "queued 2 reminder email(s)"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = regRun(t, "remind", "--database", db)
	if code != 0 || !strings.Contains(out, "no reminders due: nothing queued") {
		t.Fatalf("second run: exit %d\n%s", code, out)
	}
	if code, _, errOut := regRun(t, "remind", "--database", db, "--council", "gotham"); code != 1 || !strings.Contains(errOut, "no council") && !strings.Contains(errOut, `"gotham"`) {
		t.Fatalf("unknown council: %d %s", code, errOut)
	}
	st, _ := store.Open(context.Background(), db)
	defer st.Close()
	msgs, _ := st.UnsentMessages(context.Background(), 10)
	entries, _, _ := st.AuditEntries(context.Background(), store.AuditFilter{Action: "reminders.sent"})
	if len(msgs) != 2 || len(entries) != 2 || entries[1].Actor != "cli:alice" {
		t.Errorf("outbox %d, audit %+v", len(msgs), entries)
	}
}

// regSparse makes a file of size bytes without writing them (a sparse file).
func regSparse(t *testing.T, dir string, size int64) string {
	t.Helper()
	path := filepath.Join(dir, "huge.csv")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	return path
}
