package forest

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"

	"github.com/povrisk/povrisk/models"
	"github.com/povrisk/povrisk/models/eval"
)

var nan = math.NaN()

func col(v ...float64) []float64 { return v }

func matrix(cols ...[]float64) models.Matrix {
	return models.Matrix{Rows: len(cols[0]), Cols: cols}
}

// oneTree is a single exact tree: no bootstrap, every feature at each
// split, leaves of one row unless the case says otherwise.
func oneTree(o Options) Options {
	o.Trees, o.NoBootstrap, o.MaxFeatures, o.Workers = 1, true, 0, 1
	if o.MinLeaf == 0 {
		o.MinLeaf = 1
	}
	return o
}

// TestHandComputed checks trees small enough to grow by hand.
func TestHandComputed(t *testing.T) {
	cases := []struct {
		name  string
		X     models.Matrix
		y     []int
		o     Options
		query models.Matrix
		want  []float64
	}{{
		// Split at 2.5 (midpoint); NaN unseen in training follows the larger
		// child, a tie (2 vs 2) going left.
		name: "midpoint", X: matrix(col(1, 2, 3, 4)), y: []int{0, 0, 1, 1}, o: oneTree(Options{}),
		query: matrix(col(0, 2.4, 2.5, 2.6, 10, nan)), want: []float64{0, 0, 0, 1, 1, 0},
	}, {
		// Candidates 1.5 (0/2 | 3/4: score 0+9/4=2.25) and 2.5 (2/5 | 1/1:
		// 4/5+1=1.8): 1.5 wins; right leaf holds 3 of 4 positives.
		name: "impure leaf", X: matrix(col(1, 1, 2, 2, 2, 3)), y: []int{0, 0, 0, 1, 1, 1}, o: oneTree(Options{MaxDepth: 1}),
		query: matrix(col(1, 1.6, 3)), want: []float64{0, 0.75, 0.75},
	}, {
		// NaN carries the signal: values left, NaN right.
		name: "missing right", X: matrix(col(1, 2, nan, nan)), y: []int{0, 0, 1, 1}, o: oneTree(Options{}),
		query: matrix(col(-5, 1.5, 100, nan)), want: []float64{0, 0, 0, 1},
	}, {
		// NaN shares the left child's class: learned direction is left.
		name: "missing left", X: matrix(col(1, 2, 3, 4, nan)), y: []int{1, 1, 0, 0, 1}, o: oneTree(Options{}),
		query: matrix(col(1, 4, nan)), want: []float64{1, 0, 1},
	}, {
		// Balanced weights: w0 = 5/(2*3) = 5/6, w1 = 5/(2*2) = 5/4.
		// Left {0,0,1}: (5/4)/(5/4+10/6) = 3/7; right {0,1}: (5/4)/(5/4+5/6) = 3/5.
		name: "balanced", X: matrix(col(1, 1, 1, 2, 2)), y: []int{0, 0, 1, 0, 1}, o: oneTree(Options{MaxDepth: 1, ClassWeight: "balanced"}),
		query: matrix(col(1, 2)), want: []float64{3.0 / 7, 3.0 / 5},
	}, {
		// MinLeaf 3 forbids the pure split at 1.5 (2 rows); only 2.5 is left.
		name: "min leaf", X: matrix(col(1, 1, 2, 3, 3, 3)), y: []int{0, 0, 1, 1, 1, 0}, o: oneTree(Options{MinLeaf: 3, MaxDepth: 1}),
		query: matrix(col(1, 3)), want: []float64{1.0 / 3, 2.0 / 3},
	}, {
		// MinSplit 7 > 6 rows: the root stays a leaf.
		name: "min split", X: matrix(col(1, 1, 2, 3, 3, 3)), y: []int{0, 0, 1, 1, 1, 0}, o: oneTree(Options{MinSplit: 7}),
		query: matrix(col(1, 3)), want: []float64{0.5, 0.5},
	}, {
		// Two features: the second separates perfectly, the first does not.
		name: "best feature", X: matrix(col(1, 2, 1, 2), col(5, 5, 9, 9)), y: []int{0, 0, 1, 1}, o: oneTree(Options{}),
		query: matrix(col(1, 1), col(6, 8)), want: []float64{0, 1},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, err := Fit(context.Background(), c.X, c.y, c.o)
			if err != nil {
				t.Fatal(err)
			}
			got := make([]float64, c.query.Rows)
			f.PredictProba(c.query, got)
			for i := range got {
				if math.Abs(got[i]-c.want[i]) > 1e-12 {
					t.Errorf("row %d: P = %v, want %v", i, got[i], c.want[i])
				}
			}
		})
	}
}

