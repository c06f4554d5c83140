package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/internal/store"
)

func regCouncil(t *testing.T, st *store.Store, slug string) domain.Council {
	t.Helper()
	c, err := st.CouncilBySlug(context.Background(), slug)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// regRows makes n register rows "PFX-0".."PFX-n-1", expiring days after now.
func regRows(prefix string, n, days int) []domain.RegisterRow {
	today := domain.DateOf(now)
	rows := make([]domain.RegisterRow, n)
	for i := range rows {
		rows[i] = domain.RegisterRow{Line: i + 2, Driver: domain.Driver{
			LicenceNumber: fmt.Sprintf("%s-%d", prefix, i), GivenNames: "Zoë", FamilyName: "Łukasz-李",
			DateOfBirth: domain.Date{Year: 1980, Month: 3, Day: 27}, Email: fmt.Sprintf("d%d@example.org", i), Phone: "07700900123",
			Postcode: "AL8 6XF", LicenceStart: today.AddDays(days).AddYears(-3), LicenceExpiry: today.AddDays(days), Status: "active"}}
	}
	return rows
}

// regCounts counts rows in tables, for "nothing was written" checks.
func regCounts(t *testing.T, path string) map[string]int {
	t.Helper()
	db := rawDB(t, path)
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

func regApply(t *testing.T, st *store.Store, councilID int64, rows []domain.RegisterRow) (store.RegisterApplied, error) {
	t.Helper()
	return st.ApplyRegister(context.Background(), store.ApplyRegister{
		CouncilID: councilID, Rows: rows, Now: now,
		New:   store.RegisterImport{FileSHA256: "sha-test", Summary: store.ImportSummary{Source: "cli", By: "cli:test"}},
		Audit: domain.AuditEntry{At: now, Actor: "cli:test", Action: "register.import"},
	})
}

func TestApplyRegisterAddsUpdatesAndNeverDeletes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, path := newStore(t)
	dac := regCouncil(t, st, "dacorum")
	rows := regRows("DAC", 5, 40)
	res, err := regApply(t, st, dac.ID, rows)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(domain.ImportCounts{Rows: 5, Added: 5}, res.Counts); diff != "" {
		t.Errorf("first import (-want +got):\n%s", diff)
	}

	t.Run("same rows again change nothing", func(t *testing.T) {
		before, _ := st.DriverByLicence(ctx, dac.ID, "DAC-1")
		res, err := regApply(t, st, dac.ID, rows)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(domain.ImportCounts{Rows: 5, Unchanged: 5}, res.Counts); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
		after, _ := st.DriverByLicence(ctx, dac.ID, "DAC-1")
		if diff := cmp.Diff(before, after); diff != "" {
			t.Errorf("driver changed (-before +after):\n%s", diff)
		}
	})

	t.Run("changes are detected field by field and applied; missing drivers stay", func(t *testing.T) {
		next := append([]domain.RegisterRow(nil), rows[1:]...) // DAC-0 is missing from this file
		next[0].Driver.Email = "new@example.org"
		next[0].Driver.Status = "suspended"
		next = append(next, regRows("DAC-NEW", 1, 100)...)
		p, err := st.PreviewRegister(ctx, dac.ID, next)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Problems) != 0 || len(p.Diff.Add) != 1 || len(p.Diff.Update) != 1 || len(p.Diff.Unchanged) != 3 || len(p.Diff.Missing) != 1 {
			t.Fatalf("preview: %+v", p)
		}
		want := []domain.FieldChange{{Field: "email", Old: "d1@example.org", New: "new@example.org"}, {Field: "status", Old: "active", New: "suspended"}}
		if diff := cmp.Diff(want, p.Diff.Update[0].Changes); diff != "" {
			t.Errorf("changes (-want +got):\n%s", diff)
		}
		if p.Diff.Missing[0].LicenceNumber != "DAC-0" {
			t.Errorf("missing: %+v", p.Diff.Missing)
		}
		res, err := regApply(t, st, dac.ID, next)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(domain.ImportCounts{Rows: 5, Added: 1, Updated: 1, Unchanged: 3, Missing: 1}, res.Counts); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
		d1, _ := st.DriverByLicence(ctx, dac.ID, "DAC-1")
		if d1.Email != "new@example.org" || d1.Status != "suspended" {
			t.Errorf("DAC-1 not updated: %+v", d1)
		}
		if _, err := st.DriverByLicence(ctx, dac.ID, "DAC-0"); err != nil {
			t.Errorf("DAC-0 was deleted: %v", err)
		}
	})

	if got := regCounts(t, path); got["register_imports"] != 3 || got["audit_log"] != 3 {
		t.Errorf("counts: %v", got)
	}
	entries, _, err := st.AuditEntries(ctx, store.AuditFilter{Action: "register.import"})
	if err != nil || len(entries) != 3 {
		t.Fatalf("audit: %v %v", entries, err)
	}
	want := map[string]any{"file_sha256": "sha-test", "rows": 5.0, "added": 1.0, "updated": 1.0, "unchanged": 3.0, "missing": 1.0, "no_email": 0.0}
	if diff := cmp.Diff(want, entries[0].Detail); diff != "" || entries[0].CouncilID != dac.ID {
		t.Errorf("audit detail (-want +got):\n%s", diff)
	}
	if v, err := st.VerifyAudit(ctx); err != nil || v.FirstBrokenID != 0 {
		t.Errorf("audit chain: %+v %v", v, err)
	}
}

func TestApplyRegisterAllOrNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, path := newStore(t)
	dac, wat := regCouncil(t, st, "dacorum"), regCouncil(t, st, "watford")
	if _, err := regApply(t, st, wat.ID, regRows("WAT", 3, 40)); err != nil {
		t.Fatal(err)
	}

	t.Run("one licence of another council among 1,000 refuses the whole file", func(t *testing.T) {
		before := regCounts(t, path)
		rows := regRows("DAC", 1000, 40)
		rows[700].Driver.LicenceNumber = "WAT-2"
		_, err := regApply(t, st, dac.ID, rows)
		re, ok := domain.RegisterErrorsOf(err)
		if !ok || domain.ErrorCode(err) != domain.CodeInvalid {
			t.Fatalf("err = %v", err)
		}
		want := []string{
			"1 licence number in this file is on another council's register (Watford Borough Council: 1). Check that this is your council's file.",
			"line 702, column licence_number: licence WAT-2 is on Watford Borough Council's register, not this council's",
		}
		var got []string
		for _, p := range re.Problems {
			got = append(got, p.String())
		}
		if diff := cmp.Diff(want, got); diff != "" || re.Total != 1 || re.More() != 0 {
			t.Errorf("(-want +got):\n%s\nTotal %d, More %d", diff, re.Total, re.More())
		}
		if diff := cmp.Diff(before, regCounts(t, path)); diff != "" {
			t.Errorf("something was written (-before +after):\n%s", diff)
		}
	})

	t.Run("a failure in a later batch rolls back the earlier batches", func(t *testing.T) {
		before := regCounts(t, path)
		rows := regRows("DAC", 1000, 40)
		rows[900].Driver.LicenceExpiry = domain.Date{Year: 2027, Month: 2, Day: 30} // cannot be stored
		if _, err := regApply(t, st, dac.ID, rows); err == nil {
			t.Fatal("no error")
		}
		if diff := cmp.Diff(before, regCounts(t, path)); diff != "" {
			t.Errorf("something was written (-before +after):\n%s", diff)
		}
	})

	t.Run("a whole file of another council's licences", func(t *testing.T) {
		p, err := st.PreviewRegister(ctx, dac.ID, regRows("WAT", 3, 40))
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Problems) != 4 || p.Problems[0].Message != "3 licence numbers in this file are on another council's register (Watford Borough Council: 3). Check that this is your council's file." {
			t.Errorf("problems: %+v", p.Problems)
		}
	})
}

func TestApplyRegisterImportOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, path := newStore(t)
	dac, wat := regCouncil(t, st, "dacorum"), regCouncil(t, st, "watford")
	imp, err := st.CreateRegisterImport(ctx, store.RegisterImport{CouncilID: dac.ID, FileSHA256: "abc", Content: []byte("x"), RowCount: 2, CreatedAt: now,
		Summary: store.ImportSummary{Source: "web", FileName: "register.csv"}})
	if err != nil {
		t.Fatal(err)
	}
	apply := func(councilID int64) (store.RegisterApplied, error) {
		return st.ApplyRegister(ctx, store.ApplyRegister{ImportID: imp.ID, CouncilID: councilID, Rows: regRows("DAC", 2, 40), Now: now,
			Audit: domain.AuditEntry{At: now, Actor: "officer@example.org", Action: "register.import"}})
	}
	t.Run("another council's import is not found", func(t *testing.T) {
		before := regCounts(t, path)
		if _, err := apply(wat.ID); domain.ErrorCode(err) != domain.CodeNotFound {
			t.Fatalf("err = %v", err)
		}
		if diff := cmp.Diff(before, regCounts(t, path)); diff != "" {
			t.Errorf("(-before +after):\n%s", diff)
		}
	})
	first, err := apply(dac.ID)
	if err != nil || first.AlreadyApplied || first.Counts.Added != 2 {
		t.Fatalf("first: %+v %v", first, err)
	}
	before := regCounts(t, path)
	second, err := apply(dac.ID)
	if err != nil || !second.AlreadyApplied || second.Counts != first.Counts || !second.AppliedAt.Equal(first.AppliedAt) {
		t.Fatalf("second: %+v %v", second, err)
	}
	if diff := cmp.Diff(before, regCounts(t, path)); diff != "" {
		t.Errorf("second apply wrote (-before +after):\n%s", diff)
	}
	got, err := st.RegisterImportByID(ctx, imp.ID)
	if err != nil || got.AppliedAt.IsZero() || got.Summary.Applied == nil || got.Summary.FileName != "register.csv" {
		t.Errorf("import: %+v %v", got, err)
	}
	if last, ok, err := st.LastAppliedImportOf(ctx, dac.ID, "abc"); err != nil || !ok || last.ID != imp.ID {
		t.Errorf("LastAppliedImportOf: %+v %t %v", last, ok, err)
	}
}

func TestSearchDriversAndStats(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, _ := newStore(t)
	dac := regCouncil(t, st, "dacorum")
	rows := regRows("DAC", 3, 40)
	rows[0].Driver.GivenNames, rows[0].Driver.FamilyName = "Zoë", "O’Brien"
	rows[1].Driver.GivenNames, rows[1].Driver.FamilyName, rows[1].Driver.Email = "Ama", "Mensah", ""
	rows[2].Driver.GivenNames, rows[2].Driver.FamilyName, rows[2].Driver.Status = "Ama_x", "Li", "revoked"
	if _, err := regApply(t, st, dac.ID, rows); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		q    string
		want []string
	}{
		{"", []string{"DAC-2", "DAC-1", "DAC-0"}},
		{"zoë o", []string{"DAC-0"}},
		{"mensah ama", []string{"DAC-1"}},
		{"dac-1", []string{"DAC-1"}},
		{"ama_", []string{"DAC-2"}}, // _ is not a wildcard
		{"%", nil},
	} {
		t.Run(tt.q, func(t *testing.T) {
			ds, total, err := st.SearchDrivers(ctx, dac.ID, tt.q, 10, 0)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, d := range ds {
				got = append(got, d.LicenceNumber)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" || int(total) != len(tt.want) {
				t.Errorf("(-want +got):\n%s (total %d)", diff, total)
			}
		})
	}
	stats, err := st.RegisterStatsOf(ctx, dac.ID)
	if diff := cmp.Diff(domain.RegisterStats{Total: 3, Active: 2, Revoked: 1, NoEmail: 1}, stats); diff != "" || err != nil {
		t.Errorf("stats (-want +got):\n%s %v", diff, err)
	}
}

