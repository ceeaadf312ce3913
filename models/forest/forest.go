package forest

import (
	"context"
	"fmt"
	"math"
	"sync"
	"sync/atomic"

	"github.com/povrisk/povrisk/engine/progress"
	"github.com/povrisk/povrisk/models"
	"github.com/povrisk/povrisk/models/eval"
	"github.com/povrisk/povrisk/models/hist"
)

// Forest is a trained random forest. It is safe for concurrent use once
// trained or read.
type Forest struct {
	params  Params // resolved; Workers is 0: it is not part of the model
	names   []string
	cuts    []hist.Cuts
	trees   [][]Node
	imp     []float64
	oob     float64 // NaN without bootstrap
	workers int
}

// ValueError reports an infinite value in a training matrix: missing values
// must be NaN, and ±Inf has no place between bin edges.
type ValueError struct {
	Column string
	Row    int
	Value  float64
}

func (e *ValueError) Error() string {
	return fmt.Sprintf("forest: column %q row %d: value %v is not finite (use NaN for missing)", e.Column, e.Row, e.Value)
}

// LabelError reports a label other than 0 or 1.
type LabelError struct {
	Row   int
	Label int
}

func (e *LabelError) Error() string {
	return fmt.Sprintf("forest: label at row %d is %d (want 0 or 1: only binary classification is supported)", e.Row, e.Label)
}

func names(X models.Matrix) []string {
	if X.Names != nil {
		return append([]string(nil), X.Names...)
	}
	out := make([]string, len(X.Cols))
	for j := range out {
		out[j] = fmt.Sprintf("x%d", j)
	}
	return out
}

// Fit trains a forest on X (column-major, NaN missing) and labels y (0/1).
func Fit(ctx context.Context, X models.Matrix, y []int, o Options) (*Forest, error) {
	if err := X.Check(); err != nil {
		return nil, fmt.Errorf("fit forest: %w", err)
	}
	p := len(X.Cols)
	if p == 0 || X.Rows < 2 {
		return nil, fmt.Errorf("fit forest: matrix is %d x %d, need at least 2 rows and 1 column", X.Rows, p)
	}
	if len(y) != X.Rows {
		return nil, fmt.Errorf("fit forest: %d labels for %d rows", len(y), X.Rows)
	}
	rep := progress.Or(o.Reporter)
	par, err := o.resolved(p)
	if err != nil {
		return nil, fmt.Errorf("fit forest: %w", err)
	}
	f := &Forest{params: par, names: names(X), oob: math.NaN(), workers: par.Workers}
	f.params.Workers = 0
	wt, err := makeWeights(o.Weights, X.Rows, par.Bootstrap)
	if err != nil {
		return nil, fmt.Errorf("fit forest: %w", err)
	}
	if wt != nil {
		f.params.Weighted = true
	}
	yb, cw, err := checkInputs(X, y, f.names, par.ClassWeight, wt)
	if err != nil {
		return nil, fmt.Errorf("fit forest: %w", err)
	}
	nw := workers(par.Workers)
	d := o.Binned
	if d == nil {
		d = hist.Quantise(X, par.Bins, nw, true)
	} else if err := checkBinned(d, X, par.Bins, true); err != nil {
		return nil, fmt.Errorf("fit forest: %w", err)
	}
	f.cuts = d.Cuts
	hugePages(d.Codes)
	hugePages(d.ColCodes)
	task := rep.Start("trees", int64(par.Trees))
	results, growers, err := growAll(ctx, d, yb, cw, wt, par, nw, task)
	task.Done()
	if err != nil {
		return nil, fmt.Errorf("fit forest: %w", err)
	}
	f.trees = make([][]Node, par.Trees)
	for t, r := range results {
		f.trees[t] = r.nodes
	}
	f.imp = meanImportances(results, p)
	if par.Bootstrap {
		f.oob = oobScore(y, growers)
	}
	return f, nil
}

// checkBinned checks that d has the shape of X quantised in at most bins
// bins (with row-major codes when rowMajor).
func checkBinned(d *hist.Binned, X models.Matrix, bins int, rowMajor bool) error {
	n, p := X.Rows, len(X.Cols)
	if d.N != n || d.P != p || len(d.Cuts) != p || len(d.ColCodes) != n*p || (rowMajor && len(d.Codes) != n*p) {
		return fmt.Errorf("%w: Binned is %d x %d (%d cuts, %d codes, %d row-major codes), not this %d x %d matrix quantised by hist.Quantise(X, %d, _, %v)",
			ErrOptions, d.N, d.P, len(d.Cuts), len(d.ColCodes), len(d.Codes), n, p, bins, rowMajor)
	}
	for j := range d.Cuts {
		if d.Cuts[j].Bins() > bins {
			return fmt.Errorf("%w: Binned column %d has %d bins, more than Bins %d", ErrOptions, j, d.Cuts[j].Bins(), bins)
		}
	}
	return nil
}