func TestFitErrors(t *testing.T) {
	X := matrix(col(1, 2, 3, 4))
	cases := []struct {
		name string
		X    models.Matrix
		y    []int
		o    Options
		want string
		is   error
	}{
		{"label 2", X, []int{0, 1, 2, 0}, Options{}, "label at row 2 is 2", nil},
		{"infinite", matrix(col(1, math.Inf(1), 3, 4)), []int{0, 1, 0, 1}, Options{}, `column "x0" row 1: value +Inf`, nil},
		{"labels short", X, []int{0, 1}, Options{}, "2 labels for 4 rows", nil},
		{"max features", X, []int{0, 1, 0, 1}, Options{MaxFeatures: 2}, "MaxFeatures 2 not in 1..1", ErrOptions},
		{"bins", X, []int{0, 1, 0, 1}, Options{Bins: 256}, "Bins 256 not in 2..255", ErrOptions},
		{"class weight", X, []int{0, 1, 0, 1}, Options{ClassWeight: "balanced_subsample"}, `ClassWeight "balanced_subsample"`, ErrOptions},
		{"balanced one class", X, []int{0, 0, 0, 0}, Options{ClassWeight: "balanced"}, "4 zeros and 0 ones", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Fit(context.Background(), c.X, c.y, c.o)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want it to contain %q", err, c.want)
			}
			if c.is != nil && !errors.Is(err, c.is) {
				t.Errorf("error %v is not %v", err, c.is)
			}
		})
	}
	var le *LabelError
	_, err := Fit(context.Background(), X, []int{0, 1, -1, 0}, Options{})
	if !errors.As(err, &le) || le.Row != 2 || le.Label != -1 {
		t.Errorf("error %v, want LabelError{Row: 2, Label: -1}", err)
	}
}

// synth makes n rows: x0 drives y strongly, x1 weakly, x2 through its
// missingness, x3..x(p-1) are noise; 10% of x1 is missing.
func synth(n, p int, seed uint64) (models.Matrix, []int) {
	rng := rand.New(rand.NewPCG(seed, 99))
	names := make([]string, p)
	for j := range names {
		names[j] = "f" + string(rune('a'+j))
	}
	X := models.NewMatrix(n, names)
	y := make([]int, n)
	for i := range n {
		for j := range p {
			X.Cols[j][i] = rng.NormFloat64()
		}
		z := 2*X.Cols[0][i] + 0.7*X.Cols[1][i] + rng.NormFloat64()
		if rng.Float64() < 0.3 {
			X.Cols[2][i] = nan
			z += 1.5
		}
		if rng.Float64() < 0.1 {
			X.Cols[1][i] = nan
		}
		if z > 1 {
			y[i] = 1
		}
	}
	return X, y
}

func encode(t testing.TB, f *Forest) []byte {
	var b bytes.Buffer
	n, err := f.WriteTo(&b)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(b.Len()) {
		t.Fatalf("WriteTo reported %d bytes, wrote %d", n, b.Len())
	}
	return b.Bytes()
}

func TestDeterministic(t *testing.T) {
	X, y := synth(3000, 6, 1)
	fit := func(workers int, seed uint64, maxFeatures int) []byte {
		o := DefaultOptions()
		o.Trees, o.Workers, o.Seed, o.MaxFeatures = 20, workers, seed, maxFeatures
		f, err := Fit(context.Background(), X, y, o)
		if err != nil {
			t.Fatal(err)
		}
		return encode(t, f)
	}
	for _, mf := range []int{0, 6} { // sqrt(p) (histograms per drawn feature) and all (subtraction)
		a, b := fit(1, 7, mf), fit(8, 7, mf)
		if !bytes.Equal(a, b) {
			t.Errorf("MaxFeatures %d: model files differ between Workers 1 and 8", mf)
		}
		if c := fit(2, 8, mf); bytes.Equal(a, c) {
			t.Errorf("MaxFeatures %d: seeds 7 and 8 gave the same forest", mf)
		}
	}
}

