package service

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/internal/report"
	"github.com/herts-msp/taxi-renewals/internal/store"
)

// Coverage reports, public leaflet events, API tokens and the evidence export. The report's
// figures come from report.Coverage; this layer decides which councils the actor may see
// (Actor.CanRead), adds the public-leaflet event counts, and checks every input.

// ReportParams are a report request as typed: the page's form, the API's query, the CLI.
type ReportParams struct {
	Period   string // 2026-10 (month), 2026-Q4 (quarter), 2026 (year); or empty with From and To
	From     string // custom period: first day, YYYY-MM-DD
	To       string // custom period: last day included, YYYY-MM-DD
	Grouping string // month, quarter, year or none; default month (none for a single month)
	Council  string // a council's slug; empty: every council the actor may see
	Suppress bool
}

// CoverageResult is a report and what it was asked for.
type CoverageResult struct {
	Report   report.Report
	Params   ReportParams // as understood, with defaults filled in
	Title    string       // e.g. "October 2026", "1 January 2026 to 31 March 2026"
	Councils []domain.Council
	// Partnership is true when the report covers every council, so its total is the
	// partnership's; false for one council (an officer's, or one chosen).
	Partnership bool
}

// ExportOptions are the encoders' options for this result.
func (r CoverageResult) ExportOptions() report.ExportOptions {
	return report.ExportOptions{Suppress: r.Params.Suppress, IncludeTotal: r.Partnership}
}

// Limits on reports: far enough back for any history, never an unbounded number of rows.
const (
	reportEarliestYear = 2000
	reportMaxYears     = 10
	reportMaxRows      = 10 * 12
)

func invalidReport(field, msg string) error {
	e := domain.NewError(domain.CodeInvalid, "bad_report_query", msg)
	e.Fields = map[string]string{field: msg}
	return e
}

// ParseReportPeriod understands a period as typed: 2026-10, 2026-Q4, 2026, or from/to dates.
// It returns the half-open period, its natural grouping, and its title.
func ParseReportPeriod(period, from, to string, today domain.Date) (report.Period, report.Grouping, string, error) {
	period = strings.TrimSpace(period)
	from, to = strings.TrimSpace(from), strings.TrimSpace(to)
	year := func(s string) (int, error) {
		y, _ := strconv.Atoi(s)
		if y < reportEarliestYear || y > today.Year+1 {
			return 0, invalidReport("period", fmt.Sprintf("Enter a year from %d to %d.", reportEarliestYear, today.Year+1))
		}
		return y, nil
	}
	switch {
	case period != "" && (from != "" || to != ""):
		return report.Period{}, "", "", invalidReport("period", "Enter either a period or a from and to date, not both.")
	case period != "":
		per, g, err := report.ParsePeriod(period)
		if err != nil {
			return report.Period{}, "", "", invalidReport("period", "Enter the period as a month (2026-10), a quarter (2026-Q4) or a year (2026).")
		}
		if _, err := year(strconv.Itoa(per.From.Year)); err != nil {
			return report.Period{}, "", "", err
		}
		if _, err := year(strconv.Itoa(per.LastDay().Year)); err != nil {
			return report.Period{}, "", "", err
		}
		switch g {
		case report.ByMonth:
			return per, report.Whole, per.From.Format("January 2006"), nil
		case report.ByQuarter:
			return per, report.ByMonth, fmt.Sprintf("%d Q%d", per.From.Year, (int(per.From.Month)-1)/3+1), nil
		case report.ByYear:
			return per, report.ByMonth, strconv.Itoa(per.From.Year), nil
		}
		from, to = per.From.String(), per.LastDay().String() // custom dates written as from..to
	case from == "" && to == "":
		// The twelve months up to and including this one.
		end := addMonths(domain.Date{Year: today.Year, Month: today.Month, Day: 1}, 1)
		start := addMonths(end, -12)
		return report.Period{From: start, To: end}, report.ByMonth, "The 12 months to " + end.AddDays(-1).Format("January 2006"), nil
	}
	f, err := domain.ParseISODate(from)
	if err != nil {
		return report.Period{}, "", "", invalidReport("from", "Enter the first day as a date, for example 2026-01-01.")
	}
	t, err := domain.ParseISODate(to)
	if err != nil {
		return report.Period{}, "", "", invalidReport("to", "Enter the last day as a date, for example 2026-03-31.")
	}
	if f.Year < reportEarliestYear || t.Year > today.Year+1 {
		return report.Period{}, "", "", invalidReport("from", fmt.Sprintf("Enter dates from %d to %d.", reportEarliestYear, today.Year+1))
	}
	if t.Before(f) {
		return report.Period{}, "", "", invalidReport("to", "The last day must be the same as or after the first day.")
	}
	if !t.Before(f.AddYears(reportMaxYears)) {
		return report.Period{}, "", "", invalidReport("to", fmt.Sprintf("A report can cover at most %d years.", reportMaxYears))
	}
	title := f.Format("2 January 2006") + " to " + t.Format("2 January 2006")
	return report.Period{From: f, To: t.AddDays(1)}, report.ByMonth, title, nil
}

