package datasets

import (
	"math"
	"strconv"
)

// The simulator keeps the rows of a chunk of households as fields in flat
// byte buffers, one per table, so that the same rows can be written as CSV
// or Parquet and a defect can replace one field of a copied row.

// Table indexes in the order of Tables.
const (
	tHouseholds = iota
	tPersons
	tIncome
	tSocial
	tUnemployment
	tMedical
	tEducation
	tDisasters
	tAssets
	tAssistance
	tMonitoring
	tRegions      // v1.1
	tPersonEvents // v1.1
	nTables       // the tables the simulator writes: standard[:nTables] (not visit_outcomes)
)

// extraColumns are the non-standard columns that the simulator appends, as
// real exports do: the person's name and phone (clear personal data for
// privacy tests). Place names are in the regions table.
var extraColumns = map[string][]string{
	"persons": {"name", "phone"},
}

// fileColumns lists the columns of a table as written: the standard's, then
// the extras.
func fileColumns(t Table) []string {
	cols := make([]string, 0, len(t.Columns)+2)
	for _, c := range t.Columns {
		cols = append(cols, c.Name)
	}
	return append(cols, extraColumns[t.Name]...)
}

// defect is one injected defect: row index within the chunk's table buffer,
// column name and kind.
type defect struct {
	row  int
	col  string
	kind string
}

// tableBuf holds rows of one table: the fields of row r end at
// ends[r*ncol : (r+1)*ncol] in buf.
type tableBuf struct {
	ncol    int
	buf     []byte
	ends    []int32
	defects []defect
}

func (b *tableBuf) rows() int { return len(b.ends) / b.ncol }

func (b *tableBuf) reset() {
	b.buf = b.buf[:0]
	b.ends = b.ends[:0]
	b.defects = b.defects[:0]
}

func (b *tableBuf) end() *tableBuf { b.ends = append(b.ends, int32(len(b.buf))); return b }

// s appends a string field.
func (b *tableBuf) s(v string) *tableBuf { b.buf = append(b.buf, v...); return b.end() }

// null appends an empty field.
func (b *tableBuf) null() *tableBuf { return b.end() }

// money appends yuan with two decimals.
func (b *tableBuf) money(v float64) *tableBuf {
	v = math.Round(v*100) / 100
	if v == 0 {
		v = 0 // no "-0.00"
	}
	b.buf = strconv.AppendFloat(b.buf, v, 'f', 2, 64)
	return b.end()
}

func (b *tableBuf) int(v int) *tableBuf {
	b.buf = strconv.AppendInt(b.buf, int64(v), 10)
	return b.end()
}

func (b *tableBuf) bool(v bool) *tableBuf {
	if v {
		b.buf = append(b.buf, "true"...)
	} else {
		b.buf = append(b.buf, "false"...)
	}
	return b.end()
}

func (b *tableBuf) date(d day) *tableBuf { b.buf = appendDate(b.buf, d); return b.end() }

// dateOrNull appends a date, or null for 0.
func (b *tableBuf) dateOrNull(d day) *tableBuf {
	if d == 0 {
		return b.null()
	}
	return b.date(d)
}

func (b *tableBuf) month(c calendar, i int) *tableBuf {
	b.buf = c.appendMonth(b.buf, i)
	return b.end()
}

// field returns field c of row r.
func (b *tableBuf) field(r, c int) []byte {
	i := r*b.ncol + c
	start := int32(0)
	if i > 0 {
		start = b.ends[i-1]
	}
	return b.buf[start:b.ends[i]]
}

// copyRow appends a copy of row r with fields replaced by repl (column
// index -> value; later entries win).
func (b *tableBuf) copyRow(r int, repl []fieldRepl) {
	for c := 0; c < b.ncol; c++ {
		f := b.field(r, c)
		replaced := false
		for i := len(repl) - 1; i >= 0; i-- {
			if repl[i].col == c {
				b.buf = append(b.buf, repl[i].val...)
				replaced = true
				break
			}
		}
		if !replaced {
			b.buf = append(b.buf, f...)
		}
		b.end()
	}
}

type fieldRepl struct {
	col int
	val string
}

// appendCSV appends the rows as CSV records (RFC 4180 quoting).
func (b *tableBuf) appendCSV(dst []byte) []byte {
	n := b.rows()
	for r := 0; r < n; r++ {
		for c := 0; c < b.ncol; c++ {
			if c > 0 {
				dst = append(dst, ',')
			}
			dst = appendCSVField(dst, b.field(r, c))
		}
		dst = append(dst, '\n')
	}
	return dst
}

func appendCSVField(dst, f []byte) []byte {
	quote := false
	for _, ch := range f {
		if ch == ',' || ch == '"' || ch == '\n' || ch == '\r' {
			quote = true
			break
		}
	}
	if !quote {
		return append(dst, f...)
	}
	dst = append(dst, '"')
	for _, ch := range f {
		if ch == '"' {
			dst = append(dst, '"')
		}
		dst = append(dst, ch)
	}
	return append(dst, '"')
}
