package web

import (
	"bytes"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/internal/report"
	"github.com/herts-msp/taxi-renewals/internal/service"
)

// reportRoutes: coverage reports, charts, exports, public leaflet events and the analysts' API.
func (s *Server) reportRoutes() {
	get, post := http.MethodGet, http.MethodPost
	s.route(get, "/staff/reports", accessStaffRead, s.coveragePage)
	s.route(get, "/staff/reports/council/:slug", accessStaffRead, s.councilReportPage)
	s.route(get, "/staff/reports/export.csv", accessStaffRead, s.exportReport("csv"))
	s.route(get, "/staff/reports/export.xlsx", accessStaffRead, s.exportReport("xlsx"))
	s.route(get, "/staff/reports/export.json", accessStaffRead, s.exportReport("json"))
	s.route(get, "/staff/reports/evidence.csv", accessStaffRead, s.evidenceCSV)
	s.route(get, "/staff/events", accessStaffRead, s.eventsPage)
	s.route(post, "/staff/events", accessOfficer, s.recordEvent)
	s.route(get, "/staff/tokens", accessAnalyst, s.tokensPage)
	s.route(post, "/staff/tokens", accessAnalyst, s.createToken)
	s.route(post, "/staff/tokens/:id/revoke", accessAnalyst, s.revokeToken)
	s.apiRoutes()
}

// ----- the report request

// reportForm is the coverage page's form (a GET form: its values are the query).
type reportForm struct {
	Period   string
	From     string
	To       string
	Grouping string
	Council  string
	Suppress bool
}

func reportParamsOf(c echo.Context) service.ReportParams {
	sup := strings.ToLower(c.QueryParam("suppress"))
	return service.ReportParams{Period: c.QueryParam("period"), From: c.QueryParam("from"), To: c.QueryParam("to"),
		Grouping: c.QueryParam("grouping"), Council: c.QueryParam("council"), Suppress: sup == "1" || sup == "true" || sup == "on"}
}

// reportQuery is the report's parameters as a query string, for export links.
func reportQuery(p service.ReportParams) string {
	v := url.Values{}
	for k, s := range map[string]string{"period": p.Period, "from": p.From, "to": p.To, "grouping": p.Grouping, "council": p.Council} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if p.Suppress {
		v.Set("suppress", "1")
	}
	return v.Encode()
}

// ----- view structs

type option struct{ Value, Label string }

var groupingOptions = []option{{"month", "By month"}, {"quarter", "By quarter"}, {"year", "By year"}, {"none", "The whole period (one row)"}}

var channelLabels = map[string]string{"online": "Online", "in_person": "In person", "post": "Post", "email": "Email"}

// figuresRow is one council's (or the total's) figures in a table.
type figuresRow struct {
	Name, Slug                                                                                         string
	Total                                                                                              bool
	Licensed, Aware, EverAware, Outstanding, Issued, Acked, Submitted, Decided, Events, PublicLeaflets int
	Coverage                                                                                           string
	IssuedBy, AckedBy                                                                                  []int        // by channel, then by version
	URL                                                                                                template.URL // the council's printable report
}

type overTimeRow struct {
	Name   string
	Values []string
}

// reportView is what the coverage page and the printable council report show.
type reportView struct {
	Form        reportForm
	Errors      *fieldErrors
	ShowCouncil bool
	Councils    []domain.Council
	Groupings   []option
	HasReport   bool
	Title       string
	PeriodText  string
	Grouping    string
	Partnership bool
	Suppressed  bool
	// When suppression is chosen: how many cells the exports hide, by rule, and the rules.
	SuppressedPrimary, SuppressedSecondary int
	SuppressionRules                       []string
	Summary                                []figuresRow
	Breakdown                              []string // column headings of the channel/version table
	Bars                                   template.HTML
	Lines                                  template.HTML
	TimeLabels                             []string
	OverTime                               []overTimeRow
	Definitions                            []report.Definition
	ToDate                                 bool // the period had not finished: figures run to today
	CSVURL                                 template.URL
	XLSXURL                                template.URL
	JSONURL                                template.URL
	GeneratedAt                            string
	CouncilName                            string // the printable report's council
}

