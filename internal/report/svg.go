package report

import (
	"fmt"
	"html"
	"html/template"
	"strings"
)

// Charts drawn on the server as accessible inline SVG: role="img" with a <title> and a <desc>
// (referenced by aria-labelledby), no script, and a legend that does not rely on colour:
// every series has its own marker shape and dash pattern, and its name beside its last point.
// The page shows the same numbers in a table beside each chart.

// Bar is one bar of a bar chart: a label and a percentage (nil: no figure).
type Bar struct {
	Label string
	Value *float64
}

// Series is one line of a line chart: a name and one value per point (nil: no figure).
type Series struct {
	Name   string
	Values []*float64
}

// palette is distinguishable for common colour-vision deficiencies (Okabe–Ito, darkened for
// contrast on white); shapes and dashes carry the distinction too.
var palette = []string{"#0b5394", "#b35900", "#00795c", "#a3195b", "#5a3e99", "#6b6b00", "#005f87", "#8a2c00", "#2e6b30", "#4d4d4d", "#0b0c0c"}

var dashes = []string{"", "8 4", "2 3", "10 3 2 3", "4 4", "12 4 2 4 2 4", "1 4", "6 2", "14 4", "3 6", "16 3 3 3"}

func esc(s string) string { return html.EscapeString(s) }

