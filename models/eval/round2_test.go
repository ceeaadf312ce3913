package eval

import (
	"math"
	"reflect"
	"testing"
)

func TestPrecisionAtShareTies(t *testing.T) {
	// k = TopK(5, 0.4) = 2. Row 0 (positive) is above the cut; rows 1-3
	// tie at 0.5 with one positive among them and one free place: the best
	// ordering puts the positive in (2/2), the worst a negative (1/2).
	y := []int{1, 0, 1, 0, 0}
	s := []float64{0.9, 0.5, 0.5, 0.5, 0.1}
	lo, hi := PrecisionAtShareTies(y, s, 0.4)
	if lo != 0.5 || hi != 1 {
		t.Errorf("tied cut: lo %v hi %v, want 0.5 1", lo, hi)
	}
	if p := PrecisionAtShare(y, s, 0.4); p < lo || p > hi {
		t.Errorf("PrecisionAtShare %v outside [%v, %v]", p, lo, hi)
	}
	// No tie at the cut: both bounds are the precision (rows 0, 2: 2/2).
	lo, hi = PrecisionAtShareTies(y, []float64{0.9, 0.2, 0.8, 0.3, 0.1}, 0.4)
	if lo != 1 || hi != 1 {
		t.Errorf("untied: %v %v, want 1 1", lo, hi)
	}
	// Every score tied, 2 positives of 5, k = 3: the 3 negatives may take
	// every place (0/3), or the 2 positives go first (2/3).
	lo, hi = PrecisionAtShareTies(y, []float64{1, 1, 1, 1, 1}, 0.6)
	if lo != 0 || !near(hi, 2.0/3, 1e-12) {
		t.Errorf("all tied: %v %v, want 0 2/3", lo, hi)
	}
	if lo, hi := PrecisionAtShareTies(nil, nil, 0.1); !math.IsNaN(lo) || !math.IsNaN(hi) {
		t.Errorf("empty: %v %v", lo, hi)
	}
}

func TestECEFourBins(t *testing.T) {
	// Quantile bins of 2: means .1 .4 .6 .9, observed 0 .5 .5 1: every bin
	// is 0.1 off, so ECE = 0.1.
	y := []int{0, 0, 0, 1, 1, 0, 1, 1}
	p := []float64{0.1, 0.1, 0.4, 0.4, 0.6, 0.6, 0.9, 0.9}
	if e := ECE(CalibrationQuantile(y, p, 4)); !near(e, 0.1, 1e-12) {
		t.Errorf("ECE %v, want 0.1", e)
	}
	// Unequal bins weigh by count: (2*.1 + 2*.1 + 0 + 4*.05) / 8 = 0.075.
	bins := []CalibrationBin{{N: 2, MeanPredicted: 0.1}, {N: 2, MeanPredicted: 0.4, ObservedRate: 0.5}, {}, {N: 4, MeanPredicted: 0.8, ObservedRate: 0.75}}
	if e := ECE(bins); !near(e, 0.075, 1e-12) {
		t.Errorf("ECE %v, want 0.075", e)
	}
	if e := ECE(nil); !math.IsNaN(e) {
		t.Errorf("ECE of nothing %v", e)
	}
}

func TestLogLoss(t *testing.T) {
	// -(ln .8 + ln .6) / 2
	if l := LogLoss([]int{1, 0}, []float64{0.8, 0.4}); !near(l, -(math.Log(0.8)+math.Log(0.6))/2, 1e-12) {
		t.Errorf("log loss %v", l)
	}
}

// twelve is the hand-worked audit: counties A and B of 6 households each,
// each listing its top 3 (share 0.5), and an attribute g with groups x (8)
// and y (4, suppressed at MinCell 5).
func twelve() ([]int, []float64, []string, map[string][]string) {
	y := []int{1, 0, 1, 0, 0, 1, 0, 0, 1, 1, 0, 0}
	s := []float64{6, 5, 4, 3, 2, 1, 6, 5, 4, 3, 2, 1}
	county := []string{"A", "A", "A", "A", "A", "A", "B", "B", "B", "B", "B", "B"}
	g := []string{"x", "x", "x", "x", "y", "y", "x", "x", "x", "x", "y", "y"}
	return y, s, county, map[string][]string{"g": g}
}