func TestDueDrivers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, path := newStore(t)
	dac, wat := regCouncil(t, st, "dacorum"), regCouncil(t, st, "watford")
	v1 := publish(t, st, "1.0", true)
	rows := regRows("DAC", 6, 0)
	for i, days := range []int{30, 10, 90, 91, -1, 20} {
		rows[i].Driver.LicenceExpiry = domain.DateOf(now).AddDays(days)
	}
	rows[5].Driver.Status = "suspended"
	if _, err := regApply(t, st, dac.ID, rows); err != nil {
		t.Fatal(err)
	}
	if _, err := regApply(t, st, wat.ID, regRows("WAT", 1, 10)); err != nil {
		t.Fatal(err)
	}
	d0, _ := st.DriverByLicence(ctx, dac.ID, "DAC-0")
	d1, _ := st.DriverByLicence(ctx, dac.ID, "DAC-1")
	readyToSubmit(t, st, d0, v1) // issued and acknowledged
	if _, _, err := st.IssueOnline(ctx, d1, now); err != nil {
		t.Fatal(err)
	}
	db := rawDB(t, path)
	if _, err := db.Exec("INSERT INTO reminders (driver_id, licence_expiry, stage, sent_at) VALUES (?, ?, 60, ?), (?, ?, 30, ?), (?, '2020-01-01', 14, ?)",
		d1.ID, d1.LicenceExpiry.String(), now, d1.ID, d1.LicenceExpiry.String(), now, d1.ID, now); err != nil {
		t.Fatal(err)
	}

	due, err := st.DueDrivers(ctx, dac.ID, domain.DateOf(now), domain.DateOf(now).AddDays(90))
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		Licence   string
		Awareness domain.AwarenessStatus
		Renewal   domain.RenewalStatus
		Reminders []int
	}
	var got []row
	for _, d := range due {
		got = append(got, row{d.Driver.LicenceNumber, d.Awareness, d.RenewalStatus, d.RemindersSent})
	}
	want := []row{
		{"DAC-1", domain.AwarenessIssued, "", []int{60, 30}}, // the 14-day reminder was for an earlier expiry
		{"DAC-0", domain.AwarenessAcknowledged, domain.StatusDraft, nil},
		{"DAC-2", domain.AwarenessNone, "", nil},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}

	t.Run("a new leaflet version makes an acknowledgement outdated", func(t *testing.T) {
		publish(t, st, "2.0", true)
		due, err := st.DueDrivers(ctx, dac.ID, domain.DateOf(now), domain.DateOf(now).AddDays(90))
		if err != nil {
			t.Fatal(err)
		}
		aw, _ := st.DriverAwareness(ctx, d0.ID)
		if due[1].Awareness != domain.AwarenessOutdated || aw.Status != due[1].Awareness {
			t.Errorf("bulk %s, single %s", due[1].Awareness, aw.Status)
		}
	})
}

func TestSendRemindersOncePerStage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, path := newStore(t)
	dac := regCouncil(t, st, "dacorum")
	if _, err := regApply(t, st, dac.ID, regRows("DAC", 3, 40)); err != nil {
		t.Fatal(err)
	}
	today := domain.DateOf(now)
	decide := func(c store.ReminderCandidate) (store.Reminder, bool) {
		return store.Reminder{DriverID: c.Driver.ID, CouncilID: c.Council.ID, LicenceExpiry: c.Driver.LicenceExpiry, Stage: 60,
			Message: store.OutboxMessage{To: c.Driver.Email, Subject: "reminder", Body: c.Council.Name}}, c.Council.ID == dac.ID
	}
	audit := func(q []store.Reminder) domain.AuditEntry {
		return domain.AuditEntry{At: now, Actor: "cli:test", Action: "reminders.sent", Detail: map[string]any{"queued": len(q)}}
	}
	for i, want := range []int{3, 0} {
		queued, err := st.SendReminders(ctx, 0, today, today.AddDays(60), now.Add(time.Duration(i)*time.Hour), decide, audit)
		if err != nil || len(queued) != want {
			t.Fatalf("run %d: queued %d, want %d (%v)", i+1, len(queued), want, err)
		}
	}
	if got := regCounts(t, path); got["reminders"] != 3 || got["outbox"] != 3 || got["audit_log"] != 3 {
		t.Errorf("counts %v", got)
	}
}
