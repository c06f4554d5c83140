// Package e2e drives the real service in headless Chromium: the journeys of drivers and
// staff end to end, every page checked with axe-core for WCAG 2.2 AA, screenshots of each
// page at phone and desktop widths, a keyboard-only renewal and the leaflet printed on A4.
//
// The tests fail when Chromium or axe-core is missing, naming the command that installs both
// (.ci/install-browser); with RENEWALS_E2E_SKIP=1 they skip instead.
package e2e

import (
	"context"
	"encoding/json"
	"fmt"
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

// installCommand is the one command that installs what the browser tests need.
const installCommand = ".ci/install-browser"

// skipEnv names the variable that lets the browser tests skip when Chromium or axe-core is
// missing. Without it they fail, so a passing run always means they ran.
const skipEnv = "RENEWALS_E2E_SKIP"

// requireTools finds Chromium and axe-core. When either is missing the test fails, saying what
// is missing and the command that installs it, unless RENEWALS_E2E_SKIP=1, when it skips and
// says why.
func requireTools(t *testing.T) tools {
	t.Helper()
	var missing []string
	if _, err := os.Stat(chromiumPath); err != nil {
		missing = append(missing, "Chromium is not installed at "+chromiumPath)
	}
	axe, err := os.ReadFile(axePath)
	if err != nil {
		missing = append(missing, "axe-core is not installed at internal/e2e/"+axePath)
	}
	if len(missing) > 0 {
		msg := "the browser tests cannot run: " + strings.Join(missing, "; ") + ".\n" +
			"Install both with:  " + installCommand + "\n"
		if os.Getenv(skipEnv) == "1" {
			t.Skip(msg + "(skipped because " + skipEnv + "=1)")
		}
		t.Fatal(msg + "or set " + skipEnv + "=1 to skip them knowingly.")
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
	t     *testing.T
	ctx   context.Context
	close context.CancelFunc // closes the tab and its browser context, as a person closes a window
	base  string             // the server's URL
	b     *browser
}

// newTab opens a tab in a fresh private browser context, closed when the test ends.
func (b *browser) newTab(t *testing.T, serverURL string) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("opening a tab: %v", err)
	}
	tb := &tab{t: t, ctx: ctx, close: cancel, base: serverURL, b: b}
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

// call evaluates a JavaScript function with Go values as its arguments: they go in as
// JSON, so no quoting can go wrong.
func call[T any](tb *tab, fn string, args ...any) T {
	tb.t.Helper()
	enc := make([]string, len(args))
	for i, a := range args {
		b, err := json.Marshal(a)
		if err != nil {
			tb.t.Fatal(err)
		}
		enc[i] = string(b)
	}
	return eval[T](tb, "("+fn+")("+strings.Join(enc, ", ")+")")
}

// firstLine shortens a script for a failure message.
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

// openURL loads a full address, of this server or another (the payment provider's), and
// returns the HTTP status of the document.
func (tb *tab) openURL(address string) int {
	tb.t.Helper()
	resp := run(tb, "open "+address, chromedp.NavigateResponse(address))
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
