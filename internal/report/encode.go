package report

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/herts-msp/taxi-renewals/internal/domain"
)

// Encoders for coverage reports (CSV, XLSX, JSON) and the streamed detail export of evidence
// records. Every export carries the definitions and says whether small counts were suppressed.

// ExportOptions change what an export shows.
type ExportOptions struct {
	// Suppress shows counts from 1 to 4 as "<5" (null in JSON) and withholds coverage_pct
	// where it would reveal them.
	Suppress bool
	// IncludeTotal adds the partnership total to each period (not for one council's report).
	IncludeTotal bool
}

// Channels are the evidence channels, in the order of the export's columns.
var Channels = []string{string(domain.ChannelOnline), string(domain.ChannelInPerson), string(domain.ChannelPost), string(domain.ChannelEmail)}

// TotalSlug names the partnership total in the council column of exports.
const TotalSlug = "partnership_total"

// Versions lists every leaflet version that appears in a report, in a natural order.
func Versions(r Report) []string {
	seen := map[string]bool{}
	add := func(m map[string]int) {
		for v := range m {
			seen[v] = true
		}
	}
	for _, row := range r.Rows {
		for _, c := range row.Councils {
			add(c.IssuedByVersion)
			add(c.AcknowledgedByVersion)
		}
		add(row.Total.IssuedByVersion)
		add(row.Total.AcknowledgedByVersion)
	}
	out := make([]string, 0, len(seen))
	for v := range seen {
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return versionLess(out[i], out[j]) })
	return out
}

// versionLess orders "1.0" < "1.2" < "2.0" < "10.0", falling back to text.
func versionLess(a, b string) bool {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) && i < len(pb); i++ {
		na, ea := strconv.Atoi(pa[i])
		nb, eb := strconv.Atoi(pb[i])
		if ea != nil || eb != nil {
			if pa[i] != pb[i] {
				return pa[i] < pb[i]
			}
			continue
		}
		if na != nb {
			return na < nb
		}
	}
	return len(pa) < len(pb)
}

// Columns are the export's column names for a report, in order. They are stable: the json
// names of Figures, with the by-channel and by-version maps flattened.
func Columns(r Report) []string {
	cols := []string{"period_from", "period_to", "period_label", "council", "council_name",
		"licensed_drivers", "drivers_aware", "coverage_pct", "outstanding", "drivers_ever_aware", "leaflets_issued", "leaflets_acknowledged"}
	for _, ch := range Channels {
		cols = append(cols, "leaflets_issued_"+ch)
	}
	for _, ch := range Channels {
		cols = append(cols, "leaflets_acknowledged_"+ch)
	}
	versions := Versions(r)
	for _, v := range versions {
		cols = append(cols, "leaflets_issued_v"+v)
	}
	for _, v := range versions {
		cols = append(cols, "leaflets_acknowledged_v"+v)
	}
	return append(cols, "renewals_submitted", "renewals_decided", "renewals_approved", "renewals_refused",
		"public_events", "public_leaflets_handed_out", "suppressed", "suppressed_cells")
}

// cellKind is what a value of a table export is.
type cellKind int

const (
	textCell  cellKind = iota // a text, or empty
	countCell                 // a whole number
	pctCell                   // a percentage, one decimal
	dateCell                  // a day
)

// cell is one value of a table export.
type cell struct {
	kind cellKind
	text string
	num  float64
	date domain.Date
}

func (c cell) String() string {
	switch c.kind {
	case countCell:
		return strconv.FormatFloat(c.num, 'f', 0, 64)
	case pctCell:
		return strconv.FormatFloat(c.num, 'f', 1, 64) // always one decimal: 50.0, never 50
	case dateCell:
		return c.date.String()
	}
	return c.text
}

// small reports whether a count must be suppressed: 1 to 4.
func small(n int) bool { return n >= 1 && n <= 4 }

// hiddenText is how a table export shows a hidden cell.
func hiddenText(rule SuppressRule) string {
	if rule == SuppressPrimary {
		return "<5"
	}
	return "suppressed"
}