func addMonths(d domain.Date, n int) domain.Date {
	return domain.DateOf(time.Date(d.Year, d.Month+time.Month(n), d.Day, 0, 0, 0, 0, time.UTC))
}

// reportQuery checks a report request against the actor: an officer's report is always their
// own council's; another council's slug is not found, like any record of theirs.
func (s *Service) reportQuery(ctx context.Context, a domain.Actor, p ReportParams) (report.Query, CoverageResult, error) {
	per, natural, title, err := ParseReportPeriod(p.Period, p.From, p.To, s.Today())
	if err != nil {
		return report.Query{}, CoverageResult{}, err
	}
	g := report.Grouping(strings.TrimSpace(p.Grouping))
	switch g {
	case "":
		g = natural
	case report.ByMonth, report.ByQuarter, report.ByYear, report.Whole:
	default:
		return report.Query{}, CoverageResult{}, invalidReport("grouping", "Choose how to group the figures: by month, quarter, year, or the whole period.")
	}
	if g == report.ByMonth && monthsBetween(per.From, per.To) > reportMaxRows {
		return report.Query{}, CoverageResult{}, invalidReport("grouping", fmt.Sprintf("Group by quarter or year: by month gives more than %d rows.", reportMaxRows))
	}
	all, err := s.store.Councils(ctx)
	if err != nil {
		return report.Query{}, CoverageResult{}, domain.Internal(err)
	}
	p.Grouping = string(g)
	res := CoverageResult{Params: p, Title: title}
	slug := strings.TrimSpace(p.Council)
	switch {
	case a.Role == domain.RoleOfficer && slug == "":
		for _, c := range all {
			if c.ID == a.CouncilID {
				res.Councils = []domain.Council{c}
			}
		}
		if len(res.Councils) == 0 {
			return report.Query{}, CoverageResult{}, a.CanRead(0, "council")
		}
	case slug != "":
		for _, c := range all {
			if c.Slug == slug {
				res.Councils = []domain.Council{c}
			}
		}
		if len(res.Councils) == 0 {
			return report.Query{}, CoverageResult{}, domain.NotFound()
		}
	default:
		res.Councils, res.Partnership = all, true
	}
	q := report.Query{Period: per, Grouping: g}
	for _, c := range res.Councils {
		if err := a.CanRead(c.ID, "council"); err != nil {
			return report.Query{}, CoverageResult{}, err
		}
		if !res.Partnership {
			q.CouncilIDs = append(q.CouncilIDs, c.ID)
		}
	}
	return q, res, nil
}

func monthsBetween(from, to domain.Date) int {
	return (to.Year-from.Year)*12 + int(to.Month-from.Month)
}

