package report

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/internal/store"
)

// MaxRows is the most rows a report may have (e.g. 50 years by month).
const MaxRows = 600

// Split cuts a period into the rows of a grouping: calendar months ("October 2026"), calendar
// quarters ("2026 Q4"), calendar years ("2026"), or one row for the whole period ("1 Oct 2026 to
// 31 Oct 2026"). A row cut short by the period's start or end keeps only the days inside the
// period and is labelled with its dates instead, so a label never claims days it does not count.
func Split(p Period, g Grouping) ([]Period, []string, error) {
	if p.From.IsZero() || p.To.IsZero() || !p.From.Before(p.To) {
		return nil, nil, domain.NewError(domain.CodeInvalid, "period", "Enter a period whose end is on or after its start.")
	}
	var step func(domain.Date) domain.Date // the first day of the next row
	var label func(domain.Date) string
	switch g {
	case ByMonth:
		step = func(d domain.Date) domain.Date {
			return domain.Date{Year: d.Year, Month: d.Month + 1, Day: 1}.AddDays(0)
		}
		label = func(d domain.Date) string { return d.Format("January 2006") }
	case ByQuarter:
		step = func(d domain.Date) domain.Date {
			q := (int(d.Month) - 1) / 3
			return domain.Date{Year: d.Year, Month: time.Month(3*q + 4), Day: 1}.AddDays(0)
		}
		label = func(d domain.Date) string { return fmt.Sprintf("%d Q%d", d.Year, (int(d.Month)-1)/3+1) }
	case ByYear:
		step = func(d domain.Date) domain.Date { return domain.Date{Year: d.Year + 1, Month: time.January, Day: 1} }
		label = func(d domain.Date) string { return fmt.Sprintf("%d", d.Year) }
	case Whole:
		return []Period{p}, []string{rangeLabel(p)}, nil
	default:
		return nil, nil, domain.NewError(domain.CodeInvalid, "grouping", "Choose how to group the report: by month, quarter or year, or none.")
	}
	var periods []Period
	var labels []string
	for from := p.From; from.Before(p.To); {
		rowStart := from
		next := step(from)
		to := next
		if p.To.Before(to) {
			to = p.To
		}
		row := Period{From: from, To: to}
		// A whole row starts on the row's first day and runs to the next row's first day.
		whole := step(rowStart.AddDays(-1)) == rowStart && to == next
		if whole {
			labels = append(labels, label(rowStart))
		} else {
			labels = append(labels, rangeLabel(row))
		}
		periods = append(periods, row)
		if len(periods) > MaxRows {
			return nil, nil, domain.NewError(domain.CodeInvalid, "too_many_rows",
				fmt.Sprintf("That would make more than %d rows: choose a shorter period or a longer grouping.", MaxRows))
		}
		from = to
	}
	return periods, labels, nil
}

func rangeLabel(p Period) string {
	return p.From.Format("2 Jan 2006") + " to " + p.LastDay().Format("2 Jan 2006")
}

// ParsePeriod reads a period: "2026-10" (a month), "2026-Q4" (a calendar quarter), "2026" (a
// year) or "2026-01-15..2026-03-31" (custom dates, both days included). The grouping returned
// is the one that makes the period a single row with its natural label (ByMonth for a month,
// ByQuarter, ByYear, Whole for custom dates).
func ParsePeriod(spec string) (Period, Grouping, error) {
	bad := domain.NewError(domain.CodeInvalid, "period",
		"Enter a period like 2026-10 (a month), 2026-Q4 (a quarter), 2026 (a year) or 2026-01-15..2026-03-31.")
	spec = strings.TrimSpace(spec)
	year := func(s string) (int, bool) {
		if len(s) != 4 {
			return 0, false
		}
		y := 0
		for _, c := range s {
			if c < '0' || c > '9' {
				return 0, false
			}
			y = y*10 + int(c-'0')
		}
		return y, y >= 1900 && y <= 9998
	}
	switch {
	case strings.Contains(spec, ".."):
		a, b, _ := strings.Cut(spec, "..")
		from, err1 := domain.ParseISODate(strings.TrimSpace(a))
		last, err2 := domain.ParseISODate(strings.TrimSpace(b))
		if err1 != nil || err2 != nil || last.Before(from) {
			return Period{}, "", bad
		}
		return Period{From: from, To: last.AddDays(1)}, Whole, nil
	case len(spec) == 4:
		y, ok := year(spec)
		if !ok {
			return Period{}, "", bad
		}
		return Period{From: domain.Date{Year: y, Month: 1, Day: 1}, To: domain.Date{Year: y + 1, Month: 1, Day: 1}}, ByYear, nil
	case len(spec) == 7 && (spec[5] == 'Q' || spec[5] == 'q') && spec[4] == '-':
		y, ok := year(spec[:4])
		q := int(spec[6] - '0')
		if !ok || q < 1 || q > 4 {
			return Period{}, "", bad
		}
		from := domain.Date{Year: y, Month: time.Month(3*q - 2), Day: 1}
		return Period{From: from, To: domain.Date{Year: y, Month: time.Month(3*q + 1), Day: 1}.AddDays(0)}, ByQuarter, nil
	case len(spec) == 7 && spec[4] == '-':
		d, err := domain.ParseISODate(spec + "-01")
		if err != nil {
			return Period{}, "", bad
		}
		return Period{From: d, To: domain.Date{Year: d.Year, Month: d.Month + 1, Day: 1}.AddDays(0)}, ByMonth, nil
	}
	return Period{}, "", bad
}

