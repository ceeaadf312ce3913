package boost

import (
	"bytes"
	"context"
	"errors"
	"github.com/povrisk/povrisk/models/hist"
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/povrisk/povrisk/engine/progress"
	"github.com/povrisk/povrisk/models"
	"github.com/povrisk/povrisk/models/eval"
)

func matrix(cols ...[]float64) models.Matrix {
	return models.Matrix{Rows: len(cols[0]), Cols: cols}
}

// synth is a table of p features, a few informative (one through its
// missingness), labels from a noisy logistic model.
func synth(n, p int, seed uint64) (models.Matrix, []int) {
	rng := rand.New(rand.NewPCG(seed, 7))
	X := models.NewMatrix(n, nil)
	X.Cols = make([][]float64, p)
	for j := range X.Cols {
		X.Cols[j] = make([]float64, n)
	}
	y := make([]int, n)
	for i := range n {
		for j := range p {
			X.Cols[j][i] = rng.NormFloat64()
		}
		z := 1.5*X.Cols[0][i] - X.Cols[1][i]*X.Cols[1][i] + 0.8*X.Cols[2][i]*X.Cols[3%p][i]
		if p > 4 && rng.IntN(5) == 0 {
			X.Cols[4][i] = math.NaN()
			z += 1
		}
		if rng.Float64() < 1/(1+math.Exp(-z)) {
			y[i] = 1
		}
	}
	return X, y
}

