package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/dom"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/herts-msp/taxi-renewals/internal/testenv"
)

// keyboard drives a tab with keys alone. Every key goes through press, which allows only
// Tab, Shift+Tab, Enter, Space, typed text, and the arrow keys inside a radio group (the one
// way a keyboard can pick an option in the middle of a group). Nothing is clicked and no
// form is sent by script.
type keyboard struct {
	tb *tab
}

// newKeyboard makes the page behave as the focused window, so :focus styles apply as they do
// for a person at the keyboard, whatever the headless browser's window focus.
func newKeyboard(tb *tab) *keyboard {
	tb.do("emulate window focus", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetFocusEmulationEnabled, emulation.SetFocusEmulationEnabledParams{Enabled: true})
		return err
	}))
	return &keyboard{tb: tb}
}

var allowedKeys = map[string]chromedp.Action[chromedp.Void]{
	"Tab":       keys(kb.Tab),
	"Shift+Tab": keys(kb.Tab, chromedp.KeyModifiers(chromedp.ModifierShift)),
	"Space":     keys(" "),
	"Enter":     keys(kb.Enter),
	"ArrowDown": keys(kb.ArrowDown),
}

// keys presses each key as a physical keyboard does: a raw key-down, the character it types
// (if any), then key-up. chromedp.KeyEvent sends a key-down that already carries the
// character and then the character again, so a page sees Enter twice: once to follow a
// link and once more on the field the link moved focus to, which submits its form. With a
// raw key-down the browser drops the character when the key-down was used, as it does for
// a person.
func keys(text string, opts ...chromedp.KeyOption) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		for _, r := range text {
			for _, ev := range kb.Encode(r) {
				for _, o := range opts {
					o(ev)
				}
				if ev.Type == input.DispatchKeyEventTypeKeyDown {
					ev.Type = input.DispatchKeyEventTypeRawKeyDown
				}
				if _, err := cdp.Call(ctx, t, input.DispatchKeyEvent, *ev); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// press presses one of the allowed keys, on whatever has focus.
func (k *keyboard) press(key string) {
	k.tb.t.Helper()
	a, ok := allowedKeys[key]
	if !ok {
		k.tb.t.Fatalf("the keyboard test may not press %q", key)
	}
	if key == "ArrowDown" && k.focused().Type != "radio" {
		k.tb.t.Fatalf("ArrowDown outside a radio group, on %s", k.focused().Name)
	}
	k.tb.do("press "+key, a)
}

// chooseFile presses Space on the focused file input, which opens the file chooser, and
// answers the chooser with path. The browser is told to hand the chooser to the test rather
// than show it (Page.setInterceptFileChooserDialog): the dialog is the operating system's,
// not the page's, and no key in a headless browser reaches it. The file goes to the input the
// chooser was opened for, as DOM.setFileInputFiles (what chromedp.SetUploadFiles calls) sets
// it. So the keyboard opens the chooser; only the choice in the dialog is the test's.
func (k *keyboard) chooseFile(path string) {
	k.tb.t.Helper()
	if f := k.focused(); f.Type != "file" {
		k.tb.t.Fatalf("chooseFile on %s, not a file input", f.Name)
	}
	intercept := func(on bool) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := cdp.Call(ctx, t, page.SetInterceptFileChooserDialog, page.SetInterceptFileChooserDialogParams{Enabled: on})
			return err
		})
	}
	k.tb.do("hand the file chooser to the test", intercept(true))
	defer k.tb.do("let the browser show the file chooser again", intercept(false))
	opened := run(k.tb, "press Space to open the file chooser", chromedp.WaitEvent(page.FileChooserOpened, nil, allowedKeys["Space"]))
	if opened.BackendNodeID == 0 {
		k.tb.t.Fatal("the file chooser opened for no input")
	}
	k.tb.do("choose "+path+" in the file chooser", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, dom.SetFileInputFiles, dom.SetFileInputFilesParams{Files: []string{path}, BackendNodeID: opened.BackendNodeID})
		return err
	}))
}

// typeText types printable characters into the focused field.
func (k *keyboard) typeText(text string) {
	k.tb.t.Helper()
	for _, r := range text {
		if r < ' ' || r == 0x7f {
			k.tb.t.Fatalf("typeText takes printable characters only, not %q", r)
		}
	}
	k.tb.do("type "+text, keys(text))
}

