package domain

import (
	"sort"
	"time"
)

// The coverage rules of DESIGN §4, in one place: who is licensed on a day (by the register's
// latest word), which leaflet versions are in force on a day, and which drivers count as aware,
// ever aware and outstanding. Days are Europe/London calendar days. The store's summaries and the
// report's naive reference both evaluate these functions; nothing else decides.

// ReportZone is where report days are counted: a record's day is its time's date in London.
const ReportZone = "Europe/London"

// LicenceRecord is one statement by the register of a driver's licence dates (a register import,
// an approval, or the dates held when the history began).
type LicenceRecord struct {
	Start, Expiry Date
}

// StatusRecord is one dated statement of a driver's status: active, suspended or revoked from
// From on.
type StatusRecord struct {
	Status string
	From   Date
}

// LicenceHistory is everything the register has said about one driver's licence, each list in
// the order it was recorded.
type LicenceHistory struct {
	Licences []LicenceRecord
	Statuses []StatusRecord
}

// LicenceOn is the register's latest word on a driver's licence for day d: of the records whose
// licence starts on or before d, the one recorded last. Each record speaks for every day from its
// start on (active to its expiry, not active after), so a later record replaces an earlier one
// on the days from its own start: a correction that shortens a licence ends it earlier, one that
// extends it lengthens it. ok is false when no record starts on or before d.
func (h LicenceHistory) LicenceOn(d Date) (LicenceRecord, bool) {
	for i := len(h.Licences) - 1; i >= 0; i-- {
		if !h.Licences[i].Start.After(d) {
			return h.Licences[i], true
		}
	}
	return LicenceRecord{}, false
}

// StatusOn is a driver's status on day d: that of the status recorded last among those in effect
// on or before d; active when none is.
func (h LicenceHistory) StatusOn(d Date) string {
	for i := len(h.Statuses) - 1; i >= 0; i-- {
		if !h.Statuses[i].From.After(d) {
			return h.Statuses[i].Status
		}
	}
	return DriverActive
}

// LicensedOn reports whether the driver counts in licensed_drivers on day d: by the register's
// latest word their licence covers d (start ≤ d ≤ expiry) and their status on d is active.
func (h LicenceHistory) LicensedOn(d Date) bool {
	r, ok := h.LicenceOn(d)
	return ok && !d.After(r.Expiry) && h.StatusOn(d) == DriverActive
}

// breakpoints are the days on which LicensedOn may change.
func (h LicenceHistory) breakpoints(add func(Date)) {
	for _, r := range h.Licences {
		add(r.Start)
		add(r.Expiry.AddDays(1))
	}
	for _, s := range h.Statuses {
		add(s.From)
	}
}

// LeafletDay is what the rules need of a driver leaflet version: its id, whether it requires
// re-acknowledgement, and the London day it was published.
type LeafletDay struct {
	ID            int64
	RequiresReack bool
	Published     Date
}

// LeafletDays turns published driver leaflet versions into LeafletDays (publication day in loc).
func LeafletDays(versions []LeafletVersion, loc *time.Location) []LeafletDay {
	out := make([]LeafletDay, len(versions))
	for i, v := range versions {
		out[i] = LeafletDay{ID: v.ID, RequiresReack: v.RequiresReack, Published: DateOf(v.PublishedAt.In(loc))}
	}
	return out
}

// InForceUntil works out, for every driver leaflet version (ordered oldest first, by id), the
// first day on which it is no longer in force: the publication day of the first later version
// that requires re-acknowledgement. A version is in force on day d when no such later version
// had been published by d (on or before d). A version still in force maps to the zero Date.
func InForceUntil(versions []LeafletDay) map[int64]Date {
	out := make(map[int64]Date, len(versions))
	var next Date
	for i := len(versions) - 1; i >= 0; i-- {
		out[versions[i].ID] = next
		if versions[i].RequiresReack && (next.IsZero() || versions[i].Published.Before(next)) {
			next = versions[i].Published
		}
	}
	return out
}

// AwarenessRecord is a non-voided issue or acknowledgement of a driver leaflet version, dated by
// its London day.
type AwarenessRecord struct {
	Kind      EvidenceKind
	Day       Date
	LeafletID int64
}

