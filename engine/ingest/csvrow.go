package ingest

import (
	"bufio"
	"bytes"
	"errors"
	"io"
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
		s = rr.ends[i-1]
	}
	return rr.buf[s:rr.ends[i]]
}

func (rr *rowReader) numFields() int { return len(rr.ends) }

// readLine appends the next physical line to raw, without its terminator
// ("\n" or "\r\n"). It returns io.EOF when nothing is left.
func (rr *rowReader) readLine() (bool, error) {
	n0 := len(rr.raw)
	for {
		chunk, err := rr.r.ReadSlice('\n')
		rr.raw = append(rr.raw, chunk...)
		if err == bufio.ErrBufferFull {
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
	rr.raw = rr.raw[:0]
	for {
		_, err := rr.readLine()
		if err != nil {
			return err
		}
		if len(rr.raw) > 0 {
			break
		}
	}
	rr.start = rr.line
	rr.buf = rr.buf[:0]
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
