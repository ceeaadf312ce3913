package boost

import (
	"context"
	"fmt"
	"math"
	"sync"
	"sync/atomic"

	"github.com/povrisk/povrisk/engine/progress"
	"github.com/povrisk/povrisk/models"
	"github.com/povrisk/povrisk/models/hist"
)

var posInf = math.Inf(1)

// Model is a trained boosted-trees classifier. It is safe for concurrent
// use once trained or read.
type Model struct {
	params  Params
	names   []string
	cuts    []hist.Cuts
	init    float64 // raw score before any tree (log-odds)
	trees   [][]Node
	imp     []float64
	loss    []float64 // weighted training log loss after each round
	valLoss []float64 // held-out log loss after each round (early stopping only)
	workers int
}

var _ models.Classifier = (*Model)(nil)

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

// checkInputs checks labels (0/1), values (no ±Inf) and weights (finite,
// >= 0, both classes weighing something) and returns the weights (nil
// when every row weighs 1).
func checkInputs(X models.Matrix, y []int, w []float64, names []string) error {
	if w != nil && len(w) != len(y) {
		return fmt.Errorf("%d weights for %d rows", len(w), len(y))
	}
	var sum [2]float64
	for i, v := range y {
		if v != 0 && v != 1 {
			return fmt.Errorf("label at row %d is %d (want 0 or 1: only binary classification is supported)", i, v)
		}
		wi := 1.0
		if w != nil {
			wi = w[i]
			if !(wi >= 0) || math.IsInf(wi, 0) {
				return fmt.Errorf("weight at row %d is %v (want a finite number >= 0)", i, wi)
			}
		}
		sum[v] += wi
	}
	if !(sum[0] > 0 && sum[1] > 0) {
		return fmt.Errorf("labels need both classes with positive weight; class 0 weighs %v, class 1 %v", sum[0], sum[1])
	}
	for j, c := range X.Cols {
		for i, v := range c {
			if math.IsInf(v, 0) {
				return fmt.Errorf("column %q row %d: value %v is not finite (use NaN for missing)", names[j], i, v)
			}
		}
	}
	return nil
}

// Fit trains boosted trees on X (column-major, NaN missing) and labels y (0/1).
func Fit(ctx context.Context, X models.Matrix, y []int, o Options) (*Model, error) {
	if err := X.Check(); err != nil {
		return nil, fmt.Errorf("fit boosted trees: %w", err)
	}
	p := len(X.Cols)
	if p == 0 || X.Rows < 2 {
		return nil, fmt.Errorf("fit boosted trees: matrix is %d x %d, need at least 2 rows and 1 column", X.Rows, p)
	}
	if len(y) != X.Rows {
		return nil, fmt.Errorf("fit boosted trees: %d labels for %d rows", len(y), X.Rows)
	}
	par, err := o.resolved()
	if err != nil {
		return nil, fmt.Errorf("fit boosted trees: %w", err)
	}
	m := &Model{params: par, names: names(X), workers: o.Workers}
	if err := checkInputs(X, y, o.Weights, m.names); err != nil {
		return nil, fmt.Errorf("fit boosted trees: %w", err)
	}
	nw := workers(o.Workers)
	d := o.Binned
	if d == nil {
		d = hist.Quantise(X, par.Bins, nw, false)
	} else if d.N != X.Rows || d.P != p || len(d.Cuts) != p || len(d.ColCodes) != X.Rows*p {
		return nil, fmt.Errorf("fit boosted trees: %w: Binned is %d x %d, not this %d x %d matrix quantised by hist.Quantise", ErrOptions, d.N, d.P, X.Rows, p)
	} else {
		for j := range d.Cuts {
			if d.Cuts[j].Bins() > par.Bins {
				return nil, fmt.Errorf("fit boosted trees: %w: Binned column %d has %d bins, more than Bins %d", ErrOptions, j, d.Cuts[j].Bins(), par.Bins)
			}
		}
	}
	m.cuts = d.Cuts
	train, valid := holdOut(X.Rows, par.ValidationShare, par.Seed)
	if len(train) < 2 {
		return nil, fmt.Errorf("fit boosted trees: %d training rows left after holding out %v", len(train), par.ValidationShare)
	}
	task := progress.Or(o.Reporter).Start("boosting", int64(par.Trees))
	err = m.boost(ctx, d, y, o.Weights, train, valid, nw, task)
	task.Done()
	if err != nil {
		return nil, fmt.Errorf("fit boosted trees: %w", err)
	}
	return m, nil
}

