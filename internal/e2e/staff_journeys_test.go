package e2e

import (
	"context"
	"encoding/csv"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/internal/testenv"
)

// sendRenewal has a test driver renew online (over HTTP, not in the browser: the browser
// tests of the driver's pages are elsewhere) and returns their client, still signed in.
func sendRenewal(t *testing.T, env *testenv.Env, council, licence string) *testenv.Browser {
	t.Helper()
	d := env.SignIn(t, council, licence)
	d.CompleteSections()
	d.CompleteAwareness()
	d.Get("/renew/check-answers")
	if p := d.Post("/renew/submit", nil); p.Status != http.StatusSeeOther {
		t.Fatalf("sending the renewal: %d\n%s", p.Status, testenv.Excerpt(p.Body))
	}
	return d
}

// officerDecidesACase: an officer finds a sent renewal, is stopped from approving it before
// the statutory checks, records each check, accepts the driver's photo, records the fee
// taken at the counter, starts the review and approves it; the driver
// then sees the decision.
func officerDecidesACase(t *testing.T, b *browser) {
	env := testenv.New(t, testenv.Options{})
	driver := sendRenewal(t, env, testenv.DacorumSlug, testenv.DueDacorum)
	officer := env.AddStaff(t, domain.RoleOfficer, testenv.DacorumSlug)
	tb := b.newTab(t, env.Server.URL)
	signInStaff(tb, env, officer)

	tb.wantStatus(tb.click(`.header__nav a[href="/staff/renewals"]`), http.StatusOK)
	tb.typeInto("#q", strings.ToLower(testenv.DueDacorum))
	tb.wantStatus(tb.press("Apply filters"), http.StatusOK)
	tb.wantText("main", "1 renewal", "Zoë O’Brien-Test", "Acknowledged")
	tb.wantStatus(tb.click(`main a[href^="/staff/renewals/"]`), http.StatusOK)
	caseURL := tb.path()
	tb.wantText("main", "Submitted", "MORGA753116SM9IJ", "Before this renewal can be approved")

	tb.wantStatus(tb.press("Approve renewal"), http.StatusConflict)
	tb.wantText(".error-summary", "Accept or reject the photo before approving", "Record the DBS Update Service status check before approving")

	tb.open(caseURL)
	checks := eval[[]string](tb, `[...document.querySelectorAll('#check_type option')].map(o => o.value).filter(v => v)`)
	if len(checks) != len(domain.CheckTypes) {
		t.Fatalf("the check form offers %v, want the %d statutory checks", checks, len(domain.CheckTypes))
	}
	for _, check := range checks {
		tb.openDetails("Record a check")
		tb.choose("#check_type", check)
		tb.typeInto("#checked_on-day", "20")
		tb.typeInto("#checked_on-month", "11")
		tb.typeInto("#checked_on-year", "2026")
		tb.tick("result")
		tb.wantStatus(tb.press("Record check"), http.StatusOK)
		tb.wantText(".notification-banner", "Check recorded.")
	}
	if got := tb.text("main"); strings.Contains(got, "Not recorded") {
		t.Fatalf("checks still missing after recording them all:\n%s", got)
	}
	// The photo the driver uploaded is the last thing missing: the officer accepts it.
	tb.wantText(".warning-text", "Accept or reject the photo before approving")
	tb.wantText("#document-photo", "Photo", "600 × 750 pixels", "Waiting for review")
	tb.wantStatus(tb.press("Accept Photo"), http.StatusOK)
	tb.wantText(".notification-banner", "Document accepted.")
	tb.wantText("#document-photo", "Accepted")
	// The fee, taken at the counter (the council does not take it online here).
	tb.wantText("#payment", "Fee")
	tb.wantText("main", "Not paid", "No payment has been recorded")
	tb.openDetails("Record a fee taken at the counter or by phone, or waive it")
	tb.tick("method")
	tb.typeInto("#amount", strings.TrimPrefix(feeOf(t, env, testenv.DueDacorum), "£"))
	tb.typeInto("#receipt", "DAC-R-20261126-01")
	tb.wantStatus(tb.press("Record payment"), http.StatusOK)
	tb.wantText(".notification-banner", "Payment recorded.")
	if got := tb.text("main"); strings.Contains(got, "Before this renewal can be approved") || strings.Contains(got, "Not paid") {
		t.Fatalf("something still missing after recording every check, accepting the photo and recording the fee:\n%s", got)
	}

	tb.wantStatus(tb.press("Start review"), http.StatusOK)
	tb.wantText(".notification-banner", "Review started.")
	tb.wantStatus(tb.press("Approve renewal"), http.StatusOK)
	tb.wantText(".notification-banner", "Renewal approved. The driver has been emailed.")
	tb.wantText("main", "Approved", "new licence runs until 5 January 2030")

	if p := driver.Get("/renew/status"); !strings.Contains(p.Body, "Approved") || !strings.Contains(p.Body, "5 January 2030") {
		t.Errorf("the driver's status page does not show the approval:\n%s", testenv.Excerpt(p.Body))
	}
}

