// Package calib turns scores into probabilities: isotonic regression (pool
// adjacent violators) and Platt scaling, fitted on the scores and outcomes
// of a held-out test date, and a Classifier wrapper whose predictions and
// explanations are on the calibrated scale.
package calib

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
)

// Methods.
const (
	Isotonic = "isotonic"
	Platt    = "platt"
)

// ErrFormat is wrapped by every error about calibrator bytes that cannot
// be read.
var ErrFormat = errors.New("calib: not a calibrator")

// tieSlope is the slope of an isotonic calibrator outside its points, so
// that scores beyond the first or last block keep their order (the top
// of a list would otherwise tie): a raw score 0.1 above the last point
// gains 1e-7, nothing a probability notices.
const tieSlope = 1e-6

// Calibrator maps a raw score to a probability. Isotonic: the fitted
// points (X ascending, Y increasing), linearly interpolated between them
// and continued with slope 1e-6 outside them (clamped to [0, 1]), so that
// the calibrated order is the raw order; Platt: 1/(1+exp(A*s+B)).
type Calibrator struct {
	Method string    `json:"method"`
	X      []float64 `json:"x,omitempty"`
	Y      []float64 `json:"y,omitempty"`
	A      float64   `json:"a,omitempty"`
	B      float64   `json:"b,omitempty"`
	Rows   int       `json:"rows"` // rows it was fitted on
}

// Apply returns the calibrated probability of raw score s (NaN stays NaN).
func (c *Calibrator) Apply(s float64) float64 {
	if math.IsNaN(s) {
		return s
	}
	if c.Method == Platt {
		return 1 / (1 + math.Exp(c.A*s+c.B))
	}
	n := len(c.X)
	switch {
	case n == 0:
		return s
	case s <= c.X[0]:
		return math.Max(0, c.Y[0]-tieSlope*(c.X[0]-s))
	case s >= c.X[n-1]:
		return math.Min(1, c.Y[n-1]+tieSlope*(s-c.X[n-1]))
	}
	j := sort.SearchFloat64s(c.X, s) // X[j-1] < s <= X[j]
	if c.X[j] == s {
		return c.Y[j]
	}
	t := (s - c.X[j-1]) / (c.X[j] - c.X[j-1])
	return c.Y[j-1] + t*(c.Y[j]-c.Y[j-1])
}

// ApplyAll calibrates p in place.
func (c *Calibrator) ApplyAll(p []float64) {
	for i, v := range p {
		p[i] = c.Apply(v)
	}
}

func checkInputs(fn string, y []int, s []float64) error {
	if len(y) != len(s) {
		return fmt.Errorf("calib: %s: %d labels for %d scores", fn, len(y), len(s))
	}
	if len(y) == 0 {
		return fmt.Errorf("calib: %s: no rows to fit on", fn)
	}
	for i, v := range s {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("calib: %s: score %d is %v: want finite scores", fn, i, v)
		}
	}
	return nil
}

// FitIsotonic fits a non-decreasing step function of s to y by pool
// adjacent violators: rows sorted by score (ties pooled first: one block
// per distinct score), adjacent blocks whose means decrease are merged
// until the means increase; each block becomes the point (mean score,
// mean outcome). Apply interpolates between the points.
func FitIsotonic(y []int, s []float64) (*Calibrator, error) {
	if err := checkInputs("isotonic", y, s); err != nil {
		return nil, err
	}
	idx := make([]int, len(s))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return s[idx[a]] < s[idx[b]] })
	type block struct{ sx, sy, w float64 }
	var st []block
	for i := 0; i < len(idx); {
		b := block{}
		j := i
		for j < len(idx) && s[idx[j]] == s[idx[i]] {
			b.sx += s[idx[j]]
			if y[idx[j]] != 0 {
				b.sy++
			}
			b.w++
			j++
		}
		i = j
		st = append(st, b)
		for len(st) > 1 && st[len(st)-2].sy/st[len(st)-2].w >= st[len(st)-1].sy/st[len(st)-1].w {
			top := st[len(st)-1]
			st = st[:len(st)-1]
			st[len(st)-1].sx += top.sx
			st[len(st)-1].sy += top.sy
			st[len(st)-1].w += top.w
		}
	}
	c := &Calibrator{Method: Isotonic, Rows: len(y)}
	for _, b := range st {
		c.X = append(c.X, b.sx/b.w)
		c.Y = append(c.Y, b.sy/b.w)
	}
	return c, nil
}