// tableLine is one line of a table export: one council (or the total) in one period.
type tableLine struct {
	rowIndex int
	row      Row
	slug     string
	name     string
	total    bool // the partnership total
	f        Figures
}

func tableLines(r Report, o ExportOptions) []tableLine {
	var out []tableLine
	for i, row := range r.Rows {
		for _, c := range row.Councils {
			out = append(out, tableLine{rowIndex: i, row: row, slug: c.Slug, name: c.Name, f: c.Figures})
		}
		if o.IncludeTotal {
			out = append(out, tableLine{rowIndex: i, row: row, slug: TotalSlug, name: "Partnership total", total: true, f: row.Total})
		}
	}
	return out
}

// exportSuppression is the report's suppression when asked for, else nil.
func exportSuppression(r Report, o ExportOptions) *Suppression {
	if !o.Suppress {
		return nil
	}
	return Suppress(r, o.IncludeTotal)
}

// hiddenCells lists a line's hidden cells as "column=rule", in column order, for the
// suppressed_cells column.
func (l tableLine) hiddenCells(versions []string, sup *Suppression) []string {
	var out []string
	for _, nc := range countColumns(l.f, versions) {
		if nc.col == "outstanding" {
			if rule := sup.Rule(l.rowIndex, l.slug, "coverage_pct"); rule != "" {
				out = append(out, "coverage_pct="+string(rule))
			}
		}
		if rule := sup.Rule(l.rowIndex, l.slug, nc.col); rule != "" {
			out = append(out, nc.col+"="+string(rule))
		}
	}
	return out
}

// cells are a line's values in the order of Columns(r).
func (l tableLine) cells(versions []string, sup *Suppression) []cell {
	f := l.f
	counts := countColumns(f, versions)
	c := func(i int) cell {
		if rule := sup.Rule(l.rowIndex, l.slug, counts[i].col); rule != "" {
			return cell{text: hiddenText(rule)}
		}
		return cell{kind: countCell, num: float64(counts[i].n)}
	}
	out := []cell{{kind: dateCell, date: l.row.Period.From}, {kind: dateCell, date: l.row.Period.LastDay()}, {text: neutralise(l.row.Label)},
		{text: neutralise(l.slug)}, {text: neutralise(l.name)},
		c(0), c(1)}
	switch rule := sup.Rule(l.rowIndex, l.slug, "coverage_pct"); {
	case f.CoveragePct == nil:
		out = append(out, cell{})
	case rule != "":
		out = append(out, cell{text: hiddenText(rule)})
	default:
		out = append(out, cell{kind: pctCell, num: *f.CoveragePct})
	}
	for i := 2; i < len(counts); i++ {
		out = append(out, c(i))
	}
	return append(out, cell{text: strconv.FormatBool(sup != nil)}, cell{text: strings.Join(l.hiddenCells(versions, sup), "; ")})
}

