package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/internal/report"
	"github.com/herts-msp/taxi-renewals/internal/service"
	"github.com/herts-msp/taxi-renewals/internal/store"
	"github.com/herts-msp/taxi-renewals/internal/testdb"
)

// TestPurgeRemovesPersonalDataButKeepsTheFigures: a driver whose licence ended in 2019 (more
// than six years ago) loses names, contact details and renewal answers; a current driver keeps
// theirs; coverage figures for 2018 are the same before and after; a dry run changes nothing.
func TestPurgeRemovesPersonalDataButKeepsTheFigures(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dbPath := testdb.URL(t, "p.db")
	st, err := store.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	council, _ := st.CouncilBySlug(ctx, "dacorum")
	date := func(s string) domain.Date { d, _ := domain.ParseISODate(s); return d }
	now := time.Now().UTC()
	drivers := []domain.Driver{
		{CouncilID: council.ID, LicenceNumber: "DAC-OLD1", GivenNames: "Agnes", FamilyName: "Oldfield", DateOfBirth: date("1950-05-05"),
			Email: "agnes@example.org", Phone: "07700900001", Postcode: "HP1 1AA", LicenceStart: date("2016-03-01"), LicenceExpiry: date("2019-02-28"), Status: "active"},
		{CouncilID: council.ID, LicenceNumber: "DAC-NEW1", GivenNames: "Nadia", FamilyName: "Newman", DateOfBirth: date("1990-05-05"),
			Email: "nadia@example.org", LicenceStart: date("2024-03-01"), LicenceExpiry: date("2027-02-28"), Status: "active"},
	}
	if err := st.UpsertDrivers(ctx, drivers, now); err != nil {
		t.Fatal(err)
	}
	old, _ := st.DriverByLicence(ctx, council.ID, "DAC-OLD1")
	officer, _, err := service.New(st, service.Options{}).CreateStaff(ctx, service.SystemActor("test"),
		service.NewStaff{Email: "officer@dacorum.example.gov.uk", Name: "Olu Officer", Role: domain.RoleOfficer, CouncilSlug: "dacorum"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := st.StartPaperRenewal(ctx, old, officer.ID, now, "TR-OLD1-TEST", 3, domain.AuditEntry{At: now, Actor: "test", Action: "test", Detail: map[string]any{}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Refuse(ctx, r.ID, officer.ID, now, "Agnes Oldfield did not attend the medical", domain.Date{}, domain.AuditEntry{At: now, Actor: "test", Action: "test", Detail: map[string]any{}}, store.OutboxMessage{}); err != nil {
		t.Fatal(err)
	}
	// Made at one fixed time, so the two reports differ only if the purge changed a figure (the
	// definitions state when a report was generated).
	q := report.Query{Period: report.Period{From: date("2018-01-01"), To: date("2019-01-01")}, Grouping: report.Whole,
		Now: time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)}
	before, err := report.Coverage(ctx, st, q)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()

	code, out, errOut := runCmd(t, "purge", "--database", dbPath)
	if code != 0 || !strings.Contains(out, "dry run: 1 drivers") {
		t.Fatalf("dry run: exit %d %s %s", code, out, errOut)
	}
	st, _ = store.Open(ctx, dbPath)
	if d, _ := st.DriverByID(ctx, old.ID); d.FamilyName != "Oldfield" {
		t.Fatal("the dry run changed data")
	}
	st.Close()

	code, out, errOut = runCmd(t, "purge", "--database", dbPath, "--apply")
	if code != 0 || !strings.Contains(out, "removed the personal data of 1 drivers") {
		t.Fatalf("apply: exit %d %s %s", code, out, errOut)
	}
	st, _ = store.Open(ctx, dbPath)
	defer st.Close()
	d, _ := st.DriverByID(ctx, old.ID)
	if d.FamilyName != "(removed)" || d.Email != "" || d.Phone != "" || d.Postcode != "" || !strings.HasPrefix(d.LicenceNumber, "PURGED-") {
		t.Fatalf("personal data left: %+v", d)
	}
	if kept, _ := st.DriverByLicence(ctx, council.ID, "DAC-NEW1"); kept.FamilyName != "Newman" || kept.Email != "nadia@example.org" {
		t.Fatalf("a current driver was purged: %+v", kept)
	}
	if rr, _ := st.RenewalByID(ctx, r.ID); rr.DecisionReason != "" || rr.Status != domain.StatusRefused {
		t.Fatalf("renewal after purge: status %s reason %q", rr.Status, rr.DecisionReason)
	}
	after, err := report.Coverage(ctx, st, q)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before, after, cmpopts.IgnoreFields(report.Report{}, "GeneratedAt")); diff != "" {
		t.Errorf("coverage for 2018 changed (-before +after):\n%s", diff)
	}
	if before.Rows[0].Total.LicensedDrivers != 1 {
		t.Errorf("2018 licensed drivers %d, want 1", before.Rows[0].Total.LicensedDrivers)
	}
	if code, out, _ := runCmd(t, "purge", "--database", dbPath, "--apply"); code != 0 || !strings.Contains(out, "nothing to remove") {
		t.Fatalf("second apply: %d %s", code, out)
	}
	entries, _, _ := st.AuditEntries(ctx, store.AuditFilter{Action: "retention.purge"})
	if len(entries) != 1 || entries[0].Detail["drivers"] != float64(1) {
		t.Fatalf("audit: %+v", entries)
	}
}
