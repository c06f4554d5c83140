// Package e2e drives the real service in headless Chromium: the journeys of drivers and
// staff end to end, every page checked with axe-core for WCAG 2.2 AA, screenshots of each
// page at phone and desktop widths, a keyboard-only renewal and the leaflet printed on A4.
//
// The tests skip when Chromium or axe-core is missing, unless RENEWALS_E2E_REQUIRED=1 (CI),
// when they fail instead. .ci/install-browser installs both.
package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

const (
	chromiumPath = "/usr/bin/chromium"
	// axePath is where .ci/install-browser puts axe-core (npm ci into testdata, which the
	// go tool ignores).
	axePath = "testdata/node_modules/axe-core/axe.min.js"
	// artefactsDir is the repository's artefacts/ folder (gitignored), from this package.
	artefactsDir = "../../artefacts"
	// stepTimeout bounds one browser step, so a hung page fails the test instead of CI.
	stepTimeout = 30 * time.Second
)

// tools are what the tests need from outside Go.
type tools struct {
	axeSource string
}

// requireTools finds Chromium and axe-core, or skips (fails when RENEWALS_E2E_REQUIRED=1).
func requireTools(t *testing.T) tools {
	t.Helper()
	missing := func(what string) {
		t.Helper()
		msg := what + "; run .ci/install-browser to install it"
		if os.Getenv("RENEWALS_E2E_REQUIRED") == "1" {
			t.Fatal(msg + " (RENEWALS_E2E_REQUIRED=1, so the browser tests must run)")
		}
		t.Skip(msg)
	}
	if _, err := os.Stat(chromiumPath); err != nil {
		missing("Chromium is not installed at " + chromiumPath)
	}
	axe, err := os.ReadFile(axePath)
	if err != nil {
		missing("axe-core is not installed at internal/e2e/" + axePath)
	}
	return tools{axeSource: string(axe)}
}

// browser is one Chromium process shared by every subtest; each subtest opens its own
// tabs in private browser contexts, so cookies never leak between users.
type browser struct {
	ctx   context.Context // a chromedp context whose browser is running
	tools tools
}

// startBrowser starts headless Chromium with flags that work as root on a closed network.
func startBrowser(t *testing.T) *browser {
	t.Helper()
	tl := requireTools(t)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox, // root in a container: Chromium's sandbox cannot start
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("starting Chromium: %v", err)
	}
	return &browser{ctx: ctx, tools: tl}
}

// tab is one page in its own private browser context (its own cookies), on a server.
type tab struct {
	t    *testing.T
	ctx  context.Context
	base string // the server's URL
	b    *browser
}

// newTab opens a tab in a fresh private browser context, closed when the test ends.
func (b *browser) newTab(t *testing.T, serverURL string) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("opening a tab: %v", err)
	}
	tb := &tab{t: t, ctx: ctx, base: serverURL, b: b}
	tb.setWidth(1280)
	return tb
}

// run runs an action with the step timeout and fails the test on error.
func run[T any](tb *tab, what string, a chromedp.Action[T]) T {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		tb.t.Fatalf("%s (on %s): %v", what, tb.path(), err)
	}
	return v
}

// do runs actions that return nothing.
func (tb *tab) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	run(tb, what, chromedp.Steps(steps...))
}

// eval evaluates JavaScript in the page and decodes its result.
func eval[T any](tb *tab, js string) T {
	tb.t.Helper()
	return run(tb, "evaluate "+firstLine(js), chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i] + "…"
	}
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return s
}

// open loads a path and returns the HTTP status of the document.
func (tb *tab) open(path string) int {
	tb.t.Helper()
	resp := run(tb, "open "+path, chromedp.NavigateResponse(tb.base+path))
	tb.settle()
	return int(resp.Status)
}

// navigateBy runs an action that makes the page load another document (a click, a key),
// waits for the load and returns the HTTP status of the new document.
func (tb *tab) navigateBy(what string, a chromedp.Action[chromedp.Void]) int {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, a)
	if err != nil {
		tb.t.Fatalf("%s (from %s): %v", what, tb.path(), err)
	}
	tb.settle()
	if resp == nil { // a link within the page: no document was fetched
		return 0
	}
	return int(resp.Status)
}

// settle waits until the browser has rendered the new page twice: autofocus (the error
// summary's) is applied when the page is first rendered, which can come after the load event.
func (tb *tab) settle() {
	tb.t.Helper()
	eval[bool](tb, `new Promise(done => requestAnimationFrame(() => requestAnimationFrame(() => done(true))))`)
}

// click clicks the element matching a CSS selector and waits for the page it loads.
func (tb *tab) click(selector string) int {
	tb.t.Helper()
	return tb.navigateBy("click "+selector, chromedp.Click(chromedp.CSS(selector), chromedp.NodeVisible))
}

