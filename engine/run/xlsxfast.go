package run

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"io/fs"
	"math"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"
)

// A work list's large sheets (the townships' lists and 风险消除评估) are
// most of its rows, and excelize spends most of a night's work-list time
// on them: a cell at a time through its worksheet model, then
// encoding/xml's reflection over every cell. writeWorklist therefore
// builds the workbook with excelize as before but leaves out the bodies of
// those sheets, writes their rows' XML itself (fastBook.bodyRow, in
// excelize's own serialisation of a row) and splices them into the sheet
// files as excelize writes the package (spliceZip); the shared strings
// table, whose order is every string cell's first appearance, is kept
// here for every cell and written in excelize's form. The bytes are
// excelize's: TestWorklistFastBytes compares both ways on every kind of
// cell. A workbook holding a string excelize would rewrite (a "_xHHHH_"
// escape, leading or trailing white space, over 32,767 characters) or a
// value of another type is written by excelize alone (errSlowPath).

// errSlowPath says the fast path cannot promise excelize's bytes.
var errSlowPath = fmt.Errorf("work list needs excelize's own path")

// fastBook is the fast path's state of one workbook.
type fastBook struct {
	sst    []string       // shared strings, in order of first appearance
	idx    map[string]int // string -> its index in sst
	exIdx  map[string]int // excelize's own table (the cells it holds): string -> its index there
	exMap  []int          // excelize's index -> index in sst
	bodies map[string]*bytes.Buffer
	bad    bool // a value the fast path cannot write like excelize
}

func newFastBook() *fastBook {
	return &fastBook{idx: map[string]int{}, exIdx: map[string]int{}, bodies: map[string]*bytes.Buffer{}}
}

// plain reports whether excelize stores s unchanged in its shared strings
// (no bstr escape, no xml:space, no truncation).
func plain(s string) bool {
	if len(s) > excelize.TotalCellChars || strings.Contains(s, "_x") {
		return false
	}
	if s == "" {
		return true
	}
	for _, c := range []byte{9, 10, 13, 32} {
		if s[0] == c || s[len(s)-1] == c {
			return false
		}
	}
	return true
}

// str is the shared string index of s (added on first appearance).
func (b *fastBook) str(s string) int {
	if !plain(s) {
		b.bad = true
	}
	if i, ok := b.idx[s]; ok {
		return i
	}
	b.idx[s] = len(b.sst)
	b.sst = append(b.sst, s)
	return len(b.sst) - 1
}

// excelizeRow records the strings of a row that excelize itself sets, so
// that its shared string indices can be mapped to the table's.
func (b *fastBook) excelizeRow(vals []any) {
	for _, v := range vals {
		var s string
		switch v := v.(type) {
		case string:
			s = v
		case float64:
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				continue
			}
			s = fmt.Sprint(v)
		case int:
			continue
		default:
			b.bad = true
			continue
		}
		i := b.str(s)
		if _, ok := b.exIdx[s]; !ok {
			b.exIdx[s] = len(b.exMap)
			b.exMap = append(b.exMap, i)
		}
	}
}

// cellNames are the column letters of the sheets (at most 26 columns).
var cellNames = func() []string {
	var out []string
	for c := 'A'; c <= 'Z'; c++ {
		out = append(out, string(c))
	}
	return out
}()

// bodyRow appends row r of sheet (values vals, styles style(col) from 1,
// height ht) as excelize writes it.
func (b *fastBook) bodyRow(sheet string, r int, vals []any, style func(int) int, ht float64) {
	if len(vals) > len(cellNames) {
		b.bad = true
		return
	}
	buf := b.bodies[sheet]
	if buf == nil {
		buf = &bytes.Buffer{}
		b.bodies[sheet] = buf
	}
	row := strconv.Itoa(r)
	buf.WriteString(`<row r="`)
	buf.WriteString(row)
	buf.WriteString(`" ht="`)
	buf.Write(strconv.AppendFloat(buf.AvailableBuffer(), ht, 'g', -1, 64))
	buf.WriteString(`" customHeight="true">`)
	for j, v := range vals {
		buf.WriteString(`<c r="`)
		buf.WriteString(cellNames[j])
		buf.WriteString(row)
		buf.WriteByte('"')
		if s := style(j + 1); s != 0 {
			buf.WriteString(` s="`)
			buf.Write(strconv.AppendInt(buf.AvailableBuffer(), int64(s), 10))
			buf.WriteByte('"')
		}
		switch v := v.(type) {
		case int:
			buf.WriteString(`><v>`)
			buf.Write(strconv.AppendInt(buf.AvailableBuffer(), int64(v), 10))
		case float64:
			if math.IsNaN(v) || math.IsInf(v, 0) {
				b.strCell(buf, fmt.Sprint(v))
				break
			}
			buf.WriteString(`><v>`)
			buf.Write(strconv.AppendFloat(buf.AvailableBuffer(), v, 'f', -1, 64))
		case string:
			b.strCell(buf, v)
		default:
			b.bad = true
		}
		buf.WriteString(`</v></c>`)
	}
	buf.WriteString(`</row>`)
}