func TestExplainSumsToPrediction(t *testing.T) {
	X, y := synth(2000, 5, 2)
	o := DefaultOptions()
	o.Trees, o.Seed = 30, 3
	f, err := Fit(context.Background(), X, y, o)
	if err != nil {
		t.Fatal(err)
	}
	Xt, _ := synth(500, 5, 4)
	pred := make([]float64, Xt.Rows)
	f.PredictProba(Xt, pred)
	all := models.NewMatrix(Xt.Rows, f.FeatureNames())
	baseAll := f.ExplainAll(Xt, all)
	contrib := make([]float64, 5)
	var sumAbs0, sumAbs4 float64
	for i := range Xt.Rows {
		base := f.Explain(Xt, i, contrib)
		if base != baseAll {
			t.Fatalf("row %d: Explain base %v, ExplainAll base %v", i, base, baseAll)
		}
		s := base
		for j, c := range contrib {
			s += c
			if c != all.Cols[j][i] {
				t.Fatalf("row %d feature %d: Explain %v, ExplainAll %v", i, j, c, all.Cols[j][i])
			}
		}
		if math.Abs(s-pred[i]) > 1e-9 {
			t.Errorf("row %d: base + sum(contrib) = %v, prediction %v", i, s, pred[i])
		}
		sumAbs0 += math.Abs(contrib[0])
		sumAbs4 += math.Abs(contrib[4])
	}
	// The strong feature must carry more of the explanation than noise.
	if sumAbs0 < 3*sumAbs4 {
		t.Errorf("mean |contribution| of the signal %v not well above noise %v", sumAbs0/500, sumAbs4/500)
	}
	// Base is the mean training share of class 1 over bootstrap samples.
	var pos float64
	for _, v := range y {
		pos += float64(v)
	}
	if d := math.Abs(baseAll - pos/float64(len(y))); d > 0.02 {
		t.Errorf("base %v, share of class 1 %v", baseAll, pos/float64(len(y)))
	}
}

// TestMissingSignal: x2's missingness raises P(y=1); the forest must use it
// and send NaN the right way.
func TestMissingSignal(t *testing.T) {
	X, y := synth(4000, 5, 5)
	o := DefaultOptions()
	o.Trees, o.Seed, o.MaxFeatures, o.MaxDepth, o.MinLeaf = 50, 1, 5, 8, 10 // shallow: MDI of deep trees favours noise
	f, err := Fit(context.Background(), X, y, o)
	if err != nil {
		t.Fatal(err)
	}
	imp := f.Importances()
	for _, j := range []int{3, 4} {
		if imp[2] <= 2*imp[j] {
			t.Errorf("importance of the missing-signal feature %v not above twice noise feature %d's %v", imp[2], j, imp[j])
		}
	}
	// Same row with x2 present or missing: missing must score higher on average.
	Xt, _ := synth(1000, 5, 6)
	present, missing := Xt, Xt
	missing.Cols = append([][]float64(nil), Xt.Cols...)
	present.Cols = append([][]float64(nil), Xt.Cols...)
	missing.Cols[2] = make([]float64, Xt.Rows)
	present.Cols[2] = make([]float64, Xt.Rows)
	for i := range missing.Cols[2] {
		missing.Cols[2][i] = nan
	}
	pm, pp := make([]float64, Xt.Rows), make([]float64, Xt.Rows)
	f.PredictProba(missing, pm)
	f.PredictProba(present, pp)
	var d float64
	for i := range pm {
		d += pm[i] - pp[i]
	}
	if d /= float64(len(pm)); d < 0.05 {
		t.Errorf("mean P(missing x2) - P(x2 = 0) = %v, want > 0.05", d)
	}
}

