package service_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	_ "github.com/mattn/go-sqlite3"

	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/internal/service"
	"github.com/herts-msp/taxi-renewals/internal/store"
	"github.com/herts-msp/taxi-renewals/internal/testdb"
	"github.com/herts-msp/taxi-renewals/internal/testenv"
)

// regActor makes a staff account and returns it as the Actor a signed-in request would carry.
func regActor(t testing.TB, env *testenv.Env, role domain.Role, council string) domain.Actor {
	t.Helper()
	l := env.AddStaff(t, role, council)
	return domain.Actor{StaffID: l.ID, Name: l.Name, Email: l.Email, Role: l.Role, CouncilID: l.CouncilID, IP: "192.0.2.1"}
}

// regFile writes n drivers as a register file: licence numbers PFX-0..., expiring in 40 to
// 400 days, with names in several scripts.
func regFile(t testing.TB, prefix string, n int, today domain.Date) []byte {
	t.Helper()
	names := [][2]string{{"Zoë", "O’Brien"}, {"Łukasz", "Wójcik"}, {"小龍", "李"}, {"Ama", "Mensah"}, {"Siobhán", "Ó Briain"}}
	ds := make([]domain.Driver, n)
	for i := range ds {
		exp := today.AddDays(40 + i%360)
		nm := names[i%len(names)]
		ds[i] = domain.Driver{LicenceNumber: fmt.Sprintf("%s-%d", prefix, i), GivenNames: nm[0], FamilyName: nm[1],
			DateOfBirth: domain.Date{Year: 1960 + i%40, Month: time.Month(1 + i%12), Day: 1 + i%28},
			Email:       fmt.Sprintf("driver%d@example.org", i), Phone: "07700900123", Postcode: "AL8 6XF",
			LicenceStart: exp.AddYears(-3), LicenceExpiry: exp, Status: "active"}
	}
	var b bytes.Buffer
	if err := domain.WriteRegister(&b, ds); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// regCounts counts rows in the tables an import or a reminder run may write.
func regCounts(t testing.TB, env *testenv.Env) map[string]int {
	t.Helper()
	db := testdb.Raw(t, env.Config.DatabaseURL)
	out := map[string]int{}
	for _, table := range []string{"drivers", "register_imports", "audit_log", "reminders", "outbox"} {
		var n int
		if err := db.QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		out[table] = n
	}
	return out
}

func regProblems(t *testing.T, err error) []string {
	t.Helper()
	re, ok := domain.RegisterErrorsOf(err)
	if !ok {
		t.Fatalf("not a register error: %v", err)
	}
	var out []string
	for _, p := range re.Problems {
		out = append(out, p.String())
	}
	return out
}

func TestUploadPreviewApplyRegister(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := testenv.New(t, testenv.Options{})
	officer := regActor(t, env, domain.RoleOfficer, "dacorum")
	file := regFile(t, "DAC", 60, env.Service.Today())

	imp, err := env.Service.UploadRegister(ctx, officer, service.RegisterUpload{FileName: `C:\Users\officer\register.csv`, Content: file})
	if err != nil {
		t.Fatal(err)
	}
	if imp.Summary.FileName != "register.csv" || imp.RowCount != 60 || imp.Summary.Preview.Added != 60 || imp.Summary.Preview.Missing != 3 {
		t.Errorf("import: %+v", imp)
	}
	p, err := env.Service.PreviewRegisterImport(ctx, officer, imp.ID)
	if err != nil {
		t.Fatal(err)
	}
	var missing []string
	for _, d := range p.Diff.Missing {
		missing = append(missing, d.LicenceNumber)
	}
	if len(p.Diff.Add) != 60 || !p.SameFileAppliedAt.IsZero() || !cmp.Equal(missing, []string{testenv.DueDacorum, testenv.NotDue, testenv.Expired}) {
		t.Errorf("preview: add %d, missing %v, same file %v", len(p.Diff.Add), missing, p.SameFileAppliedAt)
	}

	res, err := env.Service.ApplyRegisterImport(ctx, officer, imp.ID)
	if err != nil || res.AlreadyApplied || res.Counts.Added != 60 || res.Counts.Missing != 3 {
		t.Fatalf("apply: %+v %v", res, err)
	}
	if _, err := env.Store.DriverByLicence(ctx, officer.CouncilID, testenv.DueDacorum); err != nil {
		t.Errorf("a driver missing from the file was deleted: %v", err)
	}

	t.Run("applying the same import again changes nothing and says so", func(t *testing.T) {
		before := regCounts(t, env)
		again, err := env.Service.ApplyRegisterImport(ctx, officer, imp.ID)
		if err != nil || !again.AlreadyApplied || again.Counts != res.Counts {
			t.Fatalf("%+v %v", again, err)
		}
		if diff := cmp.Diff(before, regCounts(t, env)); diff != "" {
			t.Errorf("(-before +after):\n%s", diff)
		}
	})

	t.Run("importing the same file again changes nothing and says so", func(t *testing.T) {
		imp2, err := env.Service.UploadRegister(ctx, officer, service.RegisterUpload{FileName: "register.csv", Content: file})
		if err != nil {
			t.Fatal(err)
		}
		p, err := env.Service.PreviewRegisterImport(ctx, officer, imp2.ID)
		if err != nil || p.SameFileAppliedAt.IsZero() || len(p.Diff.Unchanged) != 60 || p.Diff.Writes() != 0 {
			t.Fatalf("preview: %+v %v", p.Diff, err)
		}
		res, err := env.Service.ApplyRegisterImport(ctx, officer, imp2.ID)
		if err != nil || res.Counts.Added+res.Counts.Updated != 0 || res.Counts.Unchanged != 60 {
			t.Fatalf("apply: %+v %v", res, err)
		}
	})

	t.Run("audit entries name the officer, the file and the counts", func(t *testing.T) {
		entries, _, err := env.Store.AuditEntries(ctx, store.AuditFilter{Action: service.ActionRegisterImport})
		if err != nil || len(entries) != 2 {
			t.Fatalf("%v %v", entries, err)
		}
		e := entries[1]
		if e.ActorID != officer.StaffID || e.Actor != officer.Email || e.IP != "192.0.2.1" || e.CouncilID != officer.CouncilID ||
			e.Detail["file_sha256"] != imp.FileSHA256 || e.Detail["added"] != 60.0 || e.Detail["source"] != "web" {
			t.Errorf("entry: %+v", e)
		}
	})
}

func TestRegisterTenancy(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := testenv.New(t, testenv.Options{})
	officer := regActor(t, env, domain.RoleOfficer, "dacorum")
	other := regActor(t, env, domain.RoleOfficer, "watford")
	analyst := regActor(t, env, domain.RoleAnalyst, "")
	admin := regActor(t, env, domain.RoleAdmin, "")
	file := regFile(t, "DAC", 3, env.Service.Today())
	imp, err := env.Service.UploadRegister(ctx, officer, service.RegisterUpload{FileName: "r.csv", Content: file})
	if err != nil {
		t.Fatal(err)
	}
	before := regCounts(t, env)
	for _, tt := range []struct {
		name string
		a    domain.Actor
		read domain.Code // "" when allowed
		work domain.Code
	}{
		{"officer of another council", other, domain.CodeNotFound, domain.CodeNotFound},
		{"analyst", analyst, "", domain.CodeForbidden},
		{"admin", admin, "", domain.CodeForbidden},
		{"no actor at all", domain.Actor{}, domain.CodeNotFound, domain.CodeForbidden},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code := func(err error) domain.Code {
				if err == nil {
					return ""
				}
				return domain.ErrorCode(err)
			}
			_, err := env.Service.PreviewRegisterImport(ctx, tt.a, imp.ID)
			if got := code(err); got != tt.read {
				t.Errorf("preview: %v, want %q", err, tt.read)
			}
			if _, err := env.Service.ApplyRegisterImport(ctx, tt.a, imp.ID); code(err) != tt.work {
				t.Errorf("apply: %v, want %q", err, tt.work)
			}
			if tt.a.Role != domain.RoleOfficer {
				if _, err := env.Service.UploadRegister(ctx, tt.a, service.RegisterUpload{Content: file}); code(err) != domain.CodeForbidden {
					t.Errorf("upload: %v", err)
				}
			}
			if _, err := env.Service.SendCouncilReminders(ctx, tt.a, officer.CouncilID); code(err) != tt.work {
				t.Errorf("reminders: %v, want %q", err, tt.work)
			}
		})
	}
	if diff := cmp.Diff(before, regCounts(t, env)); diff != "" {
		t.Errorf("refused calls wrote (-before +after):\n%s", diff)
	}
	if _, err := env.Service.ApplyRegisterImport(ctx, officer, imp.ID+1000); domain.ErrorCode(err) != domain.CodeNotFound {
		t.Errorf("unknown import: %v", err)
	}
	t.Run("choosing a council", func(t *testing.T) {
		if c, ok, err := env.Service.RegisterCouncil(ctx, officer, ""); err != nil || !ok || c.Slug != "dacorum" {
			t.Errorf("officer, no slug: %+v %t %v", c, ok, err)
		}
		if _, _, err := env.Service.RegisterCouncil(ctx, officer, "watford"); domain.ErrorCode(err) != domain.CodeNotFound {
			t.Errorf("officer, other council: %v", err)
		}
		if _, ok, err := env.Service.RegisterCouncil(ctx, analyst, ""); err != nil || ok {
			t.Errorf("analyst, no slug: %t %v", ok, err)
		}
		if c, ok, err := env.Service.RegisterCouncil(ctx, analyst, "watford"); err != nil || !ok || c.Slug != "watford" {
			t.Errorf("analyst, watford: %+v %t %v", c, ok, err)
		}
		c, _, _ := env.Service.RegisterCouncil(ctx, analyst, "watford")
		if _, err := env.Service.DueForRenewal(ctx, officer, c, 90); domain.ErrorCode(err) != domain.CodeNotFound {
			t.Errorf("officer due list of another council: %v", err)
		}
		if _, err := env.Service.RegisterDrivers(ctx, officer, c, "", 1); domain.ErrorCode(err) != domain.CodeNotFound {
			t.Errorf("officer driver list of another council: %v", err)
		}
	})
}

