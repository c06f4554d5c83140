package e2e

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/herts-msp/taxi-renewals/internal/testenv"
)

// accessibilityStatementIsComplete checks /accessibility has what the Public Sector Bodies
// Accessibility Regulations ask of a statement. (That every page's footer links to it is
// checked on every page by the sweep.)
func accessibilityStatementIsComplete(t *testing.T, b *browser) {
	env := testenv.New(t, testenv.Options{})
	tb := b.newTab(t, env.Server.URL)
	tb.wantStatus(tb.open("/"), http.StatusOK)
	tb.wantStatus(tb.click(`footer a[href="/accessibility"]`), http.StatusOK)
	tb.wantText("h1", "Accessibility statement")

	sections := eval[map[string]string](tb, `Object.fromEntries([...document.querySelectorAll('main h2')].map(h => {
		let text = '';
		for (let el = h.nextElementSibling; el && el.tagName !== 'H2'; el = el.nextElementSibling) text += el.innerText + '\n';
		return [h.innerText.trim(), text];
	}))`)
	for _, want := range []struct {
		heading string
		says    *regexp.Regexp
	}{
		{"Compliance status", regexp.MustCompile(`(fully|partially|not) compliant with the Web Content Accessibility Guidelines version 2\.2 AA`)},
		{"Content that is not accessible", regexp.MustCompile(`fails WCAG 2\.2 success criterion`)},
		{"Reporting accessibility problems and asking for other formats", regexp.MustCompile(`contact your council's licensing team`)},
		{"Enforcement procedure", regexp.MustCompile(`Equality and Human Rights Commission \(EHRC\)(.|\n)*Equality Advisory and Support Service \(EASS\)`)},
		{"How we tested this service", regexp.MustCompile(`axe-core(.|\n)*WCAG 2\.0, 2\.1 and 2\.2 at levels A and AA(.|\n)*keyboard alone`)},
		{"Preparation of this accessibility statement", regexp.MustCompile(`prepared on \d{1,2} [A-Z][a-z]+ 20\d\d\. It was last reviewed on \d{1,2} [A-Z][a-z]+ 20\d\d`)},
	} {
		text, ok := sections[want.heading]
		if !ok {
			var got []string
			for h := range sections {
				got = append(got, h)
			}
			t.Errorf("the statement has no %q section (it has: %s)", want.heading, strings.Join(got, "; "))
			continue
		}
		if !want.says.MatchString(text) {
			t.Errorf("the statement's %q section does not say %s:\n%s", want.heading, want.says, text)
		}
	}
}