func TestImportances(t *testing.T) {
	X, y := synth(3000, 6, 7)
	o := DefaultOptions()
	o.Trees, o.Seed = 40, 2
	f, err := Fit(context.Background(), X, y, o)
	if err != nil {
		t.Fatal(err)
	}
	imp := f.Importances()
	var s float64
	for _, v := range imp {
		s += v
	}
	if math.Abs(s-1) > 1e-12 {
		t.Errorf("importances sum to %v, want 1", s)
	}
	for j := 1; j < 6; j++ {
		if imp[0] <= imp[j] {
			t.Errorf("importance of the strong feature %v not above feature %d's %v", imp[0], j, imp[j])
		}
	}
	Xt, yt := synth(2000, 6, 8)
	perm, err := f.PermutationImportances(context.Background(), Xt, yt, 3, 1)
	if err != nil {
		t.Fatal(err)
	}
	if perm[0] < 0.1 {
		t.Errorf("permutation importance of the strong feature %v, want > 0.1 (AUC drop)", perm[0])
	}
	for _, j := range []int{3, 4, 5} {
		if math.Abs(perm[j]) > 0.02 {
			t.Errorf("permutation importance of noise feature %d is %v, want near 0", j, perm[j])
		}
	}
	again, _ := f.PermutationImportances(context.Background(), Xt, yt, 3, 1)
	for j := range perm {
		if perm[j] != again[j] {
			t.Errorf("permutation importances not reproducible: %v then %v", perm, again)
			break
		}
	}
	if oob := f.OOBScore(); !(oob > 0.85 && oob < 1) {
		t.Errorf("OOB AUC %v, want in (0.85, 1) for this easy problem", oob)
	}
	pred := make([]float64, Xt.Rows)
	f.PredictProba(Xt, pred)
	if a := eval.ROCAUC(yt, pred); math.Abs(a-f.OOBScore()) > 0.03 {
		t.Errorf("OOB AUC %v far from held-out AUC %v", f.OOBScore(), a)
	}
}

func TestRoundTrip(t *testing.T) {
	X, y := synth(1500, 4, 9)
	o := DefaultOptions()
	o.Trees, o.Seed = 10, 4
	f, err := Fit(context.Background(), X, y, o)
	if err != nil {
		t.Fatal(err)
	}
	b := encode(t, f)
	g, err := Read(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if b2 := encode(t, g); !bytes.Equal(b, b2) {
		t.Error("re-encoded model differs from the original file")
	}
	pf, pg := make([]float64, X.Rows), make([]float64, X.Rows)
	f.PredictProba(X, pf)
	g.PredictProba(X, pg)
	for i := range pf {
		if pf[i] != pg[i] {
			t.Fatalf("row %d: %v before, %v after round trip", i, pf[i], pg[i])
		}
	}
	if g.OOBScore() != f.OOBScore() || g.Params() != f.Params() || strings.Join(g.FeatureNames(), ",") != "fa,fb,fc,fd" {
		t.Errorf("header not restored: oob %v/%v options %+v/%+v names %v", g.OOBScore(), f.OOBScore(), g.Params(), f.Params(), g.FeatureNames())
	}

	bad := func(edit func([]byte) []byte) error {
		_, err := Read(bytes.NewReader(edit(bytes.Clone(b))))
		return err
	}
	cases := []struct {
		name string
		edit func([]byte) []byte
		want string
	}{
		{"version 2", func(b []byte) []byte { b[4] = 2; return b }, "format version 2, this povrisk reads version 1"},
		{"magic", func(b []byte) []byte { copy(b, "PK\x03\x04"); return b }, `magic "PK\x03\x04"`},
		{"corrupt node", func(b []byte) []byte { b[len(b)-20] ^= 0x40; return b }, "checksum"},
		{"truncated", func(b []byte) []byte { return b[:len(b)-100] }, "unexpected EOF"},
		{"empty", func(b []byte) []byte { return nil }, "EOF"},
		// A header claiming a 2e9-node tree: read as far as the file goes
		// (a few KB), not 64 GB allocated up front.
		{"huge node count", func(b []byte) []byte { return withNodeCount(t, b, 2_000_000_000) }, "tree 0: unexpected EOF"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := bad(c.edit)
			if err == nil || !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want ErrFormat containing %q", err, c.want)
			}
		})
	}
}