// submit clicks a form's submit button (by its text) and waits for the answer.
func (tb *tab) submit(buttonText string) int {
	tb.t.Helper()
	return tb.click(buttonSelector(buttonText))
}

// buttonSelector finds a button, or a link styled as one, by its text with XPath-free CSS:
// the button is marked first, since CSS cannot match on text.
func buttonSelector(text string) string {
	return fmt.Sprintf(`[data-e2e-button=%q]`, text)
}

// markButton tags the visible button or button-styled link whose text is exactly text, so
// a CSS selector can find it.
func (tb *tab) markButton(text string) {
	tb.t.Helper()
	found := eval[bool](tb, fmt.Sprintf(`(() => {
		const want = %q;
		for (const el of document.querySelectorAll('button, a.button, input[type=submit]')) {
			if ((el.innerText || el.value || '').trim() === want && el.offsetParent !== null) {
				el.setAttribute('data-e2e-button', want);
				return true;
			}
		}
		return false;
	})()`, text))
	if !found {
		tb.t.Fatalf("no button %q on %s", text, tb.path())
	}
}

// press submits by clicking the button with this text.
func (tb *tab) press(text string) int {
	tb.t.Helper()
	tb.markButton(text)
	return tb.submit(text)
}

// fill sets form fields by name: text fields and selects take the value; radios and
// checkboxes are ticked when their value matches (a checkbox with value "" is unticked).
func (tb *tab) fill(fields map[string]string) {
	tb.t.Helper()
	for name, value := range fields {
		ok := eval[bool](tb, fmt.Sprintf(`(() => {
			const els = document.getElementsByName(%q);
			if (els.length === 0) return false;
			for (const el of els) {
				if (el.type === 'radio' || el.type === 'checkbox') el.checked = el.value === %q;
				else el.value = %q;
			}
			return true;
		})()`, name, value, value))
		if !ok {
			tb.t.Fatalf("no field %q on %s", name, tb.path())
		}
	}
}

// clearForm empties every visible field of the form that holds the button with this text,
// as a user who sends the form without answering would.
func (tb *tab) clearForm(buttonText string) {
	tb.t.Helper()
	tb.markButton(buttonText)
	eval[chromedp.Void](tb, fmt.Sprintf(`(() => {
		const form = document.querySelector(%q).form;
		for (const el of form.elements) {
			if (el.type === 'hidden' || el.type === 'submit' || el.tagName === 'BUTTON') continue;
			if (el.type === 'radio' || el.type === 'checkbox') el.checked = false;
			else if (el.tagName === 'SELECT') el.selectedIndex = 0;
			else el.value = '';
		}
	})()`, buttonSelector(buttonText)))
}

// path is the current page's path and query.
func (tb *tab) path() string {
	ctx, cancel := context.WithTimeout(tb.ctx, 5*time.Second)
	defer cancel()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		return "(unknown page)"
	}
	return strings.TrimPrefix(loc, tb.base)
}

// wantPath fails unless the tab shows path (the query is ignored).
func (tb *tab) wantPath(want string) {
	tb.t.Helper()
	got, _, _ := strings.Cut(tb.path(), "?")
	if got != want {
		tb.t.Fatalf("on %s, want %s; page says: %s", got, want, tb.text("main"))
	}
}

// wantStatus fails unless status is want.
func (tb *tab) wantStatus(status, want int) {
	tb.t.Helper()
	if status != want {
		tb.t.Fatalf("%s answered %d %s, want %d; page says: %s", tb.path(), status, http.StatusText(status), want, tb.text("main"))
	}
}

// text is the visible text of the first element matching selector ("" when none).
func (tb *tab) text(selector string) string {
	tb.t.Helper()
	return eval[string](tb, fmt.Sprintf(`(document.querySelector(%q) || {innerText: ''}).innerText`, selector))
}

// wantText fails unless the element's visible text contains every one of want.
func (tb *tab) wantText(selector string, want ...string) {
	tb.t.Helper()
	got := tb.text(selector)
	for _, w := range want {
		if !strings.Contains(got, w) {
			tb.t.Fatalf("%s on %s does not say %q; it says:\n%s", selector, tb.path(), w, got)
		}
	}
}

// setWidth changes the viewport width (CSS px), as a phone or a desktop window would be.
func (tb *tab) setWidth(width int64) {
	tb.t.Helper()
	tb.do(fmt.Sprintf("set the width to %dpx", width), chromedp.EmulateViewport(width, 900))
}

