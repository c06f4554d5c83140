package report

// Definition explains one figure, in the words of DESIGN §4. Every report page and every
// export carries these.
type Definition struct {
	Name string `json:"name"` // the column name in exports
	Text string `json:"definition"`
}

// Definitions are the figures' definitions, in the order of the export's columns.
var Definitions = []Definition{
	{"licensed_drivers", "Drivers on the council's register whose licence is active on the last day of the period."},
	{"drivers_aware", "Licensed drivers (as above) holding a non-voided acknowledgement, dated on or before the period's end, of a leaflet version still in force at the period's end (no later version requiring re-acknowledgement had been published by then)."},
	{"coverage_pct", "drivers_aware divided by licensed_drivers, times 100, to one decimal place. Empty when there are no licensed drivers."},
	{"outstanding", "Licensed drivers who had been issued a leaflet version in force but had not acknowledged it by the period's end."},
	{"leaflets_issued", "Non-voided records of the leaflet being issued to a driver, dated in the period; also split by channel (leaflets_issued_<channel>) and by leaflet version (leaflets_issued_v<version>)."},
	{"leaflets_acknowledged", "Non-voided records of a driver acknowledging the leaflet, dated in the period; also split by channel and by leaflet version."},
	{"renewals_submitted", "Renewals sent to the council in the period."},
	{"renewals_decided", "Renewals approved or refused in the period (renewals_approved plus renewals_refused)."},
	{"public_events", "Enforcement operations, awareness events and other events recorded by the council's officers, dated in the period, where the public leaflet was handed out."},
	{"public_leaflets_handed_out", "Public leaflets handed out at those events."},
	{"period", "Each period runs from its first day up to and including its last day (period_from to period_to). Stock figures (licensed, aware, coverage, outstanding) are taken on the last day; counts cover the whole period."},
}

// SuppressionRule is what an export says when small counts were suppressed.
const SuppressionRule = "Small-count suppression applied: counts from 1 to 4 are shown as <5 (null in JSON); coverage_pct is withheld where licensed_drivers, drivers_aware or the drivers not aware is from 1 to 4."

// NoSuppression is what an export says when nothing was suppressed.
const NoSuppression = "No suppression applied: every count is exact."