func pct(v *float64) string {
	if v == nil {
		return "–"
	}
	return strconv.FormatFloat(*v, 'f', 1, 64) + "%"
}

func rowOf(name, slug string, f report.Figures, versions []string, total bool) figuresRow {
	r := figuresRow{Name: name, Slug: slug, Total: total, Licensed: f.LicensedDrivers, Aware: f.DriversAware, EverAware: f.DriversEverAware, Outstanding: f.Outstanding,
		Issued: f.LeafletsIssued, Acked: f.LeafletsAcknowledged, Submitted: f.RenewalsSubmitted, Decided: f.RenewalsDecided(),
		Events: f.PublicEvents, PublicLeaflets: f.PublicLeafletsHandedOut, Coverage: pct(f.CoveragePct)}
	for _, ch := range report.Channels {
		r.IssuedBy = append(r.IssuedBy, f.IssuedByChannel[ch])
		r.AckedBy = append(r.AckedBy, f.AcknowledgedByChannel[ch])
	}
	for _, v := range versions {
		r.IssuedBy = append(r.IssuedBy, f.IssuedByVersion[v])
		r.AckedBy = append(r.AckedBy, f.AcknowledgedByVersion[v])
	}
	return r
}

// reportViewOf turns a report into what the pages show: a summary table for the whole period,
// the coverage chart by council, and coverage over time (chart and table).
func (s *Server) reportViewOf(res service.CoverageResult, loc *time.Location) reportView {
	rep := res.Report
	v := reportView{HasReport: len(rep.Rows) > 0, Title: res.Title, Grouping: res.Params.Grouping, Partnership: res.Partnership,
		Suppressed: res.Params.Suppress, Definitions: rep.Definitions, ToDate: rep.ToDate,
		PeriodText: rep.From.Format("2 January 2006") + " to " + rep.To.AddDays(-1).Format("2 January 2006")}
	if rep.ToDate {
		v.PeriodText += " (to date: the period has not finished)"
	}
	if len(v.Definitions) == 0 {
		v.Definitions = report.Definitions
	}
	if !rep.GeneratedAt.IsZero() {
		v.GeneratedAt = rep.GeneratedAt.In(loc).Format("2 January 2006 at 3:04pm")
	}
	if !v.HasReport {
		return v
	}
	// Links carry the report's parameters; every value is query-escaped by url.Values.
	q := reportQuery(res.Params)
	v.CSVURL = template.URL("/staff/reports/export.csv?" + q)   //nolint:gosec // built from escaped values
	v.XLSXURL = template.URL("/staff/reports/export.xlsx?" + q) //nolint:gosec
	v.JSONURL = template.URL("/staff/reports/export.json?" + q) //nolint:gosec
	versions := report.Versions(rep)
	for _, ch := range report.Channels {
		v.Breakdown = append(v.Breakdown, channelLabels[ch])
	}
	for _, ver := range versions {
		v.Breakdown = append(v.Breakdown, "Version "+ver)
	}
	if res.Params.Suppress {
		sup := report.Suppress(rep, res.Partnership)
		v.SuppressedPrimary, v.SuppressedSecondary = sup.Count(report.SuppressPrimary), sup.Count(report.SuppressSecondary)
		v.SuppressionRules = []string{report.SuppressionPrimaryText, report.SuppressionSecondaryText, report.SuppressionScopeText}
	}
	sum := report.Summarise(rep)
	var bars []report.Bar
	for _, c := range sum.Councils {
		row := rowOf(c.Name, c.Slug, c.Figures, versions, false)
		p := res.Params
		p.Council = ""
		row.URL = template.URL("/staff/reports/council/" + url.PathEscape(c.Slug) + "?" + reportQuery(p)) //nolint:gosec // escaped
		v.Summary = append(v.Summary, row)
		bars = append(bars, report.Bar{Label: c.Name, Value: c.CoveragePct})
	}
	if res.Partnership {
		v.Summary = append(v.Summary, rowOf("Partnership total", report.TotalSlug, sum.Total, versions, true))
		bars = append(bars, report.Bar{Label: "Partnership total", Value: sum.Total.CoveragePct, Total: true})
	}
	// The period's end: its last day, or today for a period not finished (never a day to come).
	title := "Coverage by council on " + rep.To.AddDays(-1).Format("2 January 2006")
	if rep.ToDate {
		title = "Coverage by council to date, on " + rep.To.AddDays(-1).Format("2 January 2006")
	}
	v.Bars = report.BarChart("chart-by-council", title, bars)
	// Over time: one small chart per council (and the total), one point per row.
	var series []report.Series
	var total *report.Series
	for _, row := range rep.Rows {
		v.TimeLabels = append(v.TimeLabels, row.Label)
	}
	for j, c := range rep.Rows[0].Councils {
		sr := report.Series{Name: c.Name}
		ot := overTimeRow{Name: c.Name}
		for _, row := range rep.Rows {
			if j < len(row.Councils) {
				sr.Values = append(sr.Values, row.Councils[j].CoveragePct)
				ot.Values = append(ot.Values, pct(row.Councils[j].CoveragePct))
			}
		}
		series = append(series, sr)
		v.OverTime = append(v.OverTime, ot)
	}
	if res.Partnership {
		sr := report.Series{Name: "Partnership total"}
		ot := overTimeRow{Name: "Partnership total"}
		for _, row := range rep.Rows {
			sr.Values = append(sr.Values, row.Total.CoveragePct)
			ot.Values = append(ot.Values, pct(row.Total.CoveragePct))
		}
		total = &sr
		v.OverTime = append(v.OverTime, ot)
	}
	if len(rep.Rows) > 1 {
		v.Lines = report.SmallMultiples("chart-over-time", "Coverage over time, "+v.PeriodText, v.TimeLabels, series, total)
	}
	return v
}