// fullScreenshot captures the whole page (not only the viewport) as PNG.
func (tb *tab) fullScreenshot() []byte {
	tb.t.Helper()
	return run(tb, "screenshot", func(ctx context.Context, t *chromedp.Target) ([]byte, error) {
		m, err := cdp.Call(ctx, t, page.GetLayoutMetrics, cdp.Empty{})
		if err != nil {
			return nil, err
		}
		size := m.CSSContentSize
		res, err := cdp.Call(ctx, t, page.CaptureScreenshot, page.CaptureScreenshotParams{
			Format:                page.CaptureScreenshotFormatPng,
			CaptureBeyondViewport: ptr(true),
			FromSurface:           ptr(true),
			Clip:                  &page.Viewport{X: 0, Y: 0, Width: size.Width, Height: size.Height, Scale: 1},
		})
		return res.Data, err
	})
}

// emulateMedia makes CSS see "print" or "screen" ("" resets).
func (tb *tab) emulateMedia(media string) {
	tb.t.Helper()
	tb.do("emulate "+media+" media", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: media})
		return err
	}))
}

func ptr[T any](v T) *T { return &v }

// artefactPath returns a path under artefacts/<dir>, creating the folder.
func artefactPath(t *testing.T, dir, name string) string {
	t.Helper()
	full := filepath.Join(artefactsDir, dir)
	if err := os.MkdirAll(full, 0o755); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(full, name)
}

// openDetails opens the <details> whose summary says text, as a click on it would.
func (tb *tab) openDetails(text string) {
	tb.t.Helper()
	ok := eval[bool](tb, fmt.Sprintf(`(() => {
		for (const s of document.querySelectorAll('details > summary')) {
			if (s.innerText.trim() === %q) { s.setAttribute('data-e2e-summary', ''); return true; }
		}
		return false;
	})()`, text))
	if !ok {
		tb.t.Fatalf("no details %q on %s", text, tb.path())
	}
	tb.do("open "+text, chromedp.Click(chromedp.CSS("[data-e2e-summary]"), chromedp.NodeVisible))
	eval[bool](tb, `(document.querySelector('[data-e2e-summary]').removeAttribute('data-e2e-summary'), true)`)
}

// typeInto focuses a field and types into it, key by key, as a person would.
func (tb *tab) typeInto(selector, text string) {
	tb.t.Helper()
	tb.do("type into "+selector, chromedp.SendKeys(chromedp.CSS(selector), text, chromedp.NodeVisible))
}

// replaceText empties a field and types text into it.
func (tb *tab) replaceText(selector, text string) {
	tb.t.Helper()
	tb.do("clear "+selector, chromedp.Clear(chromedp.CSS(selector)))
	tb.typeInto(selector, text)
}

// tick clicks the label of a radio or checkbox, as a person taps the words beside it.
func (tb *tab) tick(inputID string) {
	tb.t.Helper()
	tb.do("tick "+inputID, chromedp.Click(chromedp.CSS(fmt.Sprintf(`label[for=%q]`, inputID)), chromedp.NodeVisible))
}

// choose picks an option of a select.
func (tb *tab) choose(selector, value string) {
	tb.t.Helper()
	tb.do("choose "+value+" in "+selector, chromedp.SetValue(chromedp.CSS(selector), value))
}

// value is a field's current value.
func (tb *tab) value(selector string) string {
	tb.t.Helper()
	return run(tb, "read "+selector, chromedp.Value(chromedp.CSS(selector)))
}

// wantErrors fails unless the page has a focused error summary listing exactly these
// messages, each a link to a field that exists.
func (tb *tab) wantErrors(messages ...string) {
	tb.t.Helper()
	type link struct{ Text, Href string }
	got := eval[struct {
		Focused bool
		Links   []link
		Missing []string
		Title   string
	}](tb, `(() => {
		const s = document.querySelector('.error-summary');
		const links = s ? [...s.querySelectorAll('a')].map(a => ({Text: a.innerText.trim(), Href: a.getAttribute('href')})) : [];
		return {
			Focused: !!s && document.activeElement === s,
			Links: links,
			Missing: links.filter(l => !document.getElementById(l.Href.slice(1))).map(l => l.Href),
			Title: document.title,
		};
	})()`)
	if !got.Focused {
		tb.t.Errorf("%s: the error summary is missing or not focused", tb.path())
	}
	if !strings.HasPrefix(got.Title, "Error: ") {
		tb.t.Errorf("%s: title %q does not start with \"Error: \"", tb.path(), got.Title)
	}
	if len(got.Missing) > 0 {
		tb.t.Errorf("%s: error summary links to missing fields %v", tb.path(), got.Missing)
	}
	var texts []string
	for _, l := range got.Links {
		texts = append(texts, l.Text)
	}
	if strings.Join(texts, "\n") != strings.Join(messages, "\n") {
		tb.t.Errorf("%s: error summary says\n  %s\nwant\n  %s", tb.path(), strings.Join(texts, "\n  "), strings.Join(messages, "\n  "))
	}
}
