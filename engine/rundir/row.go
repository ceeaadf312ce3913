package rundir

import (
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
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

// rankedBuilders are the typed builders of the columns of RankedSchema,
// looked up once (not per value).
type rankedBuilders struct {
	b     *array.RecordBuilder
	str   []*array.StringBuilder // by column index; nil for the other types
	score *array.Float64Builder
	i32   [3]*array.Int32Builder
	f64   [2]*array.Float64Builder
	bl    [2]*array.BooleanBuilder
	data  []int // per string column, the bytes of the previous batch
}

func newRankedBuilders(b *array.RecordBuilder) *rankedBuilders {
	rb := &rankedBuilders{b: b, str: make([]*array.StringBuilder, len(b.Fields())), data: make([]int, len(b.Fields()))}
	for i, f := range b.Fields() {
		if sb, ok := f.(*array.StringBuilder); ok {
			rb.str[i] = sb
		}
	}
	rb.score = b.Field(5).(*array.Float64Builder)
	for k := range rb.i32 {
		rb.i32[k] = b.Field(6 + k).(*array.Int32Builder)
	}
	rb.f64 = [2]*array.Float64Builder{b.Field(23).(*array.Float64Builder), b.Field(24).(*array.Float64Builder)}
	rb.bl = [2]*array.BooleanBuilder{b.Field(10).(*array.BooleanBuilder), b.Field(29).(*array.BooleanBuilder)}
	return rb
}

// reserve sizes every builder for n more values, and the text columns
// for as many bytes as the previous batch held (the builders restart
// empty after each batch: this spares their doubling and copying).
func (rb *rankedBuilders) reserve(n int) {
	for i, f := range rb.b.Fields() {
		f.Reserve(n)
		if sb := rb.str[i]; sb != nil && rb.data[i] > 0 {
			sb.ReserveData(rb.data[i])
		}
	}
}

// batchDone records the bytes of the batch just built (call before the
// batch is written, which resets the builders).
func (rb *rankedBuilders) batchDone() {
	for i, sb := range rb.str {
		if sb != nil {
			rb.data[i] = sb.DataLen()
		}
	}
}

// append appends r, in the columns of RankedSchema.
func (rb *rankedBuilders) append(r *Row) {
	s := rb.str
	s[0].Append(r.HouseholdID)
	s[1].Append(r.RegionCode)
	s[2].Append(r.CountyCode)
	s[3].Append(r.TownshipCode)
	s[4].Append(r.PovertyStatus)
	rb.score.Append(r.Score)
	rb.i32[0].Append(r.Rank)
	rb.i32[1].Append(r.RankCounty)
	rb.i32[2].Append(r.RankTownship)
	s[9].Append(r.Tier)
	rb.bl[0].Append(r.InTopK)
	s[11].Append(r.Profile)
	s[12].Append(r.ProfileZh)
	s[13].Append(r.Rules)
	s[14].Append(r.RiskTypes)
	s[15].Append(r.RiskTypesZh)
	s[16].Append(r.PrimaryRiskType)
	s[17].Append(r.Reasons)
	s[18].Append(r.ReasonsEn)
	s[19].Append(r.TopDriver)
	s[20].Append(r.Conflicts)
	s[21].Append(r.Measures)
	s[22].Append(r.MeasuresZh)
	for k, v := range [2]float64{r.NetIncomePC12m, r.OOPMedical12m} {
		if math.IsNaN(v) {
			rb.f64[k].AppendNull()
		} else {
			rb.f64[k].Append(v)
		}
	}
	s[25].Append(r.CountyName)
	s[26].Append(r.TownshipName)
	s[27].Append(r.VillageName)
	if r.EliminatedDate == "" {
		s[28].AppendNull()
	} else {
		s[28].Append(r.EliminatedDate)
	}
	rb.bl[1].Append(r.Watch)
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
