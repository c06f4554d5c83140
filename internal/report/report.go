// Package report calculates awareness coverage exactly as DESIGN §4 defines it, and encodes it.
package report

import (
	"time"

	"github.com/herts-msp/taxi-renewals/internal/domain"
)

// Grouping splits a reporting period into rows.
type Grouping string

const (
	ByMonth   Grouping = "month"
	ByQuarter Grouping = "quarter"
	ByYear    Grouping = "year"
	Whole     Grouping = "none" // one row for the whole period
)

// Period is the half-open range of dates [From, To).
type Period struct {
	From domain.Date `json:"from"`
	To   domain.Date `json:"to"` // exclusive
}

// LastDay is the period's last day. For a report's row it is the period's end, on which stock
// figures (licensed, aware) are taken: a row not finished when the report is made ends today.
func (p Period) LastDay() domain.Date { return p.To.AddDays(-1) }

// Figures are one council's (or the partnership's) figures for one period. Names match the
// definitions in DESIGN §4 and are the stable column names of every export.
type Figures struct {
	LicensedDrivers       int            `json:"licensed_drivers"`
	DriversAware          int            `json:"drivers_aware"`
	DriversEverAware      int            `json:"drivers_ever_aware"`
	CoveragePct           *float64       `json:"coverage_pct"` // nil when there are no licensed drivers
	Outstanding           int            `json:"outstanding"`
	LeafletsIssued        int            `json:"leaflets_issued"`
	LeafletsAcknowledged  int            `json:"leaflets_acknowledged"`
	IssuedByChannel       map[string]int `json:"leaflets_issued_by_channel"`
	AcknowledgedByChannel map[string]int `json:"leaflets_acknowledged_by_channel"`
	IssuedByVersion       map[string]int `json:"leaflets_issued_by_version"`
	AcknowledgedByVersion map[string]int `json:"leaflets_acknowledged_by_version"`
	RenewalsSubmitted     int            `json:"renewals_submitted"`
	RenewalsApproved      int            `json:"renewals_approved"`
	RenewalsRefused       int            `json:"renewals_refused"`
	// Public-leaflet events (enforcement operations, awareness events) in the period.
	PublicEvents            int `json:"public_events"`
	PublicLeafletsHandedOut int `json:"public_leaflets_handed_out"`
}

// RenewalsDecided is approved plus refused.
func (f Figures) RenewalsDecided() int { return f.RenewalsApproved + f.RenewalsRefused }

// CouncilFigures are one council's figures.
type CouncilFigures struct {
	CouncilID int64  `json:"-"`
	Slug      string `json:"council"`
	Name      string `json:"council_name"`
	Figures
}

// Row is one period of a report: every council asked for, and their total.
type Row struct {
	// Period is the row's days. A row that had not finished when the report was made is cut
	// short at today (ToDate): its last day is today, never a day still to come.
	Period   Period           `json:"period"`
	ToDate   bool             `json:"to_date"`
	Label    string           `json:"label"` // e.g. "October 2026", "2026 Q4", "2026", "December 2026 to date (1 Dec 2026)"
	Councils []CouncilFigures `json:"councils"`
	Total    Figures          `json:"partnership_total"`
}

// Report is a coverage report.
type Report struct {
	From domain.Date `json:"from"`
	// To is the end of the period asked for (exclusive), cut to the day after today when the
	// period had not finished (ToDate).
	To          domain.Date `json:"to"`
	ToDate      bool        `json:"to_date"`
	Today       domain.Date `json:"today"` // the London day the report was made on
	Grouping    Grouping    `json:"grouping"`
	Rows        []Row       `json:"rows"`
	GeneratedAt time.Time   `json:"generated_at"`
	// Definitions are what every figure means, for this report (reportDefinitions): print them.
	Definitions []Definition `json:"definitions"`
}

// Query asks for a report.
type Query struct {
	CouncilIDs []int64 // nil or empty: every council
	Period     Period
	Grouping   Grouping
	// Today is the London day the report is made on (zero: the clock's): rows after it are left
	// out, and a row running past it ends on it, to date.
	Today domain.Date
	// Now is when the report is made (zero: the clock's time): its GeneratedAt.
	Now time.Time
}
