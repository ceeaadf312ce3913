package rundir

import (
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/povrisk/povrisk/engine/pqfile"
)

// Row is one eligible household of the night, as written to ranked.*
// (docs/run-directory.md lists the columns).
type Row struct {
	HouseholdID, RegionCode, CountyCode, TownshipCode, PovertyStatus string

	Score                           float64
	Rank, RankCounty, RankTownship  int32
	Tier                            string
	InTopK                          bool
	Profile, ProfileZh              string
	Rules, RiskTypes, RiskTypesZh   string
	PrimaryRiskType                 string
	Reasons, ReasonsEn, TopDriver   string
	Conflicts, Measures, MeasuresZh string
	NetIncomePC12m, OOPMedical12m   float64 // NaN when unknown

	// Names of the county, township and village from the warehouse's
	// regions table ("" when it does not name them: show the code).
	CountyName, TownshipName, VillageName string
	// EliminatedDate is the household's latest risk elimination (风险消除)
	// in the 12 months to the as-of date (YYYY-MM-DD, "" none); Watch is
	// set with it: the household is under the watch after elimination (回头看).
	EliminatedDate string
	Watch          bool
	// Entered: in the county top k now but not in the previous run's (the
	// work list's 新进入); not written to ranked.*, changes.csv holds it.
	Entered bool

	// Index is the household's row in the night's scored matrix (its
	// contributions); it is not written.
	Index int
}

// BatchRows is the number of rows per Arrow batch and Parquet row group.
const BatchRows = pqfile.RowGroup

// noDict are the columns unique per household, which gain nothing from a
// dictionary (floats never get one: pqfile.Props).
var noDict = []string{"household_id", "reasons", "reasons_en", "rule_facts", "rule_facts_en", "conflicts"}

// writerProps are the fixed Parquet settings of every file of the run
// directory, so that the same table gives the same bytes.
func writerProps(schema *arrow.Schema) *parquet.WriterProperties {
	return pqfile.Props(schema, pqfile.Settings{NoDict: noDict})
}

// arrowProps are the Arrow-side settings. The run directory does not
// store the Arrow schema in its files (pqfile.ArrowProps does): adding it
// would change every file's bytes for no reader's benefit.
func arrowProps() pqarrow.ArrowWriterProperties { return pqarrow.DefaultWriterProps() }

// RankedSchema returns the schema of ranked.parquet (a fresh value).
func RankedSchema() *arrow.Schema {
	str := arrow.BinaryTypes.String
	f64, i32 := arrow.PrimitiveTypes.Float64, arrow.PrimitiveTypes.Int32
	return arrow.NewSchema([]arrow.Field{
		{Name: "household_id", Type: str},
		{Name: "region_code", Type: str},
		{Name: "county_code", Type: str},
		{Name: "township_code", Type: str},
		{Name: "poverty_status", Type: str},
		{Name: "score", Type: f64},
		{Name: "rank", Type: i32},
		{Name: "rank_county", Type: i32},
		{Name: "rank_township", Type: i32},
		{Name: "tier", Type: str},
		{Name: "in_top_k", Type: arrow.FixedWidthTypes.Boolean},
		{Name: "profile", Type: str},
		{Name: "profile_zh", Type: str},
		{Name: "rules", Type: str},
		{Name: "risk_types", Type: str},
		{Name: "risk_types_zh", Type: str},
		{Name: "primary_risk_type", Type: str},
		{Name: "reasons", Type: str},
		{Name: "reasons_en", Type: str},
		{Name: "top_driver", Type: str},
		{Name: "conflicts", Type: str},
		{Name: "measures", Type: str},
		{Name: "measures_zh", Type: str},
		{Name: "net_income_pc_12m", Type: f64, Nullable: true},
		{Name: "oop_medical_12m", Type: f64, Nullable: true},
		{Name: "county_name", Type: str},
		{Name: "township_name", Type: str},
		{Name: "village_name", Type: str},
		{Name: "eliminated_date", Type: str, Nullable: true},
		{Name: "watch", Type: arrow.FixedWidthTypes.Boolean},
	}, nil)
}

// WriteRankedParquet writes rows, in order, as ranked.parquet.
func WriteRankedParquet(w io.Writer, rows []Row) error {
	rw, err := NewRankedParquetWriter(w)
	if err != nil {
		return err
	}
	if err := rw.Write(rows); err != nil {
		rw.Close()
		return err
	}
	return rw.Close()
}