// analystDownloadsAnExport: an analyst chooses a period on the coverage page and downloads
// the CSV; the browser saves the file, which holds every council and the partnership total
// with the renewal and acknowledgement just made.
func analystDownloadsAnExport(t *testing.T, b *browser) {
	env := testenv.New(t, testenv.Options{})
	sendRenewal(t, env, testenv.DacorumSlug, testenv.DueDacorum)
	analyst := env.AddStaff(t, domain.RoleAnalyst, "")
	tb := b.newTab(t, env.Server.URL)
	signInStaff(tb, env, analyst)

	tb.wantStatus(tb.click(`.header__nav a[href="/staff/reports"]`), http.StatusOK)
	tb.replaceText("#period", "2026")
	tb.choose("#grouping", "none") // one row per council for the whole year
	tb.wantStatus(tb.press("Show coverage"), http.StatusOK)
	tb.wantText("main", "From 1 January 2026")

	file, name := tb.download(`main a[href^="/staff/reports/export.csv"]`)
	// The year has not finished on the test's day (26 November 2026): the export runs to date.
	if name != "coverage-2026-01-01-to-2026-11-26.csv" {
		t.Errorf("the browser saved the export as %q", name)
	}
	// The figures, then a blank line and the definitions of their columns.
	figures, definitions, _ := strings.Cut(strings.ReplaceAll(strings.TrimPrefix(string(file), "\ufeff"), "\r\n", "\n"), "\n\n")
	if !strings.HasPrefix(definitions, "column,definition\nlicensed_drivers,") {
		t.Errorf("the export does not end with the definitions of its columns:\n%s", file)
	}
	rows, err := csv.NewReader(strings.NewReader(figures)).ReadAll()
	if err != nil {
		t.Fatalf("the downloaded export is not CSV: %v\n%s", err, file)
	}
	if len(rows) != 12 { // a header, ten councils, the partnership total
		t.Fatalf("%d rows in the export, want 12:\n%s", len(rows), file)
	}
	col := map[string]int{}
	for i, name := range rows[0] {
		col[name] = i
	}
	byCouncil := map[string][]string{}
	for _, r := range rows[1:] {
		byCouncil[r[col["council"]]] = r
	}
	dacorum, total := byCouncil["dacorum"], byCouncil["partnership_total"]
	if dacorum == nil || total == nil {
		t.Fatalf("no Dacorum or partnership total row:\n%s", file)
	}
	for _, c := range []struct {
		column string
		want   float64
	}{{"licensed_drivers", 2}, {"drivers_aware", 1}, {"coverage_pct", 50}, {"leaflets_issued", 1}, {"leaflets_acknowledged", 1}, {"renewals_submitted", 1}} {
		if got, err := strconv.ParseFloat(dacorum[col[c.column]], 64); err != nil || got != c.want {
			t.Errorf("Dacorum %s = %q, want %v", c.column, dacorum[col[c.column]], c.want)
		}
	}
	if got := total[col["renewals_submitted"]]; got != "1" {
		t.Errorf("partnership renewals_submitted = %q, want 1", got)
	}
}

// download clicks a link whose answer is a file, lets the browser save it, and returns its
// content and the name the browser was given for it.
func (tb *tab) download(selector string) ([]byte, string) {
	tb.t.Helper()
	dir := tb.t.TempDir()
	ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
	defer cancel()
	_, err := chromedp.CallBrowser(ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
		Behavior:         cdpbrowser.SetDownloadBehaviorBehaviorAllowAndName, // saved as its GUID
		BrowserContextID: chromedp.FromContext(tb.ctx).BrowserContextID,
		DownloadPath:     dir,
		EventsEnabled:    ptr(true),
	})
	if err != nil {
		tb.t.Fatalf("allowing downloads: %v", err)
	}
	begins := chromedp.BrowserEvents(ctx, cdpbrowser.DownloadWillBegin)
	progress := chromedp.BrowserEvents(ctx, cdpbrowser.DownloadProgress)
	tb.do("click "+selector, chromedp.Click(chromedp.CSS(selector), chromedp.NodeVisible))
	var name, guid string
	for ev, err := range begins {
		if err != nil {
			tb.t.Fatalf("waiting for the download to begin: %v", err)
		}
		name, guid = ev.SuggestedFilename, ev.GUID
		break
	}
	for ev, err := range progress {
		if err != nil {
			tb.t.Fatalf("waiting for the download to finish: %v", err)
		}
		if ev.GUID != guid {
			continue
		}
		if ev.State == cdpbrowser.DownloadProgressStateCanceled {
			tb.t.Fatalf("the browser cancelled the download of %s", name)
		}
		if ev.State == cdpbrowser.DownloadProgressStateCompleted {
			break
		}
	}
	content, err := readWhenPresent(filepath.Join(dir, guid))
	if err != nil {
		tb.t.Fatalf("the downloaded file: %v", err)
	}
	return content, name
}

// readWhenPresent reads a file the browser has just said it finished writing; the rename
// from its temporary name can land a moment after the event.
func readWhenPresent(path string) ([]byte, error) {
	deadline := time.Now().Add(5 * time.Second)
	for {
		b, err := os.ReadFile(path)
		if err == nil || time.Now().After(deadline) {
			return b, err
		}
		time.Sleep(20 * time.Millisecond)
	}
}
