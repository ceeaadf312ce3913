package rundir

import (
	"io"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// csvLines writes the lines of a CSV file byte for byte as encoding/csv's
// Writer does (comma, LF, a field quoted when it holds a quote, CR or LF
// or a comma, starts with a space, or is `\.`), without a string per
// field: the long files of the run directory (ranked.csv, elimination.csv)
// spent most of their time in per-field strings. Fields are appended to
// a buffer written out in blocks; the first write error is kept and
// returned by flush.
type csvLines struct {
	w     io.Writer
	b     []byte
	first bool // no field yet on this line
	err   error
}

const csvBlock = 256 << 10

func newCSVLines(w io.Writer) *csvLines {
	return &csvLines{w: w, b: make([]byte, 0, csvBlock+4096), first: true}
}

func (c *csvLines) sep() {
	if !c.first {
		c.b = append(c.b, ',')
	}
	c.first = false
}

// raw appends a field as it is (quoted when encoding/csv would).
func (c *csvLines) raw(s string) { c.field("", s) }

// text appends a text cell neutralised as Cell does.
func (c *csvLines) text(s string) {
	if s != "" {
		r, _ := utf8.DecodeRuneInString(s)
		if strings.ContainsRune(formulaStarts, r) {
			c.field("'", s)
			return
		}
	}
	c.field("", s)
}

// field appends the field pre+s.
func (c *csvLines) field(pre, s string) {
	c.sep()
	if !csvNeedsQuotes(pre, s) {
		c.b = append(c.b, pre...)
		c.b = append(c.b, s...)
		return
	}
	c.b = append(c.b, '"')
	c.b = append(c.b, pre...)
	for {
		i := strings.IndexByte(s, '"')
		if i < 0 {
			c.b = append(c.b, s...)
			break
		}
		c.b = append(c.b, s[:i+1]...)
		c.b = append(c.b, '"')
		s = s[i+1:]
	}
	c.b = append(c.b, '"')
}

// csvNeedsQuotes is encoding/csv's fieldNeedsQuotes for the field pre+s
// (pre is "" or "'").
func csvNeedsQuotes(pre, s string) bool {
	if pre == "" && (s == "" || s == `\.`) {
		return s != ""
	}
	if csvSpecial(s) {
		return true
	}
	if pre != "" {
		return false // "'" is not a space
	}
	r1, _ := utf8.DecodeRuneInString(s)
	return unicode.IsSpace(r1)
}

// float appends v as FormatFloat writes it (NaN: empty).
func (c *csvLines) float(v float64) {
	c.sep()
	if !math.IsNaN(v) {
		c.b = strconv.AppendFloat(c.b, v, 'f', -1, 64)
	}
}

func (c *csvLines) int(v int64) {
	c.sep()
	c.b = strconv.AppendInt(c.b, v, 10)
}

func (c *csvLines) bool(v bool) {
	c.sep()
	c.b = strconv.AppendBool(c.b, v)
}

// end ends the line.
func (c *csvLines) end() {
	c.b = append(c.b, '\n')
	c.first = true
	if len(c.b) >= csvBlock {
		c.write()
	}
}

func (c *csvLines) write() {
	if c.err == nil && len(c.b) > 0 {
		_, c.err = c.w.Write(c.b)
	}
	c.b = c.b[:0]
}

// flush writes what is buffered and returns the first write error.
func (c *csvLines) flush() error {
	c.write()
	return c.err
}

// csvSpecialBytes marks the bytes that make encoding/csv quote a field.
var csvSpecialBytes = [256]bool{'\n': true, '\r': true, '"': true, ',': true}

// csvSpecial reports whether s holds a quote, a comma, a CR or an LF:
// one table look-up per byte (the long text cells of ranked.csv are most
// of its bytes).
func csvSpecial(s string) bool {
	t := &csvSpecialBytes
	for i := 0; i < len(s); i++ {
		if t[s[i]] {
			return true
		}
	}
	return false
}
