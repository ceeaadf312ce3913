package boost

import (
	"bytes"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/povrisk/povrisk/models"
	"github.com/povrisk/povrisk/models/hist"
)

// sparseSynth is a table whose features take every layout the histograms
// distinguish: dense (normal), sparse (mostly 0, a few small integers),
// mostly missing, and constant.
func sparseSynth(n int, seed uint64) (models.Matrix, []int) {
	rng := rand.New(rand.NewPCG(seed, 11))
	const p = 21
	X := models.NewMatrix(n, nil)
	X.Cols = make([][]float64, p)
	for j := range X.Cols {
		X.Cols[j] = make([]float64, n)
	}
	y := make([]int, n)
	for i := range n {
		for j := range p {
			var v float64
			switch j % 4 {
			case 0:
				v = rng.NormFloat64()
			case 1: // 90% zeros
				if rng.IntN(10) == 0 {
					v = float64(1 + rng.IntN(4))
				}
			case 2: // 70% missing
				v = math.NaN()
				if rng.IntN(10) < 3 {
					v = rng.Float64()
				}
			case 3: // constant
				v = 2
			}
			X.Cols[j][i] = v
		}
		z := X.Cols[0][i] + 0.7*X.Cols[1][i] - 0.5*X.Cols[5][i]
		if math.IsNaN(X.Cols[2][i]) {
			z -= 0.8
		}
		if rng.Float64() < 1/(1+math.Exp(-z)) {
			y[i] = 1
		}
	}
	return X, y
}

// naiveHist is feature j's histogram of rows, summed row by row.
func naiveHist(d *hist.Binned, grad []gh, j int, rows []int32) (h [histPad]bin) {
	col := d.Col(j)
	for _, r := range rows {
		e := &h[col[r]]
		e.g += grad[r].g
		e.h += grad[r].h
		e.n++
	}
	return h
}

// TestHistogramsMatchRows: the histograms of the root (with and without
// held-out rows) and of a node's rows (large, built column by column, and
// small, row by row), however the features are laid out
// (sparse features' mode bin by subtraction, dense ones row by row), are
// the sums of their rows': counts exactly, sums to 1e-9.
func TestHistogramsMatchRows(t *testing.T) {
	X, _ := sparseSynth(3000, 1)
	d := hist.Quantise(X, hist.MaxBins, 2, false)
	par, err := Options{}.resolved()
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 3))
	for _, share := range []float64{0, 0.2} {
		for _, nw := range []int{1, 3} {
			train, _ := holdOut(d.N, share, 5)
			tm := newTeam(nw)
			t.Cleanup(tm.close)
			g := newGrower(d, par, nw, train, tm)
			sparse := 0
			rowSparse := 0
			for _, v := range g.dens {
				if v <= sparseMax {
					sparse++
				}
				if v <= rowSparseMax {
					rowSparse++
				}
			}
			if rowSparse < 5 || sparse == rowSparse || sparse == d.P {
				t.Fatalf("%d of %d features sparse at the root, %d in other nodes: the test does not cover every layout", sparse, d.P, rowSparse)
			}
			for i := range g.grad {
				g.grad[i] = gh{rng.Float64() - 0.5, rng.Float64() / 4}
			}
			node := slices.Clone(train)
			rng.Shuffle(len(node), func(a, b int) { node[a], node[b] = node[b], node[a] })
			node = node[:len(node)/3]
			for _, c := range []struct {
				name string
				rows []int32
				root bool
			}{{"root", train, true}, {"node", node, false}, {"small node", node[:len(node)/8], false}} {
				var sum bin
				for _, r := range c.rows {
					sum = sum.plus(bin{g.grad[r].g, g.grad[r].h, 1})
				}
				h := g.getHist()
				ord := g.gather(c.rows)
				if !(c.root && g.identity) {
					g.nodeHists(h, c.rows, ord, sum, func(int) {})
				}
				if c.root && g.identity {
					g.team.run(len(g.rootGroups), nw, func(k int) { g.fillRoot(h, k, sum) })
				}
				for j := range d.P {
					want := naiveHist(d, g.grad, j, c.rows)
					for b := range want {
						if b >= d.Cuts[j].Bins() && b != hist.MissingBin {
							continue // never read
						}
						w, got := want[b], h[j][b]
						if w.n != got.n || math.Abs(w.g-got.g) > 1e-9 || math.Abs(w.h-got.h) > 1e-9 {
							t.Fatalf("share %v workers %d %s: feature %d (mode %d) bin %d is %+v, its rows sum to %+v",
								share, nw, c.name, j, g.mode[j], b, got, w)
						}
					}
				}
			}
		}
	}
}

