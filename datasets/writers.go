package datasets

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/povrisk/povrisk/engine/atomicfile"
	"github.com/povrisk/povrisk/engine/pqfile"
)

// tableWriter writes one table file of the drop.
type tableWriter interface {
	write(res *chunkResult, table int) error
	close() error
	abort() // close and remove after a failure
	path() string
}

// Encodings of a drop written with Encoding "gb18030": these tables (the
// ones with Chinese text: names of persons and places) are
// GB18030, bomTable is UTF-8 with a byte-order mark, the others plain UTF-8.
var gbTables = map[string]bool{"households": true, "persons": true, "regions": true}

const bomTable = "income_records"

func newTableWriter(o GenerateOptions, t Table, ti int) (tableWriter, error) {
	if o.Format == "parquet" {
		return newParquetWriter(filepath.Join(o.Out, t.Name+".parquet"), t)
	}
	p := filepath.Join(o.Out, t.Name+"."+o.Format)
	f, err := os.Create(p)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", p, err)
	}
	cw := &csvWriter{p: p, f: f}
	cw.bw = bufio.NewWriterSize(f, 1<<20)
	cw.w = cw.bw
	if o.Format == "csv.gz" {
		// BestSpeed: drops are large and read once.
		cw.gz, _ = gzip.NewWriterLevel(cw.bw, gzip.BestSpeed)
		cw.w = cw.gz
	}
	if o.Encoding == "gb18030" && t.Name == bomTable {
		io.WriteString(cw.w, "\ufeff")
	}
	header := []byte{}
	for i, c := range fileColumns(t) {
		if i > 0 {
			header = append(header, ',')
		}
		header = append(header, c...)
	}
	header = append(header, '\n')
	if _, err := cw.w.Write(header); err != nil {
		cw.abort()
		return nil, fmt.Errorf("write %s: %w", p, err)
	}
	return cw, nil
}

// encodeChunk turns a chunk's rows into CSV bytes in the table's encoding
// (on the worker, so that writing stays cheap). Parquet keeps the fields.
func encodeChunk(o GenerateOptions, res *chunkResult) error {
	if o.Format == "parquet" {
		return nil
	}
	res.csv = make([][]byte, nTables)
	for i, b := range res.bufs {
		data := b.appendCSV(nil)
		if o.Encoding == "gb18030" && gbTables[standard[i].Name] {
			enc, err := simplifiedchinese.GB18030.NewEncoder().Bytes(data)
			if err != nil {
				return fmt.Errorf("encode %s in GB18030: %w", standard[i].Name, err)
			}
			data = enc
		}
		res.csv[i] = data
	}
	return nil
}

type csvWriter struct {
	p  string
	f  *os.File
	bw *bufio.Writer
	gz *gzip.Writer
	w  io.Writer
}

func (c *csvWriter) path() string { return c.p }

func (c *csvWriter) write(res *chunkResult, ti int) error {
	_, err := c.w.Write(res.csv[ti])
	return err
}

func (c *csvWriter) close() error {
	if c.gz != nil {
		if err := c.gz.Close(); err != nil {
			c.f.Close()
			return err
		}
	}
	if err := c.bw.Flush(); err != nil {
		c.f.Close()
		return err
	}
	return c.f.Close()
}

func (c *csvWriter) abort() {
	c.f.Close()
	os.Remove(c.p)
}

// parquetSchema is the schema of a table as the simulator writes it: the
// standard's columns under their own names and Arrow types (id_number in
// clear: the ingest hashes it; months as date32 of their first day), then
// the extra columns as strings.
func parquetSchema(t Table) *arrow.Schema {
	var fields []arrow.Field
	for _, c := range t.Columns {
		fields = append(fields, arrow.Field{Name: c.Name, Type: c.ArrowType(), Nullable: c.Nullable})
	}
	for _, e := range extraColumns[t.Name] {
		fields = append(fields, arrow.Field{Name: e, Type: arrow.BinaryTypes.String, Nullable: true})
	}
	return arrow.NewSchema(fields, nil)
}

type parquetWriter struct {
	p     string
	f     *os.File
	t     Table
	kinds []Kind
	fw    *pqarrow.FileWriter
	rb    *array.RecordBuilder
	n     int
}

// parquetRowGroup is the simulator's row group: larger than pqfile's
// default, because drops are large, written once and read whole.
const parquetRowGroup = 1 << 17

// parquetNoDict are the columns written without a dictionary: each table's
// unique key and the personal identifiers, whose values do not repeat.
var parquetNoDict = []string{"claim_id", "id_number", "phone"}

// parquetSettings are the drop's Parquet settings (engine/pqfile): the
// dictionary of a table's one-column unique key is skipped too.
func parquetSettings(t Table) pqfile.Settings {
	noDict := parquetNoDict
	if len(t.Key) == 1 && t.Key[0] != "claim_id" {
		noDict = append(slices.Clone(noDict), t.Key[0])
	}
	return pqfile.Settings{CreatedBy: "povrisk datasets", RowGroup: parquetRowGroup, NoDict: noDict}
}

