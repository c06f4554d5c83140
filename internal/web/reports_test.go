package web_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/internal/report"
	"github.com/herts-msp/taxi-renewals/internal/store"
	"github.com/herts-msp/taxi-renewals/internal/testenv"
)

// reportEnv is a service with two renewals sent online (Dacorum and Watford), so both councils
// have issue and acknowledgement evidence in November 2026.
func reportEnv(t *testing.T) *testenv.Env {
	t.Helper()
	env := testenv.New(t, testenv.Options{})
	submitOnline(t, env, "dacorum", testenv.DueDacorum)
	submitOnline(t, env, "watford", testenv.DueWatford)
	return env
}

// apiGet requests an API path with an Authorization header (none when token is "").
func apiGet(t *testing.T, env *testenv.Env, path, token string) (int, http.Header, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, env.Server.URL+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	return resp.StatusCode, resp.Header, b.String()
}

func TestCoveragePageOfficerSeesOwnCouncilAnalystSeesAll(t *testing.T) {
	t.Parallel()
	env := reportEnv(t)
	officer := env.SignInStaff(t, env.AddStaff(t, domain.RoleOfficer, "dacorum"))
	p := officer.Get("/staff/reports?period=2026-11")
	wantStatus(t, p, http.StatusOK)
	for _, want := range []string{"Dacorum Borough Council", "Awareness coverage", `id="definitions"`, "licensed_drivers",
		"coverage_pct", `role="img"`, "<title id=\"chart-by-council-title\">", "<desc id=\"chart-by-council-desc\">",
		"Coverage on the period", `href="/staff/reports/export.csv?grouping=none&amp;period=2026-11"`, `href="/staff/reports/export.xlsx?grouping=none&amp;period=2026-11"`,
		`href="/staff/reports/export.json?grouping=none&amp;period=2026-11"`, `href="/staff/reports/council/dacorum?grouping=none&amp;period=2026-11"`} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("officer's coverage page lacks %q", want)
		}
	}
	for _, not := range []string{"Watford", "Partnership total", `name="council"`} {
		if strings.Contains(p.Body, not) {
			t.Errorf("officer's coverage page shows %q", not)
		}
	}
	// An officer asking for another council gets not found, in the page and the exports.
	wantStatus(t, officer.Get("/staff/reports?period=2026-11&council=watford"), http.StatusNotFound)
	wantStatus(t, officer.Get("/staff/reports/export.csv?period=2026-11&council=watford"), http.StatusNotFound)

	analyst := env.SignInStaff(t, env.AddStaff(t, domain.RoleAnalyst, ""))
	p = analyst.Get("/staff/reports?period=2026&grouping=month")
	wantStatus(t, p, http.StatusOK)
	councils, _ := env.Store.Councils(context.Background())
	for _, c := range councils {
		if !strings.Contains(p.Body, c.Name) {
			t.Errorf("analyst's page lacks %s", c.Name)
		}
	}
	for _, want := range []string{"Partnership total", `id="chart-over-time-title"`, "November 2026", "stroke-dasharray", ">latest ", `-hatch)"`} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("analyst's page lacks %q", want)
		}
	}
	if strings.Contains(p.Body, "<script") {
		t.Error("the page has a script")
	}
}

