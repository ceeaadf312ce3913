package ingest

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
)

// rowReader splits RFC 4180 records from a byte stream without allocating
// per field: each record's raw text (without its line terminator) is kept in
// raw, the unquoted field bytes in buf, and field i is buf[start(i):ends[i]].
// It follows encoding/csv: "\r\n" line ends become "\n" (also inside quoted
// fields), empty lines are skipped, a quote inside an unquoted field or a
// stray character after a closing quote is an error (ErrQuote).
type rowReader struct {
	r    *bufio.Reader
	line int // physical lines consumed so far
	// per record
	start int    // physical line where the record starts
	raw   []byte // the record's text as read, line ends normalised to \n
	buf   []byte // field contents
	ends  []int  // end offset of each field in buf
	// sep is 1 when buf is raw itself (a line without quotes: the fields
	// are separated by one comma), 0 when the fields were copied into buf.
	sep    int
	own    []byte // the buffer raw uses when it does not point into r
	ownBuf []byte // the buffer buf uses when it is not raw
}

func newRowReader(r io.Reader) *rowReader {
	br, ok := r.(*bufio.Reader)
	if !ok || br.Size() < 1<<16 {
		br = bufio.NewReaderSize(r, 1<<20)
	}
	return &rowReader{r: br}
}

// field returns field i of the current record.
func (rr *rowReader) field(i int) []byte {
	s := 0
	if i > 0 {
		s = rr.ends[i-1] + rr.sep
	}
	return rr.buf[s:rr.ends[i]]
}

func (rr *rowReader) numFields() int { return len(rr.ends) }

// readLine appends the next physical line to raw, without its terminator
// ("\n" or "\r\n"). It returns io.EOF when nothing is left.
func (rr *rowReader) readLine() (bool, error) {
	chunk, err := rr.r.ReadSlice('\n')
	return rr.finishLine(chunk, err)
}

// finishLine is readLine with the first chunk already read.
func (rr *rowReader) finishLine(chunk []byte, err error) (bool, error) {
	n0 := len(rr.raw)
	for {
		rr.raw = append(rr.raw, chunk...)
		if len(rr.raw) > maxRecord {
			rr.line++
			return false, errTooLong
		}
		if err == bufio.ErrBufferFull {
			chunk, err = rr.r.ReadSlice('\n')
			continue
		}
		if len(rr.raw) == n0 && err == io.EOF {
			return false, io.EOF
		}
		if err != nil && err != io.EOF {
			return false, err
		}
		rr.line++
		hadNL := false
		if n := len(rr.raw); n > n0 && rr.raw[n-1] == '\n' {
			rr.raw = rr.raw[:n-1]
			hadNL = true
			if n := len(rr.raw); n > n0 && rr.raw[n-1] == '\r' {
				rr.raw = rr.raw[:n-1]
			}
		} else if n := len(rr.raw); n > n0 && rr.raw[n-1] == '\r' {
			// encoding/csv also drops a trailing \r at the end of the input.
			rr.raw = rr.raw[:n-1]
		}
		return hadNL, nil
	}
}

// next reads the next record. At the end of the input it returns io.EOF. A
// malformed record returns an error wrapping ErrQuote; the reader then
// continues with the following line.
func (rr *rowReader) next() error {
	for {
		chunk, err := rr.r.ReadSlice('\n')
		if err != nil {
			return rr.nextQuoted(chunk, err)
		}
		line := chunk[:len(chunk)-1]
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
		// One pass finds the commas, or a quote, eight bytes at a time
		// (fields are short: a search call per field costs more).
		ends, quoted := splitCommas(line, rr.ends[:0])
		if quoted {
			rr.ends = ends[:0]
			return rr.nextQuoted(chunk, nil)
		}
		// A whole line without quotes: its fields are split in place, in
		// the reader's buffer (valid until the next call), without copying.
		rr.line++
		if len(line) == 0 {
			rr.ends = ends
			continue
		}
		rr.start = rr.line
		rr.raw, rr.buf, rr.sep = line, line, 1
		rr.ends = append(ends, len(line))
		return nil
	}
}

