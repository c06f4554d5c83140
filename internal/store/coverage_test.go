package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/internal/store"
)

type licencePeriod struct {
	Start, Expiry string
	RecordedAt    string
}

func licenceHistory(t *testing.T, st *store.Store, driverID int64) []licencePeriod {
	t.Helper()
	var out []licencePeriod
	err := st.ReadQuery(context.Background(), "SELECT licence_start, licence_expiry, CAST(recorded_at AS TEXT) FROM licence_periods WHERE driver_id = ? ORDER BY id",
		[]any{driverID}, func(scan func(...any) error) error {
			var p licencePeriod
			if err := scan(&p.Start, &p.Expiry, &p.RecordedAt); err != nil {
				return err
			}
			p.RecordedAt = p.RecordedAt[:19]
			out = append(out, p)
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// deltaRows is how many delta rows the coverage summaries have not folded yet.
func deltaRows(t *testing.T, st *store.Store) int64 {
	t.Helper()
	var v int64
	err := st.ReadQuery(context.Background(), `SELECT (SELECT COUNT(*) FROM coverage_stock_delta) + (SELECT COUNT(*) FROM coverage_evidence_delta)
 + (SELECT COUNT(*) FROM coverage_renewals_delta)`, nil, func(scan func(...any) error) error { return scan(&v) })
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestLicenceHistory: every time a driver's licence dates are set, on the register or by an
// approval, the licence history gains a row; other changes add none; the history is append-only.
func TestLicenceHistory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, _ := newStore(t)
	c, err := st.CouncilBySlug(ctx, "dacorum")
	if err != nil {
		t.Fatal(err)
	}
	d := domain.Driver{CouncilID: c.ID, LicenceNumber: "HIST1", GivenNames: "Ada", FamilyName: "Lovelace", DateOfBirth: domain.Date{Year: 1980, Month: 1, Day: 1},
		LicenceStart: domain.Date{Year: 2024, Month: 1, Day: 1}, LicenceExpiry: domain.Date{Year: 2026, Month: 12, Day: 31}, Status: "active"}
	later := now.Add(48 * time.Hour)
	// Built summaries: from then on each write that changes what a report counts appends deltas.
	if _, err := st.CoverageSums(ctx, nil, []store.DayRange{{From: domain.Date{Year: 2024, Month: 1, Day: 1}, To: domain.Date{Year: 2030, Month: 1, Day: 1}}}); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name   string
		change func(*domain.Driver)
		at     time.Time
		want   []licencePeriod
		moves  bool // coverage deltas are appended
	}{
		{"added to the register", func(*domain.Driver) {}, now,
			[]licencePeriod{{"2024-01-01", "2026-12-31", "2026-11-26 10:00:00"}}, true},
		{"name corrected", func(d *domain.Driver) { d.FamilyName = "King" }, now,
			[]licencePeriod{{"2024-01-01", "2026-12-31", "2026-11-26 10:00:00"}}, false},
		{"renewed on the register", func(d *domain.Driver) {
			d.LicenceStart, d.LicenceExpiry = d.LicenceExpiry.AddDays(1), d.LicenceExpiry.AddYears(3)
		}, later,
			[]licencePeriod{{"2024-01-01", "2026-12-31", "2026-11-26 10:00:00"}, {"2027-01-01", "2029-12-31", "2026-11-28 10:00:00"}}, true},
		{"suspended", func(d *domain.Driver) { d.Status = "suspended" }, later,
			[]licencePeriod{{"2024-01-01", "2026-12-31", "2026-11-26 10:00:00"}, {"2027-01-01", "2029-12-31", "2026-11-28 10:00:00"}}, true},
	}
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			before := deltaRows(t, st)
			step.change(&d)
			if err := st.UpsertDrivers(ctx, []domain.Driver{d}, step.at); err != nil {
				t.Fatal(err)
			}
			got, err := st.DriverByLicence(ctx, c.ID, d.LicenceNumber)
			if err != nil {
				t.Fatal(err)
			}
			d.ID = got.ID
			if diff := cmp.Diff(step.want, licenceHistory(t, st, got.ID)); diff != "" {
				t.Errorf("licence history -want +got\n%s", diff)
			}
			if moved := deltaRows(t, st) != before; moved != step.moves {
				t.Errorf("coverage deltas appended = %v, want %v", moved, step.moves)
			}
		})
	}
	t.Run("append-only", func(t *testing.T) {
		for _, q := range []string{"UPDATE licence_periods SET licence_expiry = '2099-01-01'", "DELETE FROM licence_periods"} {
			err := st.BulkLoad(ctx, func(b *store.Bulk) error { _, err := b.Exec(ctx, q); return err })
			if err == nil {
				t.Errorf("%s: no error", q)
			}
		}
	})
}

