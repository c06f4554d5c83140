package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/internal/store"
)

// historyOf reads one driver's licence and status history through the coverage reader.
func historyOf(t *testing.T, st *store.Store, id int64) domain.LicenceHistory {
	t.Helper()
	var h domain.LicenceHistory
	_, err := st.CoverageHistory(context.Background(), func(d *store.CoverageDriver) error {
		if d.ID == id {
			h.Licences = append([]domain.LicenceRecord(nil), d.History.Licences...)
			h.Statuses = append([]domain.StatusRecord(nil), d.History.Statuses...)
		}
		return nil
	}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestRegisterWritesStatusHistory: imports date status changes by the file's status_date or the
// day they are loaded, keep earlier statuses, and leave an unchanged status's date alone.
func TestRegisterWritesStatusHistory(t *testing.T) {
	ctx := context.Background()
	st, _ := newStore(t)
	dac := regCouncil(t, st, "dacorum")
	rows := regRows("DAC", 1, 400)
	today := domain.DateOf(now.In(time.FixedZone("GMT", 0))) // 26 November: London is on GMT
	apply := func(status string, from domain.Date, wantUpdated int) {
		t.Helper()
		rows[0].Driver.Status, rows[0].Driver.StatusFrom = status, from
		res, err := regApply(t, st, dac.ID, rows)
		if err != nil {
			t.Fatal(err)
		}
		if res.Counts.Updated != wantUpdated {
			t.Fatalf("%s from %v: %d updated, want %d", status, from, res.Counts.Updated, wantUpdated)
		}
	}
	apply(domain.DriverActive, domain.Date{}, 0)                                // added: active, undated
	apply(domain.DriverSuspended, domain.Date{Year: 2026, Month: 5, Day: 1}, 1) // suspended from 1 May
	apply(domain.DriverSuspended, domain.Date{}, 0)                             // no date given: unchanged
	apply(domain.DriverActive, domain.Date{}, 1)                                // reinstated: from today
	d, err := st.DriverByLicence(ctx, dac.ID, "DAC-0")
	if err != nil {
		t.Fatal(err)
	}
	if d.Status != domain.DriverActive || d.StatusFrom != today {
		t.Errorf("driver row: %s from %v, want active from %v", d.Status, d.StatusFrom, today)
	}
	want := []domain.StatusRecord{{Status: "suspended", From: domain.Date{Year: 2026, Month: 5, Day: 1}}, {Status: "active", From: today}}
	h := historyOf(t, st, d.ID)
	if diff := cmp.Diff(want, h.Statuses); diff != "" {
		t.Errorf("status history (-want +got):\n%s", diff)
	}
	// The past keeps its word: suspended in June, licensed today.
	if h.LicensedOn(domain.Date{Year: 2026, Month: 6, Day: 1}) || !h.LicensedOn(today) {
		t.Errorf("licensed in June %v, today %v; want false, true", h.LicensedOn(domain.Date{Year: 2026, Month: 6, Day: 1}), h.LicensedOn(today))
	}
	// A licence corrected shorter: the latest word ends it.
	rows[0].Driver.LicenceExpiry = today.AddDays(-10)
	apply(domain.DriverActive, domain.Date{}, 1)
	if h := historyOf(t, st, d.ID); h.LicensedOn(today) || len(h.Licences) != 2 {
		t.Errorf("after the correction: licensed today %v, %d licence records", h.LicensedOn(today), len(h.Licences))
	}
}

// TestStatusHistoryIsAppendOnly: the history cannot be changed, and a suspended driver cannot be
// written without the day the suspension took effect.
func TestStatusHistoryIsAppendOnly(t *testing.T) {
	st, path := newStore(t)
	dac := regCouncil(t, st, "dacorum")
	rows := regRows("DAC", 1, 400)
	rows[0].Driver.Status = domain.DriverRevoked
	if _, err := regApply(t, st, dac.ID, rows); err != nil {
		t.Fatal(err)
	}
	db := rawDB(t, path)
	for _, q := range []string{"UPDATE licence_statuses SET status = 'active'", "DELETE FROM licence_statuses"} {
		if _, err := db.Exec(q); err == nil {
			t.Errorf("%s: allowed", q)
		}
	}
	if _, err := db.Exec("UPDATE drivers SET status = 'suspended', status_from = NULL"); err == nil {
		t.Error("a status change without its date was written")
	}
}
