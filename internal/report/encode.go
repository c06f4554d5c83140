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
		"licensed_drivers", "drivers_aware", "coverage_pct", "outstanding", "leaflets_issued", "leaflets_acknowledged"}
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
		"public_events", "public_leaflets_handed_out", "suppressed")
}

// cell is one value of a table export: a number, a text, or empty.
type cell struct {
	text  string
	num   float64
	isNum bool
}

func (c cell) String() string {
	if c.isNum {
		return strconv.FormatFloat(c.num, 'f', -1, 64)
	}
	return c.text
}

// small reports whether a count must be suppressed: 1 to 4.
func small(n int) bool { return n >= 1 && n <= 4 }

// countCell is a count, suppressed when asked and small.
func countCell(n int, suppress bool) cell {
	if suppress && small(n) {
		return cell{text: "<5"}
	}
	return cell{num: float64(n), isNum: true}
}

// coverageWithheld reports whether coverage % would reveal a suppressed count.
func coverageWithheld(f Figures) bool {
	return small(f.LicensedDrivers) || small(f.DriversAware) || small(f.LicensedDrivers-f.DriversAware)
}

// tableLine is one line of a table export: one council (or the total) in one period.
type tableLine struct {
	row  Row
	slug string
	name string
	f    Figures
}

func tableLines(r Report, o ExportOptions) []tableLine {
	var out []tableLine
	for _, row := range r.Rows {
		for _, c := range row.Councils {
			out = append(out, tableLine{row: row, slug: c.Slug, name: c.Name, f: c.Figures})
		}
		if o.IncludeTotal {
			out = append(out, tableLine{row: row, slug: TotalSlug, name: "Partnership total", f: row.Total})
		}
	}
	return out
}

// cells are a line's values in the order of Columns(r).
func (l tableLine) cells(versions []string, suppress bool) []cell {
	f := l.f
	c := func(n int) cell { return countCell(n, suppress) }
	out := []cell{{text: l.row.Period.From.String()}, {text: l.row.Period.LastDay().String()}, {text: neutralise(l.row.Label)},
		{text: neutralise(l.slug)}, {text: neutralise(l.name)},
		c(f.LicensedDrivers), c(f.DriversAware)}
	switch {
	case f.CoveragePct == nil:
		out = append(out, cell{})
	case suppress && coverageWithheld(f):
		out = append(out, cell{text: "suppressed"})
	default:
		out = append(out, cell{num: *f.CoveragePct, isNum: true})
	}
	out = append(out, c(f.Outstanding), c(f.LeafletsIssued), c(f.LeafletsAcknowledged))
	for _, ch := range Channels {
		out = append(out, c(f.IssuedByChannel[ch]))
	}
	for _, ch := range Channels {
		out = append(out, c(f.AcknowledgedByChannel[ch]))
	}
	for _, v := range versions {
		out = append(out, c(f.IssuedByVersion[v]))
	}
	for _, v := range versions {
		out = append(out, c(f.AcknowledgedByVersion[v]))
	}
	out = append(out, c(f.RenewalsSubmitted), c(f.RenewalsDecided()), c(f.RenewalsApproved), c(f.RenewalsRefused),
		c(f.PublicEvents), c(f.PublicLeafletsHandedOut), cell{text: strconv.FormatBool(suppress)})
	return out
}