// CoverageReport is the coverage report an actor asked for, with public-leaflet events.
func (s *Service) CoverageReport(ctx context.Context, a domain.Actor, p ReportParams) (CoverageResult, error) {
	q, res, err := s.reportQuery(ctx, a, p)
	if err != nil {
		return res, err
	}
	q.Now = s.now() // the service's clock, so tests and reports agree
	rep, err := coverage(ctx, s.store, q)
	if domain.ErrorCode(err) == domain.CodeInvalid {
		return res, err // a period that has not started yet
	}
	if err != nil {
		return res, domain.Internal(err)
	}
	if err := s.addPublicEvents(ctx, &rep, q); err != nil {
		return res, domain.Internal(err)
	}
	res.Report = rep
	return res, nil
}

// addPublicEvents counts the public-leaflet events of each council in each row.
func (s *Service) addPublicEvents(ctx context.Context, rep *report.Report, q report.Query) error {
	if len(rep.Rows) == 0 {
		return nil
	}
	days, err := s.store.PublicEventDays(ctx, q.CouncilIDs, q.Period.From, q.Period.To)
	if err != nil {
		return err
	}
	for _, d := range days {
		for i := range rep.Rows {
			row := &rep.Rows[i]
			if d.Date.Before(row.Period.From) || !d.Date.Before(row.Period.To) {
				continue
			}
			for j := range row.Councils {
				if row.Councils[j].CouncilID == d.CouncilID {
					row.Councils[j].PublicEvents += d.Events
					row.Councils[j].PublicLeafletsHandedOut += d.Leaflets
					row.Total.PublicEvents += d.Events
					row.Total.PublicLeafletsHandedOut += d.Leaflets
				}
			}
		}
	}
	return nil
}

// ----- public leaflet events

// Kinds of public leaflet event.
var PublicEventKinds = []struct{ Value, Label string }{
	{"enforcement", "Enforcement operation"},
	{"awareness", "Awareness event"},
	{"other", "Other event"},
}

// PublicEventInput is an event as an officer records it.
type PublicEventInput struct {
	Date     domain.Date
	Kind     string
	Place    string
	Leaflets int
}

// MaxEventLeaflets bounds the leaflets handed out at one event (a typing error guard).
const MaxEventLeaflets = 100000

// RecordPublicEvent records an event for the officer's own council. Analysts and admins
// cannot record (Actor.CanWork).
func (s *Service) RecordPublicEvent(ctx context.Context, a domain.Actor, in PublicEventInput) (int64, error) {
	if err := a.CanWork(a.CouncilID, "council"); err != nil {
		return 0, err
	}
	fields := map[string]string{}
	today := s.Today()
	switch {
	case in.Date.IsZero():
		fields["date"] = "Enter the date of the event."
	case in.Date.After(today):
		fields["date"] = "The date of the event must be today or in the past."
	case in.Date.Year < reportEarliestYear:
		fields["date"] = fmt.Sprintf("The date of the event must be in %d or later.", reportEarliestYear)
	}
	known := false
	for _, k := range PublicEventKinds {
		known = known || k.Value == in.Kind
	}
	if !known {
		fields["kind"] = "Choose the kind of event."
	}
	in.Place = strings.TrimSpace(in.Place)
	switch {
	case in.Place == "":
		fields["place"] = "Enter where the event took place."
	case utf8.RuneCountInString(in.Place) > 200:
		fields["place"] = "Place must be 200 characters or fewer."
	}
	if in.Leaflets < 0 || in.Leaflets > MaxEventLeaflets {
		fields["leaflets"] = fmt.Sprintf("Enter the number of leaflets handed out, from 0 to %d.", MaxEventLeaflets)
	}
	if len(fields) > 0 {
		e := domain.NewError(domain.CodeInvalid, "bad_event", "Check the event's details.")
		e.Fields = fields
		return 0, e
	}
	now := s.now()
	id, err := s.store.RecordPublicEvent(ctx, store.PublicEvent{CouncilID: a.CouncilID, Date: in.Date, Kind: in.Kind, Place: in.Place,
		Leaflets: in.Leaflets, RecordedAt: now}, a.StaffID, domain.AuditEntry{At: now, ActorID: a.StaffID, Actor: a.Label(), IP: a.IP,
		Action: "public_event.recorded", CouncilID: a.CouncilID,
		Detail: map[string]any{"date": in.Date.String(), "kind": in.Kind, "leaflets": in.Leaflets}})
	if err != nil {
		return 0, domain.Internal(err)
	}
	return id, nil
}