func newParquetWriter(p string, t Table) (*parquetWriter, error) {
	f, err := os.Create(p)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", p, err)
	}
	schema := parquetSchema(t)
	fw, err := pqarrow.NewFileWriter(schema, f, pqfile.Props(schema, parquetSettings(t)), pqfile.ArrowProps())
	if err != nil {
		f.Close()
		os.Remove(p)
		return nil, fmt.Errorf("open parquet writer for %s: %w", p, err)
	}
	pw := &parquetWriter{p: p, f: f, t: t, fw: fw, rb: array.NewRecordBuilder(memory.DefaultAllocator, schema)}
	for _, c := range t.Columns {
		pw.kinds = append(pw.kinds, c.Kind)
	}
	for range extraColumns[t.Name] {
		pw.kinds = append(pw.kinds, String)
	}
	return pw, nil
}

func (pw *parquetWriter) path() string { return pw.p }

func (pw *parquetWriter) write(res *chunkResult, ti int) error {
	b := res.bufs[ti]
	rows := b.rows()
	for r := 0; r < rows; r++ {
		for c, k := range pw.kinds {
			f := b.field(r, c)
			fb := pw.rb.Field(c)
			if len(f) == 0 && (c >= len(pw.t.Columns) || pw.t.Columns[c].Nullable) {
				fb.AppendNull()
				continue
			}
			switch k {
			case Date:
				d, err := parseISODate(f)
				if err != nil {
					return err
				}
				fb.(*array.Date32Builder).Append(arrow.Date32(d))
			case Month:
				d, err := parseISODate(append(f[:len(f):len(f)], "-01"...))
				if err != nil {
					return err
				}
				fb.(*array.Date32Builder).Append(arrow.Date32(d))
			case Money:
				v, err := strconv.ParseFloat(string(f), 64)
				if err != nil {
					return err
				}
				fb.(*array.Float64Builder).Append(v)
			case Int:
				v, err := strconv.Atoi(string(f))
				if err != nil {
					return err
				}
				fb.(*array.Int32Builder).Append(int32(v))
			case Bool:
				fb.(*array.BooleanBuilder).Append(string(f) == "true")
			default:
				fb.(*array.StringBuilder).Append(string(f))
			}
		}
		pw.n++
		if pw.n == parquetRowGroup {
			if err := pw.flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

func (pw *parquetWriter) flush() error {
	if pw.n == 0 {
		return nil
	}
	rec := pw.rb.NewRecordBatch()
	defer rec.Release()
	pw.n = 0
	return pw.fw.Write(rec)
}

func (pw *parquetWriter) close() error {
	if err := pw.flush(); err != nil {
		pw.fw.Close()
		return err
	}
	pw.rb.Release()
	return pw.fw.Close() // closes the file
}

func (pw *parquetWriter) abort() {
	pw.fw.Close()
	os.Remove(pw.p)
}

// parseISODate parses YYYY-MM-DD as written by the simulator.
func parseISODate(f []byte) (day, error) {
	if len(f) != 10 || f[4] != '-' || f[7] != '-' {
		return 0, fmt.Errorf("datasets: bad date %q", f)
	}
	n := func(b []byte) int {
		v := 0
		for _, c := range b {
			v = v*10 + int(c-'0')
		}
		return v
	}
	return dayOf(n(f[0:4]), n(f[5:7]), n(f[8:10])), nil
}

// truthWriter writes the ground truth: one part file per as-of date while
// the chunks arrive, joined at the end so that rows are sorted by as_of
// then household_id.
type truthWriter struct {
	p     string
	cal   calendar
	asOf  []string
	parts []*os.File
	bws   []*bufio.Writer
}

func newTruthWriter(p string, cal calendar) (*truthWriter, error) {
	if dir := filepath.Dir(p); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("create truth directory: %w", err)
		}
	}
	tw := &truthWriter{p: p, cal: cal}
	for k := 0; k < 7; k++ {
		tw.asOf = append(tw.asOf, string(appendDate(nil, cal.last(cal.months-7+k))))
		f, err := os.CreateTemp(filepath.Dir(p), filepath.Base(p)+".part*")
		if err != nil {
			tw.cleanup()
			return nil, fmt.Errorf("create truth part: %w", err)
		}
		tw.parts = append(tw.parts, f)
		tw.bws = append(tw.bws, bufio.NewWriterSize(f, 1<<18))
	}
	return tw, nil
}

func (tw *truthWriter) write(res *chunkResult) error {
	var line []byte
	for k, ps := range res.truth {
		bw := tw.bws[k]
		for i, p := range ps {
			line = append(line[:0], householdID(res.lo+i)...)
			line = append(line, ',')
			line = append(line, tw.asOf[k]...)
			line = append(line, ',')
			line = strconv.AppendFloat(line, p, 'f', 6, 64)
			line = append(line, '\n')
			if _, err := bw.Write(line); err != nil {
				return fmt.Errorf("write truth: %w", err)
			}
		}
	}
	return nil
}

func (tw *truthWriter) finish() error {
	for k := range tw.parts {
		if err := tw.bws[k].Flush(); err != nil {
			return fmt.Errorf("write truth part: %w", err)
		}
	}
	return atomicfile.Write(tw.p, 0o644, func(w io.Writer) error {
		if _, err := io.WriteString(w, "household_id,as_of,p_identified_6m\n"); err != nil {
			return err
		}
		for _, part := range tw.parts {
			if _, err := part.Seek(0, io.SeekStart); err != nil {
				return fmt.Errorf("read truth part: %w", err)
			}
			if _, err := io.Copy(w, part); err != nil {
				return fmt.Errorf("join truth parts: %w", err)
			}
		}
		return nil
	})
}

func (tw *truthWriter) cleanup() {
	for _, f := range tw.parts {
		f.Close()
		os.Remove(f.Name())
	}
	tw.parts = nil
}