// holdOut splits 0..n-1 into training and held-out rows: row i is held out
// when a hash of (seed, i) falls below share.
func holdOut(n int, share float64, seed uint64) (train, valid []int32) {
	train = make([]int32, 0, n)
	for i := range n {
		if share > 0 && float64(mix(seed, uint64(i))>>11)/(1<<53) < share {
			valid = append(valid, int32(i))
			continue
		}
		train = append(train, int32(i))
	}
	return train, valid
}

// mix is splitmix64 of seed and i.
func mix(seed, i uint64) uint64 {
	z := seed*0x9E3779B97F4A7C15 + i + 0x632BE59BD9B4E019
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

// boost runs the rounds: gradients at the current scores, one tree, scores
// moved by its leaves; with held-out rows, stops after Patience rounds
// without improvement and keeps the best prefix.
func (m *Model) boost(ctx context.Context, d *hist.Binned, y []int, w []float64, train, valid []int32, nw int, task progress.Task) error {
	par := m.params
	var sw, sy float64
	for _, i := range train {
		wi := weight(w, int(i))
		sw += wi
		sy += wi * float64(y[i])
	}
	if !(sy > 0 && sy < sw) {
		return fmt.Errorf("the training rows need both classes with positive weight (class 1 weighs %v of %v)", sy, sw)
	}
	m.init = math.Log(sy / (sw - sy))
	raw := make([]float64, d.N)
	for i := range raw {
		raw[i] = m.init
	}
	// ex[i] is exp(-raw[i]) for the training rows, carried from round to
	// round: a row's leaf value v multiplies it by exp(-v), one exp a leaf
	// instead of one a row (within ~2 ulp a round of the exp of the new
	// score; rows far out, where it would lose range, are recomputed).
	ex := make([]float64, d.N)
	e0 := math.Exp(-m.init)
	for _, i := range train {
		ex[i] = e0
	}
	tm := newTeam(nw)
	defer tm.close()
	g := newGrower(d, par, nw, train, tm)
	var gains [][]float64 // per tree kept so far, per feature
	best, bestLoss := 0, math.Inf(1)
	for t := 0; ; t++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		m.loss = append(m.loss, gradients(tm, g.grad, raw, ex, y, w, train, nw)/sw)
		if len(valid) > 0 {
			vl := logLoss(raw, y, w, valid)
			m.valLoss = append(m.valLoss, vl)
			if vl < bestLoss-1e-7 {
				best, bestLoss = t, vl
			} else if t-best >= par.Patience {
				break
			}
		} else {
			best = t
		}
		if t == par.Trees {
			break
		}
		clear(g.gain)
		nodes, leaves := g.grow()
		// Every row is in one leaf: the leaves' updates are independent.
		uw := nw
		if len(train) < 1<<14 {
			uw = 1
		}
		tm.run(len(leaves), uw, func(k int) {
			l := &leaves[k]
			v := nodes[l.node].Value
			carry(raw, ex, g.rows[l.lo:l.hi], v)
		})
		for _, i := range valid {
			raw[i] += g.walkBinned(nodes, int(i))
		}
		m.trees = append(m.trees, append([]Node(nil), nodes...))
		gains = append(gains, append([]float64(nil), g.gain...))
		task.Add(1)
	}
	// Keep the rounds up to the best held-out loss (all without hold-out).
	m.trees = m.trees[:best]
	m.loss = m.loss[:best+1]
	if m.valLoss != nil {
		m.valLoss = m.valLoss[:best+1]
	}
	m.imp = importances(gains[:best], len(m.names))
	return nil
}