// PublicEvents lists the latest events the actor may see: an officer's own council's, or
// every council's for analysts and admins.
func (s *Service) PublicEvents(ctx context.Context, a domain.Actor, limit int) ([]store.PublicEvent, error) {
	var ids []int64
	if a.Role == domain.RoleOfficer {
		if err := a.CanRead(a.CouncilID, "council"); err != nil {
			return nil, err
		}
		ids = []int64{a.CouncilID}
	}
	evs, err := s.store.PublicEvents(ctx, ids, limit)
	if err != nil {
		return nil, domain.Internal(err)
	}
	return evs, nil
}

// ----- API tokens

// apiTokenPrefix makes a token recognisable (e.g. by secret scanners).
const apiTokenPrefix = "rnw_"

func canHoldAPITokens(a domain.Actor) error {
	if a.Role == domain.RoleAnalyst || a.Role == domain.RoleAdmin {
		return nil
	}
	return domain.NewError(domain.CodeForbidden, "analysts_only", "Only analysts and administrators can have API tokens.")
}

// CreateAPIToken makes a token for the actor's own tools and returns it: the only time it is
// shown. Only its SHA-256 is kept. Creating a token is an account action, so analysts may.
func (s *Service) CreateAPIToken(ctx context.Context, a domain.Actor, name string) (string, store.APIToken, error) {
	if err := canHoldAPITokens(a); err != nil {
		return "", store.APIToken{}, err
	}
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return "", store.APIToken{}, invalidReport("name", "Enter a name for the token, for example the tool that will use it.")
	case utf8.RuneCountInString(name) > 100:
		return "", store.APIToken{}, invalidReport("name", "Name must be 100 characters or fewer.")
	}
	token := apiTokenPrefix + randomToken()
	now := s.now()
	t, err := s.store.CreateAPIToken(ctx, a.StaffID, name, tokenHash(token), now, domain.AuditEntry{At: now, ActorID: a.StaffID,
		Actor: a.Label(), IP: a.IP, Action: "api_token.created", Detail: map[string]any{"name": name}})
	if err != nil {
		return "", store.APIToken{}, domain.Internal(err)
	}
	return token, t, nil
}

// APITokens lists the actor's own tokens (officers have none).
func (s *Service) APITokens(ctx context.Context, a domain.Actor) ([]store.APIToken, error) {
	if canHoldAPITokens(a) != nil {
		return nil, nil
	}
	ts, err := s.store.APITokensOf(ctx, a.StaffID)
	if err != nil {
		return nil, domain.Internal(err)
	}
	return ts, nil
}

// RevokeAPIToken revokes one of the actor's own tokens; anyone else's is not found.
func (s *Service) RevokeAPIToken(ctx context.Context, a domain.Actor, id int64) error {
	if err := canHoldAPITokens(a); err != nil {
		return err
	}
	now := s.now()
	err := s.store.RevokeAPIToken(ctx, id, a.StaffID, now, domain.AuditEntry{At: now, ActorID: a.StaffID, Actor: a.Label(), IP: a.IP,
		Action: "api_token.revoked"})
	if err != nil && domain.ErrorCode(err) == domain.CodeInternal {
		return domain.Internal(err)
	}
	return err
}