// Percent is drivers_aware / licensed_drivers × 100 to one decimal place, half away from zero
// (exact, in integers); nil when there are no licensed drivers.
func Percent(aware, licensed int) *float64 {
	if licensed <= 0 {
		return nil
	}
	tenths := (2*aware*1000 + licensed) / (2 * licensed)
	v := float64(tenths) / 10
	return &v
}

func newFigures() Figures {
	return Figures{IssuedByChannel: map[string]int{}, AcknowledgedByChannel: map[string]int{},
		IssuedByVersion: map[string]int{}, AcknowledgedByVersion: map[string]int{}}
}

// add adds o's counts to f (not the percentage, which finish works out).
func (f *Figures) add(o Figures) {
	f.LicensedDrivers += o.LicensedDrivers
	f.DriversAware += o.DriversAware
	f.DriversEverAware += o.DriversEverAware
	f.Outstanding += o.Outstanding
	f.LeafletsIssued += o.LeafletsIssued
	f.LeafletsAcknowledged += o.LeafletsAcknowledged
	for _, m := range []struct{ to, from map[string]int }{{f.IssuedByChannel, o.IssuedByChannel},
		{f.AcknowledgedByChannel, o.AcknowledgedByChannel}, {f.IssuedByVersion, o.IssuedByVersion},
		{f.AcknowledgedByVersion, o.AcknowledgedByVersion}} {
		for k, v := range m.from {
			m.to[k] += v
		}
	}
	f.RenewalsSubmitted += o.RenewalsSubmitted
	f.RenewalsApproved += o.RenewalsApproved
	f.RenewalsRefused += o.RenewalsRefused
	f.PublicEvents += o.PublicEvents
	f.PublicLeafletsHandedOut += o.PublicLeafletsHandedOut
}

// addEvidence counts n records of a kind, channel and version label.
func (f *Figures) addEvidence(kind, channel, version string, n int) {
	switch domain.EvidenceKind(kind) {
	case domain.KindIssue:
		f.LeafletsIssued += n
		f.IssuedByChannel[channel] += n
		f.IssuedByVersion[version] += n
	case domain.KindAcknowledgement:
		f.LeafletsAcknowledged += n
		f.AcknowledgedByChannel[channel] += n
		f.AcknowledgedByVersion[version] += n
	}
}

// reportCouncils lists the councils asked for (every council when ids is empty), by name.
func reportCouncils(ctx context.Context, st *store.Store, ids []int64) ([]domain.Council, error) {
	all, err := st.Councils(ctx)
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return all, nil
	}
	want := map[int64]bool{}
	for _, id := range ids {
		want[id] = true
	}
	var out []domain.Council
	for _, c := range all {
		if want[c.ID] {
			out = append(out, c)
			delete(want, c.ID)
		}
	}
	if len(want) > 0 {
		return nil, domain.NewError(domain.CodeNotFound, "council_not_found", "There is no such council.")
	}
	return out, nil
}

// versionLabels maps every driver leaflet id to its version label.
func versionLabels(ctx context.Context, st *store.Store) (map[int64]string, error) {
	vs, err := st.LeafletVersions(ctx, domain.AudienceDriver)
	if err != nil {
		return nil, err
	}
	m := make(map[int64]string, len(vs))
	for _, v := range vs {
		m[v.ID] = v.Version
	}
	return m, nil
}

// plan is a report's rows before any figure: the query's period split into rows, the rows after
// today left out and a row running past today cut short at today (to date), so that no figure is
// taken on, or counts, a day still to come.
type plan struct {
	q        Query
	now      time.Time
	loc      *time.Location
	today    domain.Date
	periods  []Period
	labels   []string
	toDate   []bool
	councils []domain.Council
}

