package ingest

import (
	"context"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"time"
	_ "time/tzdata" // timestamp zones, wherever the system lacks a zone database

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/povrisk/povrisk/datasets"
	"github.com/povrisk/povrisk/engine/civil"
	"github.com/povrisk/povrisk/engine/fault"
)

// appendDate appends the date of days as YYYY-MM-DD (YYYY-MM for the
// first day of a month when month is set), with the year in full: a year
// of five digits (11996) stays five digits, and the date checks reject it.
func appendDate(b []byte, days int64, month bool) []byte {
	y, m, d := civil.CivilFromDays(days)
	if y < 0 {
		b = append(b, '-')
		y = -y
	}
	for p := 1000; p > 1 && y < p; p /= 10 {
		b = append(b, '0')
	}
	b = strconv.AppendInt(b, int64(y), 10)
	b = append(b, '-', byte('0'+m/10), byte('0'+m%10))
	if month && d == 1 {
		return b
	}
	return append(b, '-', byte('0'+d/10), byte('0'+d%10))
}

// openParquet opens a Parquet drop file (never through a symbolic link)
// and returns its reader and column names. A corrupt footer is an error,
// not a panic.
func openParquet(path string) (fr *pqarrow.FileReader, rdr *file.Reader, names []string, err error) {
	f, err := openNoFollow(path)
	if err != nil {
		return nil, nil, nil, err
	}
	defer func() {
		if r := recover(); r != nil {
			err = corrupt(filepath.Base(path), "the footer", r)
		}
		if err != nil {
			f.Close()
			fr, rdr, names = nil, nil, nil
		}
	}()
	alloc := capped{memory.DefaultAllocator}
	if rdr, err = file.NewParquetReader(f, file.WithReadProps(parquet.NewReaderProperties(alloc))); err != nil {
		return nil, nil, nil, err
	}
	if err := checkParquetSizes(rdr, f); err != nil {
		return nil, nil, nil, err
	}
	if err := checkArrowSchema(rdr); err != nil {
		return nil, nil, nil, fault.Wrap(fault.BadInput, err)
	}
	fr, err = pqarrow.NewFileReader(rdr, pqarrow.ArrowReadProperties{BatchSize: batchRows}, alloc)
	if err != nil {
		return nil, nil, nil, err
	}
	sc, err := fr.Schema()
	if err != nil {
		return nil, nil, nil, err
	}
	names = make([]string, sc.NumFields())
	for i, f := range sc.Fields() {
		names[i] = f.Name
	}
	return fr, rdr, names, nil
}

// maxParquetExpand bounds the uncompressed size a column chunk may claim,
// as a multiple of the file's size plus a floor: a corrupt footer must not
// make the reader allocate gigabytes.
const maxParquetExpand, maxParquetFloor = 1024, 1 << 28

// checkParquetSizes refuses footers whose column chunks lie outside the
// file or claim an absurd uncompressed size.
func checkParquetSizes(rdr *file.Reader, f *os.File) error {
	st, err := f.Stat()
	if err != nil {
		return err
	}
	size := st.Size()
	md := rdr.MetaData()
	for g := 0; g < md.NumRowGroups(); g++ {
		rg := md.RowGroup(g)
		for c := 0; c < rg.NumColumns(); c++ {
			cc, err := rg.ColumnChunk(c)
			if err != nil {
				return fmt.Errorf("row group %d column %d: %w", g, c, err)
			}
			if cc.TotalCompressedSize() < 0 || cc.TotalCompressedSize() > size || cc.DataPageOffset() < 0 || cc.DataPageOffset() > size ||
				cc.TotalUncompressedSize() < 0 || cc.TotalUncompressedSize() > maxParquetFloor+maxParquetExpand*size {
				return fault.Wrap(fault.BadInput, fmt.Errorf("row group %d column %d: the footer gives sizes or offsets beyond the file (corrupt file?)", g, c))
			}
		}
	}
	return nil
}

// maxAlloc is the largest single buffer the Parquet reader may ask for:
// a corrupt page header claiming gigabytes panics in capped (and the panic
// becomes a file error) instead of exhausting memory.
const maxAlloc = 1 << 30

// capped is an allocator that refuses buffers over maxAlloc.
type capped struct{ memory.Allocator }