func TestCoverageSVGHasTitleDescAndTable(t *testing.T) {
	t.Parallel()
	v := 50.0
	svg := string(report.BarChart("c1", "Coverage <by> council", []report.Bar{{Label: "A & B", Value: &v}, {Label: "C"}}))
	for _, want := range []string{`role="img"`, `aria-labelledby="c1-title c1-desc"`, `<title id="c1-title">Coverage &lt;by&gt; council</title>`,
		`<desc id="c1-desc">`, "A &amp; B: 50.0%", "C: no figure"} {
		if !strings.Contains(svg, want) {
			t.Errorf("bar chart lacks %q:\n%s", want, svg)
		}
	}
	// The partnership total's bar is set apart: hatched with an outline and a bold label.
	tot := string(report.BarChart("c3", "By council", []report.Bar{{Label: "A", Value: &v}, {Label: "Partnership total", Value: &v, Total: true}}))
	for _, want := range []string{`<pattern id="c3-hatch"`, `fill="url(#c3-hatch)" stroke="#0b0c0c"`, `font-weight="bold">Partnership total</text>`} {
		if !strings.Contains(tot, want) {
			t.Errorf("bar chart's total lacks %q:\n%s", want, tot)
		}
	}
	if strings.Contains(svg, "url(#c1-hatch)") {
		t.Error("a council's bar is hatched")
	}
	// Coverage over time: one small panel per council and one for the total, every figure in
	// the description, the total dashed in every council's panel.
	var series []report.Series
	for i := 0; i < 10; i++ {
		x := float64(10 * i)
		series = append(series, report.Series{Name: fmt.Sprintf("Council %d", i), Values: []*float64{&v, nil, &x}})
	}
	total := report.Series{Name: "Partnership total", Values: []*float64{&v, &v, &v}}
	lines := string(report.SmallMultiples("c2", "Over time", []string{"Jan", "Feb", "Mar"}, series, &total))
	for _, want := range []string{`<title id="c2-title">`, `<desc id="c2-desc">`, "Council 9: Jan 50.0%, Feb no figure, Mar 90.0%",
		"Partnership total: Jan 50.0%, Feb 50.0%, Mar 50.0%", "latest 90.0%", `font-weight="bold">Partnership total</text>`} {
		if !strings.Contains(lines, want) {
			t.Errorf("small multiples lack %q", want)
		}
	}
	if n := strings.Count(lines, "<g>"); n != 11 {
		t.Errorf("%d panels, want 11 (ten councils and the total)", n)
	}
	if n := strings.Count(lines, `stroke-dasharray="5 3"`); n != 1+10+1 { // the key, each council's panel, the total's own
		t.Errorf("%d dashed total lines, want 12", n)
	}
	one := string(report.SmallMultiples("c4", "Over time", []string{"Jan", "Feb"}, series[:1], nil))
	if strings.Count(one, "<g>") != 1 || strings.Contains(one, "Partnership total") {
		t.Errorf("one council's chart: %s", one)
	}
}

func TestCoverageBadParametersAre422WithTheForm(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	analyst := env.SignInStaff(t, env.AddStaff(t, domain.RoleAnalyst, ""))
	for _, tc := range []struct{ query, field, message string }{
		{"period=2026-13", "period", "Enter the period as a month"},
		{"period=soon", "period", "Enter the period as a month"},
		{"period=1999", "period", "Enter a year from 2000"},
		{"from=2026-05-01&to=2026-04-01", "to", "The last day must be the same as or after the first day"},
		{"from=2026-02-30&to=2026-04-01", "from", "Enter the first day as a date"},
		{"from=2026-01-01", "to", "Enter the last day as a date"},
		{"period=2026&from=2026-01-01&to=2026-02-01", "period", "either a period or a from and to date"},
		{"period=2026&grouping=week", "grouping", "Choose how to group"},
		{"from=2001-01-01&to=2026-01-01", "to", "at most 10 years"},
		{"period=2026&council=nowhere", "", ""},
	} {
		t.Run(tc.query, func(t *testing.T) {
			p := analyst.Get("/staff/reports?" + tc.query)
			if tc.field == "" {
				wantStatus(t, p, http.StatusNotFound)
				return
			}
			wantStatus(t, p, http.StatusUnprocessableEntity)
			for _, want := range []string{"Error: Awareness coverage", `href="#` + tc.field + `"`, tc.message, `<form method="get" action="/staff/reports"`} {
				if !strings.Contains(p.Body, want) {
					t.Errorf("422 page lacks %q", want)
				}
			}
			if e := analyst.Get("/staff/reports/export.csv?" + tc.query); e.Status != http.StatusUnprocessableEntity {
				t.Errorf("export: status %d, want 422", e.Status)
			}
		})
	}
}

