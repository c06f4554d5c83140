package report

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/herts-msp/taxi-renewals/internal/domain"
)

// Definition explains one figure, in the words of DESIGN §4, saying exactly what is computed.
// Every report page and every export carries them: Report.Definitions are these general ones
// followed by what applies to that report (rows to date, refresher intervals, generation time).
type Definition struct {
	Name string `json:"name"` // the column name in exports, or what the note is about
	Text string `json:"definition"`
}

// Definitions are the figures' general definitions, in the order of the export's columns.
// Report.Definitions adds what applies to one report; print those.
var Definitions = []Definition{
	{"licensed_drivers", "Drivers on the council's register whose licence is active on the period's end, by the register's latest word on that day. Each record of a licence's dates (a register import or an approval) speaks for every day from its licence_start on: active up to and including its licence_expiry, not active after it. On any day the record recorded last among those speaking for that day applies, so a later correction replaces the earlier record for the days it covers, shortened as well as extended (a licence_start moved later leaves the days before it as first recorded). The driver's status on that day must be active: a status change (suspended, revoked, reinstated) takes effect from its own date (the register file's status_date, or the day it was recorded) and is kept as history; on any day the status recorded last among those dated on or before it applies, and a driver with none counts as active. Status history begins with migration 0011: a driver suspended or revoked then counts as such from the start of the licence held then; earlier changes are not known."},
	{"drivers_aware", "Licensed drivers (as above) holding a non-voided acknowledgement, dated on or before the period's end, of a leaflet version still in force at the period's end (no later version that requires re-acknowledgement had been published on or before that day) and, where the council sets a refresher interval of N years (see refresher_years), dated no more than N years before the period's end (up to and including its Nth anniversary; the anniversary of 29 February is 28 February)."},
	{"drivers_ever_aware", "Licensed drivers (as above) holding a non-voided acknowledgement of any leaflet version dated on or before the period's end, whether or not that version is still in force or within the refresher interval. drivers_ever_aware minus drivers_aware are licensed drivers who read an earlier version, or read it too long ago, and have not acknowledged one that counts: they are to re-acknowledge, not unaware."},
	{"coverage_pct", "drivers_aware divided by licensed_drivers, times 100, rounded half away from zero to one decimal place and printed with one decimal. Empty when there are no licensed drivers."},
	{"outstanding", "Licensed drivers holding a non-voided issue record, dated on or before the period's end, of a leaflet version still in force at the period's end, who are not counted in drivers_aware (they have not acknowledged a version in force, or their acknowledgement is older than the refresher interval). A licensed driver with no such issue record and not aware (for example one who acknowledged only a version no longer in force) is in neither figure."},
	{"leaflets_issued", "Non-voided records of the leaflet being issued to a driver, dated on a day of the row; also split by channel (leaflets_issued_<channel>) and by leaflet version (leaflets_issued_v<version>). Counted for the council the record was made for."},
	{"leaflets_acknowledged", "Non-voided records of a driver acknowledging the leaflet, dated on a day of the row; also split by channel and by leaflet version."},
	{"renewals_submitted", "Renewals sent to the council (online or on paper) on a day of the row."},
	{"renewals_decided", "Renewals approved or refused on a day of the row (renewals_approved plus renewals_refused)."},
	{"public_events", "Enforcement operations, awareness events and other events recorded by the council's officers, dated on a day of the row, where the public leaflet was handed out."},
	{"public_leaflets_handed_out", "Public leaflets handed out at those events."},
	{"period", "Days are Europe/London calendar days: a record's day is the London date of its time (stored in UTC). Each row runs from period_from to period_to, both included. The period's end is its last day or, for a period that had not finished when the report was generated, the day it was generated: such a row is marked to date, period_to is that day, and no later day is counted or stated. Stock figures (licensed_drivers, drivers_aware, drivers_ever_aware, coverage_pct, outstanding) are taken on the period's end; counts (leaflets, renewals, events) cover every day of the row."},
	{"voided_records", "A void recorded later removes the voided record from every period, past ones included: a report generated later can show different figures for a past period. Every report and export states the time it was generated (generated_at); the figures are those of the records held at that time."},
}

// reportDefinitions are the general definitions followed by what applies to this report: the
// rows to date, each council's refresher interval and the time it was generated.
func reportDefinitions(rep Report, councils []domain.Council, loc *time.Location) []Definition {
	out := append([]Definition(nil), Definitions...)
	if rep.ToDate {
		out = append(out, Definition{"to_date", fmt.Sprintf("The period had not finished when this report was generated, on %s: the report runs to that day, and a row marked to date ends on it and takes its stock figures on it. Days after it are not in the report.",
			rep.Today.Format("2 January 2006"))})
	}
	out = append(out, Definition{"refresher_years", refresherText(councils)})
	out = append(out, Definition{"generated_at", fmt.Sprintf("This report was generated at %s (%s, Europe/London). A void recorded after that time would change it.",
		rep.GeneratedAt.UTC().Format(time.RFC3339), rep.GeneratedAt.In(loc).Format("2 January 2006 15:04"))})
	return out
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// refresherText says which councils of the report set a refresher interval.
func refresherText(councils []domain.Council) string {
	var set []string
	for _, c := range councils {
		if c.RefresherYears > 0 {
			set = append(set, fmt.Sprintf("%s %d %s", c.Name, c.RefresherYears, plural(c.RefresherYears, "year", "years")))
		}
	}
	if len(set) == 0 {
		return "Refresher interval: none of the councils in this report sets one, so an acknowledgement of a version in force counts however long ago it was made."
	}
	sort.Strings(set)
	rest := "No other council in this report sets one."
	if len(set) == len(councils) {
		rest = ""
	}
	return strings.TrimSpace("Refresher interval, as set for each council when this report was generated and applied to every period: " +
		strings.Join(set, "; ") + ". " + rest)
}

// SuppressionRule is what an export says when small counts were suppressed.
const SuppressionRule = "Small-count suppression applied: counts from 1 to 4 are shown as <5 (null in JSON); coverage_pct is withheld where licensed_drivers, drivers_aware or the drivers not aware is from 1 to 4."

// NoSuppression is what an export says when nothing was suppressed.
const NoSuppression = "No suppression applied: every count is exact."
