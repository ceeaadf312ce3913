package calib

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/povrisk/povrisk/models"
)

func TestIsotonicPAVHand(t *testing.T) {
	// Scores 1..4, outcomes 1 0 1 1: blocks (1:1) (2:0) violate and pool
	// to (1.5, 0.5); (3:1) follows; (4:1) has an equal mean and pools with
	// it to (3.5, 1).
	c, err := FitIsotonic([]int{1, 0, 1, 1}, []float64{1, 2, 3, 4})
	if err != nil {
		t.Fatal(err)
	}
	if !eq(c.X, []float64{1.5, 3.5}) || !eq(c.Y, []float64{0.5, 1}) {
		t.Fatalf("points x %v y %v, want [1.5 3.5] [0.5 1]", c.X, c.Y)
	}
	for _, tc := range []struct{ s, want float64 }{
		{2.5, 0.75},              // halfway between the points
		{1.5, 0.5},               // on a point
		{1, 0.5 - 0.5*tieSlope},  // below: keeps order, barely moves
		{4, 1},                   // above, clamped to 1
		{math.NaN(), math.NaN()}, // missing stays missing
	} {
		if got := c.Apply(tc.s); !(got == tc.want || (math.IsNaN(got) && math.IsNaN(tc.want)) || math.Abs(got-tc.want) < 1e-15) {
			t.Errorf("Apply(%v) = %v, want %v", tc.s, got, tc.want)
		}
	}
	// Tied scores are one block: (1,1) and (1,0) give a single point.
	c, _ = FitIsotonic([]int{1, 0, 0}, []float64{1, 1, 2})
	if !eq(c.X, []float64{4.0 / 3}) || !eq(c.Y, []float64{1.0 / 3}) {
		t.Errorf("tied: x %v y %v, want one pooled point (4/3, 1/3)", c.X, c.Y)
	}
}

func eq(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Abs(a[i]-b[i]) > 1e-12 {
			return false
		}
	}
	return true
}

func TestPlattSeparableish(t *testing.T) {
	s := []float64{0.1, 0.2, 0.3, 0.4, 0.6, 0.7, 0.8, 0.9}
	y := []int{0, 0, 0, 1, 0, 1, 1, 1}
	c, err := FitPlatt(y, s)
	if err != nil {
		t.Fatal(err)
	}
	if c.A >= 0 {
		t.Fatalf("A = %v: the probability must rise with the score", c.A)
	}
	// At the optimum the gradient of the log loss with Platt's targets
	// (4+1)/(4+2) and 1/(4+2) is zero: sum(t-p) = sum(s(t-p)) = 0.
	var g1, g2 float64
	for i, v := range s {
		tt := 1.0 / 6
		if y[i] == 1 {
			tt = 5.0 / 6
		}
		d := tt - c.Apply(v)
		g1 += v * d
		g2 += d
	}
	if math.Abs(g1) > 1e-6 || math.Abs(g2) > 1e-6 {
		t.Errorf("gradient at the fit (%v, %v), want 0", g1, g2)
	}
	// Symmetric data: p(0.5) = 0.5, p(0.1) = 1 - p(0.9).
	if p := c.Apply(0.5); math.Abs(p-0.5) > 1e-6 {
		t.Errorf("p(0.5) = %v, want 0.5", p)
	}
	if a, b := c.Apply(0.1), c.Apply(0.9); math.Abs(a+b-1) > 1e-6 || a >= 0.5 {
		t.Errorf("p(0.1) %v, p(0.9) %v", a, b)
	}
}

func TestReadWrite(t *testing.T) {
	c, _ := FitIsotonic([]int{0, 1, 0, 1}, []float64{0.1, 0.2, 0.3, 0.4})
	var b bytes.Buffer
	if _, err := c.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	d, err := Read(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if !eq(d.X, c.X) || !eq(d.Y, c.Y) || d.Method != Isotonic {
		t.Errorf("round trip %+v, want %+v", d, c)
	}
	for _, bad := range []string{"", "{}", `{"method":"isotonic","x":[2,1],"y":[0,1],"rows":2}`, `{"method":"x"}`, `{"method":"platt","z":1}`} {
		if _, err := Read(strings.NewReader(bad)); !errors.Is(err, ErrFormat) {
			t.Errorf("Read(%q) = %v, want ErrFormat", bad, err)
		}
	}
}

// linear is a classifier whose score is 0.1 + 0.2 x0 + 0.1 x1, explained
// exactly.
type linear struct{}

func (linear) PredictProba(X models.Matrix, out []float64) {
	for i := 0; i < X.Rows; i++ {
		out[i] = 0.1 + 0.2*X.Cols[0][i] + 0.1*X.Cols[1][i]
	}
}
func (linear) Explain(X models.Matrix, row int, c []float64) float64 {
	c[0], c[1] = 0.2*X.Cols[0][row], 0.1*X.Cols[1][row]
	return 0.1
}
func (linear) FeatureNames() []string { return []string{"a", "b"} }
func (linear) Importances() []float64 { return []float64{2, 1} }

func TestCalibratedExplainSums(t *testing.T) {
	cal := &Calibrator{Method: Platt, A: -4, B: 1}
	w := Wrap(linear{}, cal)
	X := models.Matrix{Rows: 3, Cols: [][]float64{{0, 1, 2}, {1, 0, 2}}, Names: []string{"a", "b"}}
	p := make([]float64, 3)
	w.PredictProba(X, p)
	all := models.NewMatrix(3, []string{"a", "b"})
	baseAll := w.ExplainAll(X, all)
	for i := range p {
		c := make([]float64, 2)
		base := w.Explain(X, i, c)
		if math.Abs(base+c[0]+c[1]-p[i]) > 1e-12 {
			t.Errorf("row %d: base %v + %v != calibrated %v", i, base, c, p[i])
		}
		if math.Abs(base-cal.Apply(0.1)) > 1e-15 || base != baseAll {
			t.Errorf("row %d: base %v, want Cal(0.1) = %v (ExplainAll %v)", i, base, cal.Apply(0.1), baseAll)
		}
		if math.Abs(all.Cols[0][i]-c[0]) > 1e-15 || math.Abs(all.Cols[1][i]-c[1]) > 1e-15 {
			t.Errorf("row %d: ExplainAll %v %v, Explain %v", i, all.Cols[0][i], all.Cols[1][i], c)
		}
		// The shares of the contributions are kept: a is twice b's per unit.
		if raw := []float64{0.2 * X.Cols[0][i], 0.1 * X.Cols[1][i]}; raw[1] != 0 && math.Abs(c[0]/c[1]-raw[0]/raw[1]) > 1e-9 {
			t.Errorf("row %d: ratio %v, raw %v", i, c[0]/c[1], raw[0]/raw[1])
		}
	}
}