// checkInputs checks the labels (0/1) and values (no ±Inf) and returns
// the labels as bytes and the class weights.
func checkInputs(X models.Matrix, y []int, names []string, classWeight string, wt *weights) ([]uint8, [2]float64, error) {
	yb := make([]uint8, len(y))
	var count [2]float64
	cw := [2]float64{1, 1}
	for i, v := range y {
		if v != 0 && v != 1 {
			return nil, cw, &LabelError{Row: i, Label: v}
		}
		yb[i] = uint8(v)
		count[v] += wt.of(i)
	}
	for j, c := range X.Cols {
		for i, v := range c {
			if math.IsInf(v, 0) {
				return nil, cw, &ValueError{Column: names[j], Row: i, Value: v}
			}
		}
	}
	if classWeight == "balanced" {
		if count[0] == 0 || count[1] == 0 {
			return nil, cw, fmt.Errorf("class weight \"balanced\" needs both classes; labels have %v zeros and %v ones (counted by weight)", count[0], count[1])
		}
		n := count[0] + count[1]
		cw = [2]float64{n / (2 * count[0]), n / (2 * count[1])}
	}
	return yb, cw, nil
}

// growAll grows o.Trees trees on nw workers, each tree from its own
// random stream, and counts each tree done on task.
func growAll(ctx context.Context, d *hist.Binned, yb []uint8, cw [2]float64, wt *weights, o Params, nw int, task progress.Task) ([]treeResult, []*grower, error) {
	var mu sync.Mutex // task.Add is called from one goroutine at a time
	results := make([]treeResult, o.Trees)
	var nextTree atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, min(nw, o.Trees))
	growers := make([]*grower, len(errs))
	for w := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g := newGrower(d, yb, cw, wt, o)
			growers[w] = g
			for {
				t := int(nextTree.Add(1)) - 1
				if t >= o.Trees {
					return
				}
				if err := ctx.Err(); err != nil {
					errs[w] = err
					return
				}
				r, err := g.grow(ctx, t)
				if err != nil {
					errs[w] = err
					return
				}
				results[t] = r
				mu.Lock()
				task.Add(1)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, nil, err
		}
	}
	return results, growers, nil
}

// meanImportances averages the trees' normalised impurity decreases, as
// scikit-learn does (trees that are a single leaf are left out).
func meanImportances(results []treeResult, p int) []float64 {
	imp := make([]float64, p)
	used := 0
	for _, r := range results {
		if len(r.nodes) <= 1 {
			continue
		}
		var s float64
		for _, v := range r.imp {
			s += v
		}
		if s <= 0 {
			continue
		}
		used++
		for j, v := range r.imp {
			imp[j] += v / s
		}
	}
	var s float64
	for _, v := range imp {
		s += v
	}
	if s > 0 {
		for j := range imp {
			imp[j] /= s
		}
	}
	return imp
}

// oobScore is the ROC AUC of each row's mean prediction over the trees that
// did not see it, over the rows some tree left out.
func oobScore(y []int, growers []*grower) float64 {
	var ys []int
	var ps []float64
	for i := range y {
		var sum int64
		var cnt int32
		for _, g := range growers {
			if g.oobSum != nil {
				sum += g.oobSum[i]
				cnt += g.oobCnt[i]
			}
		}
		if cnt > 0 {
			ys = append(ys, y[i])
			ps = append(ps, float64(sum)/oobScale/float64(cnt))
		}
	}
	return eval.ROCAUC(ys, ps)
}

// parallelRows calls fn on consecutive blocks of [0,n) from nw goroutines.
func parallelRows(n, nw int, fn func(lo, hi int)) {
	const block = 1024
	if nw <= 1 || n <= block {
		for lo := 0; lo < n; lo += block {
			fn(lo, min(lo+block, n))
		}
		return
	}
	var cursor atomic.Int64
	var wg sync.WaitGroup
	for range nw {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				lo := int(cursor.Add(block)) - block
				if lo >= n {
					return
				}
				fn(lo, min(lo+block, n))
			}
		}()
	}
	wg.Wait()
}

func (f *Forest) check(X models.Matrix) {
	if len(X.Cols) != len(f.names) {
		panic(fmt.Sprintf("forest: matrix has %d columns, forest was trained on %d", len(X.Cols), len(f.names)))
	}
	for j, c := range X.Cols {
		if len(c) < X.Rows {
			panic(fmt.Sprintf("forest: column %d has %d rows, want %d", j, len(c), X.Rows))
		}
	}
}

