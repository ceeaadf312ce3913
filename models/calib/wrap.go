package calib

import (
	"fmt"
	"math"

	"github.com/povrisk/povrisk/models"
)

// Calibrated is a classifier whose scores pass through a calibrator: its
// PredictProba is Cal.Apply of the inner model's.
//
// Explanations: the inner model explains its raw score r as base b plus
// contributions c_j (b + sum c_j = r). The calibrated explanation keeps
// the shares of the contributions and rescales them onto the calibrated
// scale: base Cal(b), contributions c_j * (Cal(r) - Cal(b)) / (r - b), so
// that base + sum == Cal(r), the calibrated score. When r == b (nothing
// moved the score) every contribution is 0 and Cal(r) == Cal(b). The
// calibrator is non-decreasing, so the factor is never negative: a feature
// that raised the raw score raises the calibrated one.
type Calibrated struct {
	Inner models.Classifier
	Cal   *Calibrator
}

// Wrap returns m with its scores calibrated by c.
func Wrap(m models.Classifier, c *Calibrator) *Calibrated { return &Calibrated{Inner: m, Cal: c} }

// PredictProba writes the calibrated probability of every row of X.
func (c *Calibrated) PredictProba(X models.Matrix, out []float64) {
	c.Inner.PredictProba(X, out)
	c.Cal.ApplyAll(out[:X.Rows])
}

// Explain decomposes the calibrated score of row (see Calibrated).
func (c *Calibrated) Explain(X models.Matrix, row int, contrib []float64) (base float64) {
	b := c.Inner.Explain(X, row, contrib)
	r := b
	for _, v := range contrib {
		r += v
	}
	c.rescale(b, r, contrib)
	return c.Cal.Apply(b)
}

// rescale turns the raw contributions of a row (base b, raw score r) into
// calibrated ones.
func (c *Calibrated) rescale(b, r float64, contrib []float64) {
	cb, cr := c.Cal.Apply(b), c.Cal.Apply(r)
	f := 0.0
	if d := r - b; d != 0 && !math.IsNaN(d) {
		f = (cr - cb) / d
	}
	for j := range contrib {
		contrib[j] *= f
	}
}

// allExplainer is a model that explains every row at once (the forest).
type allExplainer interface {
	ExplainAll(X models.Matrix, contrib models.Matrix) float64
}

// ExplainAll writes the calibrated contributions of every row of X into
// contrib (X.Rows rows, one column per feature) and returns the common
// base, Cal(inner base).
func (c *Calibrated) ExplainAll(X models.Matrix, contrib models.Matrix) (base float64) {
	b := ExplainAll(c.Inner, X, contrib)
	row := make([]float64, len(contrib.Cols))
	for i := 0; i < X.Rows; i++ {
		r := b
		for j, col := range contrib.Cols {
			row[j] = col[i]
			r += col[i]
		}
		c.rescale(b, r, row)
		for j, col := range contrib.Cols {
			col[i] = row[j]
		}
	}
	return c.Cal.Apply(b)
}

// ExplainAll explains every row of X with m into contrib and returns the
// base: m's own ExplainAll when it has one, else row by row. The base of
// a model is the same for every row; with no rows it is m's Base() when m
// has one, else NaN.
func ExplainAll(m models.Classifier, X models.Matrix, contrib models.Matrix) float64 {
	if a, ok := m.(allExplainer); ok {
		return a.ExplainAll(X, contrib)
	}
	if len(contrib.Cols) != len(m.FeatureNames()) || contrib.Rows < X.Rows {
		panic(fmt.Sprintf("calib: contrib is %d x %d, want %d x %d", contrib.Rows, len(contrib.Cols), X.Rows, len(m.FeatureNames())))
	}
	row := make([]float64, len(contrib.Cols))
	base := math.NaN()
	for i := 0; i < X.Rows; i++ {
		base = m.Explain(X, i, row)
		for j, col := range contrib.Cols {
			col[i] = row[j]
		}
	}
	if b, ok := m.(interface{ Base() float64 }); ok && X.Rows == 0 {
		base = b.Base()
	}
	return base
}

// FeatureNames are the inner model's.
func (c *Calibrated) FeatureNames() []string { return c.Inner.FeatureNames() }

// Importances are the inner model's.
func (c *Calibrated) Importances() []float64 { return c.Inner.Importances() }
