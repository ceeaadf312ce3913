package rundir

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// ColumnsWriter writes a Parquet file with the run directory's fixed
// settings one record batch (one row group) at a time, as the writer of
// NewParquetWriter does, byte for byte (TestColumnsWriterBytes), but
// encoding the columns of a row group on several goroutines: a row
// group is buffered, its columns encoded side by side (values,
// dictionaries, statistics), then closed in column order (pages
// compressed and copied out, one column after the other, as a Parquet
// file lays them out). For flat schemas only (every field a primitive
// type or text: the tables the merge gathers); any other schema is
// written by pqarrow's serial writer.
type ColumnsWriter struct {
	serial   *pqarrow.FileWriter // a schema that is not flat: written by pqarrow, serially
	fw       *file.Writer
	schema   *arrow.Schema
	props    *parquet.WriterProperties
	aprops   pqarrow.ArrowWriterProperties
	workers  int
	nullable []bool
}

// NewColumnsWriter starts the Parquet file of schema on w, encoding with
// up to workers goroutines; the caller closes it.
func NewColumnsWriter(schema *arrow.Schema, w io.Writer, workers int) (*ColumnsWriter, error) {
	props, aprops := writerProps(schema), arrowProps()
	if !flatSchema(schema) { // not ours to lay out: pqarrow's serial writer
		fw, err := pqarrow.NewFileWriter(schema, w, props, aprops)
		if err != nil {
			return nil, fmt.Errorf("parquet writer: %w", err)
		}
		return &ColumnsWriter{serial: fw, schema: schema}, nil
	}
	pqs, err := pqarrow.ToParquet(schema, props, aprops)
	if err != nil {
		return nil, fmt.Errorf("parquet writer: %w", err)
	}
	meta := make(metadata.KeyValueMetadata, 0) // as pqarrow.NewFileWriter: the schema's metadata
	for i, k := range schema.Metadata().Keys() {
		meta.Append(k, schema.Metadata().Values()[i])
	}
	cw := &ColumnsWriter{schema: schema, props: props, aprops: aprops, workers: max(1, workers)}
	for _, f := range schema.Fields() {
		cw.nullable = append(cw.nullable, f.Nullable)
	}
	cw.fw = file.NewParquetWriter(w, pqs.Root(), file.WithWriterProps(props), file.WithWriteMetadata(meta))
	return cw, nil
}

// Write writes rec as one row group (more when it has more rows than a
// row group holds, as pqarrow.FileWriter.Write cuts it).
func (cw *ColumnsWriter) Write(rec arrow.RecordBatch) error {
	if !rec.Schema().Equal(cw.schema) {
		return fmt.Errorf("parquet writer: record schema %s, want %s", rec.Schema(), cw.schema)
	}
	if cw.serial != nil {
		return cw.serial.Write(rec)
	}
	n := cw.props.MaxRowGroupLength()
	if rec.NumRows() <= n {
		return cw.rowGroup(rec)
	}
	for off := int64(0); off < rec.NumRows(); off += n {
		s := rec.NewSlice(off, min(off+n, rec.NumRows()))
		err := cw.rowGroup(s)
		s.Release()
		if err != nil {
			return err
		}
	}
	return nil
}

func (cw *ColumnsWriter) rowGroup(rec arrow.RecordBatch) error {
	rgw := cw.fw.AppendBufferedRowGroup()
	ncol := int(rec.NumCols())
	errs := make([]error, ncol)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(cw.workers, ncol) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := pqarrow.NewArrowWriteContext(context.Background(), &cw.aprops)
			for i := int(next.Add(1) - 1); i < ncol; i = int(next.Add(1) - 1) {
				errs[i] = cw.column(ctx, rgw, i, rec.Column(i))
			}
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			rgw.Close()
			return fmt.Errorf("write parquet column %s: %w", cw.schema.Field(i).Name, err)
		}
	}
	if err := rgw.Close(); err != nil {
		return fmt.Errorf("write parquet row group: %w", err)
	}
	return nil
}

// column writes column i of the row group: the definition levels are
// those pqarrow's path builder gives a flat column (none when the field
// is not nullable; else 1 for a value, 0 for a null, and the leaf taken
// as not nullable when it holds no null).
func (cw *ColumnsWriter) column(ctx context.Context, rgw file.BufferedRowGroupWriter, i int, a arrow.Array) error {
	w, err := rgw.Column(i)
	if err != nil {
		return err
	}
	if !cw.nullable[i] {
		return pqarrow.WriteArrowToColumn(ctx, w, a, nil, nil, false)
	}
	def := make([]int16, a.Len())
	nulls := a.NullN()
	switch {
	case nulls == 0:
		for k := range def {
			def[k] = 1
		}
	case nulls < a.Len():
		for k := range def {
			if a.IsValid(k) {
				def[k] = 1
			}
		}
	}
	return pqarrow.WriteArrowToColumn(ctx, w, a, def, nil, nulls > 0)
}

// Close writes the footer.
func (cw *ColumnsWriter) Close() error {
	if cw.serial != nil {
		return cw.serial.Close()
	}
	if err := cw.fw.Close(); err != nil {
		return fmt.Errorf("close parquet writer: %w", err)
	}
	return nil
}

// flatSchema: every field is a fixed-width type or text (no list,
// struct, map, union, dictionary or extension type), whose definition
// levels ColumnsWriter.column makes as pqarrow does.
func flatSchema(schema *arrow.Schema) bool {
	for _, f := range schema.Fields() {
		switch id := f.Type.ID(); id {
		case arrow.STRING, arrow.LARGE_STRING, arrow.BINARY, arrow.LARGE_BINARY:
		case arrow.DICTIONARY, arrow.EXTENSION:
			return false
		default:
			if _, ok := f.Type.(arrow.FixedWidthDataType); !ok {
				return false
			}
		}
	}
	return true
}