func (s *Server) reportFormOf(c echo.Context, p service.ReportParams) (reportForm, bool, []domain.Council, error) {
	f := reportForm{Period: p.Period, From: p.From, To: p.To, Grouping: p.Grouping, Council: p.Council, Suppress: p.Suppress}
	show := actor(c).Role != domain.RoleOfficer
	var cs []domain.Council
	if show {
		var err error
		if cs, err = s.svc.Councils(c.Request().Context()); err != nil {
			return f, show, nil, err
		}
	}
	return f, show, cs, nil
}

// ----- pages

func (s *Server) coveragePage(c echo.Context) error {
	p := reportParamsOf(c)
	res, err := s.svc.CoverageReport(c.Request().Context(), actor(c), p)
	status := http.StatusOK
	var v reportView
	if err != nil {
		fe, ok := fromDomain(err, "")
		if !ok {
			return err
		}
		status, v.Errors = http.StatusUnprocessableEntity, fe
		v.Definitions = report.Definitions
	} else {
		v = s.reportViewOf(res, s.svc.Location())
		p = res.Params
		p.Period, p.From, p.To = c.QueryParam("period"), c.QueryParam("from"), c.QueryParam("to") // as typed
	}
	if v.Form, v.ShowCouncil, v.Councils, err = s.reportFormOf(c, p); err != nil {
		return err
	}
	v.Groupings = groupingOptions
	return s.render(c, status, "report-coverage", v)
}

// councilReportPage is one council's printable report. Another council's officer gets 404.
func (s *Server) councilReportPage(c echo.Context) error {
	p := reportParamsOf(c)
	p.Council = c.Param("slug")
	res, err := s.svc.CoverageReport(c.Request().Context(), actor(c), p)
	if err != nil {
		return err
	}
	v := s.reportViewOf(res, s.svc.Location())
	if len(res.Councils) == 1 {
		v.CouncilName = res.Councils[0].Name
	}
	return s.render(c, http.StatusOK, "report-council", v)
}

