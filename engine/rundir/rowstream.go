package rundir

import (
	"fmt"
	"io"
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
	rb *rankedBuilders
	n  int // rows in b
}

// NewRankedParquetWriter starts ranked.parquet on w; the caller closes it.
func NewRankedParquetWriter(w io.Writer) (*RankedParquetWriter, error) {
	schema := RankedSchema()
	fw, err := pqarrow.NewFileWriter(schema, w, writerProps(schema), arrowProps())
	if err != nil {
		return nil, fmt.Errorf("parquet writer: %w", err)
	}
	b := array.NewRecordBuilder(memory.NewGoAllocator(), schema)
	return &RankedParquetWriter{fw: fw, b: b, rb: newRankedBuilders(b)}, nil
}

// Write appends rows, in order.
func (rw *RankedParquetWriter) Write(rows []Row) error {
	for i := range rows {
		if rw.n == 0 {
			rw.rb.reserve(min(BatchRows, len(rows)-i))
		}
		rw.rb.append(&rows[i])
		if rw.n++; rw.n == BatchRows {
			rw.rb.batchDone()
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
		rw.rb.batchDone()
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
type RankedCSVWriter struct{ c *csvLines }

// NewRankedCSVWriter writes the byte-order mark and the header to w.
func NewRankedCSVWriter(w io.Writer) (*RankedCSVWriter, error) {
	if _, err := io.WriteString(w, utf8BOM); err != nil {
		return nil, err
	}
	c := newCSVLines(w)
	for _, f := range RankedSchema().Fields() {
		c.raw(f.Name)
	}
	c.end()
	return &RankedCSVWriter{c: c}, c.err
}

// Write appends rows, in order.
func (rw *RankedCSVWriter) Write(rows []Row) error {
	c := rw.c
	for i := range rows {
		r := &rows[i]
		for _, s := range []string{r.HouseholdID, r.RegionCode, r.CountyCode, r.TownshipCode, r.PovertyStatus} {
			c.text(s)
		}
		c.float(r.Score)
		c.int(int64(r.Rank))
		c.int(int64(r.RankCounty))
		c.int(int64(r.RankTownship))
		c.text(r.Tier)
		c.bool(r.InTopK)
		for _, s := range []string{r.Profile, r.ProfileZh, r.Rules, r.RiskTypes, r.RiskTypesZh,
			r.PrimaryRiskType, r.Reasons, r.ReasonsEn, r.TopDriver, r.Conflicts, r.Measures, r.MeasuresZh} {
			c.text(s)
		}
		c.float(r.NetIncomePC12m)
		c.float(r.OOPMedical12m)
		for _, s := range []string{r.CountyName, r.TownshipName, r.VillageName, r.EliminatedDate} {
			c.text(s)
		}
		c.bool(r.Watch)
		c.end()
	}
	return c.err
}

// Close flushes what is buffered.
func (rw *RankedCSVWriter) Close() error { return rw.c.flush() }

// ChangesWriter writes changes.csv (WriteChanges says how).
type ChangesWriter struct{ c *csvLines }

// NewChangesWriter writes the header to w.
func NewChangesWriter(w io.Writer) (*ChangesWriter, error) {
	c := newCSVLines(w)
	for _, h := range []string{"household_id", "region_code", "county_code", "township_code", "change", "score", "previous_score", "delta"} {
		c.raw(h)
	}
	c.end()
	return &ChangesWriter{c: c}, c.err
}

// Write appends one line.
func (cw *ChangesWriter) Write(x Change) error {
	c := cw.c
	for _, s := range []string{x.HouseholdID, x.RegionCode, Prefix(x.RegionCode, 6), Prefix(x.RegionCode, 9)} {
		c.text(s)
	}
	c.raw(x.Change)
	c.float(x.Score)
	c.float(x.PreviousScore)
	c.float(x.Score - x.PreviousScore)
	c.end()
	return c.err
}

// Close flushes what is buffered.
func (cw *ChangesWriter) Close() error { return cw.c.flush() }

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
	c     *csvLines
	conds []string
}

// NewElimCSVWriter writes the byte-order mark and the header to w.
func NewElimCSVWriter(w io.Writer, conds []string) (*ElimCSVWriter, error) {
	if _, err := io.WriteString(w, utf8BOM); err != nil {
		return nil, err
	}
	c := newCSVLines(w)
	for _, f := range EliminationSchema(conds).Fields() {
		c.raw(f.Name)
	}
	c.end()
	return &ElimCSVWriter{c: c, conds: conds}, c.err
}

// Write appends rows, in order.
func (ew *ElimCSVWriter) Write(rows []ElimRow) error {
	c := ew.c
	for i := range rows {
		r := &rows[i]
		for _, s := range []string{r.HouseholdID, r.RegionCode, Prefix(r.RegionCode, 6), Prefix(r.RegionCode, 9),
			r.CountyName, r.TownshipName, r.VillageName, r.IdentifiedDate} {
			c.text(s)
		}
		c.int(int64(r.MonthsSinceIdentified))
		for _, v := range []float64{r.IncomePC6m, r.IncomePC12m, r.Line, r.RigidExpenditure} {
			c.float(v)
		}
		for _, v := range []bool{r.RigidResolved, r.Education, r.Medical, r.Housing, r.Water, r.NoLabour} {
			c.bool(v)
		}
		c.float(r.Relapse)
		c.text(r.Verdict)
		c.raw(VerdictZh(r.Verdict))
		c.text(strings.Join(r.Unmet, ";"))
		c.text(r.AsOf)
		for _, v := range []int{r.HouseholdSize, r.DropoutChildren, r.UninsuredClaims} {
			c.int(int64(v))
		}
		for _, v := range []float64{r.RigidMedical, r.RigidIncome, r.AssistanceAmount, r.IncomePCNoAssist12m} {
			c.float(v)
		}
		for _, n := range ew.conds {
			if cd := condOf(r, n); cd != nil {
				c.bool(cd.Met)
				c.text(cd.Fact)
			} else {
				c.raw("")
				c.raw("")
			}
		}
		c.end()
	}
	return c.err
}

// Close flushes what is buffered.
func (ew *ElimCSVWriter) Close() error { return ew.c.flush() }
