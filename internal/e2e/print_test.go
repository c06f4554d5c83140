package e2e

import (
	"bytes"
	"net/http"
	"os"
	"regexp"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/herts-msp/taxi-renewals/internal/testenv"
)

// pdfPage matches each page object of a PDF (not the /Pages tree above them).
var pdfPage = regexp.MustCompile(`/Type\s*/Page\b[^s]`)

// leafletPrintsOnA4 prints the public leaflet to PDF on A4 and checks the print stylesheet:
// the site's header, navigation and footer are not printed, the leaflet and its numbers are,
// in black, and it fits on a few sheets.
func leafletPrintsOnA4(t *testing.T, b *browser) {
	env := testenv.New(t, testenv.Options{})
	tb := b.newTab(t, env.Server.URL)
	tb.wantStatus(tb.open("/leaflet"), http.StatusOK)

	pdf := run(tb, "print to PDF", chromedp.PrintToPDF(chromedp.PDFPaper(chromedp.PaperA4)))
	if err := os.WriteFile(artefactPath(t, "print", "leaflet-a4.pdf"), pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Fatalf("PrintToPDF did not give a PDF: %q", pdf[:min(len(pdf), 20)])
	}
	// The leaflet runs to about three A4 sheets; many more means the print styles are lost.
	if pages := len(pdfPage.FindAll(pdf, -1)); pages < 1 || pages > 5 {
		t.Errorf("the leaflet prints on %d A4 pages, want 1 to 5", pages)
	}

	tb.emulateMedia("print")
	defer tb.emulateMedia("")
	type shown struct {
		Selector, Display, Colour string
	}
	got := eval[[]shown](tb, `['.skip-link', '.header', '.phase-banner', '.footer', '.no-print', '.leaflet', '.leaflet h1', '.leaflet p']
		.map(sel => { const el = document.querySelector(sel); const s = el ? getComputedStyle(el) : null;
			return {Selector: sel, Display: s ? s.display : 'missing', Colour: s ? s.color : ''}; })`)
	for _, s := range got {
		hidden := s.Display == "none"
		switch s.Selector {
		case ".leaflet", ".leaflet h1", ".leaflet p":
			if hidden || s.Display == "missing" {
				t.Errorf("in print, %s is not shown (display %s)", s.Selector, s.Display)
			}
			if s.Colour != "rgb(0, 0, 0)" {
				t.Errorf("in print, %s is %s, want black", s.Selector, s.Colour)
			}
		default:
			if !hidden {
				t.Errorf("in print, %s is shown (display %s); it belongs on screen only", s.Selector, s.Display)
			}
		}
	}
	tb.wantText(".leaflet", "999", "08000 121 700", "03000 11 55 55", "101")
}
