package kmeans

import (
	"bytes"
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/povrisk/povrisk/models"
)

// planted returns n rows around k well-separated centres in d dimensions
// (centre c has 12 in coordinate c mod d, shifted by 12*c/d, else 0, sd 1)
// and each row's true cluster.
func planted(n, k, d int, seed uint64) (models.Matrix, []int) {
	rng := rand.New(rand.NewPCG(seed, 7))
	names := make([]string, d)
	for j := range names {
		names[j] = string(rune('a' + j))
	}
	X := models.NewMatrix(n, names)
	truth := make([]int, n)
	for i := 0; i < n; i++ {
		c := i % k
		truth[i] = c
		for j := 0; j < d; j++ {
			mu := 0.0
			if j == c%d {
				mu = 12 + 12*float64(c/d)
			}
			X.Cols[j][i] = mu + rng.NormFloat64()
		}
	}
	return X, truth
}

// samePartition reports whether a and b group the rows identically, up to
// relabelling.
func samePartition(a, b []int) bool {
	ab, ba := map[int]int{}, map[int]int{}
	for i := range a {
		if v, ok := ab[a[i]]; ok && v != b[i] {
			return false
		}
		if v, ok := ba[b[i]]; ok && v != a[i] {
			return false
		}
		ab[a[i]], ba[b[i]] = b[i], a[i]
	}
	return true
}