func TestCoverageExportsParseBack(t *testing.T) {
	t.Parallel()
	env := reportEnv(t)
	analyst := env.SignInStaff(t, env.AddStaff(t, domain.RoleAnalyst, ""))

	// CSV: header, 10 councils and the total, then the definitions.
	p := analyst.Get("/staff/reports/export.csv?period=2026-11")
	wantStatus(t, p, http.StatusOK)
	if ct := p.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if cd := p.Header.Get("Content-Disposition"); !strings.Contains(cd, "coverage-2026-11-01-to-2026-11-26.csv") {
		t.Errorf("Content-Disposition %q", cd)
	}
	r := csv.NewReader(strings.NewReader(p.Body))
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	header := recs[0]
	col := map[string]int{}
	for i, h := range header {
		col[h] = i
	}
	for _, want := range []string{"licensed_drivers", "drivers_aware", "coverage_pct", "outstanding", "drivers_ever_aware", "leaflets_issued_online",
		"leaflets_issued_in_person", "leaflets_acknowledged_post", "leaflets_issued_v1.0", "leaflets_acknowledged_v1.0",
		"renewals_submitted", "renewals_decided", "public_events", "public_leaflets_handed_out", "suppressed"} {
		if _, ok := col[want]; !ok {
			t.Errorf("CSV has no column %s: %v", want, header)
		}
	}
	byCouncil := map[string][]string{}
	for _, rec := range recs[1:] {
		if rec[0] == "column" {
			break
		}
		byCouncil[rec[col["council"]]] = rec
	}
	if len(byCouncil) != 11 {
		t.Errorf("CSV has %d council rows, want 10 and the total", len(byCouncil))
	}
	dac := byCouncil["dacorum"]
	if dac == nil || dac[col["leaflets_acknowledged_online"]] != "1" || dac[col["renewals_submitted"]] != "1" || dac[col["period_to"]] != "2026-11-26" { // to date: the clock says 26 November
		t.Errorf("Dacorum's CSV row: %v", dac)
	}
	if tot := byCouncil[report.TotalSlug]; tot == nil || tot[col["leaflets_acknowledged"]] != "2" {
		t.Errorf("total row: %v", tot)
	}
	if !strings.Contains(p.Body, "column,definition\r\n") || !strings.Contains(p.Body, report.NoSuppression) {
		t.Error("CSV lacks its definitions or its suppression note")
	}

	// XLSX: opened with excelize and read back.
	p = analyst.Get("/staff/reports/export.xlsx?period=2026-11")
	wantStatus(t, p, http.StatusOK)
	f, err := excelize.OpenReader(strings.NewReader(p.Body))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := f.GetSheetList(); len(got) != 2 || got[0] != "Coverage" || got[1] != "Definitions" {
		t.Errorf("sheets %v", got)
	}
	rows, err := f.GetRows("Coverage")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 12 || rows[0][col["licensed_drivers"]] != "licensed_drivers" {
		t.Fatalf("Coverage sheet: %d rows, header %v", len(rows), rows[0])
	}
	var found bool
	for _, row := range rows[1:] {
		if row[col["council"]] == "dacorum" {
			found = true
			if row[col["leaflets_acknowledged_online"]] != "1" {
				t.Errorf("XLSX Dacorum acknowledged online = %q", row[col["leaflets_acknowledged_online"]])
			}
			cellName, _ := excelize.CoordinatesToCellName(col["leaflets_issued"]+1, 1)
			_ = cellName
		}
	}
	if !found {
		t.Error("no Dacorum row in the XLSX")
	}
	defs, _ := f.GetRows("Definitions")
	if len(defs) < len(report.Definitions)+1 || defs[1][0] != "licensed_drivers" {
		t.Errorf("Definitions sheet: %v", defs)
	}

	// JSON.
	p = analyst.Get("/staff/reports/export.json?period=2026-11")
	wantStatus(t, p, http.StatusOK)
	var doc struct {
		From        string `json:"from"`
		To          string `json:"to"`
		Suppression struct {
			Applied bool `json:"applied"`
		} `json:"suppression"`
		Definitions []report.Definition `json:"definitions"`
		Rows        []struct {
			Councils []struct {
				Council string         `json:"council"`
				Figures map[string]any `json:"figures"`
			} `json:"councils"`
			Total *struct {
				Figures map[string]any `json:"figures"`
			} `json:"partnership_total"`
		} `json:"rows"`
	}
	if err := json.Unmarshal([]byte(p.Body), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.From != "2026-11-01" || doc.To != "2026-11-26" || doc.Suppression.Applied || len(doc.Definitions) < len(report.Definitions) {
		t.Errorf("JSON head: %+v", doc)
	}
	// The export carries the report's own definitions: the general ones, and that this period
	// runs to date and when the report was generated.
	names := map[string]bool{}
	for _, d := range doc.Definitions {
		names[d.Name] = true
	}
	for _, want := range []string{"licensed_drivers", "drivers_ever_aware", "to_date", "generated_at"} {
		if !names[want] {
			t.Errorf("JSON definitions lack %q", want)
		}
	}
	if len(doc.Rows) != 1 || len(doc.Rows[0].Councils) != 10 || doc.Rows[0].Total == nil || doc.Rows[0].Total.Figures["leaflets_acknowledged"] != 2.0 {
		t.Errorf("JSON rows: %+v", doc.Rows)
	}
}

func TestExportSuppressesSmallCounts(t *testing.T) {
	t.Parallel()
	env := reportEnv(t)
	analyst := env.SignInStaff(t, env.AddStaff(t, domain.RoleAnalyst, ""))
	p := analyst.Get("/staff/reports/export.csv?period=2026-11&suppress=1")
	wantStatus(t, p, http.StatusOK)
	if !strings.Contains(p.Header.Get("Content-Disposition"), "-suppressed.csv") {
		t.Errorf("Content-Disposition %q", p.Header.Get("Content-Disposition"))
	}
	if !strings.Contains(p.Body, ",<5,") || !strings.Contains(p.Body, "Small-count suppression applied") {
		t.Errorf("CSV not suppressed:\n%s", p.Body)
	}
	if regexp.MustCompile(`(?m)^2026-11-01,2026-11-30,November 2026,dacorum,[^\r\n]*,1,`).MatchString(p.Body) {
		t.Error("a count of 1 was not suppressed")
	}
	p = analyst.Get("/staff/reports/export.json?period=2026-11&suppress=1")
	var doc struct {
		Suppression struct {
			Applied   bool   `json:"applied"`
			Primary   string `json:"primary"`
			Secondary string `json:"secondary"`
		} `json:"suppression"`
		Rows []struct {
			Councils []struct {
				Council         string            `json:"council"`
				Suppressed      bool              `json:"suppressed"`
				Figures         map[string]any    `json:"figures"`
				SuppressedCells map[string]string `json:"suppressed_cells"`
			} `json:"councils"`
			Total struct {
				Figures map[string]any `json:"figures"`
			} `json:"partnership_total"`
		} `json:"rows"`
	}
	if err := json.Unmarshal([]byte(p.Body), &doc); err != nil {
		t.Fatal(err)
	}
	if !doc.Suppression.Applied || doc.Suppression.Primary != report.SuppressionPrimaryText || doc.Suppression.Secondary != report.SuppressionSecondaryText {
		t.Errorf("suppression note: %+v", doc.Suppression)
	}
	for _, c := range doc.Rows[0].Councils {
		if c.Council == "dacorum" {
			if !c.Suppressed || c.Figures["leaflets_acknowledged"] != nil || c.SuppressedCells["leaflets_acknowledged"] != "primary" {
				t.Errorf("Dacorum not suppressed: %+v", c)
			}
		}
	}
	// The partnership total minus the published councils never gives a hidden council's figure
	// away: where a council's figure is hidden, so is another's, or the total.
	for _, name := range []string{"licensed_drivers", "drivers_aware", "outstanding", "drivers_ever_aware", "leaflets_issued",
		"leaflets_acknowledged", "renewals_submitted", "renewals_decided", "renewals_approved", "renewals_refused"} {
		hidden := 0
		for _, c := range doc.Rows[0].Councils {
			if c.Figures[name] == nil {
				hidden++
			}
		}
		if hidden == 1 && doc.Rows[0].Total.Figures[name] != nil {
			t.Errorf("%s: one council hidden and the total published: subtraction gives it away", name)
		}
	}
	page := analyst.Get("/staff/reports?period=2026-11&suppress=1")
	if !strings.Contains(page.Body, "For public release") || !strings.Contains(page.Body, "by the secondary rule") {
		t.Errorf("the page does not say what the downloads hide")
	}
	x := analyst.Get("/staff/reports/export.xlsx?period=2026-11&suppress=1")
	f, err := excelize.OpenReader(strings.NewReader(x.Body))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	defs, _ := f.GetRows("Definitions")
	notes := map[string]string{}
	for _, d := range defs {
		if len(d) > 1 {
			notes[d[0]] = d[1]
		}
	}
	if notes["suppression_primary"] != report.SuppressionPrimaryText || notes["suppression_secondary"] != report.SuppressionSecondaryText {
		t.Errorf("XLSX suppression notes: %v", defs)
	}
}

func TestCouncilReportPageAndTenancy(t *testing.T) {
	t.Parallel()
	env := reportEnv(t)
	own := env.SignInStaff(t, env.AddStaff(t, domain.RoleOfficer, "dacorum"))
	p := own.Get("/staff/reports/council/dacorum?period=2026-11")
	wantStatus(t, p, http.StatusOK)
	for _, want := range []string{"Awareness coverage report: Dacorum Borough Council", "November 2026", "Leaflets acknowledged", "Definitions"} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("council report lacks %q", want)
		}
	}
	other := env.SignInStaff(t, env.AddStaff(t, domain.RoleOfficer, "watford"))
	wantStatus(t, other.Get("/staff/reports/council/dacorum?period=2026-11"), http.StatusNotFound)
	wantStatus(t, other.Get("/staff/reports/council/nowhere?period=2026-11"), http.StatusNotFound)
	analyst := env.SignInStaff(t, env.AddStaff(t, domain.RoleAnalyst, ""))
	wantStatus(t, analyst.Get("/staff/reports/council/watford?period=2026-Q4"), http.StatusOK)
	wantStatus(t, analyst.Get("/staff/reports/council/watford?period=nope"), http.StatusUnprocessableEntity)
}