// TestSparseDeterministic: on sparse features too, the workers do not
// change the bytes, with or without held-out rows.
func TestSparseDeterministic(t *testing.T) {
	X, y := sparseSynth(20000, 2)
	for _, share := range []float64{0, 0.1} {
		a := fitBytes(t, X, y, Options{Trees: 10, Workers: 1, Seed: 3, ValidationShare: share})
		b := fitBytes(t, X, y, Options{Trees: 10, Workers: 3, Seed: 3, ValidationShare: share})
		if !bytes.Equal(a, b) {
			t.Errorf("validation share %v: other Workers, different bytes", share)
		}
	}
}

// TestPartitionInChunks: the partition by several workers (in chunks)
// orders the rows as one pass does: stably, left rows first.
func TestPartitionInChunks(t *testing.T) {
	// Below and above the size whose copy back is parallel too.
	for _, n := range []int{3 * parallelPartition, 1<<15 + 3*parallelPartition} {
		partitionInChunks(t, n)
	}
}

func partitionInChunks(t *testing.T, n int) {
	X, _ := sparseSynth(n, 4)
	d := hist.Quantise(X, hist.MaxBins, 2, false)
	par, err := Options{}.resolved()
	if err != nil {
		t.Fatal(err)
	}
	train, _ := holdOut(d.N, 0, 0)
	rng := rand.New(rand.NewPCG(4, 4))
	perm := slices.Clone(train)
	rng.Shuffle(len(perm), func(a, b int) { perm[a], perm[b] = perm[b], perm[a] })
	for _, nw := range []int{2, 3} {
		tm := newTeam(nw)
		t.Cleanup(tm.close)
		g := newGrower(d, par, nw, train, tm)
		copy(g.rows, perm)
		lo, hi := 5, len(perm)-7
		k := g.partition(lo, hi, 0, 100, true)
		// Expected: the stable partition, worked row by row.
		var left, right []int32
		for _, r := range perm[lo:hi] {
			if c := d.Col(0)[r]; c <= 100 || c == hist.MissingBin {
				left = append(left, r)
			} else {
				right = append(right, r)
			}
		}
		if k != len(left) || !slices.Equal(g.rows[lo:lo+k], left) || !slices.Equal(g.rows[lo+k:hi], right) ||
			!slices.Equal(g.rows[:lo], perm[:lo]) || !slices.Equal(g.rows[hi:], perm[hi:]) {
			t.Fatalf("workers %d: partition in chunks differs from the stable partition (%d left, want %d)", nw, k, len(left))
		}
	}
}

// TestRootSpans: on more than 65536 rows (several spans of the root's
// sparse entry lists), the root's histograms are its rows' sums, bin by
// bin in row order: exactly, but for a sparse feature's most frequent
// code (the node's sums minus the other bins).
func TestRootSpans(t *testing.T) {
	X, _ := sparseSynth(140_000, 4)
	d := hist.Quantise(X, hist.MaxBins, 2, false)
	par, err := Options{}.resolved()
	if err != nil {
		t.Fatal(err)
	}
	train, _ := holdOut(d.N, 0, 1)
	tm := newTeam(2)
	defer tm.close()
	g := newGrower(d, par, 2, train, tm)
	nsparse, spans := 0, 0
	for _, rg := range g.rootGroups {
		if rg.sparse {
			nsparse += len(rg.js)
			spans = len(rg.span[0]) - 1
		}
	}
	if nsparse == 0 || spans < 3 {
		t.Fatalf("%d sparse root features, %d spans: the test does not cover several spans", nsparse, spans)
	}
	rng := rand.New(rand.NewPCG(5, 5))
	var sum bin
	for i := range g.grad {
		g.grad[i] = gh{rng.Float64() - 0.5, rng.Float64() / 4}
		sum = sum.plus(bin{g.grad[i].g, g.grad[i].h, 1})
	}
	h := g.getHist()
	g.team.run(len(g.rootGroups), 2, func(k int) { g.fillRoot(h, k, sum) })
	for j := range d.P {
		want := naiveHist(d, g.grad, j, train)
		for b := range want {
			if b >= d.Cuts[j].Bins() && b != hist.MissingBin {
				continue
			}
			w, got := want[b], h[j][b]
			exact := g.dens[j] > sparseMax || b != g.mode[j]
			if w.n != got.n || (exact && (w.g != got.g || w.h != got.h)) || math.Abs(w.g-got.g) > 1e-9 || math.Abs(w.h-got.h) > 1e-9 {
				t.Fatalf("feature %d (mode %d, share outside %.2f) bin %d is %+v, its rows sum to %+v", j, g.mode[j], g.dens[j], b, got, w)
			}
		}
	}
}
