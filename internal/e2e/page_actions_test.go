package e2e

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/chromedp/chromedp"
)

// What a person does on a page, and what the tests read from it.

// click clicks the element matching a CSS selector and waits for the page it loads.
func (tb *tab) click(selector string) int {
	tb.t.Helper()
	return tb.navigateBy("click "+selector, chromedp.Click(chromedp.CSS(selector), chromedp.NodeVisible))
}

// marked is the selector of the element mark last tagged.
const marked = "[data-e2e-marked]"

// mark tags the one visible element matching selector whose text is exactly text, so
// chromedp can find it by CSS, which cannot match on text. Runs of white space count as one
// space: a visually hidden part of a button ("Accept<span> Photo</span>") comes out of
// innerText on a line of its own.
func (tb *tab) mark(selector, text string) {
	tb.t.Helper()
	found := call[bool](tb, `(selector, want) => {
		for (const el of document.querySelectorAll('[data-e2e-marked]')) el.removeAttribute('data-e2e-marked');
		for (const el of document.querySelectorAll(selector)) {
			if ((el.innerText || el.value || '').replace(/\s+/g, ' ').trim() === want && el.offsetParent !== null) {
				el.setAttribute('data-e2e-marked', '');
				return true;
			}
		}
		return false;
	}`, selector, text)
	if !found {
		tb.t.Fatalf("no %s saying %q on %s", selector, text, tb.path())
	}
}

// press clicks the button (or button-styled link) with this text and waits for the answer.
func (tb *tab) press(text string) int {
	tb.t.Helper()
	tb.mark("button, a.button", text)
	return tb.click(marked)
}

// fill sets form fields by name: text fields and selects take the value; radios and
// checkboxes are ticked when their value matches.
func (tb *tab) fill(fields map[string]string) {
	tb.t.Helper()
	for name, value := range fields {
		ok := call[bool](tb, `(name, value) => {
			const els = document.getElementsByName(name);
			for (const el of els) {
				if (el.type === 'radio' || el.type === 'checkbox') el.checked = el.value === value;
				else el.value = value;
			}
			return els.length > 0;
		}`, name, value)
		if !ok {
			tb.t.Fatalf("no field %q on %s", name, tb.path())
		}
	}
}

// clearForm empties every field of the form that holds the button with this text, as for
// a person who sends the form without answering.
func (tb *tab) clearForm(buttonText string) {
	tb.t.Helper()
	tb.mark("button", buttonText)
	eval[bool](tb, `(() => {
		for (const el of document.querySelector('[data-e2e-marked]').form.elements) {
			if (el.type === 'hidden' || el.tagName === 'BUTTON') continue;
			if (el.type === 'radio' || el.type === 'checkbox') el.checked = false;
			else if (el.tagName === 'SELECT') el.selectedIndex = 0;
			else el.value = '';
		}
		return true;
	})()`)
}

// openDetails opens the <details> whose summary says text by clicking the summary, unless
// it is open already (as it is when the form inside it came back with errors).
func (tb *tab) openDetails(text string) {
	tb.t.Helper()
	tb.mark("details > summary", text)
	if !eval[bool](tb, `document.querySelector('[data-e2e-marked]').parentElement.open`) {
		tb.do("open "+text, chromedp.Click(chromedp.CSS(marked), chromedp.NodeVisible))
	}
}

// typeInto focuses a field and types into it, key by key.
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
	tb.do("tick "+inputID, chromedp.Click(chromedp.CSS(fmt.Sprintf(`label[for="%s"]`, inputID)), chromedp.NodeVisible))
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

// text is the visible text of the first element matching selector ("" when none).
func (tb *tab) text(selector string) string {
	tb.t.Helper()
	return call[string](tb, `selector => (document.querySelector(selector) || {innerText: ''}).innerText`, selector)
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

// wantPath fails unless the tab shows path (the query and the fragment are ignored).
func (tb *tab) wantPath(want string) {
	tb.t.Helper()
	got, _, _ := strings.Cut(tb.path(), "#")
	got, _, _ = strings.Cut(got, "?")
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

// wantErrors fails unless the page's title starts "Error: " and it has a focused error
// summary listing exactly these messages, each a link to a field on the page.
func (tb *tab) wantErrors(messages ...string) {
	tb.t.Helper()
	got := eval[struct {
		Focused bool
		Texts   []string
		Broken  []string
		Title   string
	}](tb, `(() => {
		const s = document.querySelector('.error-summary');
		const links = s ? [...s.querySelectorAll('a')] : [];
		return {
			Focused: !!s && document.activeElement === s,
			Texts: links.map(a => a.innerText.trim()),
			Broken: links.map(a => a.getAttribute('href')).filter(h => !document.getElementById(h.slice(1))),
			Title: document.title,
		};
	})()`)
	if !got.Focused {
		tb.t.Errorf("%s: the error summary is missing or not focused", tb.path())
	}
	if !strings.HasPrefix(got.Title, "Error: ") {
		tb.t.Errorf("%s: title %q does not start with \"Error: \"", tb.path(), got.Title)
	}
	if len(got.Broken) > 0 {
		tb.t.Errorf("%s: the error summary links to no field: %v", tb.path(), got.Broken)
	}
	if strings.Join(got.Texts, "\n") != strings.Join(messages, "\n") {
		tb.t.Errorf("%s: the error summary says\n  %s\nwant\n  %s", tb.path(), strings.Join(got.Texts, "\n  "), strings.Join(messages, "\n  "))
	}
}
