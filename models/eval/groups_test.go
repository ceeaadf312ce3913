package eval

import (
	"fmt"
	"math"
	"testing"
)

// Hand-computed; the working is in each comment.
func TestGroupRates(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name    string
		y       []int
		flagged []bool
		groups  []string
		want    []GroupRate
	}{
		{
			// a: 5 rows, positives idx1,idx3; flagged idx1 (pos), idx2 (neg):
			//    share 2/5, TPR 1/2, FPR 1/3 (negatives idx2,4,5), precision 1/2.
			// b: 3 rows, positive idx6 not flagged; idx8 (neg) flagged:
			//    share 1/3, TPR 0/1, FPR 1/2, precision 0/1.
			// c: one negative, nothing flagged: TPR and precision undefined.
			name:    "three groups, sorted by name",
			y:       []int{0, 1, 0, 1, 0, 0, 1, 0, 0},
			flagged: []bool{false, true, true, false, false, false, false, false, true},
			groups:  []string{"c", "a", "a", "a", "a", "a", "b", "b", "b"},
			want: []GroupRate{
				{Group: "a", N: 5, Positives: 2, Flagged: 2, TruePositives: 1, Share: 0.4, TPR: 0.5, FPR: 1.0 / 3, Precision: 0.5},
				{Group: "b", N: 3, Positives: 1, Flagged: 1, TruePositives: 0, Share: 1.0 / 3, TPR: 0, FPR: 0.5, Precision: 0},
				{Group: "c", N: 1, Positives: 0, Flagged: 0, TruePositives: 0, Share: 0, TPR: nan, FPR: 0, Precision: nan},
			},
		},
		{
			// all positive and all flagged: no negatives, FPR undefined.
			name: "no negatives", y: []int{1, 2}, flagged: []bool{true, true}, groups: []string{"x", "x"},
			want: []GroupRate{{Group: "x", N: 2, Positives: 2, Flagged: 2, TruePositives: 2, Share: 1, TPR: 1, FPR: nan, Precision: 1}},
		},
		{name: "empty", want: []GroupRate{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := GroupRates(tc.y, tc.flagged, tc.groups)
			if len(got) != len(tc.want) {
				t.Fatalf("got %d groups %+v, want %d", len(got), got, len(tc.want))
			}
			for i, w := range tc.want {
				g := got[i]
				if g.Group != w.Group || g.N != w.N || g.Positives != w.Positives || g.Flagged != w.Flagged || g.TruePositives != w.TruePositives ||
					!near(g.Share, w.Share, 1e-12) || !near(g.TPR, w.TPR, 1e-12) || !near(g.FPR, w.FPR, 1e-12) || !near(g.Precision, w.Precision, 1e-12) {
					t.Errorf("group %d: got %+v, want %+v", i, g, w)
				}
			}
		})
	}
}

func TestGroupRatesLengthMismatch(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("GroupRates with 2 labels and 1 flag did not panic")
		}
	}()
	GroupRates([]int{0, 1}, []bool{true}, []string{"a", "a"})
}

// Hand-computed; the working is in each comment.
func TestTopKByGroup(t *testing.T) {
	tests := []struct {
		name   string
		score  []float64
		groups []string
		share  float64
		want   []bool
	}{
		// b (idx0-3): k=ceil(.5*4)=2: .9 (idx1), .3 (idx3).
		// a (idx4,5): k=1: .6 (idx5). c (idx6,7): k=1: .5 (idx6), NaN ranks last.
		{"by group", []float64{.2, .9, .1, .3, .4, .6, .5, math.NaN()}, []string{"b", "b", "b", "b", "a", "a", "c", "c"}, 0.5,
			[]bool{false, true, false, true, false, true, true, false}},
		// k=ceil(1.5)=2 of three tied: the first two by index.
		{"ties by index", []float64{1, 1, 1}, []string{"x", "x", "x"}, 0.5, []bool{true, true, false}},
		// interleaved groups, all tied: each group's first row.
		{"interleaved ties", []float64{.5, .5, .5, .5}, []string{"x", "y", "x", "y"}, 0.5, []bool{true, true, false, false}},
		// NaN loses to a lower score that comes later.
		{"nan last", []float64{math.NaN(), -1}, []string{"x", "x"}, 0.5, []bool{false, true}},
		// share .01 of 3 rows: at least one row (TopK).
		{"at least one", []float64{.1, .3, .2}, []string{"x", "x", "x"}, 0.01, []bool{false, true, false}},
		// 0.1 of 30 is 3, not 4 (TopK's rounding): rows 27..29 have the highest scores.
		{"share times n integral", seq(30), make([]string, 30), 0.1, append(make([]bool, 27), true, true, true)},
		{"share zero", []float64{.1, .2}, []string{"x", "y"}, 0, []bool{false, false}},
		{"empty", nil, nil, 0.5, []bool{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := TopKByGroup(tc.score, tc.groups, tc.share)
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func seq(n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = float64(i)
	}
	return out
}