func sig(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// TestStumpNewtonStep: one tree of two leaves on x = 1..5, y = 0,0,1,0,1,
// worked by hand. Init = log(2/3) (p = 0.4); gradients p-y are 0.4, 0.4,
// -0.6, 0.4, -0.6 and hessians 0.24. With G = 0 at the root, a split's gain
// is GL²/HL + GL²/HR: 0.833 at 1.5, 2.222 at 2.5, 0.139 at 3.5, 1.875 at
// 4.5, so the tree splits at 2.5 with leaf values -lr*GL/(HL+L2) and
// lr*GL/(HR+L2), GL = 0.8, HL = 0.48, HR = 0.72.
func TestStumpNewtonStep(t *testing.T) {
	X := matrix([]float64{1, 2, 3, 4, 5})
	y := []int{0, 0, 1, 0, 1}
	for _, c := range []struct{ lr, l2 float64 }{{1, 0}, {0.5, 1}} {
		m, err := Fit(context.Background(), X, y, Options{Trees: 1, MaxLeaves: 2, MinLeaf: 1, LearningRate: c.lr, L2: c.l2})
		if err != nil {
			t.Fatal(err)
		}
		init := math.Log(2.0 / 3)
		if math.Abs(m.Init()-init) > 1e-15 {
			t.Errorf("init %v, want %v", m.Init(), init)
		}
		nodes := m.Tree(0)
		if len(nodes) != 3 || nodes[0].Feature != 0 || nodes[0].Threshold != 2.5 {
			t.Fatalf("lr %v l2 %v: tree %+v, want one split at 2.5", c.lr, c.l2, nodes)
		}
		left, right := -c.lr*0.8/(0.48+c.l2), c.lr*0.8/(0.72+c.l2)
		if math.Abs(nodes[1].Value-left) > 1e-12 || math.Abs(nodes[2].Value-right) > 1e-12 || math.Abs(nodes[0].Value) > 1e-12 {
			t.Errorf("values root %v left %v right %v, want 0, %v, %v", nodes[0].Value, nodes[1].Value, nodes[2].Value, left, right)
		}
		p := make([]float64, 5)
		m.PredictProba(X, p)
		for i, want := range []float64{sig(init + left), sig(init + left), sig(init + right), sig(init + right), sig(init + right)} {
			if math.Abs(p[i]-want) > 1e-12 {
				t.Errorf("row %d: p %v, want %v", i, p[i], want)
			}
		}
		if imp := m.Importances(); imp[0] != 1 {
			t.Errorf("importances %v, want [1]", imp)
		}
	}
}

// TestSecondRoundNewtonStep: the second tree of a stump model fits the
// gradients at the first tree's scores, checked against a direct
// computation of its leaves' Newton steps.
func TestSecondRoundNewtonStep(t *testing.T) {
	X := matrix([]float64{1, 2, 3, 4, 5})
	y := []int{0, 0, 1, 0, 1}
	m, err := Fit(context.Background(), X, y, Options{Trees: 2, MaxLeaves: 2, MinLeaf: 1, LearningRate: 1})
	if err != nil {
		t.Fatal(err)
	}
	raw := make([]float64, 5)
	m1 := *m
	m1.trees = m.trees[:1]
	m1.Raw(X, raw)
	t2 := m.Tree(1)
	if len(t2) != 3 {
		t.Fatalf("second tree %+v", t2)
	}
	var gl, hl, gr, hr float64
	for i, x := range X.Cols[0] {
		p := sig(raw[i])
		g, h := p-float64(y[i]), p*(1-p)
		if x <= t2[0].Threshold {
			gl, hl = gl+g, hl+h
		} else {
			gr, hr = gr+g, hr+h
		}
	}
	if math.Abs(t2[1].Value+gl/hl) > 1e-12 || math.Abs(t2[2].Value+gr/hr) > 1e-12 {
		t.Errorf("second tree leaves %v %v, want %v %v", t2[1].Value, t2[2].Value, -gl/hl, -gr/hr)
	}
}

func TestTrainingLossDecreases(t *testing.T) {
	X, y := synth(3000, 6, 1)
	m, err := Fit(context.Background(), X, y, Options{Trees: 60})
	if err != nil {
		t.Fatal(err)
	}
	loss := m.TrainLoss()
	if len(loss) != 61 {
		t.Fatalf("%d losses for 60 trees", len(loss))
	}
	for k := 1; k < len(loss); k++ {
		if loss[k] > loss[k-1] {
			t.Errorf("training loss rose at round %d: %v -> %v", k, loss[k-1], loss[k])
		}
	}
	// The first value is the log loss of the constant Init.
	var s float64
	for i := range y {
		s += rowLoss(m.Init(), y[i])
	}
	if math.Abs(loss[0]-s/float64(len(y))) > 1e-12 || loss[60] > 0.8*loss[0] {
		t.Errorf("loss %v -> %v; constant model's %v", loss[0], loss[60], s/float64(len(y)))
	}
}

func fitBytes(t *testing.T, X models.Matrix, y []int, o Options) []byte {
	t.Helper()
	m, err := Fit(context.Background(), X, y, o)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if _, err := m.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestDeterministic(t *testing.T) {
	X, y := synth(20000, 6, 2)
	a := fitBytes(t, X, y, Options{Trees: 10, Workers: 1, Seed: 3, ValidationShare: 0.1})
	b := fitBytes(t, X, y, Options{Trees: 10, Workers: 3, Seed: 3, ValidationShare: 0.1})
	c := fitBytes(t, X, y, Options{Trees: 10, Workers: 2, Seed: 4, ValidationShare: 0.1})
	if !bytes.Equal(a, b) {
		t.Error("same seed, other Workers: different bytes")
	}
	if bytes.Equal(a, c) {
		t.Error("another seed (other held-out rows) gave the same bytes")
	}
}

func TestExplainSumsToPrediction(t *testing.T) {
	X, y := synth(2000, 5, 3)
	m, err := Fit(context.Background(), X, y, Options{Trees: 40})
	if err != nil {
		t.Fatal(err)
	}
	p := make([]float64, X.Rows)
	m.PredictProba(X, p)
	contrib := make([]float64, X.NumCols())
	for i := range X.Rows {
		base := m.Explain(X, i, contrib)
		s := base
		for _, c := range contrib {
			s += c
		}
		if math.Abs(s-p[i]) > 1e-9 {
			t.Fatalf("row %d: base %v + contributions = %v, prediction %v", i, base, s, p[i])
		}
		if i == 0 && math.Abs(base-sig(m.Init()+rootSum(m))) > 1e-15 {
			t.Errorf("base %v, want sigmoid of init + root values", base)
		}
	}
	// A feature the model never splits on gets nothing.
	X2 := X
	X2.Cols = append([][]float64(nil), X.Cols...)
	X2.Cols = append(X2.Cols, make([]float64, X.Rows)) // constant column
	m2, err := Fit(context.Background(), X2, y, Options{Trees: 5})
	if err != nil {
		t.Fatal(err)
	}
	c2 := make([]float64, X2.NumCols())
	m2.Explain(X2, 1, c2)
	if c2[5] != 0 || m2.Importances()[5] != 0 {
		t.Errorf("constant column: contribution %v, importance %v", c2[5], m2.Importances()[5])
	}
}

func rootSum(m *Model) float64 {
	var s float64
	for _, t := range m.trees {
		s += t[0].Value
	}
	return s
}

// TestWeightsAsRepeats: a weight of 2 is the row twice (MinLeaf 1, so
// counts do not matter), and nil weights are weights of 1.
func TestWeightsAsRepeats(t *testing.T) {
	X, y := synth(1500, 4, 4)
	for _, c := range X.Cols { // few distinct values: the same exact bins with or without repeats
		for i, v := range c {
			c[i] = math.Round(v*10) / 10
		}
	}
	w := make([]float64, X.Rows)
	var idx []int
	for i := range w {
		w[i] = float64(1 + i%2)
		idx = append(idx, i)
		if i%2 == 1 {
			idx = append(idx, i)
		}
	}
	Xr := X.Subset(idx)
	yr := make([]int, len(idx))
	for k, i := range idx {
		yr[k] = y[i]
	}
	o := Options{Trees: 15, MinLeaf: 1}
	mw, err := Fit(context.Background(), X, y, Options{Trees: 15, MinLeaf: 1, Weights: w})
	if err != nil {
		t.Fatal(err)
	}
	mr, err := Fit(context.Background(), Xr, yr, o)
	if err != nil {
		t.Fatal(err)
	}
	pw, pr := make([]float64, X.Rows), make([]float64, X.Rows)
	mw.PredictProba(X, pw)
	mr.PredictProba(X, pr)
	worst := 0.0
	for i := range pw {
		worst = max(worst, math.Abs(pw[i]-pr[i]))
	}
	if worst > 1e-9 {
		t.Errorf("weights 2 vs repeated rows: predictions differ by up to %v", worst)
	}
	ones := make([]float64, X.Rows)
	for i := range ones {
		ones[i] = 1
	}
	a := fitBytes(t, X, y, Options{Trees: 5, Weights: ones})
	b := fitBytes(t, X, y, Options{Trees: 5})
	// Params.Weighted differs; the trees must not.
	ma, _ := Read(bytes.NewReader(a))
	mb, _ := Read(bytes.NewReader(b))
	for k := range mb.trees {
		for i := range mb.trees[k] {
			if ma.trees[k][i] != mb.trees[k][i] {
				t.Fatalf("weights of 1: tree %d node %d differs", k, i)
			}
		}
	}
}

// TestSubtractionMatchesDirect: histograms obtained by subtraction give
// the trees that histograms built from every child's rows give.
func TestSubtractionMatchesDirect(t *testing.T) {
	X, y := synth(5000, 6, 5)
	m, err := Fit(context.Background(), X, y, Options{Trees: 8, MaxLeaves: 16, MinLeaf: 5})
	if err != nil {
		t.Fatal(err)
	}
	noSubtraction = true
	defer func() { noSubtraction = false }()
	d, err := Fit(context.Background(), X, y, Options{Trees: 8, MaxLeaves: 16, MinLeaf: 5})
	if err != nil {
		t.Fatal(err)
	}
	for k := range m.trees {
		a, b := m.trees[k], d.trees[k]
		if len(a) != len(b) {
			t.Fatalf("tree %d: %d nodes by subtraction, %d direct", k, len(a), len(b))
		}
		for i := range a {
			if a[i].Feature != b[i].Feature || a[i].Threshold != b[i].Threshold || a[i].Left != b[i].Left || math.Abs(a[i].Value-b[i].Value) > 1e-9 {
				t.Fatalf("tree %d node %d: %+v by subtraction, %+v direct", k, i, a[i], b[i])
			}
		}
	}
}

func TestEarlyStopping(t *testing.T) {
	X, y := synth(3000, 6, 6)
	m, err := Fit(context.Background(), X, y, Options{Trees: 400, LearningRate: 0.5, ValidationShare: 0.25, Patience: 5, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if m.NumTrees() >= 400 || m.NumTrees() == 0 {
		t.Fatalf("%d trees kept of 400 at learning rate 0.5 on 3000 rows", m.NumTrees())
	}
	v := m.valLoss
	if len(v) != m.NumTrees()+1 {
		t.Fatalf("%d held-out losses for %d trees", len(v), m.NumTrees())
	}
	for k := range v[:len(v)-1] {
		if v[k] < v[len(v)-1]-1e-7 {
			t.Errorf("held-out loss %v at %d trees, below the kept model's %v", v[k], k, v[len(v)-1])
		}
	}
}

func TestFitErrors(t *testing.T) {
	X := matrix([]float64{1, 2, 3, 4})
	cases := []struct {
		name string
		X    models.Matrix
		y    []int
		o    Options
	}{
		{"one class", X, []int{1, 1, 1, 1}, Options{}},
		{"label 2", X, []int{0, 1, 2, 0}, Options{}},
		{"infinite value", matrix([]float64{1, math.Inf(1), 3, 4}), []int{0, 1, 0, 1}, Options{}},
		{"short weights", X, []int{0, 1, 0, 1}, Options{Weights: []float64{1, 1}}},
		{"negative weight", X, []int{0, 1, 0, 1}, Options{Weights: []float64{1, -1, 1, 1}}},
		{"NaN weight", X, []int{0, 1, 0, 1}, Options{Weights: []float64{1, math.NaN(), 1, 1}}},
		{"class 1 weighs nothing", X, []int{0, 1, 0, 1}, Options{Weights: []float64{1, 0, 1, 0}}},
		{"one leaf", X, []int{0, 1, 0, 1}, Options{MaxLeaves: 1}},
		{"learning rate", X, []int{0, 1, 0, 1}, Options{LearningRate: -1}},
		{"bins", X, []int{0, 1, 0, 1}, Options{Bins: 256}},
		{"validation share", X, []int{0, 1, 0, 1}, Options{ValidationShare: 1}},
	}
	for _, c := range cases {
		if _, err := Fit(context.Background(), c.X, c.y, c.o); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
	_, err := Fit(context.Background(), X, []int{0, 1, 0, 1}, Options{Bins: 1})
	if !errors.Is(err, ErrOptions) {
		t.Errorf("Bins 1: %v, want ErrOptions", err)
	}
}

func TestRoundTrip(t *testing.T) {
	X, y := synth(2000, 5, 8)
	m, err := Fit(context.Background(), X, y, Options{Trees: 12, ValidationShare: 0.2})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if _, err := m.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	g, err := Read(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	var b2 bytes.Buffer
	g.WriteTo(&b2)
	if !bytes.Equal(b.Bytes(), b2.Bytes()) {
		t.Error("read and written again: other bytes")
	}
	p, q := make([]float64, X.Rows), make([]float64, X.Rows)
	m.PredictProba(X, p)
	g.PredictProba(X, q)
	for i := range p {
		if p[i] != q[i] {
			t.Fatalf("row %d: %v before, %v after the round trip", i, p[i], q[i])
		}
	}
	if g.Params() != m.Params() {
		t.Errorf("params %+v, want %+v", g.Params(), m.Params())
	}
	raw := b.Bytes()
	for _, bad := range [][]byte{raw[:len(raw)-1], append(append([]byte(nil), raw[:20]...), raw[21:]...), []byte("PVRB\x02\x00\x00\x00")} {
		if _, err := Read(bytes.NewReader(bad)); !errors.Is(err, ErrFormat) {
			t.Errorf("corrupt file: %v, want ErrFormat", err)
		}
	}
	flip := append([]byte(nil), raw...)
	flip[len(flip)-40] ^= 1
	if _, err := Read(bytes.NewReader(flip)); !errors.Is(err, ErrFormat) {
		t.Errorf("flipped bit: %v, want ErrFormat", err)
	}
}

// TestBeatsConstantAndForestLike: on synth the model ranks well above
// chance and MaxDepth bounds the trees.
func TestHeldOutAUC(t *testing.T) {
	X, y := synth(6000, 6, 9)
	Xt, yt := synth(3000, 6, 10)
	m, err := Fit(context.Background(), X, y, Options{MaxDepth: 3})
	if err != nil {
		t.Fatal(err)
	}
	for k := range m.NumTrees() {
		if d := depth(m.Tree(k), 0); d > 3 {
			t.Fatalf("tree %d has depth %d > MaxDepth 3", k, d)
		}
	}
	p := make([]float64, Xt.Rows)
	m.PredictProba(Xt, p)
	if auc := eval.ROCAUC(yt, p); auc < 0.75 {
		t.Errorf("held-out AUC %.4f < 0.75", auc)
	}
}

func depth(nodes []Node, k int) int {
	if nodes[k].Left == 0 {
		return 0
	}
	return 1 + max(depth(nodes, int(nodes[k].Left)), depth(nodes, int(nodes[k].Right)))
}

type countingReporter struct {
	mu     sync.Mutex
	stages []string
	totals []int64
	added  int64
	done   int
}

func (r *countingReporter) Start(stage string, total int64) progress.Task {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stages, r.totals = append(r.stages, stage), append(r.totals, total)
	return r
}
func (r *countingReporter) Add(n int64) { r.mu.Lock(); r.added += n; r.mu.Unlock() }
func (r *countingReporter) Done()       { r.mu.Lock(); r.done++; r.mu.Unlock() }

func TestReportsRounds(t *testing.T) {
	X, y := synth(500, 3, 11)
	rep := &countingReporter{}
	if _, err := Fit(context.Background(), X, y, Options{Trees: 7, Reporter: rep}); err != nil {
		t.Fatal(err)
	}
	if len(rep.stages) != 1 || rep.stages[0] != "boosting" || rep.totals[0] != 7 || rep.added != 7 || rep.done != 1 {
		t.Errorf("stages %v totals %v added %d done %d", rep.stages, rep.totals, rep.added, rep.done)
	}
}

func TestCancel(t *testing.T) {
	X, y := synth(500, 3, 12)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Fit(ctx, X, y, Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestZeroOptionsAreTheDefaults(t *testing.T) {
	a, err := Options{}.resolved()
	if err != nil {
		t.Fatal(err)
	}
	b, err := DefaultOptions().resolved()
	if err != nil {
		t.Fatal(err)
	}
	if a != b || a.Trees != 100 || a.LearningRate != 0.1 || a.MaxLeaves != 31 || a.MinLeaf != 20 || a.Bins != 255 {
		t.Errorf("Options{} resolves to %+v, DefaultOptions to %+v", a, b)
	}
}

// TestSharedBinning: a model fitted on a shared binning is the model
// fitted on the matrix; a binning of another shape is refused.
func TestSharedBinning(t *testing.T) {
	X, y := synth(1200, 5, 26)
	d := hist.Quantise(X, hist.MaxBins, 2, false)
	a := fitBytes(t, X, y, Options{Trees: 5})
	b := fitBytes(t, X, y, Options{Trees: 5, Binned: d})
	if !bytes.Equal(a, b) {
		t.Error("shared binning: other bytes")
	}
	for _, o := range []Options{{Binned: hist.Quantise(X.Subset([]int{1, 2, 3}), 255, 1, false)}, {Bins: 8, Binned: d}} {
		if _, err := Fit(context.Background(), X, y, o); !errors.Is(err, ErrOptions) {
			t.Errorf("wrong binning: %v, want ErrOptions", err)
		}
	}
}

// TestExplainAllIsExplain: ExplainAll gives every row Explain's values,
// bit for bit, whatever the workers.
func TestExplainAllIsExplain(t *testing.T) {
	X, y := synth(2500, 5, 27)
	m, err := Fit(context.Background(), X, y, Options{Trees: 20})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []int{1, 3} {
		m.SetWorkers(w)
		all := models.NewMatrix(X.Rows, m.FeatureNames())
		base := m.ExplainAll(X, all)
		c := make([]float64, X.NumCols())
		for i := range X.Rows {
			if b := m.Explain(X, i, c); b != base {
				t.Fatalf("row %d: base %v, ExplainAll's %v", i, b, base)
			}
			for j := range c {
				if c[j] != all.Cols[j][i] {
					t.Fatalf("workers %d row %d feature %d: Explain %v, ExplainAll %v", w, i, j, c[j], all.Cols[j][i])
				}
			}
		}
	}
}

// TestCarry: exp(-score) carried through many leaf values by products
// stays within 1e-12 (relative) of math.Exp of the score, and rows pushed
// far out (|score| > 690) and back are recomputed, not stuck at 0 or Inf.
func TestCarry(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	const n = 64
	raw := make([]float64, n)
	ex := make([]float64, n)
	rows := make([]int32, n)
	for i := range raw {
		raw[i] = rng.NormFloat64()
		ex[i] = math.Exp(-raw[i])
		rows[i] = int32(i)
	}
	check := func(round int) {
		t.Helper()
		for i, x := range raw {
			want := math.Exp(-x)
			if math.IsInf(want, 0) || want == 0 {
				t.Fatalf("round %d row %d: score %v out of the test's range", round, i, x)
			}
			if d := math.Abs(ex[i]-want) / want; !(d <= 1e-12) {
				t.Fatalf("round %d row %d: carried exp(-%v) = %v, math.Exp %v (relative %v)", round, i, x, ex[i], want, d)
			}
		}
	}
	for round := range 2000 {
		v := 0.3 * rng.NormFloat64()
		half := rows[:n/2]
		if round%2 == 1 {
			half = rows[n/2:]
		}
		carry(raw, ex, half, v)
		check(round)
	}
	// Out past where a product would underflow or overflow (or lose
	// precision in subnormals), and back, by large and by small steps.
	for _, v := range []float64{720, -720, -720, 720, 695, 30, -30, -695, -700, 10, 20, -30, 700} {
		carry(raw, ex, rows, v)
	}
	check(-1)
}