func TestPublicEventsRecordValidateAndCount(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	login := env.AddStaff(t, domain.RoleOfficer, "dacorum")
	officer := env.SignInStaff(t, login)
	officer.Get("/staff/events")
	good := url.Values{"date-day": {"12"}, "date-month": {"11"}, "date-year": {"2026"}, "kind": {"enforcement"},
		"place": {"Hemel Hempstead bus station"}, "leaflets": {"40"}}
	p := officer.Post("/staff/events", good)
	wantStatus(t, p, http.StatusSeeOther)
	p = officer.Follow(p)
	if !strings.Contains(p.Body, "Event recorded") || !strings.Contains(p.Body, "Hemel Hempstead bus station") || !strings.Contains(p.Body, "Enforcement operation") {
		t.Errorf("events page after recording:\n%s", testenv.Excerpt(p.Body))
	}
	for _, tc := range []struct {
		name, field, value, message string
	}{
		{"negative leaflets", "leaflets", "-1", "Enter the number of leaflets handed out"},
		{"leaflets not a number", "leaflets", "lots", "Enter the number of leaflets handed out"},
		{"no place", "place", " ", "Enter where the event took place"},
		{"no kind", "kind", "", "Choose the kind of event"},
		{"unknown kind", "kind", "party", "Choose the kind of event"},
		{"future date", "date-year", "2027", "must be today or in the past"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := testenv.Copy(good)
			f.Set(tc.field, tc.value)
			officer.Get("/staff/events")
			p := officer.Post("/staff/events", f)
			wantStatus(t, p, http.StatusUnprocessableEntity)
			if !strings.Contains(p.Body, tc.message) || !strings.Contains(p.Body, "There is a problem") {
				t.Errorf("no %q in:\n%s", tc.message, testenv.Excerpt(p.Body))
			}
			if tc.field == "place" || !strings.Contains(p.Body, `value="Hemel Hempstead bus station"`) {
				if tc.field != "place" {
					t.Error("the answers were not kept")
				}
			}
		})
	}
	// Analysts read but cannot record; another council's officer does not see Dacorum's events.
	analyst := env.SignInStaff(t, env.AddStaff(t, domain.RoleAnalyst, ""))
	if p := analyst.Get("/staff/events"); !strings.Contains(p.Body, "Hemel Hempstead") || strings.Contains(p.Body, "Record the event") {
		t.Errorf("analyst's events page:\n%s", testenv.Excerpt(p.Body))
	}
	wantStatus(t, analyst.Post("/staff/events", good), http.StatusForbidden)
	other := env.SignInStaff(t, env.AddStaff(t, domain.RoleOfficer, "watford"))
	if p := other.Get("/staff/events"); strings.Contains(p.Body, "Hemel Hempstead") {
		t.Error("Watford's officer sees Dacorum's event")
	}
	// The counts reach the report, for Dacorum only.
	p = analyst.Get("/staff/reports/export.csv?period=2026-11")
	r := csv.NewReader(strings.NewReader(p.Body))
	r.FieldsPerRecord = -1
	recs, _ := r.ReadAll()
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	for _, rec := range recs[1:] {
		if len(rec) < len(recs[0]) {
			break
		}
		wantEv, wantLf := "0", "0"
		if rec[col["council"]] == "dacorum" || rec[col["council"]] == report.TotalSlug {
			wantEv, wantLf = "1", "40"
		}
		if rec[col["public_events"]] != wantEv || rec[col["public_leaflets_handed_out"]] != wantLf {
			t.Errorf("%s: events %s leaflets %s", rec[col["council"]], rec[col["public_events"]], rec[col["public_leaflets_handed_out"]])
		}
	}
	entries, _, err := env.Store.AuditEntries(context.Background(), store.AuditFilter{Action: "public_event.recorded", Limit: 10})
	if err != nil || len(entries) != 1 || entries[0].ActorID != login.ID {
		t.Errorf("audit: %v %+v", err, entries)
	}
}

