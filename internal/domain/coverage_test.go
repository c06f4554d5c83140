package domain

import (
	"testing"
)

func d(s string) Date {
	v, err := ParseISODate(s)
	if err != nil {
		panic(err)
	}
	return v
}

// TestLicensedOn checks the register's latest word, day by day.
func TestLicensedOn(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    LicenceHistory
		day  string
		want bool
	}{
		{"within the licence", LicenceHistory{Licences: []LicenceRecord{{d("2026-07-06"), d("2029-07-05")}}}, "2026-11-30", true},
		{"before it starts", LicenceHistory{Licences: []LicenceRecord{{d("2026-07-06"), d("2029-07-05")}}}, "2026-07-05", false},
		{"on its last day", LicenceHistory{Licences: []LicenceRecord{{d("2026-07-06"), d("2029-07-05")}}}, "2029-07-05", true},
		{"expiry corrected earlier", LicenceHistory{Licences: []LicenceRecord{{d("2026-07-06"), d("2029-07-05")}, {d("2026-07-06"), d("2026-09-30")}}}, "2026-11-30", false},
		{"expiry corrected earlier, before the new expiry", LicenceHistory{Licences: []LicenceRecord{{d("2026-07-06"), d("2029-07-05")}, {d("2026-07-06"), d("2026-09-30")}}}, "2026-09-30", true},
		{"expiry corrected later", LicenceHistory{Licences: []LicenceRecord{{d("2026-07-06"), d("2026-09-30")}, {d("2026-07-06"), d("2029-07-05")}}}, "2026-11-30", true},
		{"renewed: the old licence still speaks for its days", LicenceHistory{Licences: []LicenceRecord{{d("2023-01-01"), d("2025-12-31")}, {d("2026-01-01"), d("2028-12-31")}}}, "2024-06-01", true},
		{"renewed early: the old licence runs to the new start", LicenceHistory{Licences: []LicenceRecord{{d("2023-01-01"), d("2025-12-31")}, {d("2026-01-01"), d("2028-12-31")}}}, "2025-12-31", true},
		{"start moved later: days before as first recorded", LicenceHistory{Licences: []LicenceRecord{{d("2026-07-06"), d("2029-07-05")}, {d("2026-08-01"), d("2029-07-05")}}}, "2026-07-10", true},
		{"suspended from a date", LicenceHistory{Licences: []LicenceRecord{{d("2026-01-01"), d("2028-12-31")}}, Statuses: []StatusRecord{{DriverSuspended, d("2026-05-01")}}}, "2026-05-01", false},
		{"suspended: before the date", LicenceHistory{Licences: []LicenceRecord{{d("2026-01-01"), d("2028-12-31")}}, Statuses: []StatusRecord{{DriverSuspended, d("2026-05-01")}}}, "2026-04-30", true},
		{"reinstated", LicenceHistory{Licences: []LicenceRecord{{d("2026-01-01"), d("2028-12-31")}}, Statuses: []StatusRecord{{DriverSuspended, d("2026-05-01")}, {DriverActive, d("2026-06-01")}}}, "2026-06-15", true},
		{"suspension backdated later: the latest word", LicenceHistory{Licences: []LicenceRecord{{d("2026-01-01"), d("2028-12-31")}}, Statuses: []StatusRecord{{DriverActive, d("2026-06-01")}, {DriverRevoked, d("2026-03-01")}}}, "2026-06-15", false},
		{"no record", LicenceHistory{}, "2026-06-15", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.h.LicensedOn(d(tc.day)); got != tc.want {
				t.Errorf("LicensedOn(%s) = %v, want %v", tc.day, got, tc.want)
			}
		})
	}
}

func TestStateOn(t *testing.T) {
	versions := []LeafletDay{{1, true, d("2024-01-01")}, {2, false, d("2025-01-01")}, {3, true, d("2026-03-20")}}
	until := InForceUntil(versions)
	if until[1] != d("2026-03-20") || until[2] != d("2026-03-20") || !until[3].IsZero() {
		t.Fatalf("InForceUntil = %v", until)
	}
	h := LicenceHistory{Licences: []LicenceRecord{{d("2020-01-01"), d("2030-12-31")}}}
	ack := func(id int64, day string) AwarenessRecord { return AwarenessRecord{KindAcknowledgement, d(day), id} }
	issue := func(id int64, day string) AwarenessRecord { return AwarenessRecord{KindIssue, d(day), id} }
	for _, tc := range []struct {
		name      string
		refresher int
		records   []AwarenessRecord
		day       string
		want      DriverState
	}{
		{"acknowledged a version in force", 0, []AwarenessRecord{issue(1, "2024-02-01"), ack(1, "2024-02-01")}, "2026-03-19", DriverState{true, true, true, false}},
		{"a new version needs re-acknowledgement", 0, []AwarenessRecord{ack(1, "2024-02-01")}, "2026-03-20", DriverState{true, false, true, false}},
		{"issued the new version, not acknowledged", 0, []AwarenessRecord{ack(1, "2024-02-01"), issue(3, "2026-03-21")}, "2026-03-31", DriverState{true, false, true, true}},
		{"ack after the day does not count", 0, []AwarenessRecord{issue(3, "2026-03-21"), ack(3, "2026-04-01")}, "2026-03-31", DriverState{true, false, false, true}},
		{"within the refresher interval: its anniversary", 2, []AwarenessRecord{ack(1, "2024-02-01")}, "2026-02-01", DriverState{true, true, true, false}},
		{"past the refresher interval", 2, []AwarenessRecord{issue(1, "2024-02-01"), ack(1, "2024-02-01")}, "2026-02-02", DriverState{true, false, true, true}},
		{"29 February's anniversary is 28 February", 1, []AwarenessRecord{ack(1, "2024-02-29")}, "2025-02-28", DriverState{true, true, true, false}},
		{"and the day after it is past", 1, []AwarenessRecord{ack(1, "2024-02-29")}, "2025-03-01", DriverState{true, false, true, false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rules := CoverageRules{InForceUntil: until, RefresherYears: tc.refresher}
			if got := rules.StateOn(h, tc.records, d(tc.day)); got != tc.want {
				t.Errorf("StateOn(%s) = %+v, want %+v", tc.day, got, tc.want)
			}
			// StateChanges agrees with StateOn on every day around the records.
			changes := rules.StateChanges(h, tc.records)
			for day := d("2023-12-01"); day.Before(d("2027-06-01")); day = day.AddDays(1) {
				var s DriverState
				for _, c := range changes {
					if !c.Day.After(day) {
						s = c.State
					}
				}
				if want := rules.StateOn(h, tc.records, day); s != want {
					t.Fatalf("StateChanges says %+v on %s, StateOn %+v", s, day, want)
				}
			}
		})
	}
}