// pressEnterToLoad presses Enter on a link or button and waits for the page it loads.
func (k *keyboard) pressEnterToLoad() int {
	k.tb.t.Helper()
	return k.tb.navigateBy("press Enter on "+k.focused().Name, allowedKeys["Enter"])
}

// focus describes document.activeElement: a short name, and whether its focus shows.
type focus struct {
	Name    string // #id, a.class[href], button:text, or the tag
	Type    string // an input's type
	Visible bool   // it is not clipped away, and a non-transparent outline or a box-shadow marks it (for a radio or checkbox, its label's box)
	Style   string // the styles looked at, for a failure message
}

const describeFocusJS = `(() => {
	const el = document.activeElement;
	if (!el || el === document.body) return {Name: 'body', Type: '', Visible: false, Style: ''};
	let name = el.tagName.toLowerCase();
	if (el.id) name = '#' + el.id;
	else if (name === 'a') name = 'a' + (el.classList[0] ? '.' + el.classList[0] : '') + '[href="' + el.getAttribute('href') + '"]';
	else if (name === 'button') name = 'button:' + el.innerText.trim();
	else if (el.classList[0]) name += '.' + el.classList[0];
	const clear = c => c === 'transparent' || /rgba\(.*,\s*0\)$/.test(c);
	const marks = s => (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0 && !clear(s.outlineColor)) || s.boxShadow !== 'none';
	const describe = s => 'outline: ' + s.outlineStyle + ' ' + s.outlineWidth + ' ' + s.outlineColor + '; box-shadow: ' + s.boxShadow;
	let s = getComputedStyle(el);
	let visible = marks(s) && s.opacity !== '0', style = describe(s) + '; opacity: ' + s.opacity;
	// Radios and checkboxes are drawn by their label's ::before; the input itself is transparent.
	if (!visible && (el.type === 'radio' || el.type === 'checkbox') && el.labels.length) {
		s = getComputedStyle(el.labels[0], '::before');
		visible = marks(s);
		style = 'label::before ' + describe(s);
	}
	// A visually hidden element (the skip link until it has focus) is clipped to 1px.
	const box = (el.type === 'radio' || el.type === 'checkbox') && el.labels.length ? el.labels[0] : el;
	const r = box.getBoundingClientRect();
	if (r.width <= 1 || r.height <= 1) { visible = false; style += '; size: ' + r.width + 'x' + r.height; }
	return {Name: name, Type: el.type || '', Visible: visible, Style: style};
})()`

func (k *keyboard) focused() focus {
	k.tb.t.Helper()
	return eval[focus](k.tb, describeFocusJS)
}

// tabTo presses Tab until want has focus, checking that focus shows at every stop, and
// returns the stops in order.
func (k *keyboard) tabTo(want string) []string {
	k.tb.t.Helper()
	var stops []string
	for range 80 {
		k.press("Tab")
		f := k.focused()
		if !f.Visible {
			k.tb.t.Errorf("%s: focus on %s does not show (%s)", k.tb.path(), f.Name, f.Style)
		}
		stops = append(stops, f.Name)
		if f.Name == want {
			return stops
		}
	}
	k.tb.t.Fatalf("%s: Tab never reached %s; it went %s", k.tb.path(), want, strings.Join(stops, " → "))
	return nil
}

// stop is where Tab should land next, and what to do there.
type stop struct {
	name string
	act  func(k *keyboard) // nil: only pass through
}

func at(name string) stop { return stop{name: name} }

// typeAt types text once focus reaches the field.
func typeAt(name, text string) stop {
	return stop{name, func(k *keyboard) { k.typeText(text) }}
}

// tickAt presses Space on a checkbox (or a radio group's first option).
func tickAt(name string) stop { return stop{name, func(k *keyboard) { k.press("Space") }} }

// chooseAt picks option i (0 first) of a radio group none of whose options is chosen yet:
// Space takes the first; the arrow keys move to and choose a later one.
func chooseAt(name string, i int) stop {
	return stop{name, func(k *keyboard) {
		if i == 0 {
			k.press("Space")
		}
		for range i {
			k.press("ArrowDown")
		}
	}}
}