// neutralise stops a spreadsheet from running a cell as a formula: a text beginning with
// = + - @, a tab or a carriage return gets a leading single quote.
func neutralise(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// suppressionNotes are the export's lines on suppression: whether it was applied and, when it
// was, the rules in words.
func suppressionNotes(suppress bool) [][2]string {
	if !suppress {
		return [][2]string{{"suppression", NoSuppression}}
	}
	return [][2]string{
		{"suppression", "Small-count suppression applied, by the two rules below; suppressed_cells lists each line's hidden cells and the rule that hid each."},
		{"suppression_primary", SuppressionPrimaryText},
		{"suppression_secondary", SuppressionSecondaryText},
		{"suppression_scope", SuppressionScopeText},
	}
}

// Formats says how the exports write numbers and dates.
var Formats = [][2]string{
	{"format_dates", "period_from and period_to are days (Europe/London), YYYY-MM-DD in CSV and JSON, date cells in XLSX."},
	{"format_coverage_pct", "coverage_pct is a percentage rounded to one decimal place and always written with one decimal (50.0): a number in XLSX with the format 0.0, a JSON number written as 50.0 (a JSON reader may drop the .0; show it with one decimal)."},
	{"format_generated_at", "generated_at is the time the figures were worked out, in UTC (RFC 3339 in CSV and JSON, a date-time cell in XLSX)."},
}

// WriteCSV writes a report as CSV (RFC 4180, UTF-8, CRLF): a header row and one row per
// council per period (and the total when asked). After the data, a blank line and a
// "column,definition" table give the definitions and whether suppression was applied.
func WriteCSV(w io.Writer, r Report, o ExportOptions) error {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	versions := Versions(r)
	sup := exportSuppression(r, o)
	if err := cw.Write(Columns(r)); err != nil {
		return err
	}
	for _, l := range tableLines(r, o) {
		cells := l.cells(versions, sup)
		rec := make([]string, len(cells))
		for i, c := range cells {
			rec[i] = c.String()
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	if _, err := io.WriteString(w, "\r\n"); err != nil {
		return err
	}
	_ = cw.Write([]string{"column", "definition"})
	for _, d := range definitionsOf(r) {
		_ = cw.Write([]string{d.Name, d.Text})
	}
	for _, n := range suppressionNotes(o.Suppress) {
		_ = cw.Write(n[:])
	}
	for _, n := range Formats {
		_ = cw.Write(n[:])
	}
	_ = cw.Write([]string{"generated_at", r.GeneratedAt.UTC().Format(time.RFC3339)})
	cw.Flush()
	return cw.Error()
}

// WriteXLSX writes a report as an XLSX workbook with excelize's stream writer: a "Coverage"
// sheet of data and a "Definitions" sheet. Days are date cells (yyyy-mm-dd), counts are numbers
// (0), coverage_pct is a number shown with one decimal (0.0); hidden cells are text.
func WriteXLSX(w io.Writer, r Report, o ExportOptions) error {
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", "Coverage"); err != nil {
		return err
	}
	dateFmt, pctFmt, timeFmt := "yyyy-mm-dd", "0.0", `yyyy-mm-dd hh:mm:ss "UTC"`
	dateStyle, err := f.NewStyle(&excelize.Style{CustomNumFmt: &dateFmt})
	if err != nil {
		return err
	}
	pctStyle, err := f.NewStyle(&excelize.Style{CustomNumFmt: &pctFmt})
	if err != nil {
		return err
	}
	countStyle, err := f.NewStyle(&excelize.Style{NumFmt: 1}) // 0
	if err != nil {
		return err
	}
	timeStyle, err := f.NewStyle(&excelize.Style{CustomNumFmt: &timeFmt})
	if err != nil {
		return err
	}
	sw, err := f.NewStreamWriter("Coverage")
	if err != nil {
		return err
	}
	cols := Columns(r)
	for i, c := range cols {
		width := 12.0
		switch {
		case c == "council_name" || c == "suppressed_cells":
			width = 34
		case c == "period_label" || c == "council":
			width = 18
		}
		if err := sw.SetColWidth(i+1, i+1, width); err != nil {
			return err
		}
	}
	header := make([]any, len(cols))
	for i, c := range cols {
		header[i] = c
	}
	if err := sw.SetRow("A1", header); err != nil {
		return err
	}
	versions := Versions(r)
	sup := exportSuppression(r, o)
	for i, l := range tableLines(r, o) {
		cells := l.cells(versions, sup)
		vals := make([]any, len(cells))
		for j, c := range cells {
			switch c.kind {
			case countCell:
				vals[j] = excelize.Cell{StyleID: countStyle, Value: int(c.num)}
			case pctCell:
				vals[j] = excelize.Cell{StyleID: pctStyle, Value: c.num}
			case dateCell:
				vals[j] = excelize.Cell{StyleID: dateStyle, Value: time.Date(c.date.Year, time.Month(c.date.Month), c.date.Day, 0, 0, 0, 0, time.UTC)}
			default:
				vals[j] = c.text
			}
		}
		addr, _ := excelize.CoordinatesToCellName(1, i+2)
		if err := sw.SetRow(addr, vals); err != nil {
			return err
		}
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	if _, err := f.NewSheet("Definitions"); err != nil {
		return err
	}
	dw, err := f.NewStreamWriter("Definitions")
	if err != nil {
		return err
	}
	if err := dw.SetColWidth(1, 1, 28); err != nil {
		return err
	}
	if err := dw.SetColWidth(2, 2, 120); err != nil {
		return err
	}
	lines := [][]any{{"column", "definition"}}
	for _, d := range definitionsOf(r) {
		lines = append(lines, []any{d.Name, d.Text})
	}
	for _, n := range suppressionNotes(o.Suppress) {
		lines = append(lines, []any{n[0], n[1]})
	}
	for _, n := range Formats {
		lines = append(lines, []any{n[0], n[1]})
	}
	lines = append(lines, []any{"generated_at", excelize.Cell{StyleID: timeStyle, Value: r.GeneratedAt.UTC()}})
	for i, l := range lines {
		addr, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := dw.SetRow(addr, l); err != nil {
			return err
		}
	}
	if err := dw.Flush(); err != nil {
		return err
	}
	_, err = f.WriteTo(w)
	return err
}

// JSON export shapes. Counts are numbers, or null when hidden; coverage_pct is a number written
// with one decimal (50.0), or null.
type (
	jsonExport struct {
		From        string            `json:"from"`
		To          string            `json:"to"` // the last day included
		Grouping    Grouping          `json:"grouping"`
		GeneratedAt string            `json:"generated_at"`
		Suppression jsonSuppressed    `json:"suppression"`
		Formats     map[string]string `json:"formats"`
		Definitions []Definition      `json:"definitions"`
		Rows        []jsonRow         `json:"rows"`
	}
	jsonSuppressed struct {
		Applied bool   `json:"applied"`
		Rule    string `json:"rule"`
		// The rules in words, when applied.
		Primary   string `json:"primary,omitempty"`
		Secondary string `json:"secondary,omitempty"`
		Scope     string `json:"scope,omitempty"`
		// How many cells each rule hid, when applied.
		PrimaryCells   *int `json:"primary_cells,omitempty"`
		SecondaryCells *int `json:"secondary_cells,omitempty"`
	}
	jsonRow struct {
		PeriodFrom string        `json:"period_from"`
		PeriodTo   string        `json:"period_to"` // the last day included
		Label      string        `json:"period_label"`
		Councils   []jsonCouncil `json:"councils"`
		Total      *jsonCouncil  `json:"partnership_total,omitempty"`
	}
	jsonCouncil struct {
		Council    string         `json:"council"`
		Name       string         `json:"council_name"`
		Suppressed bool           `json:"suppressed"` // some figure here was suppressed
		Figures    map[string]any `json:"figures"`
		// SuppressedCells names each hidden figure (as in Columns, e.g. leaflets_issued_post) and
		// the rule that hid it.
		SuppressedCells map[string]SuppressRule `json:"suppressed_cells,omitempty"`
	}
)

// jsonPct writes a percentage with exactly one decimal.
func jsonPct(v float64) json.Number { return json.Number(strconv.FormatFloat(v, 'f', 1, 64)) }

func jsonFigures(l tableLine, sup *Suppression) (map[string]any, map[string]SuppressRule) {
	f := l.f
	var hidden map[string]SuppressRule
	n := func(col string, v int) *int {
		if rule := sup.Rule(l.rowIndex, l.slug, col); rule != "" {
			if hidden == nil {
				hidden = map[string]SuppressRule{}
			}
			hidden[col] = rule
			return nil
		}
		return &v
	}
	byKey := func(prefix string, keys []string, m map[string]int) map[string]*int {
		out := make(map[string]*int, len(keys))
		for _, k := range keys {
			out[k] = n(prefix+k, m[k])
		}
		return out
	}
	mapKeys := func(ms ...map[string]int) []string {
		var ks []string
		for _, m := range ms {
			for k := range m {
				ks = append(ks, k)
			}
		}
		sort.Strings(ks)
		return ks
	}
	var pct any
	if f.CoveragePct != nil {
		pct = jsonPct(*f.CoveragePct)
		if rule := sup.Rule(l.rowIndex, l.slug, "coverage_pct"); rule != "" {
			if hidden == nil {
				hidden = map[string]SuppressRule{}
			}
			pct, hidden["coverage_pct"] = nil, rule
		}
	}
	out := map[string]any{
		"licensed_drivers": n("licensed_drivers", f.LicensedDrivers), "drivers_aware": n("drivers_aware", f.DriversAware), "coverage_pct": pct,
		"outstanding": n("outstanding", f.Outstanding), "drivers_ever_aware": n("drivers_ever_aware", f.DriversEverAware),
		"leaflets_issued":                  n("leaflets_issued", f.LeafletsIssued),
		"leaflets_acknowledged":            n("leaflets_acknowledged", f.LeafletsAcknowledged),
		"leaflets_issued_by_channel":       byKey("leaflets_issued_", Channels, f.IssuedByChannel),
		"leaflets_acknowledged_by_channel": byKey("leaflets_acknowledged_", Channels, f.AcknowledgedByChannel),
		"leaflets_issued_by_version":       byKey("leaflets_issued_v", mapKeys(f.IssuedByVersion), f.IssuedByVersion),
		"leaflets_acknowledged_by_version": byKey("leaflets_acknowledged_v", mapKeys(f.AcknowledgedByVersion), f.AcknowledgedByVersion),
		"renewals_submitted":               n("renewals_submitted", f.RenewalsSubmitted), "renewals_decided": n("renewals_decided", f.RenewalsDecided()),
		"renewals_approved": n("renewals_approved", f.RenewalsApproved), "renewals_refused": n("renewals_refused", f.RenewalsRefused),
		"public_events": n("public_events", f.PublicEvents), "public_leaflets_handed_out": n("public_leaflets_handed_out", f.PublicLeafletsHandedOut),
	}
	return out, hidden
}

// WriteJSON writes a report as JSON with its definitions and suppression note.
func WriteJSON(w io.Writer, r Report, o ExportOptions) error {
	sup := exportSuppression(r, o)
	js := jsonSuppressed{Applied: o.Suppress, Rule: NoSuppression}
	if sup != nil {
		p, s := sup.Count(SuppressPrimary), sup.Count(SuppressSecondary)
		js = jsonSuppressed{Applied: true, Rule: suppressionNotes(true)[0][1], Primary: SuppressionPrimaryText,
			Secondary: SuppressionSecondaryText, Scope: SuppressionScopeText, PrimaryCells: &p, SecondaryCells: &s}
	}
	formats := map[string]string{}
	for _, f := range Formats {
		formats[strings.TrimPrefix(f[0], "format_")] = f[1]
	}
	out := jsonExport{From: r.From.String(), To: r.To.AddDays(-1).String(), Grouping: r.Grouping,
		GeneratedAt: r.GeneratedAt.UTC().Format(time.RFC3339), Suppression: js, Formats: formats, Definitions: definitionsOf(r),
		Rows: []jsonRow{}}
	for _, row := range r.Rows {
		out.Rows = append(out.Rows, jsonRow{PeriodFrom: row.Period.From.String(), PeriodTo: row.Period.LastDay().String(), Label: row.Label, Councils: []jsonCouncil{}})
	}
	for _, l := range tableLines(r, o) {
		jr := &out.Rows[l.rowIndex]
		figs, hidden := jsonFigures(l, sup)
		jc := jsonCouncil{Council: l.slug, Name: l.name, Suppressed: len(hidden) > 0, Figures: figs, SuppressedCells: hidden}
		if l.total {
			jr.Total = &jc
		} else {
			jr.Councils = append(jr.Councils, jc)
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}

// EvidenceColumns are the detail export's columns.
var EvidenceColumns = []string{"id", "kind", "council", "licence_number", "leaflet_version", "content_sha256", "channel",
	"occurred_at", "recorded_at", "actor_kind", "actor_id", "voids_id", "reason"}

// EvidenceStream feeds evidence rows to a callback, one at a time (store.StreamEvidence).
type EvidenceStream func(fn func(*domain.EvidenceExportRow) error) error

// WriteEvidenceCSV streams evidence records as CSV (RFC 4180, UTF-8, CRLF, formula-like cells
// neutralised) through a buffered writer that flushes as it fills, so memory stays flat
// whatever the number of rows. It returns the number of records written.
func WriteEvidenceCSV(w io.Writer, stream EvidenceStream) (int64, error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	line := make([]byte, 0, 512)
	for i, c := range EvidenceColumns {
		if i > 0 {
			line = append(line, ',')
		}
		line = append(line, c...)
	}
	line = append(line, '\r', '\n')
	if _, err := bw.Write(line); err != nil {
		return 0, err
	}
	var n int64
	err := stream(func(r *domain.EvidenceExportRow) error {
		b := line[:0]
		b = strconv.AppendInt(b, r.ID, 10)
		b = appendField(append(b, ','), r.Kind)
		b = appendField(append(b, ','), r.CouncilSlug)
		b = appendField(append(b, ','), r.LicenceNumber)
		b = appendField(append(b, ','), r.LeafletVer)
		b = appendField(append(b, ','), r.ContentSHA256)
		b = appendField(append(b, ','), r.Channel)
		b = append(append(b, ','), r.OccurredAt...)
		b = append(append(b, ','), r.RecordedAt...)
		b = appendField(append(b, ','), r.ActorKind)
		b = strconv.AppendInt(append(b, ','), r.ActorID, 10)
		b = append(b, ',')
		if r.VoidsID.Valid {
			b = strconv.AppendInt(b, r.VoidsID.Int64, 10)
		}
		b = appendField(append(b, ','), r.Reason)
		b = append(b, '\r', '\n')
		line = b
		n++
		_, err := bw.Write(b)
		return err
	})
	if err != nil {
		return n, err
	}
	return n, bw.Flush()
}

// appendField appends one CSV field: neutralised when formula-like, quoted when it holds a
// comma, a quote or a line break.
func appendField(b []byte, s string) []byte {
	if s == "" {
		return b
	}
	if strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		s = "'" + s
	}
	if !strings.ContainsAny(s, ",\"\r\n") {
		return append(b, s...)
	}
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			b = append(b, '"')
		}
		b = append(b, s[i])
	}
	return append(b, '"')
}

// Summarise is one row for the report's whole period: per council (and in total) the counts
// added up over every row, and the stock figures (licensed, aware, coverage, outstanding) of
// the last row, which is the period's end.
func Summarise(r Report) Row {
	if len(r.Rows) == 0 {
		return Row{}
	}
	last := r.Rows[len(r.Rows)-1]
	out := Row{Period: Period{From: r.From, To: r.To}, Label: rangeLabel(Period{From: r.From, To: r.To}), Total: newFigures(),
		Councils: make([]CouncilFigures, len(last.Councils))}
	for j, c := range last.Councils {
		out.Councils[j] = CouncilFigures{CouncilID: c.CouncilID, Slug: c.Slug, Name: c.Name, Figures: newFigures()}
	}
	for _, row := range r.Rows {
		for j := range row.Councils {
			if j < len(out.Councils) {
				out.Councils[j].Figures.add(row.Councils[j].Figures)
			}
		}
		out.Total.add(row.Total)
	}
	stock := func(to *Figures, from Figures) {
		to.LicensedDrivers, to.DriversAware, to.Outstanding, to.CoveragePct = from.LicensedDrivers, from.DriversAware, from.Outstanding, from.CoveragePct
	}
	for j := range out.Councils {
		stock(&out.Councils[j].Figures, last.Councils[j].Figures)
	}
	stock(&out.Total, last.Total)
	return out
}

// definitionsOf is what an export prints as its definitions: the report's own (with its
// to-date note, each council's refresher interval and when it was generated), or the general
// ones for a report made without them.
func definitionsOf(r Report) []Definition {
	if len(r.Definitions) > 0 {
		return r.Definitions
	}
	return Definitions
}