// importances is each feature's share of the total split gain of the
// trees kept.
func importances(gains [][]float64, p int) []float64 {
	imp := make([]float64, p)
	for _, g := range gains {
		for j, v := range g {
			imp[j] += v
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

func weight(w []float64, i int) float64 {
	if w == nil {
		return 1
	}
	return w[i]
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// lossBlock is the row block whose partial sums are added in order, so
// that sums do not depend on the number of workers.
const lossBlock = 4096

// gradients fills grad for the training rows at scores raw (ex: exp(-raw),
// as carried by boost) and returns the weighted log loss summed over them.
func gradients(tm *team, grad []gh, raw, ex []float64, y []int, w []float64, train []int32, nw int) float64 {
	nb := (len(train) + lossBlock - 1) / lossBlock
	part := make([]float64, nb)
	tm.run(nb, nw, func(b int) {
		rows := train[b*lossBlock : min((b+1)*lossBlock, len(train))]
		if w == nil {
			part[b] = gradBlock(grad, raw, ex, y, rows)
		} else {
			part[b] = gradBlockWeighted(grad, raw, ex, y, w, rows)
		}
	})
	var s float64
	for _, v := range part {
		s += v
	}
	return s
}

// carry adds leaf value v to the scores raw of rows and multiplies their
// ex = exp(-raw) by exp(-v). Products are taken of values in [1e-300,
// 1e300] only (full precision, no overflow): a row whose old value, new
// value or factor is out of it (a score or leaf value beyond about 690) is
// recomputed.
func carry(raw, ex []float64, rows []int32, v float64) {
	const lo, hi = 1e-300, 1e300
	f := math.Exp(-v)
	if !(f >= lo && f <= hi) {
		for _, r := range rows {
			raw[r] += v
			ex[r] = math.Exp(-raw[r])
		}
		return
	}
	for _, r := range rows {
		raw[r] += v
		old := ex[r]
		e := old * f
		if !(old >= lo && old <= hi && e >= lo && e <= hi) {
			e = math.Exp(-raw[r])
		}
		ex[r] = e
	}
}

// gradBlock fills grad for rows, unweighted, with ex[r] = exp(-raw[r]),
// and returns their log loss: p = 1/(1+e), and the loss log(1+e) (y = 1)
// or x + log(1+e) (y = 0), the log(1+e) of several rows taken as the log
// of their product (bounded so that it cannot overflow): one log per 16
// rows. gradBlockWeighted with every weight 1, to the bit (a product by 1
// is exact), without the weights' loads and products.
func gradBlock(grad []gh, raw, ex []float64, y []int, rows []int32) float64 {
	var s, x0 float64
	prod, k := 1.0, 0
	for _, r := range rows {
		x := raw[r]
		e := ex[r]
		p := 1 / (1 + e)
		yf := float64(y[r])
		h := p * (1 - p)
		if h < 1e-16 {
			h = 1e-16
		}
		grad[r] = gh{p - yf, h}
		x0 += x * (1 - yf) // y = 0 only, without a branch (y is unpredictable)
		if e > 1e15 {      // log(1+e) = -x to double precision
			s += -x
			continue
		}
		prod *= 1 + e
		if k++; k == 16 {
			s += math.Log(prod)
			prod, k = 1, 0
		}
	}
	return s + math.Log(prod) + x0
}

// gradBlockWeighted is gradBlock with row r weighing w[r] (one log a row).
func gradBlockWeighted(grad []gh, raw, ex []float64, y []int, w []float64, rows []int32) float64 {
	var s, x0 float64
	for _, r := range rows {
		x := raw[r]
		e := ex[r]
		p := 1 / (1 + e)
		wi := w[r]
		yf := float64(y[r])
		h := p * (1 - p)
		if h < 1e-16 {
			h = 1e-16
		}
		grad[r] = gh{wi * (p - yf), wi * h}
		x0 += wi * x * (1 - yf)
		if e > 1e15 {
			s += wi * -x
		} else {
			s += wi * math.Log(1+e)
		}
	}
	return s + x0 // as gradBlock's s + log(1) + x0: s, from +0, is never -0
}

// rowLoss is the log loss of raw score x for label y, computed stably.
func rowLoss(x float64, y int) float64 {
	if y == 0 {
		x = -x
	}
	// -log(sigmoid(x)) = log(1+exp(-x))
	if x > 0 {
		return math.Log1p(math.Exp(-x))
	}
	return -x + math.Log1p(math.Exp(x))
}

// logLoss is the weighted mean log loss of rows.
func logLoss(raw []float64, y []int, w []float64, rows []int32) float64 {
	var s, sw float64
	for _, r := range rows {
		wi := weight(w, int(r))
		s += wi * rowLoss(raw[r], y[r])
		sw += wi
	}
	if sw == 0 {
		return 0
	}
	return s / sw
}

func parallelBlocks(nb, nw int, fn func(b int)) {
	if nw <= 1 || nb <= 1 {
		for b := range nb {
			fn(b)
		}
		return
	}
	var next atomic.Int64
	work := func() {
		for {
			b := int(next.Add(1)) - 1
			if b >= nb {
				return
			}
			fn(b)
		}
	}
	var wg sync.WaitGroup
	for range min(nw, nb) - 1 { // the caller is a worker too
		wg.Add(1)
		go func() {
			defer wg.Done()
			work()
		}()
	}
	work()
	wg.Wait()
}

func (m *Model) check(X models.Matrix) {
	if len(X.Cols) != len(m.names) {
		panic(fmt.Sprintf("boost: matrix has %d columns, model was trained on %d", len(X.Cols), len(m.names)))
	}
	for j, c := range X.Cols {
		if len(c) < X.Rows {
			panic(fmt.Sprintf("boost: column %d has %d rows, want %d", j, len(c), X.Rows))
		}
	}
}

// next is the child of internal node nd that value v goes to.
func next(nd *Node, v float64) uint32 {
	switch {
	case v <= nd.Threshold:
		return nd.Left
	case v > nd.Threshold:
		return nd.Left + 1
	case nd.Flags&flagMissingLeft != 0:
		return nd.Left
	}
	return nd.Left + 1
}

// Raw writes the raw scores (log-odds) of every row of X to out.
func (m *Model) Raw(X models.Matrix, out []float64) {
	m.check(X)
	if len(out) < X.Rows {
		panic(fmt.Sprintf("boost: out has %d entries for %d rows", len(out), X.Rows))
	}
	const block = 1024
	parallelBlocks((X.Rows+block-1)/block, workers(m.workers), func(b int) {
		lo, hi := b*block, min((b+1)*block, X.Rows)
		o := out[lo:hi]
		for i := range o {
			o[i] = m.init
		}
		for _, nodes := range m.trees {
			for i := lo; i < hi; i++ {
				nd := &nodes[0]
				for nd.Left != 0 {
					nd = &nodes[next(nd, X.Cols[nd.Feature][i])]
				}
				o[i-lo] += nd.Value
			}
		}
	})
}

// PredictProba writes P(class 1) of every row of X to out (len X.Rows).
// Columns must be in the training order (FeatureNames).
func (m *Model) PredictProba(X models.Matrix, out []float64) {
	m.Raw(X, out)
	for i := range out[:X.Rows] {
		out[i] = sigmoid(out[i])
	}
}

// Explain decomposes the prediction of row into per-feature contributions
// and returns the base, so that base + sum(contrib) equals PredictProba's
// value for the row (to 1e-12).
//
// In log-odds, along each tree's path, the change of node value from a
// node to its child is credited to the node's split feature (Saabas):
// raw = B + sum_j c_j with B = Init + the trees' root values. The base is
// sigmoid(B) and the difference sigmoid(raw) - sigmoid(B) is shared out in
// proportion to the c_j: contrib_j = c_j (sigmoid(raw) - sigmoid(B)) / sum c.
// When sum c is near 0 (|sum c| < 1e-9) the factor is the slope
// sigmoid'(B), its limit. A contribution thus keeps its sign and its
// share of the log-odds change.
func (m *Model) Explain(X models.Matrix, row int, contrib []float64) (base float64) {
	m.check(X)
	if len(contrib) != len(m.names) {
		panic(fmt.Sprintf("boost: contrib has %d entries for %d features", len(contrib), len(m.names)))
	}
	clear(contrib)
	raw, b := m.init, m.init
	for _, nodes := range m.trees {
		nd := &nodes[0]
		b += nd.Value
		for nd.Left != 0 {
			c := &nodes[next(nd, X.Cols[nd.Feature][row])]
			contrib[nd.Feature] += c.Value - nd.Value
			nd = c
		}
		raw += nd.Value
	}
	var s float64
	for _, c := range contrib {
		s += c
	}
	base = sigmoid(b)
	factor := base * (1 - base)
	if math.Abs(s) >= 1e-9 {
		factor = (sigmoid(raw) - base) / s
	}
	for j := range contrib {
		contrib[j] *= factor
	}
	return base
}

// FeatureNames returns the training columns' names, in order.
func (m *Model) FeatureNames() []string { return append([]string(nil), m.names...) }

// Importances returns each feature's share of the total split gain (the
// decrease in the second-order approximation of the loss), summing to 1.
func (m *Model) Importances() []float64 { return append([]float64(nil), m.imp...) }

// Params returns the parameters the model was trained with.
func (m *Model) Params() Params { return m.params }

// Init is the raw score (log-odds) before any tree.
func (m *Model) Init() float64 { return m.init }

// NumTrees is the number of trees kept.
func (m *Model) NumTrees() int { return len(m.trees) }

// Tree returns tree t's nodes (shared, not to be modified).
func (m *Model) Tree(t int) []Node { return m.trees[t] }

// TrainLoss returns the weighted mean training log loss before any tree
// and after each tree kept (NumTrees()+1 values).
func (m *Model) TrainLoss() []float64 { return append([]float64(nil), m.loss...) }

// SetWorkers sets the goroutines PredictProba uses (0 = GOMAXPROCS).
func (m *Model) SetWorkers(n int) { m.workers = n }

// ExplainAll writes the contributions of every row of X into contrib, a
// matrix the caller allocates with X.Rows rows and one column per feature
// (models.NewMatrix(X.Rows, m.FeatureNames())), and returns the base
// common to all rows: for each row exactly what Explain gives. Rows are
// spread over the workers; nothing is allocated per row.
func (m *Model) ExplainAll(X models.Matrix, contrib models.Matrix) (base float64) {
	m.check(X)
	p := len(m.names)
	if len(contrib.Cols) != p || contrib.Rows < X.Rows {
		panic(fmt.Sprintf("boost: contrib is %d x %d, want %d x %d", contrib.Rows, len(contrib.Cols), X.Rows, p))
	}
	b := m.init
	for _, nodes := range m.trees {
		b += nodes[0].Value
	}
	base = sigmoid(b)
	const block = 1024
	parallelBlocks((X.Rows+block-1)/block, workers(m.workers), func(k int) {
		lo, hi := k*block, min((k+1)*block, X.Rows)
		var raw [block]float64
		for _, c := range contrib.Cols {
			clear(c[lo:hi])
		}
		for i := lo; i < hi; i++ {
			raw[i-lo] = m.init
		}
		// Trees outer, rows inner: a tree stays in cache for the block.
		for _, nodes := range m.trees {
			for i := lo; i < hi; i++ {
				nd := &nodes[0]
				for nd.Left != 0 {
					c := &nodes[next(nd, X.Cols[nd.Feature][i])]
					contrib.Cols[nd.Feature][i] += c.Value - nd.Value
					nd = c
				}
				raw[i-lo] += nd.Value
			}
		}
		for i := lo; i < hi; i++ {
			var s float64
			for _, c := range contrib.Cols {
				s += c[i]
			}
			factor := base * (1 - base)
			if math.Abs(s) >= 1e-9 {
				factor = (sigmoid(raw[i-lo]) - base) / s
			}
			for _, c := range contrib.Cols {
				c[i] *= factor
			}
		}
	})
	return base
}
