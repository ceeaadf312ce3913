package features

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/povrisk/povrisk/engine/atomicfile"
	"github.com/povrisk/povrisk/engine/pqfile"
)

// Numeric copies the columns cols of t (numeric or boolean; booleans as
// 0/1, nulls as NaN), column-major: vals[j][i] is column cols[j] of row i,
// and returns the household ids of the rows. Both are copies: they stay
// valid after t is released. models.Matrix{Rows: len(ids), Cols: vals,
// Names: cols} is the model matrix (the models package is above this one).
func Numeric(t arrow.Table, cols []string) (vals [][]float64, ids []string, err error) {
	if ids, err = HouseholdIDs(t); err != nil {
		return nil, nil, err
	}
	if vals, err = Columns(t, cols); err != nil {
		return nil, nil, err
	}
	return vals, ids, nil
}

// HouseholdIDs copies the household_id column of t.
func HouseholdIDs(t arrow.Table) ([]string, error) {
	idIdx := t.Schema().FieldIndices("household_id")
	if len(idIdx) == 0 {
		return nil, errors.New("feature table has no household_id column")
	}
	ids := make([]string, 0, int(t.NumRows()))
	for _, ch := range t.Column(idIdx[0]).Data().Chunks() {
		for i := 0; i < ch.Len(); i++ {
			ids = append(ids, strings.Clone(str(ch, i)))
		}
	}
	return ids, nil
}

// Columns copies the columns cols of t as Numeric does, without the
// household ids (for readers of a few columns at a time).
func Columns(t arrow.Table, cols []string) ([][]float64, error) {
	n := int(t.NumRows())
	backing := make([]float64, n*len(cols))
	vals := make([][]float64, len(cols))
	for j, name := range cols {
		idx := t.Schema().FieldIndices(name)
		if len(idx) == 0 {
			return nil, fmt.Errorf("feature table has no column %q: recompute the features with this catalog", name)
		}
		switch t.Schema().Field(idx[0]).Type.ID() {
		case arrow.FLOAT64, arrow.INT32, arrow.INT64, arrow.BOOL:
		default:
			return nil, fmt.Errorf("column %q is %s, not numeric", name, t.Schema().Field(idx[0]).Type)
		}
		dst := backing[j*n : (j+1)*n : (j+1)*n]
		k := 0
		for _, ch := range t.Column(idx[0]).Data().Chunks() {
			for i := 0; i < ch.Len(); i++ {
				dst[k] = num(ch, i)
				k++
			}
		}
		vals[j] = dst
	}
	return vals, nil
}

// WriteParquet writes t to path (zstd-compressed, the settings of
// engine/pqfile), atomically.
func WriteParquet(t arrow.Table, path string) error {
	return atomicfile.Write(path, 0o644, func(w io.Writer) error {
		props := pqfile.Props(t.Schema(), pqfile.Settings{Zstd: true})
		// WriteTable closes its sink when the sink is an io.Closer: hand it
		// a plain writer; atomicfile syncs and closes the file.
		return pqarrow.WriteTable(t, struct{ io.Writer }{w}, pqfile.RowGroup, props, pqfile.ArrowProps())
	})
}

// WriteCSV writes t to path as UTF-8 CSV with a header: numbers in their
// shortest exact form, dates YYYY-MM-DD, booleans true/false, nulls empty.
func WriteCSV(t arrow.Table, path string) error {
	return atomicfile.Write(path, 0o644, func(w io.Writer) error { return writeCSV(t, w) })
}

func writeCSV(t arrow.Table, out io.Writer) error {
	w := csv.NewWriter(out)
	nc := int(t.NumCols())
	head := make([]string, nc)
	for j := range head {
		head[j] = t.Schema().Field(j).Name
	}
	if err := w.Write(head); err != nil {
		return err
	}
	tr := array.NewTableReader(t, 64*1024)
	defer tr.Release()
	row := make([]string, nc)
	for tr.Next() {
		rec := tr.RecordBatch()
		for i := 0; i < int(rec.NumRows()); i++ {
			for j := 0; j < nc; j++ {
				row[j] = cell(rec.Column(j), i)
			}
			if err := w.Write(row); err != nil {
				return err
			}
		}
	}
	w.Flush()
	return w.Error()
}

func cell(a arrow.Array, i int) string {
	if a.IsNull(i) {
		return ""
	}
	switch c := a.(type) {
	case *array.Float64:
		v := c.Value(i)
		if math.IsNaN(v) {
			return ""
		}
		return strconv.FormatFloat(v, 'f', -1, 64)
	case *array.Int32:
		return strconv.FormatInt(int64(c.Value(i)), 10)
	case *array.Int64:
		return strconv.FormatInt(c.Value(i), 10)
	case *array.Boolean:
		return strconv.FormatBool(c.Value(i))
	case *array.Date32:
		return c.Value(i).FormattedString()
	}
	return str(a, i)
}

// ReadParquet reads a feature table written by WriteParquet (a run's
// features.parquet) into memory; the caller releases it. Any bytes give a
// table or an error, never a panic.
func ReadParquet(path string) (t arrow.Table, err error) {
	defer func() {
		if r := recover(); r != nil {
			t, err = nil, fmt.Errorf("read %s: not a readable Parquet file (%v)", path, r)
		}
	}()
	pf, err := file.OpenParquetFile(path, false)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	defer pf.Close()
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 1 << 16}, memory.DefaultAllocator)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	t, err = fr.ReadTable(context.Background())
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return t, nil
}
