package eval

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

func near(a, b, tol float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return math.Abs(a-b) <= tol
}

// Hand-computed cases; the working is in each comment.
func TestMetricsHand(t *testing.T) {
	tests := []struct {
		name string
		y    []int
		s    []float64
		fn   func([]int, []float64) float64
		want float64
	}{
		// pairs (pos, neg): (.35,.1)=1 (.35,.4)=0 (.8,.1)=1 (.8,.4)=1 -> 3/4
		{"auc/sklearn-doc", []int{0, 0, 1, 1}, []float64{0.1, 0.4, 0.35, 0.8}, ROCAUC, 0.75},
		{"auc/tie", []int{1, 0}, []float64{0.5, 0.5}, ROCAUC, 0.5},
		// pos {1,2} neg {1,0}: (1,1)=.5 (1,0)=1 (2,1)=1 (2,0)=1 -> 3.5/4
		{"auc/partial-tie", []int{0, 1, 1, 0}, []float64{1, 1, 2, 0}, ROCAUC, 0.875},
		{"auc/inverted", []int{1, 0, 0}, []float64{0, 1, 2}, ROCAUC, 0},
		{"auc/no-negatives", []int{1, 1}, []float64{0, 1}, ROCAUC, math.NaN()},
		// thresholds .8: R=.5 P=1; .4: R=.5; .35: R=1 P=2/3 -> .5 + .5*2/3
		{"ap/sklearn-doc", []int{0, 0, 1, 1}, []float64{0.1, 0.4, 0.35, 0.8}, PRAUC, 0.5 + 0.5*2.0/3},
		{"ap/tie", []int{1, 0}, []float64{0.5, 0.5}, PRAUC, 0.5},
		{"ap/no-positives", []int{0, 0}, []float64{0.5, 0.5}, PRAUC, math.NaN()},
		// (.01 + .01 + .04 + .09) / 4
		{"brier/sklearn-doc", []int{0, 1, 1, 0}, []float64{0.1, 0.9, 0.8, 0.3}, Brier, 0.0375},
		// k=ceil(.3*10)=3: idx0 (y1), idx1 (.8, y0), idx2 (.8, y1) -> 2/3
		{"p@0.3/tie-by-index", []int{1, 0, 1, 0, 0, 0, 0, 0, 0, 1}, []float64{.9, .8, .8, .1, .1, .1, .1, .1, .1, .2},
			func(y []int, s []float64) float64 { return PrecisionAtShare(y, s, 0.3) }, 2.0 / 3},
		// k=2: idx0 (y1), idx1 (y0) -> 1/2
		{"p@0.2/tie-by-index", []int{1, 0, 1, 0, 0, 0, 0, 0, 0, 1}, []float64{.9, .8, .8, .1, .1, .1, .1, .1, .1, .2},
			func(y []int, s []float64) float64 { return PrecisionAtShare(y, s, 0.2) }, 0.5},
		// one of three positives in the top 2
		{"r@0.2", []int{1, 0, 1, 0, 0, 0, 0, 0, 0, 1}, []float64{.9, .8, .8, .1, .1, .1, .1, .1, .1, .2},
			func(y []int, s []float64) float64 { return RecallAtShare(y, s, 0.2) }, 1.0 / 3},
		// NaN score ranks last: k=1 picks idx1
		{"p@nan-last", []int{1, 0}, []float64{math.NaN(), 0.1},
			func(y []int, s []float64) float64 { return PrecisionAtShare(y, s, 0.5) }, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.fn(tc.y, tc.s); !near(got, tc.want, 1e-12) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestTopK(t *testing.T) {
	tests := []struct {
		n     int
		share float64
		want  int
	}{{30, 0.1, 3}, {10, 0.01, 1}, {0, 0.1, 0}, {5, 2, 5}, {1000, 0.05, 50}, {7, 0.5, 4}, {100, 0, 0}}
	for _, tc := range tests {
		if got := TopK(tc.n, tc.share); got != tc.want {
			t.Errorf("TopK(%d, %v) = %d, want %d", tc.n, tc.share, got, tc.want)
		}
	}
}

func TestPrecisionByGroup(t *testing.T) {
	// a: k=2 of 4, top are idx1 (.9, y0) and idx3 (.3, y0): 0 hits of 1 positive.
	// b: k=1 of 2, top is .6 (y1): 1 hit. Pooled 1/(2+1).
	y := []int{1, 0, 0, 0, 0, 1}
	s := []float64{.2, .9, .1, .3, .4, .6}
	g := []string{"b1", "b1", "b1", "b1", "a2", "a2"}
	got, pooled := PrecisionByGroup(y, s, g, 0.5)
	want := []GroupPrecision{
		{Group: "a2", N: 2, K: 1, Positives: 1, Hits: 1, Precision: 1, Recall: 1},
		{Group: "b1", N: 4, K: 2, Positives: 1, Hits: 0, Precision: 0, Recall: 0},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d groups, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("group %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
	if !near(pooled, 1.0/3, 1e-12) {
		t.Errorf("pooled = %v, want 1/3", pooled)
	}
}

func TestCalibrationHand(t *testing.T) {
	tests := []struct {
		name string
		fn   func([]int, []float64, int) []CalibrationBin
		y    []int
		p    []float64
		bins int
		want []CalibrationBin
	}{
		// width .5: {0, .1, .15} and {.95, 1}; NaN skipped
		{"uniform", Calibration, []int{0, 1, 0, 1, 1, 1}, []float64{0, 0.1, 0.15, 0.95, 1, math.NaN()}, 2, []CalibrationBin{
			{Lo: 0, Hi: 0.5, N: 3, Positives: 1, MeanPredicted: 0.25 / 3, ObservedRate: 1.0 / 3},
			{Lo: 0.5, Hi: 1, N: 2, Positives: 2, MeanPredicted: 0.975, ObservedRate: 1},
		}},
		// 0.5 on the edge goes to the lower bin; the upper bin is empty
		{"uniform-edge", Calibration, []int{1, 0}, []float64{0.5, 0.25}, 2, []CalibrationBin{
			{Lo: 0, Hi: 0.5, N: 2, Positives: 1, MeanPredicted: 0.375, ObservedRate: 0.5},
			{Lo: 0.5, Hi: 1},
		}},
		// sorted .1 .3 .5 | .7 .9, sizes 3 and 2
		{"quantile", CalibrationQuantile, []int{1, 0, 1, 0, 0}, []float64{.9, .1, .5, .3, .7}, 2, []CalibrationBin{
			{Lo: .1, Hi: .5, N: 3, Positives: 1, MeanPredicted: .3, ObservedRate: 1.0 / 3},
			{Lo: .7, Hi: .9, N: 2, Positives: 1, MeanPredicted: .8, ObservedRate: .5},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.fn(tc.y, tc.p, tc.bins)
			if len(got) != len(tc.want) {
				t.Fatalf("got %d bins, want %d: %+v", len(got), len(tc.want), got)
			}
			for i, w := range tc.want {
				g := got[i]
				if g.N != w.N || g.Positives != w.Positives || !near(g.Lo, w.Lo, 1e-12) || !near(g.Hi, w.Hi, 1e-12) ||
					!near(g.MeanPredicted, w.MeanPredicted, 1e-12) || !near(g.ObservedRate, w.ObservedRate, 1e-12) {
					t.Errorf("bin %d: got %+v, want %+v", i, g, w)
				}
			}
		})
	}
}

// golden.json is written by testdata/make_golden.py with scikit-learn.
type goldenCase struct {
	Name        string             `json:"name"`
	Y           []int              `json:"y"`
	Score       []float64          `json:"score"`
	AUC         float64            `json:"auc"`
	AP          float64            `json:"ap"`
	Brier       float64            `json:"brier"`
	PrecisionAt map[string]float64 `json:"precision_at"`
	RecallAt    map[string]float64 `json:"recall_at"`
	CalibTrue   []float64          `json:"calib_true"`
	CalibPred   []float64          `json:"calib_pred"`
}

func TestAgainstSklearn(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "golden.json"))
	if err != nil {
		t.Fatalf("read golden (make it with testdata/make_golden.py): %v", err)
	}
	var g struct {
		Sklearn string       `json:"sklearn"`
		Cases   []goldenCase `json:"cases"`
	}
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Cases) == 0 {
		t.Fatal("golden.json has no cases")
	}
	for _, c := range g.Cases {
		t.Run(c.Name, func(t *testing.T) {
			if got := ROCAUC(c.Y, c.Score); !near(got, c.AUC, 1e-12) {
				t.Errorf("ROCAUC = %v, sklearn %v", got, c.AUC)
			}
			if got := PRAUC(c.Y, c.Score); !near(got, c.AP, 1e-12) {
				t.Errorf("PRAUC = %v, sklearn %v", got, c.AP)
			}
			p := make([]float64, len(c.Score))
			for i, v := range c.Score {
				p[i] = math.Min(1, math.Max(0, v))
			}
			if got := Brier(c.Y, p); !near(got, c.Brier, 1e-12) {
				t.Errorf("Brier = %v, sklearn %v", got, c.Brier)
			}
			for key, want := range c.PrecisionAt {
				share, err := strconv.ParseFloat(key, 64)
				if err != nil {
					t.Fatalf("golden share %q: %v", key, err)
				}
				if got := PrecisionAtShare(c.Y, c.Score, share); !near(got, want, 1e-12) {
					t.Errorf("PrecisionAtShare(%s) = %v, numpy %v", key, got, want)
				}
				if got := RecallAtShare(c.Y, c.Score, share); !near(got, c.RecallAt[key], 1e-12) {
					t.Errorf("RecallAtShare(%s) = %v, numpy %v", key, got, c.RecallAt[key])
				}
			}
			var nonEmpty []CalibrationBin
			for _, bin := range Calibration(c.Y, p, 10) {
				if bin.N > 0 {
					nonEmpty = append(nonEmpty, bin)
				}
			}
			if len(nonEmpty) != len(c.CalibTrue) {
				t.Fatalf("%d non-empty calibration bins, sklearn %d", len(nonEmpty), len(c.CalibTrue))
			}
			for i, bin := range nonEmpty {
				if !near(bin.ObservedRate, c.CalibTrue[i], 1e-12) || !near(bin.MeanPredicted, c.CalibPred[i], 1e-12) {
					t.Errorf("calibration bin %d: observed %v predicted %v, sklearn %v %v",
						i, bin.ObservedRate, bin.MeanPredicted, c.CalibTrue[i], c.CalibPred[i])
				}
			}
		})
	}
}
