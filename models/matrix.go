package models

import (
	"fmt"
	"math"
)

// Matrix is a column-major numeric table: Cols[j][i] is feature j of row i.
// A missing value is NaN (never imputed by zero). Names, when set, names the
// columns and has len(Cols) entries.
type Matrix struct {
	Rows  int
	Cols  [][]float64
	Names []string
}

// NewMatrix allocates a rows x cols matrix filled with zeros.
func NewMatrix(rows int, names []string) Matrix {
	m := Matrix{Rows: rows, Cols: make([][]float64, len(names)), Names: append([]string(nil), names...)}
	backing := make([]float64, rows*len(names))
	for j := range m.Cols {
		m.Cols[j] = backing[j*rows : (j+1)*rows : (j+1)*rows]
	}
	return m
}

// NumCols is the number of columns.
func (m Matrix) NumCols() int { return len(m.Cols) }

// At returns the value at row i, column j.
func (m Matrix) At(i, j int) float64 { return m.Cols[j][i] }

// Row copies row i into dst (len NumCols) and returns it.
func (m Matrix) Row(i int, dst []float64) []float64 {
	for j, c := range m.Cols {
		dst[j] = c[i]
	}
	return dst
}

// Check reports a malformed matrix: columns of unequal length, or names
// that do not match the columns.
func (m Matrix) Check() error {
	for j, c := range m.Cols {
		if len(c) != m.Rows {
			return fmt.Errorf("models: column %d has %d rows, want %d", j, len(c), m.Rows)
		}
	}
	if m.Names != nil && len(m.Names) != len(m.Cols) {
		return fmt.Errorf("models: %d names for %d columns", len(m.Names), len(m.Cols))
	}
	return nil
}

// Subset returns the rows idx of m as a new matrix (copied).
func (m Matrix) Subset(idx []int) Matrix {
	out := NewMatrix(len(idx), m.Names)
	if m.Names == nil {
		out.Names = nil
		out.Cols = make([][]float64, len(m.Cols))
		for j := range out.Cols {
			out.Cols[j] = make([]float64, len(idx))
		}
	}
	for j, c := range m.Cols {
		oc := out.Cols[j]
		for k, i := range idx {
			oc[k] = c[i]
		}
	}
	return out
}

// IsMissing reports whether v is a missing value.
func IsMissing(v float64) bool { return math.IsNaN(v) }

// Classifier is a trained scorer: a forest or boosted trees, possibly calibrated.
type Classifier interface {
	PredictProba(X Matrix, out []float64)                        // probability of class 1
	Explain(X Matrix, row int, contrib []float64) (base float64) // base + sum(contrib) == PredictProba's value
	FeatureNames() []string
	Importances() []float64
}