func TestRecoversPlanted(t *testing.T) {
	tests := []struct{ n, k, d int }{{300, 3, 3}, {2000, 4, 5}, {5000, 6, 4}}
	for _, tc := range tests {
		X, truth := planted(tc.n, tc.k, tc.d, uint64(tc.n))
		m, err := Fit(context.Background(), X, Options{K: tc.k, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		got := make([]int, tc.n)
		m.Assign(X, got)
		if !samePartition(got, truth) {
			t.Errorf("n=%d k=%d: partition differs from the planted one", tc.n, tc.k)
		}
		// Inertia must be the sum of squared standardised distances of the
		// rows to their centre, recomputed here from the matrix.
		var in float64
		mean, sd := standardise(X)
		for i := 0; i < tc.n; i++ {
			cen := m.Center(got[i])
			for j := 0; j < tc.d; j++ {
				z := (X.Cols[j][i] - mean[j]) / sd[j]
				in += (z - cen[j]) * (z - cen[j])
			}
		}
		if math.Abs(in-m.Inertia()) > 1e-9*in {
			t.Errorf("n=%d: Inertia %v, recomputed %v", tc.n, m.Inertia(), in)
		}
	}
}

func TestSilhouetteHand(t *testing.T) {
	tests := []struct {
		name   string
		points [][]float64
		labels []int
		want   float64
	}{
		// A=0,B=1 | C=4,D=6: s = 4/5, 3/4, 1.5/3.5, 3.5/5.5
		{"line", [][]float64{{0}, {1}, {4}, {6}}, []int{0, 0, 1, 1}, (0.8 + 0.75 + 3.0/7 + 7.0/11) / 4},
		// (0,0),(0,3) | (4,0) alone: s = (4-3)/4, (5-3)/5, 0
		{"singleton", [][]float64{{0, 0}, {0, 3}, {4, 0}}, []int{0, 0, 1}, (0.25 + 0.4) / 3},
		{"one-cluster", [][]float64{{0}, {1}}, []int{0, 0}, math.NaN()},
	}
	for _, tc := range tests {
		got := SilhouetteScore(tc.points, tc.labels)
		if math.IsNaN(tc.want) != math.IsNaN(got) || (!math.IsNaN(got) && math.Abs(got-tc.want) > 1e-12) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestDeterministicAcrossWorkers(t *testing.T) {
	// Overlapping clusters, more rows than one chunk, so that work is split.
	X, _ := planted(5000, 5, 3, 9)
	for j := range X.Cols {
		for i := range X.Cols[j] {
			X.Cols[j][i] *= 0.2 + float64(i%7)
		}
	}
	X.Cols[1][17] = math.NaN()
	var ref *Model
	for _, w := range []int{1, 2, 8} {
		m, err := Fit(context.Background(), X, Options{K: 5, Seed: 42, Restarts: 3, Workers: w})
		if err != nil {
			t.Fatal(err)
		}
		if ref == nil {
			ref = m
			continue
		}
		if m.Inertia() != ref.Inertia() {
			t.Errorf("Workers %d: inertia %v, Workers 1: %v", w, m.Inertia(), ref.Inertia())
		}
		for c := 0; c < 5; c++ {
			a, b := m.Center(c), ref.Center(c)
			for j := range a {
				if a[j] != b[j] {
					t.Fatalf("Workers %d: centre %d differs", w, c)
				}
			}
		}
	}
	// A different seed must be able to change the result, or the test
	// above would prove nothing about seeding.
	m2, _ := Fit(context.Background(), X, Options{K: 5, Seed: 43, Restarts: 1})
	m1, _ := Fit(context.Background(), X, Options{K: 5, Seed: 42, Restarts: 1})
	if m1.Center(0)[0] == m2.Center(0)[0] && m1.Inertia() == m2.Inertia() {
		t.Errorf("seeds 42 and 43 gave identical models")
	}
}

func TestChooseK(t *testing.T) {
	for _, k := range []int{3, 4} {
		X, _ := planted(1200, k, 4, uint64(k))
		got, scores, err := ChooseK(context.Background(), X, 2, 6, Options{Seed: 3, Restarts: 2, SilhouetteSample: 600})
		if err != nil {
			t.Fatal(err)
		}
		if got != k || len(scores) != 5 {
			t.Errorf("planted k=%d: ChooseK = %d, scores %v", k, got, scores)
		}
	}
}

func TestDistinguishingAndProfile(t *testing.T) {
	X, truth := planted(600, 3, 3, 5)
	m, err := Fit(context.Background(), X, Options{K: 3, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	lab := make([]int, X.Rows)
	m.Assign(X, lab)
	labels := map[string]Label{
		"a": {Name: "medical_burden", NameZh: "医疗支出负担", RiskType: "illness"},
		"b": {Name: "job_loss", NameZh: "务工不稳", RiskType: "unemployment"},
	}
	// Planted cluster c is high in feature c: find the model's cluster for it.
	for c, feat := range []string{"a", "b", "c"} {
		mc := -1
		for i := range truth {
			if truth[i] == c {
				mc = lab[i]
				break
			}
		}
		top := m.Distinguishing(mc, 1)
		if len(top) != 1 || top[0].Feature != feat || top[0].Z < 1 {
			t.Errorf("cluster of planted %d: top trait %+v, want %s high", c, top, feat)
		}
		if all := m.Distinguishing(mc, 0); len(all) != 3 {
			t.Errorf("Distinguishing(c, 0) gave %d traits, want 3", len(all))
		}
		p := m.Profile(mc, labels)
		want := map[string]string{"a": "medical_burden", "b": "job_loss", "c": "mixed"}[feat]
		if p.Name != want {
			t.Errorf("cluster high in %s named %q, want %q", feat, p.Name, want)
		}
	}
}

func TestJSONRoundTrip(t *testing.T) {
	X, _ := planted(400, 3, 3, 11)
	X.Cols[0][3] = math.NaN()
	m, err := Fit(context.Background(), X, Options{K: 3, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := m.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	m2, err := Read(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	a, b := make([]int, X.Rows), make([]int, X.Rows)
	m.Assign(X, a)
	m2.Assign(X, b)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("row %d: cluster %d before, %d after the round trip", i, a[i], b[i])
		}
	}
	if m2.Inertia() != m.Inertia() || len(m2.FeatureNames()) != 3 {
		t.Errorf("round trip changed inertia or names")
	}
	if _, err := Read(bytes.NewReader([]byte(`{"format":"other"}`))); err == nil || !strings.Contains(err.Error(), `model format "other"`) {
		t.Errorf("Read of a foreign format: %v, want a model-format error", err)
	}
}

func TestFitErrors(t *testing.T) {
	X, _ := planted(5, 1, 2, 1)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		ctx  context.Context
		X    models.Matrix
		o    Options
		is   error  // errors.Is target, or nil
		msg  string // substring of the message
	}{
		{"more clusters than rows", context.Background(), X, Options{K: 6}, nil, "5 rows for 6 clusters"},
		{"no clusters", context.Background(), X, Options{K: 0}, nil, "K = 0, want at least 1"},
		{"no columns", context.Background(), models.NewMatrix(5, nil), Options{K: 2}, nil, "matrix has no columns"},
		{"cancelled", cancelled, X, Options{K: 2}, context.Canceled, "kmeans: "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Fit(tc.ctx, tc.X, tc.o)
			if err == nil || !strings.Contains(err.Error(), tc.msg) || (tc.is != nil && !errors.Is(err, tc.is)) {
				t.Errorf("error %v, want one saying %q (is %v)", err, tc.msg, tc.is)
			}
		})
	}
}

func benchmarkFit(b *testing.B, n int) {
	X, _ := planted(n, 8, 20, 1)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Fit(context.Background(), X, Options{K: 8, Seed: 1, Restarts: 1}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFit1k(b *testing.B)   { benchmarkFit(b, 1000) }
func BenchmarkFit10k(b *testing.B)  { benchmarkFit(b, 10000) }
func BenchmarkFit100k(b *testing.B) { benchmarkFit(b, 100000) }
