package boost

import (
	"bufio"
	"context"
	"encoding/json"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/povrisk/povrisk/models"
	"github.com/povrisk/povrisk/models/eval"
)

// adultPath is UCI adult; POVRISK_ADULT overrides it.
func adultPath() string {
	if p := os.Getenv("POVRISK_ADULT"); p != "" {
		return p
	}
	return "/work/shared/datasets/uci-adult/adult.data"
}

// readAdult encodes UCI adult as testdata/make_golden.py does: numbers stay,
// text is the rank among the column's sorted distinct values ("?" is NaN),
// label 1 for ">50K"; rows i%5 == 0 are the test set.
func readAdult(t *testing.T) (X, Xt models.Matrix, y, yt []int) {
	fh, err := os.Open(adultPath())
	if err != nil {
		t.Skipf("UCI adult not available: %v", err)
	}
	defer fh.Close()
	var recs [][]string
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		f := strings.Split(sc.Text(), ",")
		for k := range f {
			f[k] = strings.TrimSpace(f[k])
		}
		if len(f) != 15 {
			t.Fatalf("adult line with %d fields", len(f))
		}
		recs = append(recs, f)
	}
	cols := make([][]float64, 14)
	for j := range cols {
		cols[j] = make([]float64, len(recs))
		numeric := true
		for _, r := range recs {
			if _, err := strconv.ParseFloat(r[j], 64); err != nil && r[j] != "?" {
				numeric = false
				break
			}
		}
		var levels []string
		if !numeric {
			for _, r := range recs {
				if r[j] != "?" && !slices.Contains(levels, r[j]) {
					levels = append(levels, r[j])
				}
			}
			slices.Sort(levels)
		}
		for i, r := range recs {
			switch {
			case r[j] == "?":
				cols[j][i] = math.NaN()
			case numeric:
				cols[j][i], _ = strconv.ParseFloat(r[j], 64)
			default:
				k, _ := slices.BinarySearch(levels, r[j])
				cols[j][i] = float64(k)
			}
		}
	}
	all := models.Matrix{Rows: len(recs), Cols: cols}
	var tr, te []int
	for i, r := range recs {
		lab := 0
		if strings.HasPrefix(r[14], ">50K") {
			lab = 1
		}
		if i%5 == 0 {
			te, yt = append(te, i), append(yt, lab)
		} else {
			tr, y = append(tr, i), append(y, lab)
		}
	}
	return all.Subset(tr), all.Subset(te), y, yt
}

// TestAdultMatchesSklearn: with Options{} the held-out AUC on UCI adult is
// within 0.005 of scikit-learn's HistGradientBoostingClassifier with the
// same parameters (testdata/adult_expect.json, by testdata/make_golden.py).
func TestAdultMatchesSklearn(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	X, Xt, y, yt := readAdult(t)
	var want struct {
		TrainRows int     `json:"train_rows"`
		TestAUC   float64 `json:"test_auc"`
	}
	b, err := os.ReadFile("testdata/adult_expect.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	if X.Rows != want.TrainRows {
		t.Fatalf("%d training rows, the golden has %d", X.Rows, want.TrainRows)
	}
	m, err := Fit(context.Background(), X, y, Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := make([]float64, Xt.Rows)
	m.PredictProba(Xt, p)
	auc := eval.ROCAUC(yt, p)
	t.Logf("AUC %.4f, scikit-learn %.4f", auc, want.TestAUC)
	if math.Abs(auc-want.TestAUC) > 0.005 {
		t.Errorf("held-out AUC %.4f, scikit-learn's %.4f: differ by more than 0.005", auc, want.TestAUC)
	}
}