func TestUploadRegisterRefusals(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := testenv.New(t, testenv.Options{})
	officer := regActor(t, env, domain.RoleOfficer, "dacorum")
	good := regFile(t, "DAC", 1000, env.Service.Today())
	lines := strings.Split(string(good), "\r\n")

	for _, tt := range []struct {
		name    string
		content string
		want    []string
	}{
		{"one bad row among 1,000", strings.Replace(string(good), lines[500], strings.Replace(lines[500], ",active", ",retired", 1), 1),
			[]string{`line 501, column status: "retired" is not a status: use active, suspended or revoked`}},
		{"a licence on another council's register", string(good) + testenv.DueWatford + ",Łukasz,Test,1980-03-27,,,,2024-01-01,2027-01-01,active\r\n", []string{
			"1 licence number in this file is on another council's register (Watford Borough Council: 1). Check that this is your council's file.",
			"line 1002, column licence_number: licence WAT-2002 is on Watford Borough Council's register, not this council's"}},
		{"a council column naming another council", strings.Replace(lines[0], "status", "status,council", 1) + "\r\n" + lines[1] + ",watford\r\n",
			[]string{`line 2, column council: names "watford", but this file is being loaded into Dacorum Borough Council's register (dacorum)`}},
		{"an empty file", "", []string{"The file is empty. Upload a CSV file with a header row (licence_number, given_names, family_name, date_of_birth, email, phone, postcode, licence_start, licence_expiry, status) and one row per licensed driver."}},
		{"a header only", lines[0] + "\r\n", []string{"The file has a header row but no drivers. Add one row for each licensed driver under the header."}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := regCounts(t, env)
			_, err := env.Service.UploadRegister(ctx, officer, service.RegisterUpload{FileName: "r.csv", Content: []byte(tt.content)})
			if domain.ErrorCode(err) != domain.CodeInvalid {
				t.Fatalf("err = %v", err)
			}
			if diff := cmp.Diff(tt.want, regProblems(t, err)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(before, regCounts(t, env)); diff != "" {
				t.Errorf("something was written (-before +after):\n%s", diff)
			}
		})
	}
}