// APIActor turns a bearer token into the Actor of its owner. A missing, unknown or revoked
// token, or one whose owner is disabled or no longer an analyst or admin, is unauthorised.
func (s *Service) APIActor(ctx context.Context, token, ip string) (domain.Actor, error) {
	bad := domain.NewError(domain.CodeUnauthorised, "bad_token", "The API token is missing, not valid or revoked.")
	if !strings.HasPrefix(token, apiTokenPrefix) || len(token) > 200 {
		return domain.Actor{}, bad
	}
	_, u, err := s.store.UseAPIToken(ctx, tokenHash(token), s.now())
	if err != nil {
		if domain.ErrorCode(err) == domain.CodeInternal {
			return domain.Actor{}, domain.Internal(err)
		}
		return domain.Actor{}, bad
	}
	a := domain.Actor{StaffID: u.ID, Name: u.Name, Email: u.Email, Role: u.Role, CouncilID: u.CouncilID, IP: ip}
	if u.Disabled || canHoldAPITokens(a) != nil {
		return domain.Actor{}, bad
	}
	return a, nil
}

// ----- the detail export of evidence records

// StreamEvidence feeds the evidence records the actor may see to fn, one at a time: an
// officer's own council's, or every council's for analysts and admins.
func (s *Service) StreamEvidence(ctx context.Context, a domain.Actor, fn func(*domain.EvidenceExportRow) error) error {
	var ids []int64
	if a.Role == domain.RoleOfficer {
		if err := a.CanRead(a.CouncilID, "council"); err != nil {
			return err
		}
		ids = []int64{a.CouncilID}
	} else if err := a.CanRead(0, "council"); err != nil {
		return err
	}
	return s.store.StreamEvidence(ctx, ids, fn)
}

// ----- reports to each council (renewals report)

// CouncilReportRun is one council's report written by the report command.
type CouncilReportRun struct {
	Council domain.Council
	Result  CoverageResult
}

// CouncilReports builds each council's report for a period, for the report command.
func (s *Service) CouncilReports(ctx context.Context, period string) ([]CouncilReportRun, error) {
	cs, err := s.store.Councils(ctx)
	if err != nil {
		return nil, domain.Internal(err)
	}
	sys := SystemActor("cli:report")
	var out []CouncilReportRun
	for _, c := range cs {
		res, err := s.CoverageReport(ctx, sys, ReportParams{Period: period, Council: c.Slug})
		if err != nil {
			return nil, err
		}
		out = append(out, CouncilReportRun{Council: c, Result: res})
	}
	return out, nil
}

// QueueCouncilReportEmail queues the email telling a council's licensing contact that their
// report is ready, through the outbox. A council without a contact address is skipped
// (false).
func (s *Service) QueueCouncilReportEmail(ctx context.Context, c domain.Council, title string, files []string) (bool, error) {
	if strings.TrimSpace(c.ContactEmail) == "" {
		return false, nil
	}
	body := fmt.Sprintf("Hello,\n\nThe modern slavery awareness coverage report for %s, %s, is ready.\n\n"+
		"It shows the licensed drivers, the leaflets issued and acknowledged, the drivers aware and the coverage, "+
		"with the definitions used. The files are:\n\n- %s\n\n"+
		"You can also see it at any time on the back office: %s/staff/reports\n\n"+
		"Hertfordshire Modern Slavery Partnership\n", c.Name, title, strings.Join(files, "\n- "), strings.TrimRight(s.opt.BaseURL, "/"))
	err := s.store.Enqueue(ctx, store.OutboxMessage{To: c.ContactEmail,
		Subject: "Awareness coverage report: " + c.Name + ", " + title, Body: body}, s.now())
	if err != nil {
		return false, domain.Internal(err)
	}
	return true, nil
}

// coverage calculates a report (a variable so tests could replace it).
var coverage = report.Coverage