// WriteCouncilReportHTML writes one council's report as a self-contained HTML file (styles
// inline, no links to the service), for the report command.
func WriteCouncilReportHTML(w io.Writer, res service.CoverageResult, loc *time.Location) error {
	tmpl, err := parseTemplates(loc)
	if err != nil {
		return err
	}
	t, ok := tmpl.pages["report-council"]
	if !ok {
		return fmt.Errorf("no report-council template")
	}
	s := &Server{}
	v := s.reportViewOf(res, loc)
	if len(res.Councils) == 1 {
		v.CouncilName = res.Councils[0].Name
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "standalone", v); err != nil {
		return err
	}
	_, err = w.Write(buf.Bytes())
	return err
}

// ----- exports

func (s *Server) exportReport(format string) echo.HandlerFunc {
	return func(c echo.Context) error {
		res, err := s.svc.CoverageReport(c.Request().Context(), actor(c), reportParamsOf(c))
		if err != nil {
			return err
		}
		name := "coverage-" + res.Report.From.String() + "-to-" + res.Report.To.AddDays(-1).String()
		if res.Params.Suppress {
			name += "-suppressed"
		}
		var buf bytes.Buffer
		var ctype string
		switch format {
		case "csv":
			ctype = "text/csv; charset=utf-8"
			err = report.WriteCSV(&buf, res.Report, res.ExportOptions())
		case "xlsx":
			ctype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
			err = report.WriteXLSX(&buf, res.Report, res.ExportOptions())
		default:
			ctype = mimeJSONUTF8
			err = report.WriteJSON(&buf, res.Report, res.ExportOptions())
		}
		if err != nil {
			return domain.Internal(err)
		}
		h := c.Response().Header()
		h.Set("Content-Disposition", `attachment; filename="`+name+"."+format+`"`)
		h.Set("Cache-Control", "no-store")
		return c.Blob(http.StatusOK, ctype, buf.Bytes())
	}
}

// lazyCSV sets the CSV headers on the first write, so an error before any row (a refused
// actor, a failed query) can still become an error page.
type lazyCSV struct {
	c       echo.Context
	started bool
}

func (l *lazyCSV) Write(p []byte) (int, error) {
	if !l.started {
		l.started = true
		h := l.c.Response().Header()
		h.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
		h.Set("Content-Disposition", `attachment; filename="evidence.csv"`)
		h.Set("Cache-Control", "no-store")
		l.c.Response().WriteHeader(http.StatusOK)
	}
	n, err := l.c.Response().Write(p)
	l.c.Response().Flush() // send each filled buffer on, so nothing piles up
	return n, err
}

// streamEvidence writes the detail export of the evidence records the actor may see, row by
// row as they are read.
func (s *Server) streamEvidence(c echo.Context) error {
	a := actor(c)
	w := &lazyCSV{c: c}
	_, err := report.WriteEvidenceCSV(w, func(fn func(*domain.EvidenceExportRow) error) error {
		return s.svc.StreamEvidence(c.Request().Context(), a, fn)
	})
	if err != nil && w.started {
		// Too late for an error page: the client sees a cut-short file.
		s.log.Error("evidence export cut short", "route", c.Path(), "error", err)
		return nil
	}
	return err
}

func (s *Server) evidenceCSV(c echo.Context) error { return s.streamEvidence(c) }

// ----- public leaflet events

type eventForm struct {
	Date     dateField
	Kind     string
	Place    string
	Leaflets string
}

type eventRowView struct {
	Date, Council, Kind, Place, RecordedBy string
	Leaflets                               int
}

type eventsView struct {
	CanRecord   bool
	ShowCouncil bool
	Form        eventForm
	Errors      *fieldErrors
	Kinds       []option
	Events      []eventRowView
	Recorded    bool
}

func kindLabel(k string) string {
	for _, o := range service.PublicEventKinds {
		if o.Value == k {
			return o.Label
		}
	}
	return k
}

func (s *Server) renderEvents(c echo.Context, status int, v eventsView) error {
	a := actor(c)
	evs, err := s.svc.PublicEvents(c.Request().Context(), a, 200)
	if err != nil {
		return err
	}
	v.CanRecord = a.CanWork(a.CouncilID, "council") == nil
	v.ShowCouncil = a.Role != domain.RoleOfficer
	for _, k := range service.PublicEventKinds {
		v.Kinds = append(v.Kinds, option{k.Value, k.Label})
	}
	for _, e := range evs {
		v.Events = append(v.Events, eventRowView{Date: e.Date.Format("2 January 2006"), Council: e.CouncilName, Kind: kindLabel(e.Kind),
			Place: e.Place, RecordedBy: e.RecordedBy, Leaflets: e.Leaflets})
	}
	return s.render(c, status, "events-list", v)
}

