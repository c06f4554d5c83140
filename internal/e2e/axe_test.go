package e2e

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/chromedp/chromedp"
)

// wcagTags are the axe-core rule tags for WCAG 2.0, 2.1 and 2.2 at levels A and AA: what the
// Public Sector Bodies Accessibility Regulations require and the regulator checks.
var wcagTags = []string{"wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"}

// violation is one axe rule a page breaks, with where.
type violation struct {
	Rule    string   `json:"id"`
	Impact  string   `json:"impact"`
	Help    string   `json:"help"`
	Targets []string `json:"targets"`
}

func (v violation) String() string {
	return fmt.Sprintf("%s (%s): %s at %s", v.Rule, v.Impact, v.Help, strings.Join(v.Targets, ", "))
}

// axeCheck runs axe-core on the page as it is now and returns the WCAG violations. The
// service's CSP forbids every script, so axe is put in through the DevTools protocol, which
// CSP does not govern.
func (tb *tab) axeCheck() []violation {
	tb.t.Helper()
	if !eval[bool](tb, `typeof window.axe === 'object'`) {
		run(tb, "load axe-core", chromedp.Evaluate[chromedp.Void](tb.b.tools.axeSource))
	}
	tags, _ := json.Marshal(wcagTags)
	// axe files text the same colour as its background under "incomplete" (needs review: it
	// might be meant to be hidden), not as a violation. Text hidden on purpose here is
	// visually-hidden or display:none, which axe skips, so a 1:1 ratio is text nobody can read.
	raw := eval[string](tb, `axe.run(document, {
		runOnly: {type: 'tag', values: `+string(tags)+`},
		resultTypes: ['violations', 'incomplete'],
	}).then(r => {
		const unreadable = r.incomplete.filter(v => v.id === 'color-contrast').map(v => ({
			...v, id: 'color-contrast-1:1', help: 'Text is the same colour as its background (contrast 1:1)',
			nodes: v.nodes.filter(n => n.any.some(c => c.data && c.data.messageKey === 'equalRatio')),
		})).filter(v => v.nodes.length > 0);
		return JSON.stringify(r.violations.concat(unreadable).map(v => ({
			id: v.id, impact: v.impact || 'serious', help: v.help,
			targets: v.nodes.map(n => n.target.join(' ')),
		})));
	})`)
	var vs []violation
	if err := json.Unmarshal([]byte(raw), &vs); err != nil {
		tb.t.Fatalf("reading axe's results: %v", err)
	}
	return vs
}

// reflowCheck finds what makes the page scroll sideways (WCAG 1.4.10 Reflow, which axe does
// not test): wide tables must scroll inside their own region, not take the page with them.
func (tb *tab) reflowCheck() []violation {
	tb.t.Helper()
	wide := eval[[]string](tb, `(() => {
		const vw = document.documentElement.clientWidth;
		if (document.documentElement.scrollWidth <= vw) return [];
		const out = [];
		for (const el of document.body.querySelectorAll('*')) {
			if (el.getBoundingClientRect().right <= vw + 1) continue;
			if (el.closest('.table-wrapper') && el.closest('.table-wrapper') !== el) continue;
			if ([...el.children].some(c => c.getBoundingClientRect().right > vw + 1)) continue; // report the innermost
			const cls = el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\s+/).join('.') : '';
			out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + cls);
			if (out.length === 5) break;
		}
		return out;
	})()`)
	if len(wide) == 0 {
		return nil
	}
	return []violation{{Rule: "reflow", Impact: "serious", Help: "The page scrolls sideways (WCAG 1.4.10)", Targets: wide}}
}

// errorsCheck finds error summary links to a form field that is not itself marked as in
// error with a visible message beside it (WCAG 3.3.1 Error Identification: a person looking at the
// field, not only at the summary, must see what is wrong).
func (tb *tab) errorsCheck() []violation {
	tb.t.Helper()
	unmarked := eval[[]string](tb, `[...document.querySelectorAll('.error-summary a[href^="#"]')].map(a => {
		const href = a.getAttribute('href'), el = document.getElementById(href.slice(1));
		if (!el) return href + ' (no such element)';
		if (!el.closest('form')) return ''; // a section of the page, not a field
		const group = el.closest('.form-group');
		const message = group && group.classList.contains('form-group--error') && group.querySelector('.error-message');
		return message && message.checkVisibility() ? '' : href; // not inside a closed <details>
	}).filter(Boolean)`)
	if len(unmarked) == 0 {
		return nil
	}
	return []violation{{Rule: "error-at-field", Impact: "serious", Help: "An error in the summary has no message at its field (WCAG 3.3.1)", Targets: unmarked}}
}