func (c capped) Allocate(n int) []byte {
	if n < 0 || n > maxAlloc {
		panic(fmt.Sprintf("a buffer of %d bytes asked for (more than %d): corrupt sizes", n, maxAlloc))
	}
	return c.Allocator.Allocate(n)
}

func (c capped) Reallocate(n int, b []byte) []byte {
	if n < 0 || n > maxAlloc {
		panic(fmt.Sprintf("a buffer of %d bytes asked for (more than %d): corrupt sizes", n, maxAlloc))
	}
	return c.Allocator.Reallocate(n, b)
}

// corrupt turns a panic of the Parquet reader into a file error.
func corrupt(name, where string, r any) error {
	return &FileError{File: name, Err: fault.Wrap(fault.BadInput,
		fmt.Errorf("corrupt Parquet data in %s (%v): re-export the file", where, r))}
}

// loadParquet feeds every row of a Parquet file to the loader as text
// fields, so that the same checks apply as for CSV. The line of a row is its
// position counting a virtual header as line 1.
func (l *tableLoader) loadParquet(ctx context.Context, fr *pqarrow.FileReader) error {
	conv := make([]valueConv, l.nfields)
	for _, c := range l.cols {
		if c.field >= 0 && c.col.Kind == datasets.Month {
			conv[c.field].month = true
		}
	}
	line := 1
	// Row group by row group, so that a corrupt page is reported with its
	// row group; the Parquet reader panics on some corrupt pages (snappy,
	// thrift), which recover turns into a file error.
	for g := 0; g < fr.ParquetReader().NumRowGroups(); g++ {
		if err := l.loadRowGroup(ctx, fr, g, conv, &line); err != nil {
			return err
		}
	}
	return nil
}

