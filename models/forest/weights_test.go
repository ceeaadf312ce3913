package forest

import (
	"bytes"
	"context"
	"errors"
	"github.com/povrisk/povrisk/models/hist"
	"math"
	"slices"
	"testing"
)

// TestAliasTable: the alias table draws row i with probability w[i]/sum:
// the mass of i is prob[i] plus 1-prob[k] for every k aliased to i, over n.
func TestAliasTable(t *testing.T) {
	w := []float64{1, 0, 3, 0.5, 2.5, 0, 1}
	var sum float64
	for _, v := range w {
		sum += v
	}
	prob, alias := aliasTable(w, sum)
	mass := make([]float64, len(w))
	for k := range w {
		mass[k] += prob[k]
		if prob[k] < 1 {
			mass[alias[k]] += 1 - prob[k]
		}
	}
	for i := range w {
		if got := mass[i] / float64(len(w)); math.Abs(got-w[i]/sum) > 1e-12 {
			t.Errorf("row %d drawn with probability %v, want %v", i, got, w[i]/sum)
		}
	}
}

func treesEqual(a, b *Forest) bool {
	if a.NumTrees() != b.NumTrees() {
		return false
	}
	for k := range a.NumTrees() {
		if !slices.Equal(a.Tree(k), b.Tree(k)) {
			return false
		}
	}
	return true
}

func forestBytes(t *testing.T, f *Forest) []byte {
	var b bytes.Buffer
	if _, err := f.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestEqualWeightsAreNoWeights(t *testing.T) {
	X, y := synth(1000, 4, 21)
	for _, c := range []struct {
		o Options
		w float64
	}{{Options{Trees: 5, Seed: 2}, 3.5}, {Options{Trees: 3, NoBootstrap: true}, 1}} {
		w := make([]float64, X.Rows)
		for i := range w {
			w[i] = c.w
		}
		a, err := Fit(context.Background(), X, y, c.o)
		if err != nil {
			t.Fatal(err)
		}
		o := c.o
		o.Weights = w
		b, err := Fit(context.Background(), X, y, o)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(forestBytes(t, a), forestBytes(t, b)) || b.Params().Weighted {
			t.Errorf("%+v: equal weights %v changed the forest", c.o, c.w)
		}
	}
}

// TestWholeWeightsAreRepeats: without bootstrap, weight 2 is the row twice.
func TestWholeWeightsAreRepeats(t *testing.T) {
	X, y := synth(800, 4, 22)
	for _, c := range X.Cols { // few distinct values: the same exact bins with repeats
		for i, v := range c {
			if !math.IsNaN(v) {
				c[i] = math.Round(v * 4)
			}
		}
	}
	w := make([]float64, X.Rows)
	var idx []int
	for i := range w {
		w[i] = float64(i % 3) // 0, 1 or 2 times
		for range i % 3 {
			idx = append(idx, i)
		}
	}
	yr := make([]int, len(idx))
	for k, i := range idx {
		yr[k] = y[i]
	}
	o := Options{Trees: 3, NoBootstrap: true, MaxFeatures: 4, MinLeaf: 3}
	rep, err := Fit(context.Background(), X.Subset(idx), yr, o)
	if err != nil {
		t.Fatal(err)
	}
	o.Weights = w
	wf, err := Fit(context.Background(), X, y, o)
	if err != nil {
		t.Fatal(err)
	}
	if !treesEqual(rep, wf) || !wf.Params().Weighted {
		t.Error("whole weights without bootstrap: other trees than the repeated rows'")
	}
}

// TestZeroWeightRowsAreNeverDrawn: the labels of rows of weight 0 do not
// change the trees of a bootstrap forest.
func TestZeroWeightRowsAreNeverDrawn(t *testing.T) {
	X, y := synth(1500, 5, 23)
	w := make([]float64, X.Rows)
	y2 := slices.Clone(y)
	for i := range w {
		w[i] = 1 + float64(i%4)
		if i%5 == 0 {
			w[i] = 0
			y2[i] = 1 - y[i]
		}
	}
	o := Options{Trees: 8, Seed: 5, Weights: w}
	a, err := Fit(context.Background(), X, y, o)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Fit(context.Background(), X, y2, o)
	if err != nil {
		t.Fatal(err)
	}
	if !treesEqual(a, b) {
		t.Error("labels of rows of weight 0 changed the trees")
	}
	c, err := Fit(context.Background(), X, y, Options{Trees: 8, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	if treesEqual(a, c) {
		t.Error("unequal weights gave the unweighted forest")
	}
}

func TestWeightErrors(t *testing.T) {
	X, y := synth(60, 3, 24)
	ones := func(v float64, at int) []float64 {
		w := make([]float64, X.Rows)
		for i := range w {
			w[i] = 1
		}
		w[at] = v
		return w
	}
	for _, c := range []struct {
		name string
		o    Options
	}{
		{"short", Options{Weights: []float64{1, 2}}},
		{"negative", Options{Weights: ones(-1, 3)}},
		{"NaN", Options{Weights: ones(math.NaN(), 3)}},
		{"infinite", Options{Weights: ones(math.Inf(1), 3)}},
		{"fraction without bootstrap", Options{NoBootstrap: true, Weights: ones(1.5, 3)}},
		{"all zero", Options{Weights: make([]float64, X.Rows)}},
	} {
		if _, err := Fit(context.Background(), X, y, c.o); !errors.Is(err, ErrOptions) {
			t.Errorf("%s: %v, want ErrOptions", c.name, err)
		}
	}
}

// TestSharedBinning: a forest fitted on a shared binning is the forest
// fitted on the matrix; a binning of another shape is refused.
func TestSharedBinning(t *testing.T) {
	X, y := synth(1200, 5, 25)
	d := hist.Quantise(X, MaxBins, 2, true)
	a, err := Fit(context.Background(), X, y, Options{Trees: 4, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Fit(context.Background(), X, y, Options{Trees: 4, Seed: 3, Binned: d})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(forestBytes(t, a), forestBytes(t, b)) {
		t.Error("shared binning: other bytes")
	}
	for _, bad := range []*hist.Binned{hist.Quantise(X, MaxBins, 1, false), hist.Quantise(X.Subset([]int{1, 2, 3}), MaxBins, 1, true), hist.Quantise(X, MaxBins, 1, true)} {
		o := Options{Trees: 1, Binned: bad}
		if bad.N == X.Rows && bad.Codes != nil {
			o.Bins = 8 // more bins in the binning than asked for
		}
		if _, err := Fit(context.Background(), X, y, o); !errors.Is(err, ErrOptions) {
			t.Errorf("binning %d x %d (row-major %v): %v, want ErrOptions", bad.N, bad.P, bad.Codes != nil, err)
		}
	}
}