var tokenRe = regexp.MustCompile(`rnw_[A-Za-z0-9_-]{43}`)

func TestAPITokensValidRevokedMissing(t *testing.T) {
	t.Parallel()
	env := reportEnv(t)
	analyst := env.SignInStaff(t, env.AddStaff(t, domain.RoleAnalyst, ""))
	analyst.Get("/staff/tokens")
	wantStatus(t, analyst.Post("/staff/tokens", url.Values{"name": {""}}), http.StatusUnprocessableEntity)
	p := analyst.Post("/staff/tokens", url.Values{"name": {"Coverage dashboard"}})
	wantStatus(t, p, http.StatusOK)
	token := tokenRe.FindString(p.Body)
	if token == "" {
		t.Fatalf("no token shown:\n%s", testenv.Excerpt(p.Body))
	}
	if again := analyst.Get("/staff/tokens"); strings.Contains(again.Body, token) || !strings.Contains(again.Body, "Coverage dashboard") {
		t.Error("the token is shown again, or not listed")
	}

	status, h, body := apiGet(t, env, "/api/v1/coverage?period=2026-11", token)
	if status != http.StatusOK || !strings.HasPrefix(h.Get("Content-Type"), "application/json") || !strings.Contains(body, `"definitions"`) {
		t.Fatalf("API with a token: %d %s", status, body)
	}
	status, _, body = apiGet(t, env, "/api/v1/coverage?from=2026-11-01&to=2026-11-30&grouping=none&council=dacorum", token)
	if status != http.StatusOK || !strings.Contains(body, `"council": "dacorum"`) || strings.Contains(body, "watford") {
		t.Errorf("API for one council: %d %s", status, body)
	}
	status, _, body = apiGet(t, env, "/api/v1/coverage?period=2026-13", token)
	if status != http.StatusUnprocessableEntity || !strings.Contains(body, `"error"`) {
		t.Errorf("API with a bad period: %d %s", status, body)
	}
	status, h, body = apiGet(t, env, "/api/v1/evidence.csv", token)
	if status != http.StatusOK || h.Get("Content-Type") != "text/csv; charset=utf-8" || !strings.HasPrefix(body, strings.Join(report.EvidenceColumns, ",")) {
		t.Errorf("API evidence export: %d %q", status, body)
	}

	for name, tok := range map[string]string{"missing": "", "wrong": "rnw_" + strings.Repeat("A", 43), "not ours": "something-else"} {
		status, _, body := apiGet(t, env, "/api/v1/coverage?period=2026-11", tok)
		var e map[string]string
		if status != http.StatusUnauthorized || json.Unmarshal([]byte(body), &e) != nil || e["error"] == "" {
			t.Errorf("%s token: %d %s", name, status, body)
		}
	}
	// A signed-in browser's cookies do not open the API.
	if p := analyst.Get("/api/v1/coverage?period=2026-11"); p.Status != http.StatusUnauthorized {
		t.Errorf("API with a session cookie: %d", p.Status)
	}

	// Revoke: the token stops working at once; another analyst cannot revoke it (404).
	ts, _ := env.Service.APITokens(context.Background(), domain.Actor{StaffID: analystID(t, env, analyst), Role: domain.RoleAnalyst})
	if len(ts) != 1 {
		t.Fatalf("tokens: %+v", ts)
	}
	if ts[0].LastUsedAt.IsZero() {
		t.Error("last use not recorded")
	}
	other := env.SignInStaff(t, env.AddStaff(t, domain.RoleAnalyst, ""))
	other.Get("/staff/tokens")
	wantStatus(t, other.Post(fmt.Sprintf("/staff/tokens/%d/revoke", ts[0].ID), nil), http.StatusNotFound)
	analyst.Get("/staff/tokens")
	wantStatus(t, analyst.Post(fmt.Sprintf("/staff/tokens/%d/revoke", ts[0].ID), nil), http.StatusSeeOther)
	if status, _, _ := apiGet(t, env, "/api/v1/coverage?period=2026-11", token); status != http.StatusUnauthorized {
		t.Errorf("revoked token: %d", status)
	}
	if p := analyst.Get("/staff/tokens"); !strings.Contains(p.Body, "Revoked") {
		t.Error("the list does not show the token revoked")
	}
	for _, action := range []string{"api_token.created", "api_token.revoked"} {
		if es, _, _ := env.Store.AuditEntries(context.Background(), store.AuditFilter{Action: action, Limit: 5}); len(es) != 1 {
			t.Errorf("audit %s: %d entries", action, len(es))
		}
	}
	// Officers cannot have tokens.
	officer := env.SignInStaff(t, env.AddStaff(t, domain.RoleOfficer, "dacorum"))
	wantStatus(t, officer.Get("/staff/tokens"), http.StatusForbidden)
	if _, _, err := env.Service.CreateAPIToken(context.Background(), domain.Actor{StaffID: 1, Role: domain.RoleOfficer, CouncilID: 2}, "x"); domain.ErrorCode(err) != domain.CodeForbidden {
		t.Errorf("officer's token: %v", err)
	}
}

