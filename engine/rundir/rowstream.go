package rundir

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"

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

// ElimParquetWriter writes elimination.parquet for the condition names
// given (ElimConditionNames of every row, known before the first row),
// BatchRows rows per row group whatever the sizes of the Write calls.
type ElimParquetWriter struct {
	fw    *pqarrow.FileWriter
	b     *array.RecordBuilder
	conds []string
	n     int
}

// NewElimParquetWriter starts elimination.parquet on w; the caller closes it.
func NewElimParquetWriter(w io.Writer, conds []string) (*ElimParquetWriter, error) {
	schema := EliminationSchema(conds)
	fw, err := pqarrow.NewFileWriter(schema, w, writerProps(schema), arrowProps())
	if err != nil {
		return nil, fmt.Errorf("parquet writer: %w", err)
	}
	return &ElimParquetWriter{fw: fw, b: array.NewRecordBuilder(memory.NewGoAllocator(), schema), conds: conds}, nil
}

// Write appends rows, in order.
func (ew *ElimParquetWriter) Write(rows []ElimRow) error {
	for i := range rows {
		appendElim(ew.b, &rows[i], ew.conds)
		if ew.n++; ew.n == BatchRows {
			if err := writeBatch(ew.fw, ew.b); err != nil {
				return err
			}
			ew.n = 0
		}
	}
	return nil
}

// Close writes the last row group and the footer.
func (ew *ElimParquetWriter) Close() error {
	defer ew.b.Release()
	if ew.n > 0 {
		if err := writeBatch(ew.fw, ew.b); err != nil {
			return err
		}
		ew.n = 0
	}
	if err := ew.fw.Close(); err != nil {
		return fmt.Errorf("close parquet writer: %w", err)
	}
	return nil
}

// ElimCSVWriter writes elimination.csv (WriteEliminationCSV says how)
// for the condition names given.
type ElimCSVWriter struct {
	cw    *csv.Writer
	conds []string
}

// NewElimCSVWriter writes the byte-order mark and the header to w.
func NewElimCSVWriter(w io.Writer, conds []string) (*ElimCSVWriter, error) {
	if _, err := io.WriteString(w, utf8BOM); err != nil {
		return nil, err
	}
	cw := csv.NewWriter(w)
	var header []string
	for _, f := range EliminationSchema(conds).Fields() {
		header = append(header, f.Name)
	}
	if err := cw.Write(header); err != nil {
		return nil, err
	}
	return &ElimCSVWriter{cw: cw, conds: conds}, nil
}

// Write appends rows, in order.
func (ew *ElimCSVWriter) Write(rows []ElimRow) error {
	bs := strconv.FormatBool
	for i := range rows {
		r := &rows[i]
		rec := []string{Cell(r.HouseholdID), Cell(r.RegionCode), Cell(Prefix(r.RegionCode, 6)), Cell(Prefix(r.RegionCode, 9)),
			Cell(r.CountyName), Cell(r.TownshipName), Cell(r.VillageName), Cell(r.IdentifiedDate), strconv.Itoa(r.MonthsSinceIdentified),
			FormatFloat(r.IncomePC6m), FormatFloat(r.IncomePC12m), FormatFloat(r.Line), FormatFloat(r.RigidExpenditure),
			bs(r.RigidResolved), bs(r.Education), bs(r.Medical), bs(r.Housing), bs(r.Water), bs(r.NoLabour),
			FormatFloat(r.Relapse), Cell(r.Verdict), VerdictZh(r.Verdict), Cell(strings.Join(r.Unmet, ";")),
			Cell(r.AsOf), strconv.Itoa(r.HouseholdSize), strconv.Itoa(r.DropoutChildren), strconv.Itoa(r.UninsuredClaims),
			FormatFloat(r.RigidMedical), FormatFloat(r.RigidIncome), FormatFloat(r.AssistanceAmount), FormatFloat(r.IncomePCNoAssist12m)}
		for _, n := range ew.conds {
			if c := condOf(r, n); c != nil {
				rec = append(rec, bs(c.Met), Cell(c.Fact))
			} else {
				rec = append(rec, "", "")
			}
		}
		if err := ew.cw.Write(rec); err != nil {
			return err
		}
	}
	return nil
}

// Close flushes what is buffered.
func (ew *ElimCSVWriter) Close() error {
	ew.cw.Flush()
	return ew.cw.Error()
}
