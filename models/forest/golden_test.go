package forest

import (
	"compress/gzip"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/povrisk/povrisk/models"
	"github.com/povrisk/povrisk/models/eval"
)

// The goldens under testdata are made by testdata/make_goldens.py with
// Debian's python3-sklearn; see the script for what each file holds.

// readTable reads a CSV (gzip when named .gz) of numeric columns whose last
// column is the label.
func readTable(t testing.TB, name string) (models.Matrix, []int) {
	t.Helper()
	fh, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	var r io.Reader = fh
	if strings.HasSuffix(name, ".gz") {
		gz, err := gzip.NewReader(fh)
		if err != nil {
			t.Fatal(err)
		}
		r = gz
	}
	recs, err := csv.NewReader(r).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	head, rows := recs[0], recs[1:]
	p := len(head) - 1
	X := models.NewMatrix(len(rows), head[:p])
	y := make([]int, len(rows))
	for i, rec := range rows {
		for j := range p {
			if X.Cols[j][i], err = strconv.ParseFloat(rec[j], 64); err != nil {
				t.Fatalf("%s line %d: %v", name, i+2, err)
			}
		}
		if y[i], err = strconv.Atoi(rec[p]); err != nil {
			t.Fatalf("%s line %d: %v", name, i+2, err)
		}
	}
	return X, y
}

// TestTreeMatchesSklearn: integer features with few distinct values are
// binned exactly, so one tree without bootstrap trying every feature must
// be scikit-learn's DecisionTreeClassifier(max_depth=6, min_samples_leaf=5).
// (The data come from an irregular logistic model so split gains do not
// tie; with ties, scikit-learn's choice depends on its feature permutation.)
func TestTreeMatchesSklearn(t *testing.T) {
	X, y := readTable(t, "tree_train.csv")
	Xt, _ := readTable(t, "tree_test.csv")
	want := readColumn(t, "tree_proba.csv")
	o := Options{Trees: 1, MaxFeatures: X.NumCols(), MaxDepth: 6, MinLeaf: 5, NoBootstrap: true}
	for _, workers := range []int{1, 2} {
		o.Workers = workers
		f, err := Fit(context.Background(), X, y, o)
		if err != nil {
			t.Fatal(err)
		}
		got := make([]float64, Xt.Rows)
		f.PredictProba(Xt, got)
		bad := 0
		for i := range got {
			if math.Abs(got[i]-want[i]) > 1e-12 || (got[i] > 0.5) != (want[i] > 0.5) {
				if bad++; bad <= 5 {
					t.Errorf("test row %d: P = %v, scikit-learn %v", i, got[i], want[i])
				}
			}
		}
		if bad > 0 {
			t.Errorf("%d of %d rows differ from scikit-learn", bad, len(got))
		}
	}
}

func readColumn(t testing.TB, name string) []float64 {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")[1:]
	out := make([]float64, len(lines))
	for i, l := range lines {
		if out[i], err = strconv.ParseFloat(l, 64); err != nil {
			t.Fatalf("%s line %d: %v", name, i+2, err)
		}
	}
	return out
}

// TestForestMatchesSklearn: on a make_classification table our forest's
// held-out AUC is within 0.01 of RandomForestClassifier's and the top five
// impurity importances share at least four features.
func TestForestMatchesSklearn(t *testing.T) {
	var want struct {
		TestAUC float64 `json:"test_auc"`
		Top5    []int   `json:"top5"`
	}
	b, err := os.ReadFile("testdata/forest_expect.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	X, y := readTable(t, "forest_train.csv.gz")
	Xt, yt := readTable(t, "forest_test.csv.gz")
	o := DefaultOptions()
	o.Seed, o.MinLeaf = 1, 1 // scikit-learn's min_samples_leaf
	f, err := Fit(context.Background(), X, y, o)
	if err != nil {
		t.Fatal(err)
	}
	p := make([]float64, Xt.Rows)
	f.PredictProba(Xt, p)
	auc := eval.ROCAUC(yt, p)
	t.Logf("AUC %.4f, scikit-learn %.4f; OOB AUC %.4f", auc, want.TestAUC, f.OOBScore())
	if math.Abs(auc-want.TestAUC) > 0.01 {
		t.Errorf("test AUC %.4f, scikit-learn %.4f: differ by more than 0.01", auc, want.TestAUC)
	}
	imp := f.Importances()
	order := make([]int, len(imp))
	for j := range order {
		order[j] = j
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case imp[a] > imp[b]:
			return -1
		case imp[a] < imp[b]:
			return 1
		}
		return 0
	})
	shared := 0
	for _, j := range order[:5] {
		if slices.Contains(want.Top5, j) {
			shared++
		}
	}
	if shared < 4 {
		t.Errorf("top-5 importances %v share %d features with scikit-learn's %v, want >= 4", order[:5], shared, want.Top5)
	}
}