func TestAuditTopKHand(t *testing.T) {
	y, s, county, groups := twelve()
	f := AuditTopK(y, s, county, groups, 0.5, AuditOptions{MinCell: 5, Seed: 1, Replicates: 50})
	if len(f.Groups) != 4 {
		t.Fatalf("%d groups, want A, B, x, y", len(f.Groups))
	}
	val := func(iv *Interval) float64 {
		if iv == nil {
			return math.NaN()
		}
		return iv.Value
	}
	type want struct {
		prev, pred, prec, tpr, fpr, fdr, fo float64
	}
	// A: listed rows 0,1,2 -> tp 2 fp 1 fn 1 tn 2. B: listed 6,7,8 -> tp 1
	// fp 2 fn 1 tn 2. x: rows 0-3, 6-9 -> tp 3 (0,2,8) fp 3 (1,6,7) fn 1
	// (9) tn 1 (3).
	wants := map[string]want{
		"A": {0.5, 0.5, 2.0 / 3, 2.0 / 3, 1.0 / 3, 1.0 / 3, 1.0 / 3},
		"B": {1.0 / 3, 0.5, 1.0 / 3, 0.5, 0.5, 2.0 / 3, 1.0 / 3},
		"x": {0.5, 0.75, 0.5, 0.75, 0.75, 0.5, 0.5},
	}
	for _, g := range f.Groups {
		if g.Group == "y" {
			if !g.Suppressed || g.Size != 4 || g.TPR != nil {
				t.Errorf("y: %+v, want suppressed with size 4 and no figures", g)
			}
			continue
		}
		w := wants[g.Group]
		got := want{val(g.Prevalence), val(g.PredictedPrevalence), val(g.Precision), val(g.TPR), val(g.FPR), val(g.FDR), val(g.FOR)}
		for i, pair := range [][2]float64{{got.prev, w.prev}, {got.pred, w.pred}, {got.prec, w.prec}, {got.tpr, w.tpr}, {got.fpr, w.fpr}, {got.fdr, w.fdr}, {got.fo, w.fo}} {
			if !near(pair[0], pair[1], 1e-12) {
				t.Errorf("%s figure %d: %v, want %v", g.Group, i, pair[0], pair[1])
			}
		}
		for _, iv := range []*Interval{g.Prevalence, g.Precision, g.TPR, g.FPR} {
			if iv.Lo > iv.Hi || iv.Lo < 0 || iv.Hi > 1 {
				t.Errorf("%s: interval %+v", g.Group, iv)
			}
		}
	}
	// A is the reference (largest, tied with B, first by name); B against
	// A: tpr .5/(2/3) = .75, fpr .5/(1/3) = 1.5, fdr 2, for 1, precision .5,
	// predicted prevalence 1.
	a, b := f.Groups[0], f.Groups[1]
	if !a.Reference || b.Reference || !f.Groups[2].Reference {
		t.Errorf("references: A %v B %v x %v", a.Reference, b.Reference, f.Groups[2].Reference)
	}
	wd := map[string]float64{"tpr": 0.75, "fpr": 1.5, "fdr": 2, "for": 1, "precision": 0.5, "predicted_prevalence": 1}
	for k, v := range wd {
		if !near(b.Disparity[k], v, 1e-12) {
			t.Errorf("B disparity %s = %v, want %v", k, b.Disparity[k], v)
		}
	}
	if !reflect.DeepEqual(b.Flagged, []string{"tpr", "fpr", "fdr", "precision"}) {
		t.Errorf("B flagged %v", b.Flagged)
	}
	if len(a.Flagged) != 0 || a.Disparity["tpr"] != 1 {
		t.Errorf("reference A: flagged %v, disparity %v", a.Flagged, a.Disparity)
	}
	// Same seed, same audit; the intervals depend on the seed.
	if g := AuditTopK(y, s, county, groups, 0.5, AuditOptions{MinCell: 5, Seed: 1, Replicates: 50}); !reflect.DeepEqual(g, f) {
		t.Error("same inputs and seed gave another audit")
	}
}

func TestAuditBootstrapDegenerate(t *testing.T) {
	// Every listed household is positive: precision is 1 in every resample.
	y := make([]int, 20)
	s := make([]float64, 20)
	county := make([]string, 20)
	for i := range y {
		county[i] = "C"
		s[i] = float64(20 - i)
		if i < 10 {
			y[i] = 1
		}
	}
	f := AuditTopK(y, s, county, nil, 0.5, AuditOptions{Seed: 3})
	p := f.Groups[0].Precision
	if p == nil || p.Value != 1 || p.Lo != 1 || p.Hi != 1 {
		t.Errorf("precision %+v, want 1 [1, 1]", p)
	}
	if f.Groups[0].FPR.Value != 0 {
		t.Errorf("fpr %+v", f.Groups[0].FPR)
	}
}