func (l *tableLoader) loadRowGroup(ctx context.Context, fr *pqarrow.FileReader, g int, conv []valueConv, line *int) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = corrupt(l.file, fmt.Sprintf("row group %d (after line %d)", g, *line), r)
		}
	}()
	rdr, err := fr.GetRecordReader(ctx, nil, []int{g})
	if err != nil {
		return &FileError{File: l.file, Err: fault.Wrap(fault.BadInput, fmt.Errorf("row group %d: %w", g, err))}
	}
	defer rdr.Release()
	rr := &rowReader{}
	for rdr.Next() {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		rec := rdr.RecordBatch()
		cols := rec.Columns()
		if len(cols) != l.nfields {
			return &FileError{File: l.file, Err: fmt.Errorf("row group %d has %d columns, the schema %d", g, len(cols), l.nfields)}
		}
		for i := 0; i < int(rec.NumRows()); i++ {
			*line++
			rr.start, rr.line = *line, *line
			rr.buf, rr.ends, rr.raw = rr.buf[:0], rr.ends[:0], rr.raw[:0]
			for j, a := range cols {
				n0 := len(rr.buf)
				if !a.IsNull(i) {
					rr.buf, err = conv[j].appendValue(rr.buf, a, i)
					if err != nil {
						return &FileError{File: l.file, Column: l.header[j], Err: fault.Wrap(fault.BadInput, err)}
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
		return &FileError{File: l.file, Err: fault.Wrap(fault.BadInput, fmt.Errorf("row group %d: %w", g, err))}
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

// valueConv converts the values of one Parquet column to text.
type valueConv struct {
	month bool           // the column is a Month of the standard
	zone  *time.Location // the time zone of a timestamp column, once looked up
}

// appendValue appends the text form of a[i], exactly: integers and
// decimals digit for digit, floats by their shortest exact decimal, dates
// as calendar dates, a timestamp with a zone as its date in that zone and
// a timestamp without one as its wall-clock date.
func (vc *valueConv) appendValue(b []byte, a arrow.Array, i int) ([]byte, error) {
	switch a := a.(type) {
	case *array.String:
		return append(b, a.Value(i)...), nil
	case *array.LargeString:
		return append(b, a.Value(i)...), nil
	case *array.Binary:
		return append(b, a.Value(i)...), nil
	case *array.Dictionary:
		return vc.appendValue(b, a.Dictionary(), a.GetValueIndex(i))
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
	case *array.Decimal32:
		return appendDecimal(b, big.NewInt(int64(a.Value(i))), a.DataType().(arrow.DecimalType).GetScale()), nil
	case *array.Decimal64:
		return appendDecimal(b, big.NewInt(int64(a.Value(i))), a.DataType().(arrow.DecimalType).GetScale()), nil
	case *array.Decimal128:
		return appendDecimal(b, a.Value(i).BigInt(), a.DataType().(arrow.DecimalType).GetScale()), nil
	case *array.Decimal256:
		return appendDecimal(b, a.Value(i).BigInt(), a.DataType().(arrow.DecimalType).GetScale()), nil
	case *array.Boolean:
		return strconv.AppendBool(b, a.Value(i)), nil
	case *array.Date32:
		return appendDate(b, int64(a.Value(i)), vc.month), nil
	case *array.Date64:
		return appendDate(b, floorDiv(int64(a.Value(i)), 86400000), vc.month), nil
	case *array.Timestamp:
		return vc.appendTimestamp(b, a, i)
	}
	return b, fmt.Errorf("unsupported Parquet type %s (want a string, number, decimal, boolean, date or timestamp)", a.DataType())
}

// appendTimestamp appends the calendar date of a timestamp: in its zone
// when it has one (UTC read as China Standard Time: readZone), else its
// wall-clock date.
func (vc *valueConv) appendTimestamp(b []byte, a *array.Timestamp, i int) ([]byte, error) {
	tt := a.DataType().(*arrow.TimestampType)
	per := map[arrow.TimeUnit]int64{arrow.Second: 1, arrow.Millisecond: 1e3, arrow.Microsecond: 1e6, arrow.Nanosecond: 1e9}[tt.Unit]
	if per == 0 {
		return b, fmt.Errorf("timestamp with unknown unit %v", tt.Unit)
	}
	v := int64(a.Value(i))
	sec := floorDiv(v, per)
	if tt.TimeZone != "" {
		if vc.zone == nil {
			loc, err := zoneOf(readZone(tt.TimeZone))
			if err != nil {
				return b, err
			}
			vc.zone = loc
		}
		_, off := time.Unix(sec, 0).In(vc.zone).Zone()
		sec += int64(off)
	}
	return appendDate(b, floorDiv(sec, 86400), vc.month), nil
}

// readZone is the zone in which the date of a timestamp of zone tz is
// read. A timestamp adjusted to UTC (Parquet's isAdjustedToUTC, "UTC" to
// Arrow) is an instant whose zone the file did not keep: DuckDB, Spark and
// Hive write every TIMESTAMPTZ that way, so a registration at local
// midnight in Beijing arrives as 16:00 UTC the day before. Its date is
// read in China Standard Time, the zone of the data standard's dates: a
// timestamp at midnight UTC keeps its date, one at local midnight in
// China gets its own (issue 11, case 7, as written by DuckDB). A named
// zone or offset is kept.
func readZone(tz string) string {
	switch tz {
	case "UTC", "Etc/UTC", "Z", "+00:00", "+0000", "GMT":
		return "Asia/Shanghai"
	}
	return tz
}

// zoneOf looks up a timestamp's zone: an IANA name (Asia/Shanghai, UTC) or
// a fixed offset (+08:00, -0500).
func zoneOf(tz string) (*time.Location, error) {
	if t, err := time.Parse("-07:00", tz); err == nil {
		return t.Location(), nil
	}
	if t, err := time.Parse("-0700", tz); err == nil {
		return t.Location(), nil
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, fmt.Errorf("timestamp time zone %q unknown (want an IANA name such as Asia/Shanghai, or +08:00)", tz)
	}
	return loc, nil
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// appendDecimal appends the unscaled value n with scale digits after the
// point, exactly (no float on the way).
func appendDecimal(b []byte, n *big.Int, scale int32) []byte {
	if n.Sign() < 0 {
		b = append(b, '-')
		n = new(big.Int).Neg(n)
	}
	s := n.String()
	if scale <= 0 {
		b = append(b, s...)
		for ; scale < 0; scale++ {
			b = append(b, '0')
		}
		return b
	}
	for len(s) <= int(scale) {
		s = "0" + s
	}
	k := len(s) - int(scale)
	return append(append(append(b, s[:k]...), '.'), s[k:]...)
}