func (s *Server) eventsPage(c echo.Context) error {
	return s.renderEvents(c, http.StatusOK, eventsView{Recorded: c.QueryParam("recorded") == "1"})
}

func (s *Server) recordEvent(c echo.Context) error {
	f := eventForm{Date: dateField{Day: c.FormValue("date-day"), Month: c.FormValue("date-month"), Year: c.FormValue("date-year")},
		Kind: c.FormValue("kind"), Place: c.FormValue("place"), Leaflets: strings.TrimSpace(c.FormValue("leaflets"))}
	fe := &fieldErrors{}
	in := service.PublicEventInput{Kind: f.Kind, Place: f.Place}
	in.Date = f.Date.parse(fe, "date", "The date of the event")
	n, nerr := strconv.Atoi(f.Leaflets)
	if f.Leaflets == "" || nerr != nil {
		n = -1
	}
	in.Leaflets = n
	_, err := s.svc.RecordPublicEvent(c.Request().Context(), actor(c), in)
	if err == nil && !fe.Any() {
		return redirect(c, "/staff/events?recorded=1")
	}
	if err != nil {
		sfe, ok := fromDomain(err, "")
		if !ok {
			return err
		}
		for _, id := range []string{"date", "kind", "place", "leaflets"} {
			if m := sfe.Get(id); m != "" {
				fe.Add(id, m)
			}
		}
		for _, e := range sfe.List {
			fe.Add(e.Field, e.Message)
		}
	}
	return s.renderEvents(c, http.StatusUnprocessableEntity, eventsView{Form: f, Errors: fe})
}

// ----- API tokens

type tokenRowView struct {
	ID                      int64
	Name, Created, LastUsed string
	Revoked                 bool
	RevokedAt               string
}

type tokensView struct {
	Tokens  []tokenRowView
	Errors  *fieldErrors
	Name    string
	New     string // the token just made: shown this once
	NewName string
	BaseURL string
	Revoked bool
}

func (s *Server) renderTokens(c echo.Context, status int, v tokensView) error {
	ts, err := s.svc.APITokens(c.Request().Context(), actor(c))
	if err != nil {
		return err
	}
	for _, t := range ts {
		r := tokenRowView{ID: t.ID, Name: t.Name, Created: s.registerTime(t.CreatedAt), LastUsed: "Never", Revoked: !t.RevokedAt.IsZero()}
		if !t.LastUsedAt.IsZero() {
			r.LastUsed = s.registerTime(t.LastUsedAt)
		}
		if r.Revoked {
			r.RevokedAt = s.registerTime(t.RevokedAt)
		}
		v.Tokens = append(v.Tokens, r)
	}
	v.BaseURL = strings.TrimRight(s.cfg.BaseURL, "/")
	return s.render(c, status, "tokens-list", v)
}

func (s *Server) tokensPage(c echo.Context) error {
	return s.renderTokens(c, http.StatusOK, tokensView{Revoked: c.QueryParam("revoked") == "1"})
}

func (s *Server) createToken(c echo.Context) error {
	name := c.FormValue("name")
	token, t, err := s.svc.CreateAPIToken(c.Request().Context(), actor(c), name)
	if err != nil {
		fe, ok := fromDomain(err, "")
		if !ok {
			return err
		}
		return s.renderTokens(c, http.StatusUnprocessableEntity, tokensView{Errors: fe, Name: name})
	}
	// Shown once, on this response (no-store): never stored or shown again.
	return s.renderTokens(c, http.StatusOK, tokensView{New: token, NewName: t.Name})
}

func (s *Server) revokeToken(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return echo.ErrNotFound
	}
	if err := s.svc.RevokeAPIToken(c.Request().Context(), actor(c), id); err != nil {
		return err
	}
	return redirect(c, "/staff/tokens?revoked=1")
}