// nextQuoted reads a record that starts with chunk (as returned with err by
// ReadSlice): a line with quotes, longer than the buffer or at the end of
// the input. Its text is copied into raw and its fields into buf.
func (rr *rowReader) nextQuoted(chunk []byte, err error) error {
	rr.raw, rr.buf, rr.sep = rr.own[:0], rr.ownBuf[:0], 0
	defer func() { rr.own, rr.ownBuf = rr.raw[:0], rr.buf[:0] }()
	if _, err := rr.finishLine(chunk, err); err != nil {
		return err
	}
	for len(rr.raw) == 0 {
		if _, err := rr.readLine(); err != nil {
			return err
		}
	}
	rr.start = rr.line
	rr.ends = rr.ends[:0]
	pos := 0
	for {
		// At the start of a field.
		if pos < len(rr.raw) && rr.raw[pos] == '"' {
			pos++
			for {
				i := bytes.IndexByte(rr.raw[pos:], '"')
				if i < 0 {
					// The quoted field goes on on the next line.
					rr.buf = append(rr.buf, rr.raw[pos:]...)
					rr.buf = append(rr.buf, '\n')
					rr.raw = append(rr.raw, '\n')
					pos = len(rr.raw)
					if _, err := rr.readLine(); err != nil {
						if err == io.EOF {
							// encoding/csv: extraneous or missing " in quoted-field
							rr.raw = rr.raw[:len(rr.raw)-1]
							return errUnterminated
						}
						return err
					}
					continue
				}
				rr.buf = append(rr.buf, rr.raw[pos:pos+i]...)
				pos += i + 1
				if pos < len(rr.raw) && rr.raw[pos] == '"' {
					rr.buf = append(rr.buf, '"')
					pos++
					continue
				}
				break
			}
			rr.ends = append(rr.ends, len(rr.buf))
			if pos == len(rr.raw) {
				return nil
			}
			if rr.raw[pos] != ',' {
				return errAfterQuote
			}
			pos++
			continue
		}
		i := bytes.IndexByte(rr.raw[pos:], ',')
		end := len(rr.raw)
		if i >= 0 {
			end = pos + i
		}
		f := rr.raw[pos:end]
		if bytes.IndexByte(f, '"') >= 0 {
			return errBareQuote
		}
		rr.buf = append(rr.buf, f...)
		rr.ends = append(rr.ends, len(rr.buf))
		if i < 0 {
			return nil
		}
		pos = end + 1
	}
}

// maxRecord bounds the text of one record (its lines with their quoted
// line breaks), so that a line without end (a gzip bomb of one line, a
// quote left open at the top of a large file) fails the file instead of
// exhausting memory. No record of the standard comes near it.
const maxRecord = 64 << 20

// errTooLong is a whole-file error: where the record ends is not known.
var errTooLong = fmt.Errorf("record longer than %d MiB: not a table of the data standard (a quote left open, or a file without line ends?)", maxRecord>>20)

var (
	errUnterminated = wrapQuote("quoted field not closed before the end of the file")
	errAfterQuote   = wrapQuote(`character after a closing quote (a " inside a quoted field must be doubled)`)
	errBareQuote    = wrapQuote(`" in an unquoted field`)
)

type quoteError string

func wrapQuote(s string) error       { return quoteError(s) }
func (e quoteError) Error() string   { return string(e) }
func (e quoteError) Unwrap() error   { return ErrQuote }
func (e quoteError) Is(t error) bool { return errors.Is(ErrQuote, t) }

// splitCommas appends the offsets of line's commas to ends; quoted is
// true (and ends incomplete) when line holds a double quote. Eight bytes
// are tested at a time: byteEq marks the bytes equal to ',' or '"'.
func splitCommas(line []byte, ends []int) (_ []int, quoted bool) {
	const commas, quotes = ',' * ones8, '"' * ones8
	i := 0
	for ; i+8 <= len(line); i += 8 {
		x := binary.LittleEndian.Uint64(line[i:])
		if byteEq(x, quotes) != 0 {
			return ends, true
		}
		for m := byteEq(x, commas); m != 0; m &= m - 1 {
			ends = append(ends, i+bits.TrailingZeros64(m)>>3)
		}
	}
	for ; i < len(line); i++ {
		switch line[i] {
		case ',':
			ends = append(ends, i)
		case '"':
			return ends, true
		}
	}
	return ends, false
}

const (
	ones8 = 0x0101010101010101
	low7  = 0x7f7f7f7f7f7f7f7f
)

// byteEq returns 0x80 in each byte of x equal to the byte repeated in
// pat (pat = b * ones8), 0 in the others: exact, no carry crosses bytes.
func byteEq(x, pat uint64) uint64 {
	t := x ^ pat
	return ^((t&low7 + low7) | t | low7)
}