// CoverageRules are what decide a driver's awareness on a day besides their own records.
type CoverageRules struct {
	// InForceUntil is InForceUntil of the driver leaflet versions.
	InForceUntil map[int64]Date
	// RefresherYears is the driver's council's refresher interval (0: none).
	RefresherYears int
}

// inForce reports whether a leaflet version is in force on day d. A version the rules do not
// know (not a driver leaflet) never is.
func (c CoverageRules) inForce(leaflet int64, d Date) bool {
	until, ok := c.InForceUntil[leaflet]
	return ok && (until.IsZero() || d.Before(until))
}

// fresh reports whether an acknowledgement dated ack is within the refresher interval on day d:
// dated no more than N years before d (up to and including its Nth anniversary; the anniversary
// of 29 February is 28 February). Always true without a refresher interval.
func (c CoverageRules) fresh(ack, d Date) bool {
	return c.RefresherYears <= 0 || !d.After(ack.AddYears(c.RefresherYears))
}

// DriverState is where one driver stands on a day, as the coverage figures count them.
type DriverState struct {
	Licensed    bool // licensed_drivers
	Aware       bool // drivers_aware
	EverAware   bool // drivers_ever_aware
	Outstanding bool // outstanding
}

// StateOn works out a driver's state on day d (DESIGN §4), for a driver who is not licensed on d
// the zero state:
//   - aware: holding an acknowledgement dated on or before d of a version in force on d and, with
//     a refresher interval, within it;
//   - ever aware: holding an acknowledgement of any version dated on or before d;
//   - outstanding: issued, on or before d, a version in force on d, and not aware.
func (c CoverageRules) StateOn(h LicenceHistory, records []AwarenessRecord, d Date) DriverState {
	if !h.LicensedOn(d) {
		return DriverState{}
	}
	s := DriverState{Licensed: true}
	issued := false
	for _, r := range records {
		if r.Day.After(d) {
			continue
		}
		switch r.Kind {
		case KindAcknowledgement:
			if _, driverLeaflet := c.InForceUntil[r.LeafletID]; driverLeaflet {
				s.EverAware = true
			}
			if c.inForce(r.LeafletID, d) && c.fresh(r.Day, d) {
				s.Aware = true
			}
		case KindIssue:
			if c.inForce(r.LeafletID, d) {
				issued = true
			}
		}
	}
	s.Outstanding = issued && !s.Aware
	return s
}

// StateChange is a driver's state from Day on (until the next change).
type StateChange struct {
	Day   Date
	State DriverState
}

// StateChanges lists the days on which a driver's state changes, in order, with the state from
// each: before the first change the driver is in the zero state (not licensed). It evaluates
// StateOn on every day where any rule's answer can change, so it agrees with StateOn on every
// day.
func (c CoverageRules) StateChanges(h LicenceHistory, records []AwarenessRecord) []StateChange {
	var days []Date
	add := func(d Date) {
		if !d.IsZero() {
			days = append(days, d)
		}
	}
	h.breakpoints(add)
	for _, r := range records {
		add(r.Day)
		add(c.InForceUntil[r.LeafletID])
		if r.Kind == KindAcknowledgement && c.RefresherYears > 0 {
			add(r.Day.AddYears(c.RefresherYears).AddDays(1))
		}
	}
	sort.Slice(days, func(i, j int) bool { return days[i].Before(days[j]) })
	var out []StateChange
	var prev DriverState
	for i, d := range days {
		if i > 0 && d == days[i-1] {
			continue
		}
		s := c.StateOn(h, records, d)
		if s != prev {
			out = append(out, StateChange{Day: d, State: s})
			prev = s
		}
	}
	return out
}

// StatusFromOf is the day a driver's status, as a register row gives it, takes effect: the
// row's status_date when it has one; otherwise the day already held when the status is
// unchanged, or today (the day it is recorded) when it is new or changed. A new active driver
// with no status_date has no status date: they count as active from their licence's start.
func StatusFromOf(old *Driver, row Driver, today Date) Date {
	switch {
	case !row.StatusFrom.IsZero():
		return row.StatusFrom
	case old != nil && old.Status == row.Status:
		return old.StatusFrom
	case old == nil && row.Status == DriverActive:
		return Date{}
	}
	return today
}