// TestCoverageSumsFreshAfterWrites: the summaries are built by the first report, and from then on
// kept up to date by the writes themselves: a report after a write rebuilds nothing and already
// counts it.
func TestCoverageSumsFreshAfterWrites(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, _ := newStore(t)
	ranges := []store.DayRange{{From: domain.Date{Year: 2026, Month: 1, Day: 1}, To: domain.Date{Year: 2027, Month: 1, Day: 1}}}
	sums := func() store.CoverageSums {
		t.Helper()
		s, err := st.CoverageSums(ctx, nil, ranges)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if s := sums(); s.Rebuilt == 0 {
		t.Error("first report: summaries not built")
	}
	if s := sums(); s.Rebuilt != 0 || len(s.Stock) != 0 {
		t.Errorf("second report rebuilt (%v) or found drivers (%v)", s.Rebuilt, s.Stock)
	}
	c, err := st.CouncilBySlug(ctx, "watford")
	if err != nil {
		t.Fatal(err)
	}
	err = st.UpsertDrivers(ctx, []domain.Driver{{CouncilID: c.ID, LicenceNumber: "FRESH1", GivenNames: "Ada", FamilyName: "King",
		DateOfBirth: domain.Date{Year: 1980, Month: 1, Day: 1}, LicenceStart: domain.Date{Year: 2026, Month: 1, Day: 1},
		LicenceExpiry: domain.Date{Year: 2028, Month: 12, Day: 31}, Status: "active"}}, now)
	if err != nil {
		t.Fatal(err)
	}
	s := sums()
	if s.Rebuilt != 0 || len(s.Stock) != 1 || s.Stock[0].Licensed != 1 || s.Stock[0].CouncilID != c.ID {
		t.Errorf("after adding a driver: rebuilt %v, stock %+v, want no rebuild and one licensed driver in Watford", s.Rebuilt, s.Stock)
	}
	if n := st.CoverageCatchUps(); n != 1 {
		t.Errorf("%d reports caught up the summaries, want 1 (the first)", n)
	}
	if s := sums(); s.Rebuilt != 0 {
		t.Error("summaries rebuilt with nothing written")
	}
}

// TestApproveRecordsLicenceHistory: an approval sets the new licence dates on the register, and
// the licence history keeps the old period beside the new one.
func TestApproveRecordsLicenceHistory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, _ := newStore(t)
	c, err := st.CouncilBySlug(ctx, "stevenage")
	if err != nil {
		t.Fatal(err)
	}
	officer, err := st.CreateStaff(ctx, domain.StaffUser{Email: "officer@example.org", Name: "Officer", Role: domain.RoleOfficer, CouncilID: c.ID}, "x", false, now)
	if err != nil {
		t.Fatal(err)
	}
	v, err := st.PublishLeaflet(ctx, domain.LeafletVersion{Audience: domain.AudienceDriver, Version: "1.0", Title: "Leaflet", Content: "# Leaflet\n",
		ContentSHA256: "h", RequiresReack: true, PublishedAt: now.Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	d := domain.Driver{CouncilID: c.ID, LicenceNumber: "APPR1", GivenNames: "Ada", FamilyName: "King", DateOfBirth: domain.Date{Year: 1980, Month: 1, Day: 1},
		LicenceStart: domain.Date{Year: 2024, Month: 1, Day: 1}, LicenceExpiry: domain.Date{Year: 2026, Month: 12, Day: 31}, Status: "active"}
	if err := st.UpsertDrivers(ctx, []domain.Driver{d}, now); err != nil {
		t.Fatal(err)
	}
	if d, err = st.DriverByLicence(ctx, c.ID, "APPR1"); err != nil {
		t.Fatal(err)
	}
	audit := domain.AuditEntry{At: now, Actor: "test", Action: "test", Detail: map[string]any{}}
	for _, kind := range []domain.EvidenceKind{domain.KindIssue, domain.KindAcknowledgement} {
		if _, err := st.RecordStaffEvidence(ctx, domain.Evidence{Kind: kind, DriverID: d.ID, CouncilID: c.ID, LeafletID: v.ID, Channel: domain.ChannelInPerson,
			OccurredAt: now, RecordedAt: now, ActorKind: domain.ActorStaff, ActorID: officer.ID}, audit); err != nil {
			t.Fatal(err)
		}
	}
	r, err := st.StartPaperRenewal(ctx, d, officer.ID, now, "APPR-1", 3, audit)
	if err != nil {
		t.Fatal(err)
	}
	for _, ct := range domain.CheckTypes {
		if err := st.RecordCheck(ctx, domain.StatutoryCheck{RenewalID: r.ID, Type: ct, CheckedOn: domain.DateOf(now), Result: domain.CheckSatisfactory,
			RecordedBy: officer.ID, RecordedAt: now}, audit); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.RecordOfficePayment(ctx, domain.Payment{RenewalID: r.ID, Method: domain.PaymentCounter, Amount: 33000, Receipt: "R-1",
		RecordedBy: officer.ID, CreatedAt: now}, domain.CaseEvent{At: now, ActorKind: domain.ActorStaff, ActorID: officer.ID, Kind: "fee_recorded"}, audit); err != nil {
		t.Fatal(err)
	}
	approvedAt := now.Add(24 * time.Hour)
	_, err = st.Approve(ctx, r.ID, officer.ID, approvedAt, domain.DateOf(approvedAt), 3, audit,
		func(domain.Driver, domain.Renewal) store.OutboxMessage { return store.OutboxMessage{} })
	if err != nil {
		t.Fatal(err)
	}
	want := []licencePeriod{{"2024-01-01", "2026-12-31", "2026-11-26 10:00:00"}, {"2027-01-01", "2029-12-31", "2026-11-27 10:00:00"}}
	if diff := cmp.Diff(want, licenceHistory(t, st, d.ID)); diff != "" {
		t.Errorf("licence history -want +got\n%s", diff)
	}
}