func TestNoBootstrapOOB(t *testing.T) {
	X, y := synth(200, 3, 10)
	f, err := Fit(context.Background(), X, y, Options{Trees: 3, NoBootstrap: true})
	if err != nil {
		t.Fatal(err)
	}
	if !math.IsNaN(f.OOBScore()) {
		t.Errorf("OOB score %v without bootstrap, want NaN", f.OOBScore())
	}
	b := encode(t, f)
	g, err := Read(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if !math.IsNaN(g.OOBScore()) {
		t.Errorf("OOB score %v after round trip, want NaN", g.OOBScore())
	}
}

func TestCancel(t *testing.T) {
	X, y := synth(500, 3, 11)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Fit(ctx, X, y, DefaultOptions())
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
}

// TestNoPerRowAllocation: scoring and explaining allocate the same (a few
// goroutines' worth) for 10 rows and for 20,000.
func TestNoPerRowAllocation(t *testing.T) {
	X, y := synth(2000, 5, 13)
	o := DefaultOptions()
	o.Trees = 10
	f, err := Fit(context.Background(), X, y, o)
	if err != nil {
		t.Fatal(err)
	}
	f.SetWorkers(2)
	allocs := func(n int) (float64, float64, float64) {
		Xn, _ := synth(n, 5, 14)
		out := make([]float64, n)
		contrib := models.NewMatrix(n, f.FeatureNames())
		row := make([]float64, 5)
		p := testing.AllocsPerRun(5, func() { f.PredictProba(Xn, out) })
		e := testing.AllocsPerRun(5, func() { f.ExplainAll(Xn, contrib) })
		r := testing.AllocsPerRun(5, func() { f.Explain(Xn, n-1, row) })
		return p, e, r
	}
	p1, e1, r1 := allocs(10)
	p2, e2, r2 := allocs(20_000)
	if p2 > p1+4 || e2 > e1+4 || r1 != 0 || r2 != 0 {
		t.Errorf("allocations: PredictProba %v (10 rows) / %v (20,000), ExplainAll %v / %v, Explain %v / %v (want 0)", p1, p2, e1, e2, r1, r2)
	}
}

// TestOOBRecomputed: the OOB AUC (computed in training by walking binned
// rows) equals one recomputed here from raw values, regenerating each
// tree's bootstrap sample from its documented stream PCG(Seed, tree).
func TestOOBRecomputed(t *testing.T) {
	X, y := synth(2500, 5, 15)
	o := DefaultOptions()
	o.Trees, o.Seed, o.MinLeaf = 25, 9, 1
	f, err := Fit(context.Background(), X, y, o)
	if err != nil {
		t.Fatal(err)
	}
	n := X.Rows
	sum, cnt := make([]float64, n), make([]int, n)
	inbag := make([]int, n)
	for tree, nodes := range f.trees {
		rng := rand.New(rand.NewPCG(o.Seed, uint64(tree)))
		clear(inbag)
		for range n {
			inbag[rng.IntN(n)]++
		}
		for i := range n {
			if inbag[i] == 0 {
				sum[i] += leaf(nodes, X.Cols, i).Value
				cnt[i]++
			}
		}
	}
	var ys []int
	var ps []float64
	for i := range n {
		if cnt[i] > 0 {
			ys = append(ys, y[i])
			ps = append(ps, sum[i]/float64(cnt[i]))
		}
	}
	if want := eval.ROCAUC(ys, ps); math.Abs(f.OOBScore()-want) > 1e-9 {
		t.Errorf("OOB AUC %v, recomputed %v", f.OOBScore(), want)
	}
}

// withNodeCount rewrites the header of model file b so that tree 0 claims n
// nodes (the checksum is then wrong, but Read fails before it gets there).
func withNodeCount(t *testing.T, b []byte, n int) []byte {
	t.Helper()
	hl := binary.LittleEndian.Uint32(b[8:12])
	var h map[string]any
	if err := json.Unmarshal(b[12:12+hl], &h); err != nil {
		t.Fatal(err)
	}
	h["nodes"].([]any)[0] = n
	js, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	out := append([]byte(nil), b[:12]...)
	binary.LittleEndian.PutUint32(out[8:], uint32(len(js)))
	out = append(out, js...)
	return append(out, b[12+hl:]...)
}

// TestReadCorruptCountAllocation: Read of a file whose header claims a
// 2e9-node tree allocates about what the file holds, not 64 GB.
func TestReadCorruptCountAllocation(t *testing.T) {
	X, y := synth(300, 3, 12)
	f, err := Fit(context.Background(), X, y, Options{Trees: 2})
	if err != nil {
		t.Fatal(err)
	}
	b := withNodeCount(t, encode(t, f), 2_000_000_000)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if _, err := Read(bytes.NewReader(b)); !errors.Is(err, ErrFormat) {
		t.Fatalf("error %v, want ErrFormat", err)
	}
	runtime.ReadMemStats(&after)
	if got := after.TotalAlloc - before.TotalAlloc; got > 16<<20 {
		t.Errorf("Read allocated %d bytes for a %d-byte file", got, len(b))
	}
}