// neutralise stops a spreadsheet from running a cell as a formula: a text beginning with
// = + - @, a tab or a carriage return gets a leading single quote.
func neutralise(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// suppressionNote says whether small counts were suppressed.
func suppressionNote(suppress bool) string {
	if suppress {
		return SuppressionRule
	}
	return NoSuppression
}

// WriteCSV writes a report as CSV (RFC 4180, UTF-8, CRLF): a header row and one row per
// council per period (and the total when asked). After the data, a blank line and a
// "column,definition" table give the definitions and whether suppression was applied.
func WriteCSV(w io.Writer, r Report, o ExportOptions) error {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	versions := Versions(r)
	if err := cw.Write(Columns(r)); err != nil {
		return err
	}
	for _, l := range tableLines(r, o) {
		cells := l.cells(versions, o.Suppress)
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
	for _, d := range Definitions {
		_ = cw.Write([]string{d.Name, d.Text})
	}
	_ = cw.Write([]string{"suppression", suppressionNote(o.Suppress)})
	_ = cw.Write([]string{"generated_at", r.GeneratedAt.UTC().Format(time.RFC3339)})
	cw.Flush()
	return cw.Error()
}

// WriteXLSX writes a report as an XLSX workbook with excelize's stream writer: a "Coverage"
// sheet of data (numbers as numbers) and a "Definitions" sheet.
func WriteXLSX(w io.Writer, r Report, o ExportOptions) error {
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", "Coverage"); err != nil {
		return err
	}
	sw, err := f.NewStreamWriter("Coverage")
	if err != nil {
		return err
	}
	cols := Columns(r)
	header := make([]any, len(cols))
	for i, c := range cols {
		header[i] = c
	}
	if err := sw.SetRow("A1", header); err != nil {
		return err
	}
	versions := Versions(r)
	for i, l := range tableLines(r, o) {
		cells := l.cells(versions, o.Suppress)
		vals := make([]any, len(cells))
		for j, c := range cells {
			if c.isNum {
				vals[j] = c.num
			} else {
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
	lines := [][]any{{"column", "definition"}}
	for _, d := range Definitions {
		lines = append(lines, []any{d.Name, d.Text})
	}
	lines = append(lines, []any{"suppression", suppressionNote(o.Suppress)},
		[]any{"generated_at", r.GeneratedAt.UTC().Format(time.RFC3339)})
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

// JSON export shapes. Counts are numbers, or null when suppressed.
type (
	jsonExport struct {
		From        string         `json:"from"`
		To          string         `json:"to"` // the last day included
		Grouping    Grouping       `json:"grouping"`
		GeneratedAt string         `json:"generated_at"`
		Suppression jsonSuppressed `json:"suppression"`
		Definitions []Definition   `json:"definitions"`
		Rows        []jsonRow      `json:"rows"`
	}
	jsonSuppressed struct {
		Applied bool   `json:"applied"`
		Rule    string `json:"rule"`
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
	}
)

func jsonFigures(f Figures, suppress bool) (map[string]any, bool) {
	hidden := false
	n := func(v int) *int {
		if suppress && small(v) {
			hidden = true
			return nil
		}
		return &v
	}
	byKey := func(keys []string, m map[string]int) map[string]*int {
		out := make(map[string]*int, len(keys))
		for _, k := range keys {
			out[k] = n(m[k])
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
	var pct any = f.CoveragePct
	if f.CoveragePct != nil && suppress && coverageWithheld(f) {
		pct, hidden = nil, true
	}
	out := map[string]any{
		"licensed_drivers": n(f.LicensedDrivers), "drivers_aware": n(f.DriversAware), "coverage_pct": pct,
		"outstanding": n(f.Outstanding), "leaflets_issued": n(f.LeafletsIssued), "leaflets_acknowledged": n(f.LeafletsAcknowledged),
		"leaflets_issued_by_channel":       byKey(Channels, f.IssuedByChannel),
		"leaflets_acknowledged_by_channel": byKey(Channels, f.AcknowledgedByChannel),
		"leaflets_issued_by_version":       byKey(mapKeys(f.IssuedByVersion), f.IssuedByVersion),
		"leaflets_acknowledged_by_version": byKey(mapKeys(f.AcknowledgedByVersion), f.AcknowledgedByVersion),
		"renewals_submitted":               n(f.RenewalsSubmitted), "renewals_decided": n(f.RenewalsDecided()),
		"renewals_approved": n(f.RenewalsApproved), "renewals_refused": n(f.RenewalsRefused),
		"public_events": n(f.PublicEvents), "public_leaflets_handed_out": n(f.PublicLeafletsHandedOut),
	}
	return out, hidden
}

// WriteJSON writes a report as JSON with its definitions and suppression note.
func WriteJSON(w io.Writer, r Report, o ExportOptions) error {
	out := jsonExport{From: r.From.String(), To: r.To.AddDays(-1).String(), Grouping: r.Grouping,
		GeneratedAt: r.GeneratedAt.UTC().Format(time.RFC3339),
		Suppression: jsonSuppressed{Applied: o.Suppress, Rule: suppressionNote(o.Suppress)}, Definitions: Definitions,
		Rows: []jsonRow{}}
	for _, row := range r.Rows {
		jr := jsonRow{PeriodFrom: row.Period.From.String(), PeriodTo: row.Period.LastDay().String(), Label: row.Label, Councils: []jsonCouncil{}}
		for _, c := range row.Councils {
			figs, sup := jsonFigures(c.Figures, o.Suppress)
			jr.Councils = append(jr.Councils, jsonCouncil{Council: c.Slug, Name: c.Name, Suppressed: sup, Figures: figs})
		}
		if o.IncludeTotal {
			figs, sup := jsonFigures(row.Total, o.Suppress)
			jr.Total = &jsonCouncil{Council: TotalSlug, Name: "Partnership total", Suppressed: sup, Figures: figs}
		}
		out.Rows = append(out.Rows, jr)
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