func (b *fastBook) strCell(buf *bytes.Buffer, s string) {
	buf.WriteString(` t="s"><v>`)
	buf.Write(strconv.AppendInt(buf.AvailableBuffer(), int64(b.str(s)), 10))
}

// sharedStrings is xl/sharedStrings.xml of the table, as excelize writes it.
func (b *fastBook) sharedStrings() []byte {
	n := 0
	for _, s := range b.sst {
		n += len(s) + 16
	}
	buf := bytes.NewBuffer(make([]byte, 0, n+256))
	fmt.Fprintf(buf, "%s<sst xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" count=\"%d\" uniqueCount=\"%d\">",
		xml.Header, len(b.sst), len(b.sst))
	for _, s := range b.sst {
		buf.WriteString("<si><t>")
		_ = xml.EscapeText(buf, []byte(s))
		buf.WriteString("</t></si>")
	}
	buf.WriteString("</sst>")
	return buf.Bytes()
}

// sheetFile is the file of a sheet excelize writes: the sheet's XML with
// excelize's shared string indices mapped to the table's and the body
// rows spliced in before </sheetData>.
func (b *fastBook) sheetFile(sheet string, x []byte) ([]byte, error) {
	body := b.bodies[sheet]
	n := len(x) + 64
	if body != nil {
		n += body.Len()
	}
	out := bytes.NewBuffer(make([]byte, 0, n))
	const mark = `t="s"><v>`
	for {
		i := bytes.Index(x, []byte(mark))
		if i < 0 {
			break
		}
		out.Write(x[:i+len(mark)])
		x = x[i+len(mark):]
		j := bytes.IndexByte(x, '<')
		k, err := strconv.Atoi(string(x[:max(j, 0)]))
		if j < 0 || err != nil || k < 0 || k >= len(b.exMap) {
			return nil, fmt.Errorf("xlsx: sheet %s: unexpected shared string reference", sheet)
		}
		out.Write(strconv.AppendInt(out.AvailableBuffer(), int64(b.exMap[k]), 10))
		x = x[j:]
	}
	if body != nil {
		i := bytes.Index(x, []byte("</sheetData>"))
		if i < 0 {
			return nil, fmt.Errorf("xlsx: sheet %s has no sheetData", sheet)
		}
		out.Write(x[:i])
		out.Write(body.Bytes())
		x = x[i:]
	}
	out.Write(x)
	return out.Bytes(), nil
}

// spliceZip is the zip writer excelize writes the package through: the
// files fix names (the sheets, the shared strings) are held until the
// next file starts, then replaced by fix's result.
type spliceZip struct {
	zw      *zip.Writer
	fix     func(name string, b []byte) ([]byte, bool, error)
	pending string
	buf     bytes.Buffer
	err     error
}

func (z *spliceZip) flush() error {
	if z.pending == "" || z.err != nil {
		return z.err
	}
	name := z.pending
	z.pending = ""
	b, _, err := z.fix(name, z.buf.Bytes())
	if err != nil {
		z.err = err
		return err
	}
	w, err := z.zw.Create(name)
	if err == nil {
		_, err = w.Write(b)
	}
	z.buf.Reset()
	z.err = err
	return err
}

func (z *spliceZip) Create(name string) (io.Writer, error) {
	if err := z.flush(); err != nil {
		return nil, err
	}
	if _, ok, _ := z.fix(name, nil); ok {
		z.pending = name
		return &z.buf, nil
	}
	return z.zw.Create(name)
}

func (z *spliceZip) AddFS(fsys fs.FS) error {
	if err := z.flush(); err != nil {
		return err
	}
	return z.zw.AddFS(fsys)
}

func (z *spliceZip) Close() error {
	err := z.flush()
	if cerr := z.zw.Close(); err == nil {
		err = cerr
	}
	return err
}

// zipWriter is the excelize zip writer of the workbook whose sheets are
// order (sheet k is xl/worksheets/sheet<k+1>.xml).
func (b *fastBook) zipWriter(order []string) func(io.Writer) excelize.ZipWriter {
	files := map[string]string{}
	for k, s := range order {
		files[fmt.Sprintf("xl/worksheets/sheet%d.xml", k+1)] = s
	}
	fix := func(name string, x []byte) ([]byte, bool, error) {
		if name == "xl/sharedStrings.xml" {
			if x == nil {
				return nil, true, nil
			}
			return b.sharedStrings(), true, nil
		}
		sheet, ok := files[name]
		if !ok {
			return x, false, nil
		}
		if x == nil {
			return nil, true, nil
		}
		out, err := b.sheetFile(sheet, x)
		return out, true, err
	}
	return func(w io.Writer) excelize.ZipWriter { return &spliceZip{zw: zip.NewWriter(w), fix: fix} }
}
