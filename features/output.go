package features

import (
	"context"
	"database/sql"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/povrisk/povrisk/engine"
	"github.com/povrisk/povrisk/models"
)

// ToMatrix copies the columns cols of t (numeric or boolean; booleans as
// 0/1, nulls as NaN) into a matrix, and returns the household ids of its rows.
// Both are copies: they stay valid after t is released.
func ToMatrix(t arrow.Table, cols []string) (models.Matrix, []string, error) {
	n := int(t.NumRows())
	m := models.NewMatrix(n, cols)
	idIdx := t.Schema().FieldIndices("household_id")
	if len(idIdx) == 0 {
		return models.Matrix{}, nil, errors.New("feature table has no household_id column")
	}
	ids := make([]string, 0, n)
	for _, ch := range t.Column(idIdx[0]).Data().Chunks() {
		for i := 0; i < ch.Len(); i++ {
			ids = append(ids, strings.Clone(str(ch, i)))
		}
	}
	for j, name := range cols {
		idx := t.Schema().FieldIndices(name)
		if len(idx) == 0 {
			return models.Matrix{}, nil, fmt.Errorf("feature table has no column %q: recompute the features with this catalog", name)
		}
		switch t.Schema().Field(idx[0]).Type.ID() {
		case arrow.FLOAT64, arrow.INT32, arrow.INT64, arrow.BOOL:
		default:
			return models.Matrix{}, nil, fmt.Errorf("column %q is %s, not numeric", name, t.Schema().Field(idx[0]).Type)
		}
		k := 0
		dst := m.Cols[j]
		for _, ch := range t.Column(idx[0]).Data().Chunks() {
			for i := 0; i < ch.Len(); i++ {
				dst[k] = num(ch, i)
				k++
			}
		}
	}
	return m, ids, nil
}

// WriteParquet writes t to path (zstd-compressed), through a temporary file
// renamed into place.
func WriteParquet(t arrow.Table, path string) error {
	return writeAtomic(path, func(f *os.File) error {
		props := parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Zstd), parquet.WithCreatedBy("povrisk"))
		// WriteTable closes its sink when the sink is an io.Closer: hand it
		// a plain writer; writeAtomic syncs and closes the file.
		return pqarrow.WriteTable(t, struct{ io.Writer }{f}, 64*1024, props, pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	})
}

// WriteCSV writes t to path as UTF-8 CSV with a header: numbers in their
// shortest exact form, dates YYYY-MM-DD, booleans true/false, nulls empty.
func WriteCSV(t arrow.Table, path string) error {
	return writeAtomic(path, func(f *os.File) error { return writeCSV(t, f) })
}

// writeAtomic writes path through write into path+".tmp", synced, closed
// and renamed into place; on failure the temporary file is removed.
func writeAtomic(path string, write func(*os.File) error) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("create %s: %w", tmp, err)
	}
	werr := write(f)
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, werr)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func writeCSV(t arrow.Table, f *os.File) error {
	w := csv.NewWriter(f)
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

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Materialize stores t in db as the table name (replaced if it exists), for
// DuckDB consumers of the feature table. The Arrow view it goes through can
// be scanned once, so it is copied with CREATE TABLE AS on the same
// connection. In an in-memory database the table is visible to every
// connection of db.
func Materialize(ctx context.Context, db *sql.DB, t arrow.Table, name string) error {
	if !identRE.MatchString(name) {
		return fmt.Errorf("materialize features: table name %q is not a plain identifier", name)
	}
	view := "povrisk_features_view_" + name
	return engine.WithArrow(ctx, db, func(ar *duckdb.Arrow) error {
		tr := array.NewTableReader(t, 64*1024)
		defer tr.Release()
		release, err := ar.RegisterView(tr, view)
		if err != nil {
			return fmt.Errorf("materialize features: register arrow view: %w", err)
		}
		defer release()
		rr, err := ar.QueryContext(ctx, "CREATE OR REPLACE TABLE "+quoteIdent(name)+" AS SELECT * FROM "+quoteIdent(view))
		if err != nil {
			return fmt.Errorf("materialize features as %s: %w", name, err)
		}
		for rr.Next() {
		}
		rr.Release()
		rr, err = ar.QueryContext(ctx, "DROP VIEW IF EXISTS "+quoteIdent(view))
		if err != nil {
			return fmt.Errorf("materialize features: drop view: %w", err)
		}
		rr.Release()
		return nil
	})
}
