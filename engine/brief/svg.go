package brief

import (
	"fmt"
	"html"
	"math"
	"strings"
)

// Chart colours and font: the page's CSS font list, so that the browser
// lays Chinese labels out with a CJK font.
const (
	chartFont  = `'Noto Sans CJK SC','Noto Sans SC','WenQuanYi Micro Hei','Microsoft YaHei',sans-serif`
	chartBar   = "#1f4e79"
	chartBarHi = "#c0392b"
	chartGrid  = "#d9dee5"
	chartText  = "#24292f"
	chartMuted = "#6b7280"
)

// bar is one bar of a horizontal bar chart. Hidden bars (suppressed small
// counts) are drawn as an empty outline of no length, labelled with Text.
type bar struct {
	Label  string
	Value  float64
	Text   string
	Hidden bool
	Accent bool
}

// barChart writes a horizontal bar chart as inline SVG.
func barChart(id, title string, bars []bar) string {
	const (
		w      = 680.0
		labelW = 170.0
		valueW = 170.0
		rowH   = 26.0
		top    = 34.0
	)
	h := top + rowH*float64(len(bars)) + 12
	max := 0.0
	for _, b := range bars {
		if !b.Hidden && b.Value > max {
			max = b.Value
		}
	}
	if max == 0 {
		max = 1
	}
	plotW := w - labelW - valueW
	var s strings.Builder
	fmt.Fprintf(&s, `<svg id="%s" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %.0f %.0f" width="100%%" role="img" aria-label="%s" font-family="%s" font-size="13">`,
		id, w, h, html.EscapeString(title), chartFont)
	fmt.Fprintf(&s, `<text x="0" y="18" font-size="14" font-weight="600" fill="%s">%s</text>`, chartText, html.EscapeString(title))
	// grid at quarters
	for q := 0; q <= 4; q++ {
		x := labelW + plotW*float64(q)/4
		fmt.Fprintf(&s, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="1"/>`, x, top-4, x, h-8, chartGrid)
	}
	for i, b := range bars {
		y := top + rowH*float64(i)
		fmt.Fprintf(&s, `<text x="%.1f" y="%.1f" text-anchor="end" fill="%s">%s</text>`, labelW-8, y+rowH/2+4, chartText, html.EscapeString(b.Label))
		if b.Hidden {
			fmt.Fprintf(&s, `<rect x="%.1f" y="%.1f" width="14" height="%.1f" fill="none" stroke="%s" stroke-dasharray="2 2"/>`, labelW, y+5, rowH-10, chartMuted)
			fmt.Fprintf(&s, `<text x="%.1f" y="%.1f" fill="%s">%s</text>`, labelW+20, y+rowH/2+4, chartMuted, html.EscapeString(b.Text))
			continue
		}
		bw := math.Max(1, plotW*b.Value/max)
		col := chartBar
		if b.Accent {
			col = chartBarHi
		}
		fmt.Fprintf(&s, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s" rx="2"/>`, labelW, y+4, bw, rowH-8, col)
		fmt.Fprintf(&s, `<text x="%.1f" y="%.1f" fill="%s">%s</text>`, labelW+bw+6, y+rowH/2+4, chartText, html.EscapeString(b.Text))
	}
	s.WriteString(`</svg>`)
	return s.String()
}

// point is one point of a line chart; hidden points are left out (a gap).
type point struct {
	Label  string
	Value  float64
	Text   string
	Hidden bool
}

// lineChart writes a line chart of values over runs as inline SVG.
func lineChart(id, title, yTitle string, pts []point) string {
	const (
		w      = 680.0
		h      = 270.0
		left   = 56.0
		right  = 20.0
		top    = 40.0
		bottom = 50.0
	)
	max := 0.0
	for _, p := range pts {
		if !p.Hidden && p.Value > max {
			max = p.Value
		}
	}
	step := niceStep(max / 4)
	ymax := step * math.Ceil(max/step)
	if ymax == 0 {
		ymax = step
	}
	plotW, plotH := w-left-right, h-top-bottom
	x := func(i int) float64 {
		if len(pts) == 1 {
			return left + plotW/2
		}
		return left + plotW*float64(i)/float64(len(pts)-1)
	}
	y := func(v float64) float64 { return top + plotH*(1-v/ymax) }
	var s strings.Builder
	fmt.Fprintf(&s, `<svg id="%s" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %.0f %.0f" width="100%%" role="img" aria-label="%s" font-family="%s" font-size="12">`,
		id, w, h, html.EscapeString(title), chartFont)
	fmt.Fprintf(&s, `<text x="0" y="18" font-size="14" font-weight="600" fill="%s">%s</text>`, chartText, html.EscapeString(title))
	fmt.Fprintf(&s, `<text x="0" y="34" font-size="11" fill="%s">%s</text>`, chartMuted, html.EscapeString(yTitle))
	for v := 0.0; v <= ymax+step/2; v += step {
		fmt.Fprintf(&s, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s"/>`, left, y(v), w-right, y(v), chartGrid)
		fmt.Fprintf(&s, `<text x="%.1f" y="%.1f" text-anchor="end" fill="%s">%s</text>`, left-6, y(v)+4, chartMuted, fmtInt(int(v)))
	}
	every := (len(pts) + 7) / 8
	for i, p := range pts {
		if i%every == 0 || i == len(pts)-1 {
			fmt.Fprintf(&s, `<text x="%.1f" y="%.1f" text-anchor="middle" fill="%s">%s</text>`, x(i), h-bottom+18, chartMuted, html.EscapeString(p.Label))
		}
	}
	var path strings.Builder
	pen := false
	for i, p := range pts {
		if p.Hidden {
			pen = false
			continue
		}
		cmd := "L"
		if !pen {
			cmd = "M"
		}
		fmt.Fprintf(&path, "%s%.1f %.1f ", cmd, x(i), y(p.Value))
		pen = true
	}
	if path.Len() > 0 {
		fmt.Fprintf(&s, `<path d="%s" fill="none" stroke="%s" stroke-width="2.5"/>`, strings.TrimSpace(path.String()), chartBar)
	}
	for i, p := range pts {
		if p.Hidden {
			fmt.Fprintf(&s, `<text x="%.1f" y="%.1f" text-anchor="middle" fill="%s">%s</text>`, x(i), top+plotH-6, chartMuted, html.EscapeString(p.Text))
			continue
		}
		col := chartBar
		if i == len(pts)-1 {
			col = chartBarHi
		}
		fmt.Fprintf(&s, `<circle cx="%.1f" cy="%.1f" r="4" fill="%s"/>`, x(i), y(p.Value), col)
		fmt.Fprintf(&s, `<text x="%.1f" y="%.1f" text-anchor="middle" fill="%s">%s</text>`, x(i), y(p.Value)-9, chartText, html.EscapeString(p.Text))
	}
	fmt.Fprintf(&s, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s"/>`, left, top+plotH, w-right, top+plotH, chartMuted)
	s.WriteString(`</svg>`)
	return s.String()
}

// niceStep rounds a step up to 1, 2 or 5 times a power of ten (at least 1).
func niceStep(x float64) float64 {
	if x <= 1 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(x)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= x {
			return m * p
		}
	}
	return 10 * p
}