// FitPlatt fits p = 1/(1+exp(A*s+B)) by Newton's method on the log loss
// with Platt's targets (positives (N+ + 1)/(N+ + 2), negatives
// 1/(N- + 2)), as Platt (1999) and Lin, Lin & Weng (2007) give it.
func FitPlatt(y []int, s []float64) (*Calibrator, error) {
	if err := checkInputs("platt", y, s); err != nil {
		return nil, err
	}
	var np, nn float64
	for _, v := range y {
		if v != 0 {
			np++
		} else {
			nn++
		}
	}
	hiT, loT := (np+1)/(np+2), 1/(nn+2)
	t := make([]float64, len(y))
	for i, v := range y {
		t[i] = loT
		if v != 0 {
			t[i] = hiT
		}
	}
	a, b := 0.0, math.Log((nn+1)/(np+1))
	obj := func(a, b float64) float64 {
		var f float64
		for i, x := range s {
			fa := a*x + b
			// log(1+exp(fa)) - (1-t) fa, stable for either sign
			if fa >= 0 {
				f += t[i]*fa + math.Log1p(math.Exp(-fa))
			} else {
				f += (t[i]-1)*fa + math.Log1p(math.Exp(fa))
			}
		}
		return f
	}
	f := obj(a, b)
	for it := 0; it < 100; it++ {
		var h11, h22, h21, g1, g2 float64 = 1e-12, 1e-12, 0, 0, 0
		for i, x := range s {
			fa := a*x + b
			var p, q float64 // p = 1/(1+exp(fa)), q = 1-p
			if fa >= 0 {
				p = math.Exp(-fa) / (1 + math.Exp(-fa))
				q = 1 / (1 + math.Exp(-fa))
			} else {
				p = 1 / (1 + math.Exp(fa))
				q = math.Exp(fa) / (1 + math.Exp(fa))
			}
			d2 := p * q
			h11 += x * x * d2
			h22 += d2
			h21 += x * d2
			d1 := t[i] - p
			g1 += x * d1
			g2 += d1
		}
		if math.Abs(g1) < 1e-9 && math.Abs(g2) < 1e-9 {
			break
		}
		det := h11*h22 - h21*h21
		da := -(h22*g1 - h21*g2) / det
		db := -(-h21*g1 + h11*g2) / det
		gd := g1*da + g2*db
		step := 1.0
		for step >= 1e-10 {
			na, nb := a+step*da, b+step*db
			if nf := obj(na, nb); nf < f+1e-4*step*gd {
				a, b, f = na, nb, nf
				break
			}
			step /= 2
		}
		if step < 1e-10 {
			break
		}
	}
	return &Calibrator{Method: Platt, A: a, B: b, Rows: len(y)}, nil
}

// Fit fits the calibrator of method (Isotonic or Platt).
func Fit(method string, y []int, s []float64) (*Calibrator, error) {
	switch method {
	case Isotonic:
		return FitIsotonic(y, s)
	case Platt:
		return FitPlatt(y, s)
	}
	return nil, fmt.Errorf("calib: method %q: want %s or %s", method, Isotonic, Platt)
}

// WriteTo writes the calibrator as indented JSON.
func (c *Calibrator) WriteTo(w io.Writer) (int64, error) {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return 0, fmt.Errorf("calib: encode: %w", err)
	}
	n, err := w.Write(append(b, '\n'))
	return int64(n), err
}

// Read reads a calibrator written by WriteTo; anything else is an error
// wrapping ErrFormat.
func Read(r io.Reader) (*Calibrator, error) {
	var c Calibrator
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	switch c.Method {
	case Platt:
		if math.IsNaN(c.A) || math.IsNaN(c.B) {
			return nil, fmt.Errorf("%w: platt coefficients are not numbers", ErrFormat)
		}
	case Isotonic:
		if len(c.X) == 0 || len(c.X) != len(c.Y) {
			return nil, fmt.Errorf("%w: isotonic with %d x and %d y points", ErrFormat, len(c.X), len(c.Y))
		}
		for i := range c.X {
			if c.Y[i] < 0 || c.Y[i] > 1 || (i > 0 && (c.X[i] <= c.X[i-1] || c.Y[i] < c.Y[i-1])) {
				return nil, fmt.Errorf("%w: isotonic point %d is out of order or outside [0, 1]", ErrFormat, i)
			}
		}
	default:
		return nil, fmt.Errorf("%w: method %q", ErrFormat, c.Method)
	}
	return &c, nil
}