// walk presses Tab from where focus is, and fails unless focus lands on each stop in turn,
// visibly; it acts at each stop as it goes. So one pass checks the tab order of a form and
// fills it in.
func (k *keyboard) walk(stops ...stop) {
	k.tb.t.Helper()
	var got []string
	for i, s := range stops {
		k.press("Tab")
		f := k.focused()
		got = append(got, f.Name)
		if f.Name != s.name {
			want := make([]string, len(stops))
			for j, s := range stops {
				want[j] = s.name
			}
			k.tb.t.Fatalf("%s: tab stop %d is %s; tab order so far\n  %s\nwant\n  %s", k.tb.path(), i+1, f.Name,
				strings.Join(got, " → "), strings.Join(want, " → "))
		}
		if !f.Visible {
			k.tb.t.Errorf("%s: focus on %s does not show (%s)", k.tb.path(), f.Name, f.Style)
		}
		if s.act != nil {
			s.act(k)
		}
	}
}

// Tab stops every driver page starts with once signed in.
var driverHeader = []stop{at(`a.skip-link[href="#main-content"]`), at(`a.header__service[href="/"]`), at(`a.header__link[href="/renew"]`), at("button:Sign out")}

// signedIn is a signed-in driver's page: the header's stops, the back link, then stops.
func signedIn(stops ...stop) []stop {
	return append(append(append([]stop{}, driverHeader...), at(`a.back-link[href="/renew"]`)), stops...)
}