func TestImportRegisterFile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := testenv.New(t, testenv.Options{})
	file := regFile(t, "DAC", 100, env.Service.Today())
	var stages []string
	req := service.RegisterFileImport{CouncilSlug: "dacorum", FileName: "/tmp/reg.csv", By: "cli:alice", DryRun: true,
		Progress: func(stage string, done, total int) {
			stages = append(stages, fmt.Sprintf("%s %d/%d", stage, done, total))
		}}

	before := regCounts(t, env)
	req.File = bytes.NewReader(file)
	res, err := env.Service.ImportRegisterFile(ctx, req)
	if err != nil || res.Applied != nil || len(res.Diff.Add) != 100 || res.SHA256 == "" {
		t.Fatalf("dry run: %+v %v", res, err)
	}
	if diff := cmp.Diff(before, regCounts(t, env)); diff != "" {
		t.Errorf("dry run wrote (-before +after):\n%s", diff)
	}

	req.DryRun, req.File, stages = false, bytes.NewReader(file), nil
	res, err = env.Service.ImportRegisterFile(ctx, req)
	if err != nil || res.Applied == nil || res.Applied.Counts.Added != 100 {
		t.Fatalf("import: %+v %v", res, err)
	}
	if diff := cmp.Diff([]string{"validated 100/0", "applied 100/100"}, stages); diff != "" {
		t.Errorf("progress (-want +got):\n%s", diff)
	}
	entries, _, _ := env.Store.AuditEntries(ctx, store.AuditFilter{Action: service.ActionRegisterImport})
	if len(entries) != 1 || entries[0].Actor != "cli:alice" || entries[0].ActorID != 0 || entries[0].Detail["file_sha256"] != res.SHA256 {
		t.Errorf("audit: %+v", entries)
	}

	req.File = bytes.NewReader(file)
	res, err = env.Service.ImportRegisterFile(ctx, req)
	if err != nil || res.SameFileAppliedAt.IsZero() || res.Applied.Counts.Unchanged != 100 || res.Applied.Counts.Added != 0 {
		t.Fatalf("again: %+v %v", res, err)
	}

	req.CouncilSlug = "gotham"
	if _, err := env.Service.ImportRegisterFile(ctx, req); err == nil || !strings.Contains(err.Error(), `There is no council "gotham". The councils are: broxbourne, dacorum,`) {
		t.Errorf("unknown council: %v", err)
	}
}

