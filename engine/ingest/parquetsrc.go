package ingest

import (
	"context"
	"fmt"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/povrisk/povrisk/datasets"
)

// civilFromDays is the inverse of daysFromCivil.
func civilFromDays(z int32) (y, m, d int) {
	zz := int(z) + 719468
	era := zz / 146097
	if zz < 0 && zz%146097 != 0 {
		era--
	}
	doe := zz - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	if mp < 10 {
		m = mp + 3
	} else {
		m = mp - 9
	}
	if m <= 2 {
		y++
	}
	return
}

func appendDate(b []byte, days int32, month bool) []byte {
	y, m, d := civilFromDays(days)
	b = append(b, byte('0'+y/1000%10), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-', byte('0'+m/10), byte('0'+m%10))
	if month && d == 1 {
		return b
	}
	return append(b, '-', byte('0'+d/10), byte('0'+d%10))
}

// parquetHeader opens a Parquet drop file and returns its reader and column names.
func openParquet(path string) (*pqarrow.FileReader, *file.Reader, []string, error) {
	rdr, err := file.OpenParquetFile(path, false)
	if err != nil {
		return nil, nil, nil, err
	}
	fr, err := pqarrow.NewFileReader(rdr, pqarrow.ArrowReadProperties{BatchSize: batchRows}, memory.DefaultAllocator)
	if err != nil {
		rdr.Close()
		return nil, nil, nil, err
	}
	sc, err := fr.Schema()
	if err != nil {
		rdr.Close()
		return nil, nil, nil, err
	}
	names := make([]string, sc.NumFields())
	for i, f := range sc.Fields() {
		names[i] = f.Name
	}
	return fr, rdr, names, nil
}

// loadParquet feeds every row of a Parquet file to the loader as text
// fields, so that the same checks apply as for CSV. The line of a row is its
// position counting a virtual header as line 1.
func (l *tableLoader) loadParquet(ctx context.Context, fr *pqarrow.FileReader) error {
	monthField := make([]bool, l.nfields)
	for _, c := range l.cols {
		if c.field >= 0 && c.col.Kind == datasets.Month {
			monthField[c.field] = true
		}
	}
	rdr, err := fr.GetRecordReader(ctx, nil, nil)
	if err != nil {
		return &FileError{File: l.file, Err: err}
	}
	defer rdr.Release()
	rr := &rowReader{}
	line := 1
	for rdr.Next() {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		rec := rdr.RecordBatch()
		cols := rec.Columns()
		for i := 0; i < int(rec.NumRows()); i++ {
			line++
			rr.start, rr.line = line, line
			rr.buf, rr.ends, rr.raw = rr.buf[:0], rr.ends[:0], rr.raw[:0]
			for j, a := range cols {
				n0 := len(rr.buf)
				if !a.IsNull(i) {
					rr.buf, err = appendValue(rr.buf, a, i, monthField[j])
					if err != nil {
						return &FileError{File: l.file, Column: l.header[j], Err: err}
					}
				}
				rr.ends = append(rr.ends, len(rr.buf))
				if j > 0 {
					rr.raw = append(rr.raw, ',')
				}
				rr.raw = appendCSVField(rr.raw, rr.buf[n0:])
			}
			if err := l.row(rr, nil); err != nil {
				return err
			}
		}
	}
	if err := rdr.Err(); err != nil {
		return &FileError{File: l.file, Err: err}
	}
	return nil
}

func appendCSVField(b, f []byte) []byte {
	need := false
	for _, c := range f {
		if c == '"' || c == ',' || c == '\n' || c == '\r' {
			need = true
			break
		}
	}
	if !need {
		return append(b, f...)
	}
	b = append(b, '"')
	for _, c := range f {
		if c == '"' {
			b = append(b, '"')
		}
		b = append(b, c)
	}
	return append(b, '"')
}

// appendValue appends the text form of a[i].
func appendValue(b []byte, a arrow.Array, i int, month bool) ([]byte, error) {
	switch a := a.(type) {
	case *array.String:
		return append(b, a.Value(i)...), nil
	case *array.LargeString:
		return append(b, a.Value(i)...), nil
	case *array.Binary:
		return append(b, a.Value(i)...), nil
	case *array.Dictionary:
		return appendValue(b, a.Dictionary(), a.GetValueIndex(i), month)
	case *array.Int8:
		return strconv.AppendInt(b, int64(a.Value(i)), 10), nil
	case *array.Int16:
		return strconv.AppendInt(b, int64(a.Value(i)), 10), nil
	case *array.Int32:
		return strconv.AppendInt(b, int64(a.Value(i)), 10), nil
	case *array.Int64:
		return strconv.AppendInt(b, a.Value(i), 10), nil
	case *array.Uint8:
		return strconv.AppendUint(b, uint64(a.Value(i)), 10), nil
	case *array.Uint16:
		return strconv.AppendUint(b, uint64(a.Value(i)), 10), nil
	case *array.Uint32:
		return strconv.AppendUint(b, uint64(a.Value(i)), 10), nil
	case *array.Uint64:
		return strconv.AppendUint(b, a.Value(i), 10), nil
	case *array.Float32:
		return strconv.AppendFloat(b, float64(a.Value(i)), 'f', -1, 32), nil
	case *array.Float64:
		return strconv.AppendFloat(b, a.Value(i), 'f', -1, 64), nil
	case *array.Boolean:
		return strconv.AppendBool(b, a.Value(i)), nil
	case *array.Date32:
		return appendDate(b, int32(a.Value(i)), month), nil
	case *array.Date64:
		return appendDate(b, int32(int64(a.Value(i))/86400000), month), nil
	case *array.Timestamp:
		u := a.DataType().(*arrow.TimestampType).Unit
		t := a.Value(i).ToTime(u)
		return appendDate(b, int32(t.Unix()/86400), month), nil
	}
	return b, fmt.Errorf("unsupported Parquet type %s", a.DataType())
}
