package run

import (
	"fmt"
	"io"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// batchRows is the number of rows per Arrow batch and Parquet row group.
const batchRows = 64 * 1024

// writerProps are fixed, so that the same table gives the same bytes.
// Float columns get no dictionary: their values rarely repeat. extra adds
// per-file settings.
func writerProps(schema *arrow.Schema, extra ...parquet.WriterProperty) *parquet.WriterProperties {
	opts := []parquet.WriterProperty{
		parquet.WithCompression(compress.Codecs.Snappy),
		parquet.WithCreatedBy("povrisk"),
		parquet.WithMaxRowGroupLength(batchRows),
		parquet.WithDictionaryDefault(true),
		// A dictionary that outgrows its page falls back to PLAIN part-way
		// through a chunk, and arrow-go then lists the chunk's page
		// encodings from a map, in random order: the footer would differ
		// from run to run. A row group holds at most batchRows values, so
		// this limit is never reached and no chunk falls back.
		parquet.WithDictionaryPageSizeLimit(1 << 30),
		// Columns unique per household gain nothing from a dictionary.
		parquet.WithDictionaryFor("household_id", false),
		parquet.WithDictionaryFor("reasons", false),
		parquet.WithDictionaryFor("reasons_en", false),
		parquet.WithDictionaryFor("rule_facts", false),
		parquet.WithDictionaryFor("rule_facts_en", false),
		parquet.WithDictionaryFor("conflicts", false),
		parquet.WithStats(true),
	}
	for _, f := range schema.Fields() {
		if f.Type.ID() == arrow.FLOAT64 {
			opts = append(opts, parquet.WithDictionaryFor(f.Name, false))
		}
	}
	return parquet.NewWriterProperties(append(opts, extra...)...)
}

// rankedSchema is the schema of ranked.parquet (docs/run-directory.md).
var rankedSchema = arrow.NewSchema([]arrow.Field{
	{Name: "household_id", Type: arrow.BinaryTypes.String},
	{Name: "region_code", Type: arrow.BinaryTypes.String},
	{Name: "county_code", Type: arrow.BinaryTypes.String},
	{Name: "township_code", Type: arrow.BinaryTypes.String},
	{Name: "poverty_status", Type: arrow.BinaryTypes.String},
	{Name: "score", Type: arrow.PrimitiveTypes.Float64},
	{Name: "rank", Type: arrow.PrimitiveTypes.Int32},
	{Name: "rank_county", Type: arrow.PrimitiveTypes.Int32},
	{Name: "rank_township", Type: arrow.PrimitiveTypes.Int32},
	{Name: "tier", Type: arrow.BinaryTypes.String},
	{Name: "in_top_k", Type: arrow.FixedWidthTypes.Boolean},
	{Name: "profile", Type: arrow.BinaryTypes.String},
	{Name: "profile_zh", Type: arrow.BinaryTypes.String},
	{Name: "rules", Type: arrow.BinaryTypes.String},
	{Name: "risk_types", Type: arrow.BinaryTypes.String},
	{Name: "risk_types_zh", Type: arrow.BinaryTypes.String},
	{Name: "primary_risk_type", Type: arrow.BinaryTypes.String},
	{Name: "reasons", Type: arrow.BinaryTypes.String},
	{Name: "reasons_en", Type: arrow.BinaryTypes.String},
	{Name: "top_driver", Type: arrow.BinaryTypes.String},
	{Name: "conflicts", Type: arrow.BinaryTypes.String},
	{Name: "measures", Type: arrow.BinaryTypes.String},
	{Name: "measures_zh", Type: arrow.BinaryTypes.String},
	{Name: "net_income_pc_12m", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "oop_medical_12m", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
}, nil)

// writeRankedParquet writes rows, in order, as ranked.parquet.
func writeRankedParquet(w io.Writer, rows []row) error {
	mem := memory.NewGoAllocator()
	fw, err := pqarrow.NewFileWriter(rankedSchema, w, writerProps(rankedSchema), pqarrow.DefaultWriterProps())
	if err != nil {
		return fmt.Errorf("parquet writer: %w", err)
	}
	b := array.NewRecordBuilder(mem, rankedSchema)
	defer b.Release()
	str := func(i int) *array.StringBuilder { return b.Field(i).(*array.StringBuilder) }
	f64 := func(i int, v float64) {
		fb := b.Field(i).(*array.Float64Builder)
		if math.IsNaN(v) {
			fb.AppendNull()
		} else {
			fb.Append(v)
		}
	}
	for lo := 0; lo < len(rows); lo += batchRows {
		hi := min(lo+batchRows, len(rows))
		for i := lo; i < hi; i++ {
			r := &rows[i]
			str(0).Append(r.HouseholdID)
			str(1).Append(r.RegionCode)
			str(2).Append(r.CountyCode)
			str(3).Append(r.TownshipCode)
			str(4).Append(r.PovertyStatus)
			b.Field(5).(*array.Float64Builder).Append(r.Score)
			b.Field(6).(*array.Int32Builder).Append(r.Rank)
			b.Field(7).(*array.Int32Builder).Append(r.RankCounty)
			b.Field(8).(*array.Int32Builder).Append(r.RankTownship)
			str(9).Append(r.Tier)
			b.Field(10).(*array.BooleanBuilder).Append(r.InTopK)
			str(11).Append(r.Profile)
			str(12).Append(r.ProfileZh)
			str(13).Append(r.Rules)
			str(14).Append(r.RiskTypes)
			str(15).Append(r.RiskTypesZh)
			str(16).Append(r.PrimaryRiskType)
			str(17).Append(r.Reasons)
			str(18).Append(r.ReasonsEn)
			str(19).Append(r.TopDriver)
			str(20).Append(r.Conflicts)
			str(21).Append(r.Measures)
			str(22).Append(r.MeasuresZh)
			f64(23, r.NetIncomePC12m)
			f64(24, r.OOPMedical12m)
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

// writeContributionsParquet writes household_id then one float64 column per
// model feature: contrib[j][rows[i].idx] is feature j's contribution for
// rows[i]. Rows are written in the order of rows (rank order).
func writeContributionsParquet(w io.Writer, rows []row, names []string, contrib [][]float64) error {
	fields := []arrow.Field{{Name: "household_id", Type: arrow.BinaryTypes.String}}
	for _, n := range names {
		fields = append(fields, arrow.Field{Name: n, Type: arrow.PrimitiveTypes.Float64})
	}
	schema := arrow.NewSchema(fields, nil)
	fw, err := pqarrow.NewFileWriter(schema, w, writerProps(schema), pqarrow.DefaultWriterProps())
	if err != nil {
		return fmt.Errorf("parquet writer: %w", err)
	}
	b := array.NewRecordBuilder(memory.NewGoAllocator(), schema)
	defer b.Release()
	for lo := 0; lo < len(rows); lo += batchRows {
		hi := min(lo+batchRows, len(rows))
		sb := b.Field(0).(*array.StringBuilder)
		for i := lo; i < hi; i++ {
			sb.Append(rows[i].HouseholdID)
		}
		for j := range names {
			fb := b.Field(j + 1).(*array.Float64Builder)
			fb.Reserve(hi - lo)
			c := contrib[j]
			for i := lo; i < hi; i++ {
				fb.UnsafeAppend(c[rows[i].idx])
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

// writeTableParquet writes an Arrow table (the feature table) with the
// fixed writer properties.
func writeTableParquet(w io.Writer, t arrow.Table) error {
	if err := pqarrow.WriteTable(t, w, batchRows, writerProps(t.Schema()), pqarrow.DefaultWriterProps()); err != nil {
		return fmt.Errorf("write parquet table: %w", err)
	}
	return nil
}
