package report

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strings"
)

// Charts drawn on the server as accessible inline SVG: role="img" with a <title> and a <desc>
// (referenced by aria-labelledby) that give every number, no script, and nothing told by colour
// alone. The page shows the same numbers in a table beside each chart.

// Bar is one bar of a bar chart: a label and a percentage (nil: no figure).
type Bar struct {
	Label string
	Value *float64
	// Total marks the partnership total: drawn apart, below a rule, hatched and labelled.
	Total bool
}

// Series is one line of a line chart: a name and one value per point (nil: no figure).
type Series struct {
	Name   string
	Values []*float64
}

// Colours: text #0b0c0c; a council's line #1d70b8 (5.2:1 on white) and the partnership total's
// #505a5f, dashed (7.0:1), so they differ by pattern as well as colour; gridlines are light and
// decorative.
const (
	ink        = "#0b0c0c"
	councilInk = "#1d70b8"
	totalInk   = "#505a5f"
	gridInk    = "#d8d8d8"
)

func esc(s string) string { return html.EscapeString(s) }

func pctText(v *float64) string {
	if v == nil {
		return "no figure"
	}
	return fmt.Sprintf("%.1f%%", *v)
}

func open(b *strings.Builder, id, title, desc string, w, h int) {
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" role="img" class="chart" viewBox="0 0 %d %d" width="100%%" aria-labelledby="%s-title %s-desc">`, w, h, esc(id), esc(id))
	fmt.Fprintf(b, `<title id="%s-title">%s</title><desc id="%s-desc">%s</desc>`, esc(id), esc(title), esc(id), esc(desc))
}