// appendRanked appends r to b, in the columns of RankedSchema.
func appendRanked(b *array.RecordBuilder, r *Row) {
	str := func(i int, s string) { b.Field(i).(*array.StringBuilder).Append(s) }
	i32 := func(i int, v int32) { b.Field(i).(*array.Int32Builder).Append(v) }
	f64 := func(i int, v float64) {
		fb := b.Field(i).(*array.Float64Builder)
		if math.IsNaN(v) {
			fb.AppendNull()
		} else {
			fb.Append(v)
		}
	}
	str(0, r.HouseholdID)
	str(1, r.RegionCode)
	str(2, r.CountyCode)
	str(3, r.TownshipCode)
	str(4, r.PovertyStatus)
	b.Field(5).(*array.Float64Builder).Append(r.Score)
	i32(6, r.Rank)
	i32(7, r.RankCounty)
	i32(8, r.RankTownship)
	str(9, r.Tier)
	b.Field(10).(*array.BooleanBuilder).Append(r.InTopK)
	for k, s := range []string{r.Profile, r.ProfileZh, r.Rules, r.RiskTypes, r.RiskTypesZh, r.PrimaryRiskType,
		r.Reasons, r.ReasonsEn, r.TopDriver, r.Conflicts, r.Measures, r.MeasuresZh} {
		str(11+k, s)
	}
	f64(23, r.NetIncomePC12m)
	f64(24, r.OOPMedical12m)
	str(25, r.CountyName)
	str(26, r.TownshipName)
	str(27, r.VillageName)
	if r.EliminatedDate == "" {
		b.Field(28).(*array.StringBuilder).AppendNull()
	} else {
		str(28, r.EliminatedDate)
	}
	b.Field(29).(*array.BooleanBuilder).Append(r.Watch)
}

// WriteContributionsParquet writes household_id then one float64 column
// per model feature: contrib[j][rows[i].Index] is feature j's contribution
// for rows[i]. Rows are written in the order of rows (rank order).
func WriteContributionsParquet(w io.Writer, rows []Row, names []string, contrib [][]float64) error {
	fields := []arrow.Field{{Name: "household_id", Type: arrow.BinaryTypes.String}}
	for _, n := range names {
		fields = append(fields, arrow.Field{Name: n, Type: arrow.PrimitiveTypes.Float64})
	}
	schema := arrow.NewSchema(fields, nil)
	fw, err := pqarrow.NewFileWriter(schema, w, writerProps(schema), arrowProps())
	if err != nil {
		return fmt.Errorf("parquet writer: %w", err)
	}
	b := array.NewRecordBuilder(memory.NewGoAllocator(), schema)
	defer b.Release()
	for lo := 0; lo < len(rows); lo += BatchRows {
		hi := min(lo+BatchRows, len(rows))
		sb := b.Field(0).(*array.StringBuilder)
		for i := lo; i < hi; i++ {
			sb.Append(rows[i].HouseholdID)
		}
		for j := range names {
			fb := b.Field(j + 1).(*array.Float64Builder)
			fb.Reserve(hi - lo)
			c := contrib[j]
			for i := lo; i < hi; i++ {
				fb.UnsafeAppend(c[rows[i].Index])
			}
		}
		if err := writeBatch(fw, b); err != nil {
			return err
		}
	}
	if err := fw.Close(); err != nil {
		return fmt.Errorf("close parquet writer: %w", err)
	}
	return nil
}

// writeBatch writes the rows built up in b as one record batch (one row
// group) and resets b for the next batch.
func writeBatch(fw *pqarrow.FileWriter, b *array.RecordBuilder) error {
	rec := b.NewRecordBatch()
	defer rec.Release()
	if err := fw.Write(rec); err != nil {
		return fmt.Errorf("write parquet batch: %w", err)
	}
	return nil
}

// WriteFeaturesParquet writes an Arrow table (the feature table) with the
// run directory's fixed settings, BatchRows rows per row group.
func WriteFeaturesParquet(w io.Writer, t arrow.Table) error {
	if err := pqarrow.WriteTable(t, w, BatchRows, writerProps(t.Schema()), arrowProps()); err != nil {
		return fmt.Errorf("write parquet table: %w", err)
	}
	return nil
}

// utf8BOM starts ranked.csv so that Excel and WPS open it as UTF-8.
const utf8BOM = "\ufeff"

// FormatFloat is how the run's CSV files write a number: the shortest
// decimal that reads back as the same float64; NaN (unknown) as "".
func FormatFloat(v float64) string {
	if math.IsNaN(v) {
		return ""
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// WriteRankedCSV writes rows as ranked.csv: UTF-8 with BOM, the columns of
// ranked.parquet in the same order, null as an empty field, and every text
// cell that a spreadsheet would take for a formula neutralised (Cell).
func WriteRankedCSV(w io.Writer, rows []Row) error {
	rw, err := NewRankedCSVWriter(w)
	if err != nil {
		return err
	}
	if err := rw.Write(rows); err != nil {
		return err
	}
	return rw.Close()
}
