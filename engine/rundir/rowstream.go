package rundir

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// The streaming writers of ranked.parquet, ranked.csv and changes.csv:
// rows are written as they come (engine/run's merge writes the night's
// ranked rows while it merges the parts, holding a few thousand at a
// time). WriteRankedParquet, WriteRankedCSV and WriteChanges are these
// writers over a whole slice: one code path, so the same rows give the
// same bytes however they are cut into Write calls.

// RankedParquetWriter writes ranked.parquet, BatchRows rows per row
// group whatever the sizes of the Write calls.
type RankedParquetWriter struct {
	fw *pqarrow.FileWriter
	b  *array.RecordBuilder
	n  int // rows in b
}

// NewRankedParquetWriter starts ranked.parquet on w; the caller closes it.
func NewRankedParquetWriter(w io.Writer) (*RankedParquetWriter, error) {
	schema := RankedSchema()
	fw, err := pqarrow.NewFileWriter(schema, w, writerProps(schema), arrowProps())
	if err != nil {
		return nil, fmt.Errorf("parquet writer: %w", err)
	}
	return &RankedParquetWriter{fw: fw, b: array.NewRecordBuilder(memory.NewGoAllocator(), schema)}, nil
}

// Write appends rows, in order.
func (rw *RankedParquetWriter) Write(rows []Row) error {
	for i := range rows {
		appendRanked(rw.b, &rows[i])
		if rw.n++; rw.n == BatchRows {
			if err := writeBatch(rw.fw, rw.b); err != nil {
				return err
			}
			rw.n = 0
		}
	}
	return nil
}

// Close writes the last row group and the footer.
func (rw *RankedParquetWriter) Close() error {
	defer rw.b.Release()
	if rw.n > 0 {
		if err := writeBatch(rw.fw, rw.b); err != nil {
			return err
		}
		rw.n = 0
	}
	if err := rw.fw.Close(); err != nil {
		return fmt.Errorf("close parquet writer: %w", err)
	}
	return nil
}

// RankedCSVWriter writes ranked.csv (WriteRankedCSV says how).
type RankedCSVWriter struct {
	cw  *csv.Writer
	rec []string
}

// NewRankedCSVWriter writes the byte-order mark and the header to w.
func NewRankedCSVWriter(w io.Writer) (*RankedCSVWriter, error) {
	if _, err := io.WriteString(w, utf8BOM); err != nil {
		return nil, err
	}
	cw := csv.NewWriter(w)
	fields := RankedSchema().Fields()
	header := make([]string, len(fields))
	for i, f := range fields {
		header[i] = f.Name
	}
	if err := cw.Write(header); err != nil {
		return nil, err
	}
	return &RankedCSVWriter{cw: cw, rec: make([]string, 0, len(header))}, nil
}

// Write appends rows, in order.
func (rw *RankedCSVWriter) Write(rows []Row) error {
	for i := range rows {
		r := &rows[i]
		rec := append(rw.rec[:0], Cell(r.HouseholdID), Cell(r.RegionCode), Cell(r.CountyCode), Cell(r.TownshipCode), Cell(r.PovertyStatus),
			FormatFloat(r.Score), strconv.Itoa(int(r.Rank)), strconv.Itoa(int(r.RankCounty)), strconv.Itoa(int(r.RankTownship)),
			Cell(r.Tier), strconv.FormatBool(r.InTopK))
		for _, s := range []string{r.Profile, r.ProfileZh, r.Rules, r.RiskTypes, r.RiskTypesZh,
			r.PrimaryRiskType, r.Reasons, r.ReasonsEn, r.TopDriver, r.Conflicts, r.Measures, r.MeasuresZh} {
			rec = append(rec, Cell(s))
		}
		rec = append(rec, FormatFloat(r.NetIncomePC12m), FormatFloat(r.OOPMedical12m),
			Cell(r.CountyName), Cell(r.TownshipName), Cell(r.VillageName), Cell(r.EliminatedDate), strconv.FormatBool(r.Watch))
		rw.rec = rec
		if err := rw.cw.Write(rec); err != nil {
			return err
		}
	}
	return nil
}

// Close flushes what is buffered.
func (rw *RankedCSVWriter) Close() error {
	rw.cw.Flush()
	return rw.cw.Error()
}

// ChangesWriter writes changes.csv (WriteChanges says how).
type ChangesWriter struct{ cw *csv.Writer }

// NewChangesWriter writes the header to w.
func NewChangesWriter(w io.Writer) (*ChangesWriter, error) {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"household_id", "region_code", "county_code", "township_code", "change", "score", "previous_score", "delta"}); err != nil {
		return nil, err
	}
	return &ChangesWriter{cw: cw}, nil
}

// Write appends one line.
func (c *ChangesWriter) Write(ch Change) error {
	delta := ch.Score - ch.PreviousScore
	return c.cw.Write([]string{Cell(ch.HouseholdID), Cell(ch.RegionCode), Cell(Prefix(ch.RegionCode, 6)), Cell(Prefix(ch.RegionCode, 9)), ch.Change,
		FormatFloat(ch.Score), FormatFloat(ch.PreviousScore), FormatFloat(delta)})
}

// Close flushes what is buffered.
func (c *ChangesWriter) Close() error {
	c.cw.Flush()
	return c.cw.Error()
}