// PredictProba writes P(class 1) of every row of X to out (len X.Rows): the
// mean over trees of the class-1 share of the leaf reached. Columns must be
// in the training order (FeatureNames).
func (f *Forest) PredictProba(X models.Matrix, out []float64) {
	f.check(X)
	if len(out) < X.Rows {
		panic(fmt.Sprintf("forest: out has %d entries for %d rows", len(out), X.Rows))
	}
	scale := 1 / float64(len(f.trees))
	parallelRows(X.Rows, workers(f.workers), func(lo, hi int) {
		o := out[lo:hi]
		clear(o)
		for _, nodes := range f.trees {
			for i := lo; i < hi; i++ {
				o[i-lo] += leaf(nodes, X.Cols, i).Value
			}
		}
		for i := range o {
			o[i] *= scale
		}
	})
}

// Base is the mean over trees of the root's class-1 share: the prediction
// before any split, the base of every explanation.
func (f *Forest) Base() float64 {
	var s float64
	for _, nodes := range f.trees {
		s += nodes[0].Value
	}
	return s / float64(len(f.trees))
}

// Explain decomposes the prediction of row into per-feature contributions
// (Saabas path decomposition): along each tree's path, the change of the
// class-1 share from a node to its child is credited to the node's split
// feature; contributions are averaged over trees. contrib (len of
// FeatureNames) is overwritten. base + sum(contrib) equals PredictProba's
// value for the row up to rounding.
func (f *Forest) Explain(X models.Matrix, row int, contrib []float64) (base float64) {
	f.check(X)
	if len(contrib) != len(f.names) {
		panic(fmt.Sprintf("forest: contrib has %d entries for %d features", len(contrib), len(f.names)))
	}
	clear(contrib)
	for _, nodes := range f.trees {
		base += f.path(nodes, X.Cols, row, contrib)
	}
	scale := 1 / float64(len(f.trees))
	for j := range contrib {
		contrib[j] *= scale
	}
	return base * scale
}

// path adds one tree's contributions for row i to contrib and returns the
// root value.
func (f *Forest) path(nodes []Node, cols [][]float64, i int, contrib []float64) float64 {
	nd := &nodes[0]
	for nd.Left != 0 {
		c := &nodes[next(nd, cols[nd.Feature][i])]
		contrib[nd.Feature] += c.Value - nd.Value
		nd = c
	}
	return nodes[0].Value
}

// ExplainAll writes the contributions of every row of X into contrib, a
// matrix the caller allocates with X.Rows rows and one column per feature
// (models.NewMatrix(X.Rows, f.FeatureNames())), and returns the base common
// to all rows. Rows are spread over Workers goroutines; nothing is
// allocated per row.
func (f *Forest) ExplainAll(X models.Matrix, contrib models.Matrix) (base float64) {
	f.check(X)
	p := len(f.names)
	if len(contrib.Cols) != p || contrib.Rows < X.Rows {
		panic(fmt.Sprintf("forest: contrib is %d x %d, want %d x %d", contrib.Rows, len(contrib.Cols), X.Rows, p))
	}
	scale := 1 / float64(len(f.trees))
	parallelRows(X.Rows, workers(f.workers), func(lo, hi int) {
		// Trees outer, rows inner: a tree stays in cache for the block.
		for _, c := range contrib.Cols {
			clear(c[lo:hi])
		}
		for _, nodes := range f.trees {
			for i := lo; i < hi; i++ {
				nd := &nodes[0]
				for nd.Left != 0 {
					ch := &nodes[next(nd, X.Cols[nd.Feature][i])]
					contrib.Cols[nd.Feature][i] += ch.Value - nd.Value
					nd = ch
				}
			}
		}
		for _, c := range contrib.Cols {
			for i := lo; i < hi; i++ {
				c[i] *= scale
			}
		}
	})
	return f.Base()
}

// FeatureNames returns the training columns' names, in order.
func (f *Forest) FeatureNames() []string { return append([]string(nil), f.names...) }

// Importances returns the mean decrease in impurity of each feature
// (weighted Gini decrease summed over a tree's splits, normalised per tree,
// averaged over trees and normalised to sum 1), in FeatureNames order.
func (f *Forest) Importances() []float64 { return append([]float64(nil), f.imp...) }

// OOBScore returns the ROC AUC of the out-of-bag probabilities, or NaN when
// the forest was trained without bootstrap.
func (f *Forest) OOBScore() float64 { return f.oob }

// Params returns the parameters the forest was trained with, defaults
// filled in (Workers is 0: it is not part of the model).
func (f *Forest) Params() Params { return f.params }

// NumTrees is the number of trees.
func (f *Forest) NumTrees() int { return len(f.trees) }

// Tree returns tree t's nodes (shared, not to be modified).
func (f *Forest) Tree(t int) []Node { return f.trees[t] }

// SetWorkers sets the goroutines used by PredictProba, ExplainAll and
// PermutationImportances (0 = GOMAXPROCS).
func (f *Forest) SetWorkers(n int) { f.workers = n }

var _ models.Classifier = (*Forest)(nil)
