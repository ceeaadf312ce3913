package train

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"

	"github.com/povrisk/povrisk/engine"
	"github.com/povrisk/povrisk/models"
	"github.com/povrisk/povrisk/models/eval"
	"github.com/povrisk/povrisk/models/forest"
)

// TableOptions say how to read a generic table for LoadTable.
type TableOptions struct {
	Path   string   // .parquet, or CSV (.csv, .csv.gz, .data, .txt: read_csv_auto, header expected)
	Label  string   // the outcome column
	Ignore []string // columns to leave out (e.g. text columns)
	// Positive is the label value that counts as 1. "" means: a numeric
	// label must be 0/1; a text label must have exactly two values and the
	// later one in byte order is positive (">50K" over "<=50K").
	Positive string
}

// NonNumericError names the columns LoadTable cannot use.
type NonNumericError struct {
	Path    string
	Columns []string // "name (TYPE)"
}

func (e *NonNumericError) Error() string {
	return fmt.Sprintf("%s: non-numeric columns %s: leave them out with --ignore (comma-separated)", e.Path, strings.Join(e.Columns, ", "))
}

var numericTypes = map[string]bool{"TINYINT": true, "SMALLINT": true, "INTEGER": true, "BIGINT": true, "HUGEINT": true,
	"UTINYINT": true, "USMALLINT": true, "UINTEGER": true, "UBIGINT": true, "FLOAT": true, "DOUBLE": true, "BOOLEAN": true}

func isNumeric(t string) bool { return numericTypes[t] || strings.HasPrefix(t, "DECIMAL") }

// tableSource is the DuckDB table function for path; the path itself is a
// bound parameter.
func tableSource(path string) string {
	if strings.EqualFold(filepath.Ext(path), ".parquet") {
		return "read_parquet(?)"
	}
	return "read_csv_auto(?, header = true)"
}

// LoadTable reads a numeric table with DuckDB: every column except the
// label and the ignored ones becomes a feature (NULL is NaN, booleans 0/1).
// Rows with a NULL label are skipped; their number is returned.
func LoadTable(ctx context.Context, db *sql.DB, o TableOptions) (models.Matrix, []int, int, error) {
	feats, labelType, err := describeTable(ctx, db, o)
	if err != nil {
		return models.Matrix{}, nil, 0, err
	}
	positive, err := positiveLabel(ctx, db, o, labelType)
	if err != nil {
		return models.Matrix{}, nil, 0, err
	}
	return readTable(ctx, db, o, feats, positive)
}

// describeTable returns the feature columns of the table and the label's
// type, refusing non-numeric columns that are not ignored.
func describeTable(ctx context.Context, db *sql.DB, o TableOptions) ([]string, string, error) {
	rows, err := db.QueryContext(ctx, "DESCRIBE SELECT * FROM "+tableSource(o.Path), o.Path)
	if err != nil {
		return nil, "", fmt.Errorf("read %s: %w", o.Path, err)
	}
	defer rows.Close()
	ignore := map[string]bool{}
	for _, c := range o.Ignore {
		ignore[strings.TrimSpace(c)] = true
	}
	var feats, bad []string
	labelType := ""
	cols, _ := rows.Columns()
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, "", fmt.Errorf("describe %s: %w", o.Path, err)
		}
		name, typ := fmt.Sprint(vals[0]), fmt.Sprint(vals[1])
		switch {
		case name == o.Label:
			labelType = typ
		case ignore[name]:
		case isNumeric(typ):
			feats = append(feats, name)
		default:
			bad = append(bad, name+" ("+typ+")")
		}
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("describe %s: %w", o.Path, err)
	}
	switch {
	case labelType == "":
		return nil, "", fmt.Errorf("%s: no label column %q", o.Path, o.Label)
	case len(bad) > 0:
		return nil, "", &NonNumericError{Path: o.Path, Columns: bad}
	case len(feats) == 0:
		return nil, "", fmt.Errorf("%s: no numeric feature columns", o.Path)
	}
	return feats, labelType, nil
}

// positiveLabel is the label value that counts as 1 (see
// TableOptions.Positive).
func positiveLabel(ctx context.Context, db *sql.DB, o TableOptions, labelType string) (string, error) {
	if p := strings.TrimSpace(o.Positive); p != "" {
		return p, nil
	}
	lab := engine.QuoteIdent(o.Label)
	vrows, err := db.QueryContext(ctx, "SELECT DISTINCT CAST("+lab+" AS VARCHAR) AS v FROM "+tableSource(o.Path)+" WHERE "+lab+" IS NOT NULL ORDER BY v LIMIT 3", o.Path)
	if err != nil {
		return "", fmt.Errorf("read labels of %s: %w", o.Path, err)
	}
	defer vrows.Close()
	var values []string
	for vrows.Next() {
		var v string
		if err := vrows.Scan(&v); err != nil {
			return "", fmt.Errorf("read labels of %s: %w", o.Path, err)
		}
		values = append(values, v)
	}
	switch {
	case isNumeric(labelType):
		for _, v := range values {
			if v != "0" && v != "1" && v != "true" && v != "false" {
				return "", fmt.Errorf("%s: label %s has value %s: want 0/1, or name the positive value with --positive", o.Path, o.Label, v)
			}
		}
		if labelType == "BOOLEAN" {
			return "true", nil
		}
		return "1", nil
	case len(values) == 2:
		return strings.TrimSpace(values[1]), nil
	default:
		return "", fmt.Errorf("%s: label %s has %d distinct values (want 2): name the positive one with --positive", o.Path, o.Label, len(values))
	}
}