// analystID finds the staff id behind a browser from its account page.
func analystID(t *testing.T, env *testenv.Env, b *testenv.Browser) int64 {
	t.Helper()
	staff, err := env.Store.ListStaff(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	p := b.Get("/staff/account")
	for _, s := range staff {
		if s.Role == domain.RoleAnalyst && strings.Contains(p.Body, s.Email) {
			return s.ID
		}
	}
	t.Fatal("analyst not found")
	return 0
}

func TestEvidenceExportStreamsManyRows(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{NoLeaflet: true})
	stats, err := report.GenerateSynthetic(context.Background(), env.Store, report.SyntheticOptions{Drivers: 600, Seed: 4, Now: testenv.Start})
	if err != nil {
		t.Fatal(err)
	}
	if stats.Evidence < 1000 {
		t.Fatalf("only %d evidence records", stats.Evidence)
	}
	analyst := env.SignInStaff(t, env.AddStaff(t, domain.RoleAnalyst, ""))
	start := time.Now()
	p := analyst.Get("/staff/reports/evidence.csv")
	wantStatus(t, p, http.StatusOK)
	if ct := p.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if p.Header.Get("Content-Length") != "" {
		t.Error("the export was buffered whole (it has a Content-Length)")
	}
	r := csv.NewReader(strings.NewReader(p.Body))
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got := len(recs) - 1; got != stats.Evidence+stats.Voids && got != stats.Evidence {
		t.Errorf("%d rows, want %d evidence records (%d voids)", got, stats.Evidence, stats.Voids)
	}
	t.Logf("%d rows in %v", len(recs)-1, time.Since(start))
	// An officer's export holds their council's records only.
	officer := env.SignInStaff(t, env.AddStaff(t, domain.RoleOfficer, "dacorum"))
	p = officer.Get("/staff/reports/evidence.csv")
	wantStatus(t, p, http.StatusOK)
	recs, _ = csv.NewReader(strings.NewReader(p.Body)).ReadAll()
	if len(recs) < 2 {
		t.Fatal("Dacorum's officer got no rows")
	}
	for _, rec := range recs[1:] {
		if rec[2] != "dacorum" {
			t.Fatalf("officer's export has a %s record", rec[2])
		}
	}
}
