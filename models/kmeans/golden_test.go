package kmeans

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/povrisk/povrisk/models"
)

// TestAgainstSklearn compares Fit with sklearn.cluster.KMeans (50 starts)
// on the data sets of testdata/golden.json, written by
// testdata/make_golden.py: the same partition, the same inertia in
// standardised units and the same silhouette.
func TestAgainstSklearn(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "golden.json"))
	if err != nil {
		t.Fatalf("read golden (make it with testdata/make_golden.py): %v", err)
	}
	var g struct {
		Cases []struct {
			Name       string      `json:"name"`
			K          int         `json:"k"`
			Rows       [][]float64 `json:"rows"`
			Labels     []int       `json:"labels"`
			Inertia    float64     `json:"inertia"`
			Silhouette float64     `json:"silhouette"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatalf("decode golden: %v", err)
	}
	if len(g.Cases) == 0 {
		t.Fatal("golden.json has no cases")
	}
	for _, c := range g.Cases {
		t.Run(c.Name, func(t *testing.T) {
			names := make([]string, len(c.Rows[0]))
			for j := range names {
				names[j] = string(rune('a' + j))
			}
			X := models.NewMatrix(len(c.Rows), names)
			for i, r := range c.Rows {
				for j, v := range r {
					X.Cols[j][i] = v
				}
			}
			m, err := Fit(context.Background(), X, Options{K: c.K, Seed: 1, Restarts: 10, Tol: 1e-12})
			if err != nil {
				t.Fatal(err)
			}
			got := make([]int, X.Rows)
			m.Assign(X, got)
			if !samePartition(got, c.Labels) {
				t.Errorf("partition differs from scikit-learn's")
			}
			if math.Abs(m.Inertia()-c.Inertia) > 1e-9*c.Inertia {
				t.Errorf("inertia %.12g, scikit-learn %.12g", m.Inertia(), c.Inertia)
			}
			if s := m.Silhouette(X, 0, 1); math.Abs(s-c.Silhouette) > 1e-9 {
				t.Errorf("silhouette %.12g, scikit-learn %.12g", s, c.Silhouette)
			}
		})
	}
}