// regReminders lists the reminder emails queued so far, as "to: subject".
func regReminders(t *testing.T, env *testenv.Env) []string {
	t.Helper()
	msgs, err := env.Store.UnsentMessages(context.Background(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range msgs {
		if strings.Contains(m.Subject, "renew online") {
			out = append(out, m.To+": "+m.Subject)
		}
	}
	return out
}

func TestRemindersAtSixtyThirtyAndFourteenDays(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := testenv.New(t, testenv.Options{})
	day := 24 * time.Hour
	dac, wat := testenv.DueDacorum+"@example.org", testenv.DueWatford+"@example.org"
	run := func(want map[string]map[int]int) {
		t.Helper()
		got, err := env.Service.SendReminders(ctx, "cli:cron", "")
		if err != nil {
			t.Fatal(err)
		}
		if want == nil {
			want = map[string]map[int]int{}
		}
		if diff := cmp.Diff(want, got.Counts); diff != "" {
			t.Errorf("%s: counts (-want +got):\n%s", got.Date, diff)
		}
	}
	const dacorum, watford = "Dacorum Borough Council", "Watford Borough Council"
	steps := []struct {
		name    string
		advance time.Duration
		want    map[string]map[int]int
		emails  []string
	}{
		// Dacorum's driver expires in 40 days, Watford's in 20: the job "missed" Watford's 60.
		{"day 0: 60 for Dacorum, only 30 for Watford", 0, map[string]map[int]int{dacorum: {60: 1}, watford: {30: 1}},
			[]string{dac + ": Your taxi driver licence expires on 5 January 2027: renew online", wat + ": Your taxi driver licence expires on 16 December 2026: renew online"}},
		{"day 0 again: nothing new", 0, nil, nil},
		{"day 5: nothing new", 5 * day, nil, nil},
		{"day 6: 14 for Watford", day, map[string]map[int]int{watford: {14: 1}}, []string{wat + ": Your taxi driver licence expires on 16 December 2026: renew online"}},
		{"day 10: 30 for Dacorum", 4 * day, map[string]map[int]int{dacorum: {30: 1}}, []string{dac + ": Your taxi driver licence expires on 5 January 2027: renew online"}},
		{"day 26: 14 for Dacorum; Watford's has expired", 16 * day, map[string]map[int]int{dacorum: {14: 1}}, []string{dac + ": Your taxi driver licence expires on 5 January 2027: renew online"}},
		{"day 40, expiry day: nothing new", 14 * day, nil, nil},
		{"day 140: the driver not due before gets 60", 100 * day, map[string]map[int]int{dacorum: {60: 1}}, []string{testenv.NotDue + "@example.org: Your taxi driver licence expires on 14 June 2027: renew online"}},
	}
	var all []string
	for _, s := range steps {
		env.Clock.Advance(s.advance)
		run(s.want)
		all = append(all, s.emails...)
		if diff := cmp.Diff(all, regReminders(t, env)); diff != "" {
			t.Fatalf("%s: emails (-want +got):\n%s", s.name, diff)
		}
	}
	msgs, _ := env.Store.UnsentMessages(ctx, 1)
	body := msgs[0].Body
	for _, want := range []string{"Dear Zoë O’Brien-Test,", "Dacorum Borough Council taxi and private hire driver licence (DAC-1001) expires on 5 January 2027, in 40 days.",
		"You can renew online now at http://127.0.0.1/renew.", "modern slavery awareness step", "60, 30 and 14 days"} {
		if !strings.Contains(body, want) {
			t.Errorf("email lacks %q:\n%s", want, body)
		}
	}
	entries, _, _ := env.Store.AuditEntries(ctx, store.AuditFilter{Action: service.ActionRemindersSent})
	if len(entries) != len(steps) || entries[len(entries)-1].Actor != "cli:cron" || entries[len(entries)-1].Detail["queued"] != 2.0 {
		t.Errorf("audit: %d entries, first %+v", len(entries), entries[len(entries)-1])
	}
}

func TestRemindersSkipSentRenewals(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := testenv.New(t, testenv.Options{})
	// Dacorum's driver sends their renewal; Watford's only starts one (a draft).
	b := env.SignIn(t, "dacorum", testenv.DueDacorum)
	b.CompleteSections()
	b.CompleteAwareness()
	b.Get("/renew/check-answers")
	if p := b.Post("/renew/submit", nil); p.Status != http.StatusSeeOther {
		t.Fatalf("submit: %d", p.Status)
	}
	env.SignIn(t, "watford", testenv.DueWatford)
	got, err := env.Service.SendReminders(ctx, "cli:cron", "")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]map[int]int{"Watford Borough Council": {30: 1}}, got.Counts); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	t.Run("one council only", func(t *testing.T) {
		env.Clock.Advance(10 * 24 * time.Hour)
		got, err := env.Service.SendReminders(ctx, "cli:cron", "dacorum")
		if err != nil || got.Total != 0 {
			t.Fatalf("%+v %v", got, err)
		}
		officer := regActor(t, env, domain.RoleOfficer, "watford")
		got, err = env.Service.SendCouncilReminders(ctx, officer, officer.CouncilID)
		if err != nil || got.Total != 1 {
			t.Fatalf("%+v %v", got, err)
		}
	})
}