// marker draws series i's marker shape at (x, y).
func marker(i int, x, y float64, colour string) string {
	const r = 4.5
	switch i % 5 {
	case 0:
		return fmt.Sprintf(`<circle cx="%.1f" cy="%.1f" r="%.1f" fill="%s"/>`, x, y, r, colour)
	case 1:
		return fmt.Sprintf(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>`, x-r, y-r, 2*r, 2*r, colour)
	case 2:
		return fmt.Sprintf(`<path d="M%.1f %.1fL%.1f %.1fL%.1f %.1fZ" fill="%s"/>`, x, y-r-1, x+r+1, y+r, x-r-1, y+r, colour)
	case 3:
		return fmt.Sprintf(`<path d="M%.1f %.1fL%.1f %.1fL%.1f %.1fL%.1f %.1fZ" fill="%s"/>`, x, y-r-1, x+r+1, y, x, y+r+1, x-r-1, y, colour)
	default:
		return fmt.Sprintf(`<path d="M%.1f %.1fL%.1f %.1fM%.1f %.1fL%.1f %.1f" stroke="%s" stroke-width="2.5"/>`, x-r, y-r, x+r, y+r, x-r, y+r, x+r, y-r, colour)
	}
}

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
// written at the end of its bar. id must be unique on the page.
func BarChart(id, title string, bars []Bar) template.HTML {
	const labelW, barW, rowH, top = 290.0, 360.0, 26.0, 28.0
	h := int(top + rowH*float64(len(bars)) + 30)
	w := int(labelW + barW + 70)
	var descs []string
	for _, b := range bars {
		descs = append(descs, b.Label+": "+pctText(b.Value))
	}
	var s strings.Builder
	open(&s, id, title, "Horizontal bar chart, 0 to 100 per cent. "+strings.Join(descs, "; ")+".", w, h)
	// Axis: gridlines at 0, 25, 50, 75, 100.
	for p := 0; p <= 100; p += 25 {
		x := labelW + barW*float64(p)/100
		fmt.Fprintf(&s, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#b1b4b6" stroke-width="1"/>`, x, top-6, x, top+rowH*float64(len(bars)))
		fmt.Fprintf(&s, `<text x="%.1f" y="%.1f" font-size="12" text-anchor="middle" fill="#0b0c0c">%d%%</text>`, x, top-10, p)
	}
	for i, b := range bars {
		y := top + rowH*float64(i)
		fmt.Fprintf(&s, `<text x="%.1f" y="%.1f" font-size="13" text-anchor="end" fill="#0b0c0c">%s</text>`, labelW-8, y+rowH/2+4, esc(b.Label))
		v := 0.0
		if b.Value != nil {
			v = *b.Value
		}
		if v > 100 {
			v = 100
		}
		fmt.Fprintf(&s, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#1d70b8"/>`, labelW, y+4, barW*v/100, rowH-8)
		fmt.Fprintf(&s, `<text x="%.1f" y="%.1f" font-size="13" fill="#0b0c0c">%s</text>`, labelW+barW*v/100+6, y+rowH/2+4, esc(pctText(b.Value)))
	}
	s.WriteString(`</svg>`)
	return template.HTML(s.String()) //nolint:gosec // every text is escaped above
}

// LineChart draws one line per series over the points labelled xLabels (percentages 0–100),
// each series with its own colour, marker and dash, a legend, and its name by its last point.
func LineChart(id, title string, xLabels []string, series []Series) template.HTML {
	const left, plotW, plotH, top, legendRowH = 50.0, 560.0, 260.0, 20.0, 22.0
	w := int(left + plotW + 40)
	h := int(top + plotH + 50 + legendRowH*float64(len(series)))
	var descs []string
	for _, sr := range series {
		var vals []string
		for i, v := range sr.Values {
			if i < len(xLabels) {
				vals = append(vals, xLabels[i]+" "+pctText(v))
			}
		}
		descs = append(descs, sr.Name+": "+strings.Join(vals, ", "))
	}
	var s strings.Builder
	open(&s, id, title, "Line chart of coverage per cent over time, one line per council. "+strings.Join(descs, ". ")+".", w, h)
	xAt := func(i int) float64 {
		if len(xLabels) <= 1 {
			return left + plotW/2
		}
		return left + plotW*float64(i)/float64(len(xLabels)-1)
	}
	yAt := func(v float64) float64 {
		if v > 100 {
			v = 100
		}
		if v < 0 {
			v = 0
		}
		return top + plotH*(1-v/100)
	}
	for p := 0; p <= 100; p += 25 {
		y := yAt(float64(p))
		fmt.Fprintf(&s, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#d8d8d8" stroke-width="1"/>`, left, y, left+plotW, y)
		fmt.Fprintf(&s, `<text x="%.1f" y="%.1f" font-size="12" text-anchor="end" fill="#0b0c0c">%d%%</text>`, left-6, y+4, p)
	}
	// At most about 7 labels on the axis, evenly spaced, so they never overlap; the last point
	// is labelled too when there is room.
	step := 1 + len(xLabels)/7
	lastShown := -step
	for i, l := range xLabels {
		last := i == len(xLabels)-1
		if i%step == 0 || (last && i-lastShown > step/2+1) {
			fmt.Fprintf(&s, `<text x="%.1f" y="%.1f" font-size="11" text-anchor="middle" fill="#0b0c0c">%s</text>`, xAt(i), top+plotH+16, esc(l))
			lastShown = i
		}
	}
	for si, sr := range series {
		colour, dash := palette[si%len(palette)], dashes[si%len(dashes)]
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
		fmt.Fprintf(&s, `<g><path d="%s" fill="none" stroke="%s" stroke-width="2"`, d.String(), colour)
		if dash != "" {
			fmt.Fprintf(&s, ` stroke-dasharray="%s"`, dash)
		}
		s.WriteString(`/>`)
		for i, v := range sr.Values {
			if v != nil && i < len(xLabels) {
				s.WriteString(marker(si, xAt(i), yAt(*v), colour))
			}
		}
		s.WriteString(`</g>`)
		// Legend: marker, a sample of the line's dash, and the name.
		ly := top + plotH + 40 + legendRowH*float64(si)
		fmt.Fprintf(&s, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="2"`, left, ly, left+40, ly, colour)
		if dash != "" {
			fmt.Fprintf(&s, ` stroke-dasharray="%s"`, dash)
		}
		s.WriteString(`/>`)
		s.WriteString(marker(si, left+20, ly, colour))
		last := "no figure"
		for i := len(sr.Values) - 1; i >= 0; i-- {
			if sr.Values[i] != nil {
				last = pctText(sr.Values[i])
				break
			}
		}
		fmt.Fprintf(&s, `<text x="%.1f" y="%.1f" font-size="13" fill="#0b0c0c">%s (latest %s)</text>`, left+50, ly+4, esc(sr.Name), esc(last))
	}
	s.WriteString(`</svg>`)
	return template.HTML(s.String()) //nolint:gosec // every text is escaped above
}
