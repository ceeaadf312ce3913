package brief

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/povrisk/povrisk/engine/fault"
	"github.com/povrisk/povrisk/engine/rundir"
)

// Summary is summary.json, read through the run directory's own type
// (engine/rundir), with the brief's views of it as methods.
type Summary struct{ rundir.Summary }

// TableCoverage is one warehouse table's row in the summary's coverage
// list: whether it was present, its rows, its latest date, the share of
// households it covers and the rows ingest rejected.
type TableCoverage = rundir.Coverage

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
	if !v.HasFigures() {
		return nil
	}
	out := &validation{AsOf: v.AsOf, HorizonMonths: v.HorizonMonths, PrecisionAt: v.PrecisionAt, RulesPrecisionAt: v.RulesPrecisionAt}
	if out.PrecisionAt == nil {
		out.PrecisionAt = map[string]float64{}
	}
	if out.RulesPrecisionAt == nil {
		out.RulesPrecisionAt = map[string]float64{}
	}
	out.AUC, out.HasAUC = num(v.AUC)
	out.PRAUC, _ = num(v.PRAUC)
	return out
}

// tier returns a tier cut-off of summary.json ("high", "medium"); a
// night has no other.
func (s *Summary) tier(name string) (float64, bool) {
	switch name {
	case "high":
		return s.Tiers.High, true
	case "medium":
		return s.Tiers.Medium, true
	}
	return 0, false
}

// num is a figure that may be absent from the model card.
func num(x *float64) (float64, bool) {
	if x == nil {
		return 0, false
	}
	return *x, true
}

// readSummary decodes the summary.json of dir (already verified against
// its checksums by Verify).
func readSummary(dir string) (*Summary, error) {
	s, err := rundir.ReadSummary(dir)
	if err != nil {
		return nil, err
	}
	return &Summary{*s}, nil
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
// with prefix. A file the Parquet reader cannot decode is an error of kind
// fault.Tampered, never a panic (arrow-go panics on some corrupt pages: recovered here, at the
// boundary of the library).
func readRanked(ctx context.Context, dir, prefix string) (out []household, err error) {
	path := filepath.Join(dir, "ranked.parquet")
	// Every failure to read the file is a damaged run directory (exit 6):
	// run wrote it, so a file that does not decode was altered or cut.
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("read %s: the file is corrupt (%v)", path, r)
		}
		if err != nil && fault.Of(err) == fault.Internal && ctx.Err() == nil {
			err = fault.Wrap(fault.Tampered, err)
		}
	}()
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