// driverRenewsWithTheKeyboard renews a licence from the start page to the confirmation with
// the keyboard alone, checking the tab order of every form and that focus always shows.
func driverRenewsWithTheKeyboard(t *testing.T, b *browser) {
	env := testenv.New(t, testenv.Options{})
	tb := b.newTab(t, env.Server.URL)
	k := newKeyboard(tb)
	tb.wantStatus(tb.open("/"), http.StatusOK) // typed into the address bar

	k.walk(at(`a.skip-link[href="#main-content"]`), at(`a.header__service[href="/"]`), at(`a.button[href="/renew/sign-in"]`))
	tb.wantStatus(k.pressEnterToLoad(), http.StatusOK)
	tb.wantPath("/renew/sign-in")

	// Sent empty: the error summary takes focus, and its first link leads to the field.
	k.walk(at(`a.skip-link[href="#main-content"]`), at(`a.header__service[href="/"]`), at(`a.back-link[href="/"]`),
		at("#council"), at("#licence_number"), at("#dob-day"), at("#dob-month"), at("#dob-year"), at("button:Continue"))
	tb.wantStatus(k.pressEnterToLoad(), http.StatusUnprocessableEntity)
	if f := k.focused(); f.Name != "div.error-summary" || !f.Visible {
		t.Fatalf("after a failed submit, focus is on %s (visible: %v), want the error summary", f.Name, f.Visible)
	}
	k.walk(at(`a[href="#council"]`))
	tb.navigateBy("follow the error link", allowedKeys["Enter"])
	if f := k.focused(); f.Name != "#council" {
		t.Fatalf("the error link put focus on %s, want #council", f.Name)
	}
	k.typeText("Dacorum") // a closed select picks the option typed
	k.walk(typeAt("#licence_number", testenv.DueDacorum), typeAt("#dob-day", "27"), typeAt("#dob-month", "3"), typeAt("#dob-year", "1980"), at("button:Continue"))
	tb.wantStatus(k.pressEnterToLoad(), http.StatusOK)
	tb.wantPath("/renew/code")

	k.walk(at(`a.skip-link[href="#main-content"]`), at(`a.header__service[href="/"]`), at(`a.back-link[href="/renew/sign-in"]`),
		typeAt("#code", env.LatestCode(t, testenv.DueDacorum+"@example.org")), at("button:Continue"))
	tb.wantStatus(k.pressEnterToLoad(), http.StatusOK)
	tb.wantPath("/renew")

	// Each section from the task list, whose links follow the header in the order of the list.
	toTask := func(href string) {
		t.Helper()
		stops := append([]stop{}, driverHeader...)
		for _, task := range []string{"/renew/contact", "/renew/licence", "/renew/checks", "/renew/documents", "/renew/declarations", "/renew/awareness"} {
			stops = append(stops, at(`a.link[href="`+task+`"]`))
			if task == href {
				break
			}
		}
		k.walk(stops...)
	}
	section := func(href string, stops ...stop) {
		t.Helper()
		toTask(href)
		tb.wantStatus(k.pressEnterToLoad(), http.StatusOK)
		tb.wantPath(href)
		k.walk(signedIn(stops...)...)
		tb.wantStatus(k.pressEnterToLoad(), http.StatusOK)
		tb.wantPath("/renew")
	}
	// Email, phone and postcode come from the register; the address is new.
	section("/renew/contact", at("#email"), at("#phone"), typeAt("#address_line_1", "1 Stanborough Road"), at("#address_line_2"),
		typeAt("#town", "Welwyn Garden City"), at("#postcode"), at("button:Save and continue"))
	section("/renew/licence", typeAt("#dvla_number", "MORGA753116SM9IJ"), typeAt("#dvla_check_code", "Ab12Cd34"),
		chooseAt("#term", 1), at("button:Save and continue"))
	section("/renew/checks", chooseAt("#dbs_update_service", 0), typeAt("#dbs_number", "001234567890"), tickAt("#dbs_consent"), typeAt("#tax_check_code", "ABC DEF 123"),
		typeAt("#medical-day", "14"), typeAt("#medical-month", "8"), typeAt("#medical-year", "2025"),
		chooseAt("#right_to_work", 0), at("#share_code"), at("button:Save and continue"))

	// The photo: Tab to the file input and press Space, which opens the file chooser; the
	// browser hands the chooser to the test (a person picks the file in the phone's or the
	// system's dialog, which no key in a headless browser can drive), and the test gives it
	// the file. Then Tab to the upload button and press Enter.
	toTask("/renew/documents")
	tb.wantStatus(k.pressEnterToLoad(), http.StatusOK)
	tb.wantPath("/renew/documents")
	k.walk(signedIn(stop{"#file-photo", func(k *keyboard) { k.chooseFile(photoFile(t)) }}, at("button:Upload photo"))...)
	tb.wantStatus(k.pressEnterToLoad(), http.StatusOK)
	tb.wantPath("/renew/documents")
	tb.wantPreview()
	k.tabTo(`a.button[href="/renew"]`) // past the form to replace it
	tb.wantStatus(k.pressEnterToLoad(), http.StatusOK)
	tb.wantPath("/renew")
	section("/renew/declarations", chooseAt("#has_offences", 1), at("#offence_details"), tickAt("#truthful"), at("button:Save and continue"))

	// The awareness step: the leaflet, the three questions, the confirmation.
	toTask("/renew/awareness")
	tb.wantStatus(k.pressEnterToLoad(), http.StatusOK)
	k.tabTo(`a.button[href="/renew/awareness/check"]`) // past the leaflet's own links
	tb.wantStatus(k.pressEnterToLoad(), http.StatusOK)
	answers := quizAnswers(tb, env)
	var quiz []stop
	for _, q := range []string{"q1", "q2", "q3"} {
		quiz = append(quiz, chooseAt("#"+q, int(answers[q][0]-'0')))
	}
	k.walk(append(append(append([]stop{}, driverHeader...), at(`a.back-link[href="/renew/awareness"]`), at(`a.link[href="/renew/awareness"]`)),
		append(quiz, at("button:Check my answers"))...)...)
	tb.wantStatus(k.pressEnterToLoad(), http.StatusOK)
	tb.wantPath("/renew/awareness/confirm")
	k.walk(append(append([]stop{}, driverHeader...), at(`a.back-link[href="/renew/awareness"]`), tickAt("#understood"), at("button:Confirm"))...)
	tb.wantStatus(k.pressEnterToLoad(), http.StatusOK)
	tb.wantPath("/renew")

	k.tabTo(`a.button[href="/renew/check-answers"]`)
	tb.wantStatus(k.pressEnterToLoad(), http.StatusOK)
	k.tabTo("button:Accept and send")
	tb.wantStatus(k.pressEnterToLoad(), http.StatusOK)
	tb.wantPath("/renew/confirmation")
	if ref := referenceFormat.FindString(tb.text(".panel")); ref == "" {
		t.Fatalf("no reference on the confirmation page: %q", tb.text(".panel"))
	}
}