// BarChart draws horizontal bars of percentages (0–100), one per label, with each value
// written at the end of its bar. A bar marked Total is set apart: below a gap and a rule, its
// label in bold, its bar hatched with an outline (not told by colour alone). id must be unique
// on the page.
func BarChart(id, title string, bars []Bar) template.HTML {
	const labelW, barW, rowH, top, gap = 290.0, 360.0, 26.0, 28.0, 14.0
	extra := 0.0
	for _, b := range bars {
		if b.Total {
			extra = gap
		}
	}
	bottom := top + rowH*float64(len(bars)) + extra
	h := int(bottom + 12)
	w := int(labelW + barW + 70)
	var descs []string
	for _, b := range bars {
		descs = append(descs, b.Label+": "+pctText(b.Value))
	}
	var s strings.Builder
	open(&s, id, title, "Horizontal bar chart, 0 to 100 per cent, the partnership total last and hatched. "+strings.Join(descs, "; ")+".", w, h)
	fmt.Fprintf(&s, `<defs><pattern id="%s-hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">`+
		`<rect width="6" height="6" fill="#ffffff"/><rect width="3" height="6" fill="%s"/></pattern></defs>`, esc(id), ink)
	// Axis: gridlines at 0, 25, 50, 75, 100.
	for p := 0; p <= 100; p += 25 {
		x := labelW + barW*float64(p)/100
		fmt.Fprintf(&s, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#b1b4b6" stroke-width="1"/>`, x, top-6, x, bottom)
		fmt.Fprintf(&s, `<text x="%.1f" y="%.1f" font-size="12" text-anchor="middle" fill="%s">%d%%</text>`, x, top-10, ink, p)
	}
	y := top
	for _, b := range bars {
		if b.Total {
			y += gap
			fmt.Fprintf(&s, `<line x1="8" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="1.5"/>`, y-gap/2, labelW+barW+60, y-gap/2, ink)
		}
		weight := ""
		if b.Total {
			weight = ` font-weight="bold"`
		}
		fmt.Fprintf(&s, `<text x="%.1f" y="%.1f" font-size="13" text-anchor="end" fill="%s"%s>%s</text>`, labelW-8, y+rowH/2+4, ink, weight, esc(b.Label))
		v := 0.0
		if b.Value != nil {
			v = *b.Value
		}
		v = math.Max(0, math.Min(v, 100))
		if b.Total {
			fmt.Fprintf(&s, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="url(#%s-hatch)" stroke="%s" stroke-width="1.5"/>`, labelW, y+4, barW*v/100, rowH-8, esc(id), ink)
		} else {
			fmt.Fprintf(&s, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>`, labelW, y+4, barW*v/100, rowH-8, councilInk)
		}
		fmt.Fprintf(&s, `<text x="%.1f" y="%.1f" font-size="13" fill="%s"%s>%s</text>`, labelW+barW*v/100+6, y+rowH/2+4, ink, weight, esc(pctText(b.Value)))
		y += rowH
	}
	s.WriteString(`</svg>`)
	return template.HTML(s.String()) //nolint:gosec // every text is escaped above
}

// SmallMultiples draws coverage over time (percentages 0–100 over the points xLabels) as one
// small panel per series, on shared axes, so that ten or more councils stay readable. When
// total is given it has its own first panel and is drawn in every other panel too, grey and
// dashed behind the council's solid blue line with round markers, for comparison; a key above
// the panels says which is which. Each panel is titled with its name and latest figure.
func SmallMultiples(id, title string, xLabels []string, series []Series, total *Series) template.HTML {
	const panelW, panelH, padL, padT, padB, gapX, gapY, keyH = 210.0, 150.0, 34.0, 34.0, 22.0, 14.0, 12.0, 30.0
	panels := append([]Series(nil), series...)
	if total != nil {
		panels = append([]Series{*total}, panels...)
	}
	cols := min(3, max(1, len(panels)))
	rows := (len(panels) + cols - 1) / cols
	w := int(float64(cols)*panelW + float64(cols-1)*gapX)
	h := int(keyH + float64(rows)*panelH + float64(rows-1)*gapY)
	latest := func(sr Series) *float64 {
		for i := len(sr.Values) - 1; i >= 0; i-- {
			if sr.Values[i] != nil {
				return sr.Values[i]
			}
		}
		return nil
	}
	var descs []string
	for _, sr := range panels {
		var vals []string
		for i, v := range sr.Values {
			if i < len(xLabels) {
				vals = append(vals, xLabels[i]+" "+pctText(v))
			}
		}
		descs = append(descs, sr.Name+": "+strings.Join(vals, ", "))
	}
	kind := "one small chart per council on the same scales"
	if total != nil {
		kind += ", the partnership total first and, dashed, in every council's chart for comparison"
	}
	var s strings.Builder
	open(&s, id, title, "Coverage per cent over time, "+kind+". "+strings.Join(descs, ". ")+".", w, h)
	// Never drawn larger than half as big again, however wide the page (one panel alone).
	svg := s.String()
	s.Reset()
	s.WriteString(strings.Replace(svg, `width="100%"`, fmt.Sprintf(`width="100%%" style="max-width: %dpx"`, w*3/2), 1))
	// The key.
	if total != nil {
		fmt.Fprintf(&s, `<line x1="2" y1="12" x2="34" y2="12" stroke="%s" stroke-width="2.5"/><circle cx="18" cy="12" r="3.5" fill="%s"/>`, councilInk, councilInk)
		fmt.Fprintf(&s, `<text x="40" y="16" font-size="12" fill="%s">Council</text>`, ink)
		fmt.Fprintf(&s, `<line x1="110" y1="12" x2="142" y2="12" stroke="%s" stroke-width="2" stroke-dasharray="5 3"/>`, totalInk)
		fmt.Fprintf(&s, `<text x="148" y="16" font-size="12" fill="%s">Partnership total</text>`, ink)
	}
	plotW, plotH := panelW-padL-8, panelH-padT-padB
	for pi, sr := range panels {
		ox := float64(pi%cols) * (panelW + gapX)
		oy := keyH + float64(pi/cols)*(panelH+gapY)
		isTotal := total != nil && pi == 0
		xAt := func(i int) float64 {
			if len(xLabels) <= 1 {
				return ox + padL + plotW/2
			}
			return ox + padL + plotW*float64(i)/float64(len(xLabels)-1)
		}
		yAt := func(v float64) float64 { return oy + padT + plotH*(1-math.Max(0, math.Min(v, 100))/100) }
		name := sr.Name
		if len([]rune(name)) > 30 { // the full name is in the description and the table
			name = string([]rune(name)[:29]) + "…"
		}
		weight := ""
		if isTotal {
			weight = ` font-weight="bold"`
		}
		fmt.Fprintf(&s, `<g><text x="%.1f" y="%.1f" font-size="12" fill="%s"%s>%s</text>`, ox+2, oy+12, ink, weight, esc(name))
		fmt.Fprintf(&s, `<text x="%.1f" y="%.1f" font-size="12" fill="%s">latest %s</text>`, ox+2, oy+26, ink, esc(pctText(latest(sr))))
		for _, p := range []int{0, 50, 100} {
			y := yAt(float64(p))
			fmt.Fprintf(&s, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="1"/>`, ox+padL, y, ox+padL+plotW, y, gridInk)
			fmt.Fprintf(&s, `<text x="%.1f" y="%.1f" font-size="10" text-anchor="end" fill="%s">%d%%</text>`, ox+padL-4, y+3.5, ink, p)
		}
		if n := len(xLabels); n > 0 {
			fmt.Fprintf(&s, `<text x="%.1f" y="%.1f" font-size="10" text-anchor="start" fill="%s">%s</text>`, ox+padL, oy+panelH-6, ink, esc(xLabels[0]))
			if n > 1 {
				fmt.Fprintf(&s, `<text x="%.1f" y="%.1f" font-size="10" text-anchor="end" fill="%s">%s</text>`, ox+padL+plotW, oy+panelH-6, ink, esc(xLabels[n-1]))
			}
		}
		line := func(sr Series, colour, dash string, width float64, markers bool) {
			var d strings.Builder
			pen := false
			for i, v := range sr.Values {
				if v == nil || i >= len(xLabels) {
					pen = false
					continue
				}
				cmd := "L"
				if !pen {
					cmd = "M"
				}
				fmt.Fprintf(&d, "%s%.1f %.1f", cmd, xAt(i), yAt(*v))
				pen = true
			}
			if d.Len() == 0 {
				return
			}
			fmt.Fprintf(&s, `<path d="%s" fill="none" stroke="%s" stroke-width="%.1f"`, d.String(), colour, width)
			if dash != "" {
				fmt.Fprintf(&s, ` stroke-dasharray="%s"`, dash)
			}
			s.WriteString(`/>`)
			if markers {
				for i, v := range sr.Values {
					if v != nil && i < len(xLabels) {
						fmt.Fprintf(&s, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>`, xAt(i), yAt(*v), colour)
					}
				}
			}
		}
		switch {
		case isTotal:
			line(sr, totalInk, "5 3", 2.5, true)
		default:
			if total != nil {
				line(*total, totalInk, "5 3", 2, false)
			}
			line(sr, councilInk, "", 2.5, true)
		}
		s.WriteString(`</g>`)
	}
	s.WriteString(`</svg>`)
	return template.HTML(s.String()) //nolint:gosec // every text is escaped above
}
