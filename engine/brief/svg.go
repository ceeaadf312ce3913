package brief

import (
	"fmt"
	"math"
	"strings"
)

// Chart colours that vary with the data; the fixed ones (grid, text, the
// font list) are written in templates/charts.html.
const (
	chartBar   = "#1f4e79"
	chartBarHi = "#c0392b"
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

// f1 and f0 write a coordinate as the charts do: one decimal, or none.
func f1(x float64) string { return fmt.Sprintf("%.1f", x) }
func f0(x float64) string { return fmt.Sprintf("%.0f", x) }

// svgLine is a line of a chart, coordinates written out.
type svgLine struct{ X1, Y1, X2, Y2 string }

// barsView is what templates/charts.html "bars" draws.
type barsView struct {
	ID, Title, W, H string
	Grid            []svgLine
	Bars            []barView
}

type barView struct {
	Label, Text, Fill                                string
	Hidden                                           bool
	Empty                                            bool // hidden or zero: nothing drawn
	LabelX, TextX, TextY, RectX, RectY, RectW, RectH string
}

// barChart lays out a horizontal bar chart, drawn as inline SVG.
func barChart(id, title string, bars []bar) *barsView {
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
	v := &barsView{ID: id, Title: title, W: f0(w), H: f0(h)}
	for q := 0; q <= 4; q++ { // grid at quarters
		x := labelW + plotW*float64(q)/4
		v.Grid = append(v.Grid, svgLine{f1(x), f1(top - 4), f1(x), f1(h - 8)})
	}
	for i, b := range bars {
		y := top + rowH*float64(i)
		bv := barView{Label: b.Label, Text: b.Text, Hidden: b.Hidden, Empty: b.Hidden || b.Value == 0, LabelX: f1(labelW - 8), TextY: f1(y + rowH/2 + 4), RectX: f1(labelW)}
		if b.Hidden {
			bv.RectY, bv.RectH, bv.TextX = f1(y+5), f1(rowH-10), f1(labelW+20)
		} else {
			bw := math.Max(1, plotW*b.Value/max)
			bv.Fill = chartBar
			if b.Accent {
				bv.Fill = chartBarHi
			}
			bv.RectY, bv.RectW, bv.RectH, bv.TextX = f1(y+4), f1(bw), f1(rowH-8), f1(labelW+bw+6)
		}
		v.Bars = append(v.Bars, bv)
	}
	return v
}

// point is one point of a line chart; hidden points are left out (a gap).
type point struct {
	Label  string
	Value  float64
	Text   string
	Hidden bool
}

// lineView is what templates/charts.html "line" draws.
type lineView struct {
	ID, Title, YTitle, W, H string
	Grid                    []gridView
	Labels                  []textView
	Path                    string
	Points                  []pointView
	Axis                    svgLine
}

type gridView struct {
	svgLine
	TX, TY, Text string
}

type textView struct{ X, Y, Text string }

type pointView struct {
	X, Y, TY, Text, Fill string
	Hidden               bool
}

// lineChart lays out a line chart of values over runs, drawn as inline SVG.
func lineChart(id, title, yTitle string, pts []point) *lineView {
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
	v := &lineView{ID: id, Title: title, YTitle: yTitle, W: f0(w), H: f0(h),
		Axis: svgLine{f1(left), f1(top + plotH), f1(w - right), f1(top + plotH)}}
	for g := 0.0; g <= ymax+step/2; g += step {
		v.Grid = append(v.Grid, gridView{svgLine{f1(left), f1(y(g)), f1(w - right), f1(y(g))}, f1(left - 6), f1(y(g) + 4), fmtWhole(g)})
	}
	every := (len(pts) + 7) / 8
	var path []string
	pen := false
	for i, p := range pts {
		if i%every == 0 || i == len(pts)-1 {
			v.Labels = append(v.Labels, textView{f1(x(i)), f1(h - bottom + 18), p.Label})
		}
		if p.Hidden {
			pen = false
			v.Points = append(v.Points, pointView{X: f1(x(i)), TY: f1(top + plotH - 6), Text: p.Text, Hidden: true})
			continue
		}
		cmd := "L"
		if !pen {
			cmd = "M"
		}
		path = append(path, cmd+f1(x(i))+" "+f1(y(p.Value)))
		pen = true
		fill := chartBar
		if i == len(pts)-1 {
			fill = chartBarHi
		}
		v.Points = append(v.Points, pointView{X: f1(x(i)), Y: f1(y(p.Value)), TY: f1(y(p.Value) - 9), Text: p.Text, Fill: fill})
	}
	v.Path = strings.Join(path, " ")
	return v
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
