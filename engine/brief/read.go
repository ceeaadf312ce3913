package brief

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// Summary is the part of summary.json (docs/run-directory.md) the brief
// reads. Figures that a writer may leave null or shape differently (model
// metrics, validation) are decoded loosely and read through methods.
type Summary struct {
	Schema      int    `json:"schema"`
	AsOf        string `json:"as_of"`
	PreviousRun string `json:"previous_run"`
	Model       struct {
		ID          string `json:"id"`
		TrainedOn   string `json:"trained_on"`
		AUC         any    `json:"auc"`
		PRAUC       any    `json:"pr_auc"`
		PrecisionAt any    `json:"precision_at"`
	} `json:"model"`
	Policy struct {
		File   string `json:"file"`
		SHA256 string `json:"sha256"`
		Lines  []struct {
			Province string  `json:"province"`
			Year     int     `json:"year"`
			Line     float64 `json:"line"`
			Entry    string  `json:"entry"`
			Fallback string  `json:"fallback"`
		} `json:"lines"`
	} `json:"policy"`
	Tiers  map[string]any `json:"tiers"`
	Counts struct {
		Households int `json:"households"`
		Eligible   int `json:"eligible"`
	} `json:"counts"`
	Coverage      []TableCoverage `json:"coverage"`
	MissingTables []string        `json:"missing_tables"`
	Validation    map[string]any  `json:"validation"`
}

// TableCoverage is one warehouse table's row in the summary's coverage
// list: whether it was present, its rows, its latest date, the share of
// households it covers and the rows ingest rejected.
type TableCoverage struct {
	Table           string  `json:"table"`
	Present         bool    `json:"present"`
	Rows            int64   `json:"rows"`
	Latest          string  `json:"latest"`
	HouseholdsShare float64 `json:"households_share"`
	Rejected        int64   `json:"rejected"`
}

// validation is the model's validation on past outcomes.
type validation struct {
	AsOf             string
	HorizonMonths    int
	AUC, PRAUC       float64
	HasAUC           bool
	PrecisionAt      map[string]float64
	RulesPrecisionAt map[string]float64
}

// validation returns the validation block, nil when it holds no figure.
func (s *Summary) validation() *validation {
	v := s.Validation
	if v == nil {
		return nil
	}
	out := &validation{PrecisionAt: floats(v["precision_at"]), RulesPrecisionAt: floats(v["rules_precision_at"])}
	out.AsOf, _ = v["as_of"].(string)
	if h, ok := num(v["horizon_months"]); ok {
		out.HorizonMonths = int(h)
	}
	out.AUC, out.HasAUC = num(v["auc"])
	out.PRAUC, _ = num(v["pr_auc"])
	if !out.HasAUC && len(out.PrecisionAt) == 0 {
		return nil
	}
	return out
}

// tier returns a tier cut-off of summary.json ("high", "medium").
func (s *Summary) tier(name string) (float64, bool) { return num(s.Tiers[name]) }

func num(x any) (float64, bool) {
	f, ok := x.(float64)
	return f, ok
}

// floats keeps the numeric entries of a JSON object.
func floats(x any) map[string]float64 {
	m, _ := x.(map[string]any)
	out := map[string]float64{}
	for k, v := range m {
		if f, ok := v.(float64); ok {
			out[k] = f
		}
	}
	return out
}

func readSummary(dir string) (*Summary, error) {
	path := filepath.Join(dir, "summary.json")
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	var s Summary
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("decode %s: %w (is it a run directory of this povrisk version?)", path, err)
	}
	if s.AsOf == "" {
		return nil, fmt.Errorf("decode %s: as_of is empty", path)
	}
	return &s, nil
}

// household is one ranked row as the brief uses it. The household id is
// kept only to match the same household across runs; it never leaves the
// package.
type household struct {
	id, region, county, township string
	tier                         string
	topK                         bool
	rules                        string
	riskTypes                    string
	primary                      string
	profile, profileZh           string
	driver                       string
	measures                     string
	oop                          float64
	oopValid                     bool
}

// rankedColumns are the ranked.parquet columns read; optional ones may be
// absent (an earlier run read only for counts).
var rankedColumns = []struct {
	name     string
	required bool
}{
	{"household_id", true}, {"region_code", true}, {"tier", true},
	{"county_code", false}, {"township_code", false}, {"in_top_k", false}, {"rules", false},
	{"risk_types", false}, {"primary_risk_type", false}, {"profile", false}, {"profile_zh", false},
	{"top_driver", false}, {"measures", false}, {"oop_medical_12m", false},
}

// readRanked reads the households of ranked.parquet whose region_code starts
// with prefix.
func readRanked(ctx context.Context, dir, prefix string) ([]household, error) {
	path := filepath.Join(dir, "ranked.parquet")
	pf, err := file.OpenParquetFile(path, false)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	defer pf.Close()
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 16 << 10}, memory.DefaultAllocator)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	sc, err := fr.Schema()
	if err != nil {
		return nil, fmt.Errorf("read schema of %s: %w", path, err)
	}
	var idx []int
	pos := map[string]int{} // column name -> position in the record
	for _, c := range rankedColumns {
		is := sc.FieldIndices(c.name)
		if len(is) == 0 {
			if c.required {
				return nil, fmt.Errorf("read %s: column %s is missing (is it a ranked.parquet of this povrisk version?)", path, c.name)
			}
			continue
		}
		pos[c.name] = len(idx)
		idx = append(idx, is[0])
	}
	rr, err := fr.GetRecordReader(ctx, idx, nil)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	defer rr.Release()
	var out []household
	for rr.Next() {
		rec := rr.RecordBatch()
		col := func(name string) arrow.Array {
			if p, ok := pos[name]; ok {
				return rec.Column(p)
			}
			return nil
		}
		region := col("region_code")
		for i := 0; i < int(rec.NumRows()); i++ {
			r := str(region, i)
			if len(r) < len(prefix) || r[:len(prefix)] != prefix {
				continue
			}
			h := household{
				id: str(col("household_id"), i), region: r,
				county: str(col("county_code"), i), township: str(col("township_code"), i),
				tier: str(col("tier"), i), rules: str(col("rules"), i), riskTypes: str(col("risk_types"), i),
				primary: str(col("primary_risk_type"), i), profile: str(col("profile"), i), profileZh: str(col("profile_zh"), i),
				driver: str(col("top_driver"), i), measures: str(col("measures"), i),
			}
			if h.county == "" && len(r) >= 6 {
				h.county = r[:6]
			}
			if h.township == "" && len(r) >= 9 {
				h.township = r[:9]
			}
			if a, ok := col("in_top_k").(*array.Boolean); ok && a.IsValid(i) {
				h.topK = a.Value(i)
			}
			if a, ok := col("oop_medical_12m").(*array.Float64); ok && a.IsValid(i) {
				h.oop, h.oopValid = a.Value(i), true
			}
			out = append(out, h)
		}
	}
	if err := rr.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// str returns the string at row i of a string-like array ("" when null or absent).
func str(a arrow.Array, i int) string {
	if a == nil || a.IsNull(i) {
		return ""
	}
	switch a := a.(type) {
	case *array.String:
		return a.Value(i)
	case *array.LargeString:
		return a.Value(i)
	case *array.StringView:
		return a.Value(i)
	case *array.Dictionary:
		return str(a.Dictionary(), a.GetValueIndex(i))
	default:
		return a.ValueStr(i)
	}
}
