package forest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/povrisk/povrisk/engine/progress"
	"github.com/povrisk/povrisk/models"
)

// defaultsData is a fixed synthetic problem: 1,500 rows, 6 columns (one
// with missing values), a logistic outcome.
func defaultsData() (models.Matrix, []int) {
	rng := rand.New(rand.NewPCG(1, 1))
	X := models.NewMatrix(1500, []string{"a", "b", "c", "d", "e", "f"})
	y := make([]int, X.Rows)
	for i := 0; i < X.Rows; i++ {
		for j := range X.Cols {
			X.Cols[j][i] = math.Round(rng.NormFloat64()*100) / 100
		}
		if i%7 == 0 {
			X.Cols[5][i] = math.NaN()
		}
		z := 1.5*X.Cols[0][i] - X.Cols[1][i] + 0.5*X.Cols[2][i]*X.Cols[3][i] - 2
		if rng.Float64() < 1/(1+math.Exp(-z)) {
			y[i] = 1
		}
	}
	return X, y
}

func forestSHA(t *testing.T, o Options) string {
	t.Helper()
	X, y := defaultsData()
	f, err := Fit(context.Background(), X, y, o)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if _, err := f.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b.Bytes())
	return hex.EncodeToString(s[:])
}

// TestDefaultForestBytes pins the model file of the default forest
// (MinLeaf 20 since issue 14's second round, as train's household forest)
// and of MinLeaf 5 (the default before) on a fixed problem: a change of
// option handling must not change what the defaults train. The sums were
// taken before the options were reworked (zero value = the defaults).
func TestDefaultForestBytes(t *testing.T) {
	const leaf5, leaf20 = "6a5042629a556d6c301340f87bd855997a6893d5051ae7419bd503473510ecf4", "e06db98a1d48b12bd8a54a15d0906b7e2c67a02451429187dad7a6f766bc9a9b"
	def := DefaultOptions()
	def.Trees, def.Seed = 20, 3
	five := def
	five.MinLeaf = 5
	for _, tc := range []struct {
		name string
		o    Options
		want string
	}{
		{"DefaultOptions", def, leaf20},
		{"MinLeaf 5", five, leaf5},
		// The zero value of every field is its default: the same bytes.
		{"zero fields", Options{Trees: 20, Seed: 3}, leaf20},
		{"zero fields, MinLeaf 5", Options{Trees: 20, Seed: 3, MinLeaf: 5}, leaf5},
	} {
		if got := forestSHA(t, tc.o); got != tc.want {
			t.Errorf("%s: forest.bin sha256 %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestZeroOptionsAreTheDefaults(t *testing.T) {
	got, err := Options{}.resolved(9)
	if err != nil {
		t.Fatal(err)
	}
	want := Params{Trees: 100, MinLeaf: 20, MinSplit: 2, MaxFeatures: 3, Bins: 255, Bootstrap: true}
	if got != want {
		t.Errorf("Options{} resolves to %+v, want %+v", got, want)
	}
	if d, _ := DefaultOptions().resolved(9); d != want {
		t.Errorf("DefaultOptions() resolves to %+v, want %+v", d, want)
	}
	if nb, _ := (Options{NoBootstrap: true}).resolved(9); nb.Bootstrap {
		t.Errorf("NoBootstrap resolves to Bootstrap true")
	}
}

// countingReporter records what Fit reports.
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

func TestFitReportsTrees(t *testing.T) {
	X, y := defaultsData()
	rep := &countingReporter{}
	f, err := Fit(context.Background(), X, y, Options{Trees: 7, Workers: 3, Reporter: rep})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.stages) != 1 || rep.stages[0] != "trees" || rep.totals[0] != 7 || rep.added != 7 || rep.done != 1 {
		t.Errorf("reported stages %v totals %v, %d trees added, %d done; want one stage trees of 7, 7 added, done once", rep.stages, rep.totals, rep.added, rep.done)
	}
	if f.NumTrees() != 7 {
		t.Errorf("%d trees", f.NumTrees())
	}
}

// TestParamsOptionsRoundTrip: the options a forest's Params give back
// resolve to the same Params, for defaults and for every field set.
func TestParamsOptionsRoundTrip(t *testing.T) {
	for _, o := range []Options{
		{},
		{Trees: 7, MaxDepth: 4, MinLeaf: 1, MinSplit: 9, MaxFeatures: 3, Bins: 16, NoBootstrap: true, ClassWeight: "balanced", Seed: 42},
	} {
		p, err := o.resolved(5)
		if err != nil {
			t.Fatal(err)
		}
		back, err := p.Options().resolved(5)
		if err != nil {
			t.Fatal(err)
		}
		if back != p {
			t.Errorf("Params %+v -> Options -> %+v", p, back)
		}
	}
	if (Params{Bootstrap: false}).Options().NoBootstrap != true {
		t.Error("a forest grown without bootstrap must give NoBootstrap")
	}
}
