package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"text/tabwriter"

	"github.com/herts-msp/taxi-renewals/internal/testenv"
)

// widths are the viewports every page is checked and photographed at: a small phone and a
// desktop window.
var widths = []int64{375, 1280}

// reflowWidth is the width WCAG 1.4.10 asks a page to fit without scrolling sideways: a
// 1280px window zoomed to 400%.
const reflowWidth = 320

// notPages are the GET routes that answer data rather than a page, so they have no layout
// to check: each is fetched by checkDataRoutes, which checks it answers its type.
var notPages = map[string]dataRoute{
	"/static*":                    {"/static/app.css", "text/css"},
	"/healthz":                    {"/healthz", "text/plain"},
	"/readyz":                     {"/readyz", "text/plain"},
	"/staff/due.csv":              {"/staff/due.csv?council=dacorum", "text/csv"},
	"/staff/reports/export.csv":   {"/staff/reports/export.csv?period=2026", "text/csv"},
	"/staff/reports/export.xlsx":  {"/staff/reports/export.xlsx?period=2026", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
	"/staff/reports/export.json":  {"/staff/reports/export.json?period=2026", "application/json"},
	"/staff/reports/evidence.csv": {"/staff/reports/evidence.csv", "text/csv"},
	"/api/v1/coverage":            {"/api/v1/coverage", ""}, // a bearer token only: a session cookie gets 401
	"/api/v1/evidence.csv":        {"/api/v1/evidence.csv", ""},
}

// dataRoute is how to ask a data route for its answer, and the content type it answers.
type dataRoute struct{ request, contentType string }

// pageResult is what the checks found on one state of one page.
type pageResult struct {
	name       string
	path       string
	route      string // "GET /renew/contact", or the POST route a re-rendered form answers
	status     int
	violations map[int64][]violation // by viewport width: axe's, and the sweep's own checks
}

// sweep visits pages, checks each with axe at every width, photographs it and keeps a table.
type sweep struct {
	t       *testing.T
	routes  []routeInfo
	results []pageResult
	shots   string
	// fetched are the GET routes that answer a file, not a page, fetched and checked as
	// such by fetchDocument.
	fetched map[string]bool
}

type routeInfo struct {
	method, pattern string
	match           *regexp.Regexp
}

func newSweep(t *testing.T, env *testenv.Env) *sweep {
	t.Helper()
	shots := filepath.Join(artefactsDir, "screenshots")
	if err := os.RemoveAll(shots); err != nil { // only this run's pictures
		t.Fatal(err)
	}
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	s := &sweep{t: t, shots: shots}
	for _, r := range env.Web.Routes() {
		if r.Method != http.MethodGet && r.Method != http.MethodPost {
			continue
		}
		re := "^" + regexp.MustCompile(`:[^/]+`).ReplaceAllString(regexp.QuoteMeta(r.Path), `[^/]+`) + "$"
		s.routes = append(s.routes, routeInfo{method: r.Method, pattern: r.Path, match: regexp.MustCompile(re)})
	}
	// GET first, so a form re-rendered at its own address counts as that page; and, as Echo
	// does, a fixed path before one with parameters (/staff/users/new before /staff/users/:id).
	sort.SliceStable(s.routes, func(i, j int) bool {
		a, b := s.routes[i], s.routes[j]
		if a.method != b.method {
			return a.method == http.MethodGet
		}
		return strings.Count(a.pattern, ":") < strings.Count(b.pattern, ":")
	})
	return s
}

// routeOf names the route that answered path.
func (s *sweep) routeOf(path string) string {
	path, _, _ = strings.Cut(path, "#")
	path, _, _ = strings.Cut(path, "?")
	for _, r := range s.routes {
		if r.match.MatchString(path) {
			return r.method + " " + r.pattern
		}
	}
	return "(no route: error page)"
}

// check checks the page the tab shows: at each width, axe-core's WCAG rules and sideways
// scrolling, with a full-page screenshot saved; at 320px, sideways scrolling again; once,
// that every error in the summary shows at its field and that the footer links to the
// accessibility statement. It records the result. A violation fails the test, naming the
// page, the rule and the element, but the sweep goes on so one run lists them all.
func (s *sweep) check(tb *tab, name string, status int) {
	s.t.Helper()
	path := tb.path()
	r := pageResult{name: name, path: path, route: s.routeOf(path), status: status, violations: map[int64][]violation{}}
	if u, err := url.Parse(path); err == nil && u.IsAbs() {
		// Another origin: the payment provider's page, which has its own footer.
		r.route = "(payment stand-in) GET " + regexp.MustCompile(`/pay/[^/]+$`).ReplaceAllString(u.Path, "/pay/{id}")
	} else if !eval[bool](tb, `!!document.querySelector('footer a[href="/accessibility"]')`) {
		s.t.Errorf("page %s (%s): the footer does not link to /accessibility", name, path)
	}
	for _, w := range widths {
		tb.setWidth(w)
		r.violations[w] = append(tb.axeCheck(), tb.reflowCheck()...)
		if w == widths[0] { // the same at any width
			r.violations[w] = append(r.violations[w], tb.errorsCheck()...)
		}
		for _, v := range r.violations[w] {
			s.t.Errorf("page %s (%s) at %dpx: %s", name, path, w, v)
		}
		file := filepath.Join(s.shots, fmt.Sprintf("%03d-%s-%dpx.png", len(s.results)+1, name, w))
		if err := os.WriteFile(file, tb.fullScreenshot(), 0o644); err != nil {
			s.t.Fatal(err)
		}
	}
	tb.setWidth(reflowWidth)
	r.violations[reflowWidth] = tb.reflowCheck()
	for _, v := range r.violations[reflowWidth] {
		s.t.Errorf("page %s (%s) at %dpx: %s", name, path, reflowWidth, v)
	}
	tb.setWidth(widths[len(widths)-1])
	s.results = append(s.results, r)
}

// open loads a page, wants the status, and checks it.
func (s *sweep) open(tb *tab, name, path string, wantStatus int) {
	s.t.Helper()
	status := tb.open(path)
	tb.wantStatus(status, wantStatus)
	s.check(tb, name, status)
}

// wantEveryRouteVisited fails for a GET route that is neither a checked page nor a known
// data route, so a page added later cannot escape the check.
func (s *sweep) wantEveryRouteVisited() {
	s.t.Helper()
	visited := map[string]bool{}
	for _, r := range s.results {
		visited[r.route] = true
	}
	known := map[string]bool{}
	for _, r := range s.routes {
		if r.method != http.MethodGet {
			continue
		}
		known[r.pattern] = true
		_, data := notPages[r.pattern]
		if !visited["GET "+r.pattern] && !data && !s.fetched[r.pattern] {
			s.t.Errorf("GET %s is a page no test checks: add it to the sweep", r.pattern)
		}
	}
	for p := range notPages {
		if !known[p] {
			s.t.Errorf("notPages lists %s, which is no longer a GET route", p)
		}
	}
}

// table prints page → violations at each width, and writes it to artefacts/.
func (s *sweep) table() {
	s.t.Helper()
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "#\tpage\tstatus\troute\tviolations at 375px\t1280px\t320px (reflow only)\n")
	total := 0
	for i, r := range s.results {
		fmt.Fprintf(w, "%d\t%s\t%d\t%s\t%d\t%d\t%d\n", i+1, r.name, r.status, r.route,
			len(r.violations[375]), len(r.violations[1280]), len(r.violations[reflowWidth]))
		for _, n := range r.violations {
			total += len(n)
		}
	}
	w.Flush()
	fmt.Fprintf(&b, "%d page states checked with axe-core (%s) at %v px, for sideways scrolling (WCAG 1.4.10) at those widths and %dpx, and for errors shown at their fields (WCAG 3.3.1): %d violations\n",
		len(s.results), strings.Join(wcagTags, ", "), widths, reflowWidth, total)
	s.t.Log("\n" + b.String())
	if err := os.WriteFile(filepath.Join(artefactsDir, "axe-report.txt"), []byte(b.String()), 0o644); err != nil {
		s.t.Error(err)
	}
}