func newPlan(ctx context.Context, st *store.Store, q Query) (*plan, error) {
	loc, err := time.LoadLocation(domain.ReportZone)
	if err != nil {
		return nil, err
	}
	p := &plan{q: q, now: q.Now, loc: loc, today: q.Today}
	if p.now.IsZero() {
		p.now = time.Now()
	}
	p.now = p.now.UTC()
	if p.today.IsZero() {
		p.today = domain.DateOf(p.now.In(loc))
	}
	periods, labels, err := Split(q.Period, q.Grouping)
	if err != nil {
		return nil, err
	}
	for i, per := range periods {
		if per.From.After(p.today) {
			break // this row and the rest have not begun
		}
		cut := false
		if per.LastDay().After(p.today) {
			// A label naming the row's dates would state a day to come: it names the cut row's.
			whole := labels[i] != rangeLabel(per)
			per.To, cut = p.today.AddDays(1), true
			if whole {
				labels[i] += " to date (" + p.today.Format("2 Jan 2006") + ")"
			} else {
				labels[i] = rangeLabel(per) + " (to date)"
			}
		}
		p.periods, p.labels, p.toDate = append(p.periods, per), append(p.labels, labels[i]), append(p.toDate, cut)
	}
	if len(p.periods) == 0 {
		return nil, domain.NewError(domain.CodeInvalid, "period_future",
			"That period has not started yet: choose one that starts on or before today, "+p.today.Format("2 January 2006")+".")
	}
	if p.councils, err = reportCouncils(ctx, st, q.CouncilIDs); err != nil {
		return nil, err
	}
	return p, nil
}

// assemble builds the report from per-council figures (figs[row][council]), in council order.
func (p *plan) assemble(figs [][]Figures) Report {
	q := p.q
	rep := Report{From: q.Period.From, To: q.Period.To, Grouping: q.Grouping, GeneratedAt: p.now, Today: p.today}
	for i, per := range p.periods {
		row := Row{Period: per, ToDate: p.toDate[i], Label: p.labels[i], Total: newFigures(), Councils: make([]CouncilFigures, len(p.councils))}
		for j, c := range p.councils {
			f := figs[i][j]
			f.CoveragePct = Percent(f.DriversAware, f.LicensedDrivers)
			row.Councils[j] = CouncilFigures{CouncilID: c.ID, Slug: c.Slug, Name: c.Name, Figures: f}
			row.Total.add(f)
		}
		row.Total.CoveragePct = Percent(row.Total.DriversAware, row.Total.LicensedDrivers)
		rep.Rows = append(rep.Rows, row)
	}
	if last := p.periods[len(p.periods)-1].To; last != q.Period.To {
		rep.To, rep.ToDate = last, true // the period had not finished: the report runs to today
	}
	rep.Definitions = reportDefinitions(rep, p.councils, p.loc)
	return rep
}

// blank is figs[row][council], every figure zero.
func (p *plan) blank() [][]Figures {
	figs := make([][]Figures, len(p.periods))
	for i := range figs {
		figs[i] = make([]Figures, len(p.councils))
		for j := range figs[i] {
			figs[i][j] = newFigures()
		}
	}
	return figs
}

// Coverage computes a report for the query (every council when q.CouncilIDs is empty): rows in
// period order, each with one CouncilFigures per council, by council name, and the partnership
// total. Public* figures are left 0 for the public-events report to fill in.
//
// It adds up summaries kept by the store (per council and day: changes in the licensed, aware,
// ever aware and outstanding counts, worked out by the rules in domain/coverage.go, and counts
// of evidence and renewals), which every write the report counts keeps up to date in its own
// transaction (store: coverage_incremental.go), so the report always equals Naive and never
// waits for a rebuild.
func Coverage(ctx context.Context, st *store.Store, q Query) (Report, error) {
	p, err := newPlan(ctx, st, q)
	if err != nil {
		return Report{}, err
	}
	col := make(map[int64]int, len(p.councils))
	ids := make([]int64, len(p.councils))
	for i, c := range p.councils {
		ids[i], col[c.ID] = c.ID, i
	}
	ranges := make([]store.DayRange, len(p.periods))
	for i, per := range p.periods {
		ranges[i] = store.DayRange{From: per.From, To: per.To}
	}
	sums, err := st.CoverageSums(ctx, ids, ranges)
	if err != nil {
		return Report{}, err
	}
	labelOf, err := versionLabels(ctx, st)
	if err != nil {
		return Report{}, err
	}
	figs := p.blank()
	for _, l := range sums.Stock {
		if j, ok := col[l.CouncilID]; ok {
			f := &figs[l.Period][j]
			f.LicensedDrivers, f.DriversAware, f.Outstanding, f.DriversEverAware = l.Licensed, l.Aware, l.Outstanding, l.EverAware
		}
	}
	for _, e := range sums.Evidence {
		if j, ok := col[e.CouncilID]; ok {
			figs[e.Period][j].addEvidence(e.Kind, e.Channel, labelOf[e.LeafletID], e.N)
		}
	}
	for _, r := range sums.Renewals {
		if j, ok := col[r.CouncilID]; ok {
			f := &figs[r.Period][j]
			f.RenewalsSubmitted += r.Submitted
			f.RenewalsApproved += r.Approved
			f.RenewalsRefused += r.Refused
		}
	}
	return p.assemble(figs), nil
}