func TestDueForRenewal(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := testenv.New(t, testenv.Options{})
	officer := regActor(t, env, domain.RoleOfficer, "dacorum")
	c, _, _ := env.Service.RegisterCouncil(ctx, officer, "")
	for _, tt := range []struct {
		days     int
		wantDays int
		want     []string
	}{
		{0, 90, []string{testenv.DueDacorum}},
		{39, 39, nil},
		{40, 40, []string{testenv.DueDacorum}},
		{365, 365, []string{testenv.DueDacorum, testenv.NotDue}},
		{1000, 365, []string{testenv.DueDacorum, testenv.NotDue}},
		{-5, 1, nil},
	} {
		t.Run(fmt.Sprint(tt.days), func(t *testing.T) {
			l, err := env.Service.DueForRenewal(ctx, officer, c, tt.days)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, d := range l.Drivers {
				got = append(got, d.Driver.LicenceNumber)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" || l.Days != tt.wantDays {
				t.Errorf("days %d: (-want +got):\n%s", l.Days, diff)
			}
		})
	}
}

// TestImportRegister10k loads 10,000 drivers from the command line and through the web
// upload, and reports how long each took.
func TestImportRegister10k(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("slow")
	}
	ctx := context.Background()
	env := testenv.New(t, testenv.Options{})
	file := regFile(t, "DACR", 10000, env.Service.Today())

	start := time.Now()
	res, err := env.Service.ImportRegisterFile(ctx, service.RegisterFileImport{CouncilSlug: "dacorum", File: bytes.NewReader(file), By: "cli:test"})
	cli := time.Since(start)
	if err != nil || res.Applied.Counts.Added != 10000 {
		t.Fatalf("%+v %v", res.Applied, err)
	}

	officer := regActor(t, env, domain.RoleOfficer, "watford")
	wat := bytes.ReplaceAll(file, []byte("DACR-"), []byte("WATR-"))
	start = time.Now()
	imp, err := env.Service.UploadRegister(ctx, officer, service.RegisterUpload{FileName: "r.csv", Content: wat})
	if err != nil {
		t.Fatal(err)
	}
	upload := time.Since(start)
	start = time.Now()
	applied, err := env.Service.ApplyRegisterImport(ctx, officer, imp.ID)
	apply := time.Since(start)
	if err != nil || applied.Counts.Added != 10000 {
		t.Fatalf("%+v %v", applied, err)
	}
	t.Logf("10,000 rows (%d KB): command line validate+preview+apply %v; web upload (validate+preview+store) %v, apply (validate+apply) %v",
		len(file)/1024, cli.Round(time.Millisecond), upload.Round(time.Millisecond), apply.Round(time.Millisecond))
	if cli > 30*time.Second || upload+apply > 30*time.Second {
		t.Errorf("far too slow")
	}

	watford, _, _ := env.Service.RegisterCouncil(ctx, officer, "watford")
	start = time.Now()
	due, err := env.Service.DueForRenewal(ctx, officer, watford, 365)
	if err != nil || len(due.Drivers) < 9000 {
		t.Fatalf("due: %d %v", len(due.Drivers), err)
	}
	dueTime := time.Since(start)
	start = time.Now()
	run, err := env.Service.SendReminders(ctx, "cli:test", "")
	if err != nil || run.Total == 0 {
		t.Fatalf("reminders: %+v %v", run, err)
	}
	t.Logf("due list of %d drivers with awareness: %v; reminder run queueing %d emails over 20,000 drivers: %v", len(due.Drivers),
		dueTime.Round(time.Millisecond), run.Total, time.Since(start).Round(time.Millisecond))
}

// BenchmarkImportRegister10k: validate, preview and apply a 10,000-row register file into an
// empty register (a new database each time, SQLite with synchronous=FULL).
func BenchmarkImportRegister10k(b *testing.B) {
	ctx := context.Background()
	file := regFile(b, "DACR", 10000, domain.DateOf(testenv.Start))
	b.SetBytes(int64(len(file)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		env := testenv.New(b, testenv.Options{})
		b.StartTimer()
		res, err := env.Service.ImportRegisterFile(ctx, service.RegisterFileImport{CouncilSlug: "dacorum", File: bytes.NewReader(file), By: "cli:bench"})
		if err != nil || res.Applied.Counts.Added != 10000 {
			b.Fatalf("%+v %v", res.Applied, err)
		}
	}
}
