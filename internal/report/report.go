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

// LastDay is the period's last day, on which stock figures (licensed, aware) are taken.
func (p Period) LastDay() domain.Date { return p.To.AddDays(-1) }

// Figures are one council's (or the partnership's) figures for one period. Names match the
// definitions in DESIGN §4 and are the stable column names of every export.
type Figures struct {
	LicensedDrivers       int            `json:"licensed_drivers"`
	DriversAware          int            `json:"drivers_aware"`
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
	Period   Period           `json:"period"`
	Label    string           `json:"label"` // e.g. "October 2026", "2026 Q4", "2026"
	Councils []CouncilFigures `json:"councils"`
	Total    Figures          `json:"partnership_total"`
}

// Report is a coverage report.
type Report struct {
	From        domain.Date `json:"from"`
	To          domain.Date `json:"to"`
	Grouping    Grouping    `json:"grouping"`
	Rows        []Row       `json:"rows"`
	GeneratedAt time.Time   `json:"generated_at"`
}

// Query asks for a report.
type Query struct {
	CouncilIDs []int64 // nil or empty: every council
	Period     Period
	Grouping   Grouping
}