// readTable reads the label and the feature columns, skipping rows
// without a label.
func readTable(ctx context.Context, db *sql.DB, o TableOptions, feats []string, positive string) (models.Matrix, []int, int, error) {
	sel := make([]string, len(feats))
	for j, f := range feats {
		sel[j] = "CAST(" + engine.QuoteIdent(f) + " AS DOUBLE)"
	}
	q := "SELECT CAST(" + engine.QuoteIdent(o.Label) + " AS VARCHAR), " + strings.Join(sel, ", ") + " FROM " + tableSource(o.Path)
	drows, err := db.QueryContext(ctx, q, o.Path)
	if err != nil {
		return models.Matrix{}, nil, 0, fmt.Errorf("read %s: %w", o.Path, err)
	}
	defer drows.Close()
	colsData := make([][]float64, len(feats))
	var y []int
	skipped := 0
	vals := make([]sql.NullFloat64, len(feats))
	ptrs := make([]any, len(feats)+1)
	var lv sql.NullString
	ptrs[0] = &lv
	for j := range vals {
		ptrs[j+1] = &vals[j]
	}
	for drows.Next() {
		if err := drows.Scan(ptrs...); err != nil {
			return models.Matrix{}, nil, 0, fmt.Errorf("read %s row %d: %w", o.Path, len(y)+skipped+1, err)
		}
		if !lv.Valid {
			skipped++
			continue
		}
		yi := 0
		if strings.TrimSpace(lv.String) == positive {
			yi = 1
		}
		y = append(y, yi)
		for j, v := range vals {
			x := math.NaN()
			if v.Valid {
				x = v.Float64
			}
			colsData[j] = append(colsData[j], x)
		}
	}
	if err := drows.Err(); err != nil {
		return models.Matrix{}, nil, 0, fmt.Errorf("read %s: %w", o.Path, err)
	}
	return models.Matrix{Rows: len(y), Cols: colsData, Names: feats}, y, skipped, nil
}

// Fold is the result of one cross-validation fold.
type Fold struct {
	Fold      int     `json:"fold"`
	Train     int     `json:"train"`
	Test      int     `json:"test"`
	Positives int     `json:"positives"` // in the test part
	AUC       float64 `json:"auc"`
	PRAUC     float64 `json:"pr_auc"`
	Brier     float64 `json:"brier"`
}

// CVResult is a stratified k-fold cross-validation of the forest.
type CVResult struct {
	Rows     int     `json:"rows"`
	Features int     `json:"features"`
	Folds    []Fold  `json:"folds"`
	MeanAUC  float64 `json:"mean_auc"`
	SDAUC    float64 `json:"sd_auc"` // population sd over folds
	MeanPR   float64 `json:"mean_pr_auc"`
	Seconds  float64 `json:"-"`
}

// StratifiedFolds assigns each row to one of k folds so that every fold
// holds a near-equal share of each class: the rows of each class are
// shuffled with a PCG seeded by seed and dealt out in turn.
func StratifiedFolds(y []int, k int, seed uint64) []int {
	rng := rand.New(rand.NewPCG(seed, 0xf01d))
	fold := make([]int, len(y))
	next := 0
	for _, cls := range []int{0, 1} {
		var idx []int
		for i, v := range y {
			if (v != 0) == (cls == 1) {
				idx = append(idx, i)
			}
		}
		rng.Shuffle(len(idx), func(a, b int) { idx[a], idx[b] = idx[b], idx[a] })
		for _, i := range idx {
			fold[i] = next % k
			next++
		}
	}
	return fold
}

// CrossValidate trains and scores the forest on k stratified folds (seeded
// by o.Seed) and reports ROC AUC, PR AUC and Brier per fold. Progress, when
// not nil, gets a line per fold.
func CrossValidate(ctx context.Context, X models.Matrix, y []int, k int, o forest.Options, progress func(Fold)) (*CVResult, error) {
	if k < 2 {
		return nil, fmt.Errorf("cross-validate: %d folds, want at least 2", k)
	}
	if X.Rows < k {
		return nil, fmt.Errorf("cross-validate: %d rows for %d folds", X.Rows, k)
	}
	fold := StratifiedFolds(y, k, o.Seed)
	res := &CVResult{Rows: X.Rows, Features: X.NumCols()}
	for f := 0; f < k; f++ {
		var tr, te []int
		for i, g := range fold {
			if g == f {
				te = append(te, i)
			} else {
				tr = append(tr, i)
			}
		}
		ytr, yte := pick(y, tr), pick(y, te)
		fo := o
		fo.Seed = o.Seed + uint64(f)
		m, err := forest.Fit(ctx, X.Subset(tr), ytr, fo)
		if err != nil {
			return nil, fmt.Errorf("cross-validate fold %d: %w", f+1, err)
		}
		p := make([]float64, len(te))
		m.PredictProba(X.Subset(te), p)
		fr := Fold{Fold: f + 1, Train: len(tr), Test: len(te), AUC: eval.ROCAUC(yte, p), PRAUC: eval.PRAUC(yte, p), Brier: eval.Brier(yte, p)}
		for _, v := range yte {
			fr.Positives += v
		}
		res.Folds = append(res.Folds, fr)
		if progress != nil {
			progress(fr)
		}
	}
	var s, ss, pr float64
	for _, f := range res.Folds {
		s += f.AUC
		pr += f.PRAUC
	}
	res.MeanAUC = s / float64(k)
	res.MeanPR = pr / float64(k)
	for _, f := range res.Folds {
		ss += (f.AUC - res.MeanAUC) * (f.AUC - res.MeanAUC)
	}
	res.SDAUC = math.Sqrt(ss / float64(k))
	return res, nil
}

func pick(y []int, idx []int) []int {
	out := make([]int, len(idx))
	for k, i := range idx {
		out[k] = y[i]
	}
	return out
}
