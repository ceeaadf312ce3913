package ingest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/klauspost/compress/gzip"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"
)

// detectSample is how much of a CSV file is inspected to tell UTF-8 from GB18030.
const detectSample = 1 << 20

// csvSource is an opened CSV (or CSV.gz) file, decoded to UTF-8.
type csvSource struct {
	f        *os.File
	gz       *gzip.Reader
	r        *bufio.Reader
	Encoding string // "utf-8", "utf-8-bom" or "gb18030"
}

func (s *csvSource) Close() error {
	if s.gz != nil {
		s.gz.Close()
	}
	return s.f.Close()
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// openCSV opens path, decompresses it when it ends in .gz, strips a UTF-8
// BOM and decodes GB18030 when enc says so ("gb18030", "gbk") or, with enc
// "", when the start of the file is not valid UTF-8.
func openCSV(path, enc string) (*csvSource, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	s := &csvSource{f: f}
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		s.gz, err = gzip.NewReader(bufio.NewReaderSize(f, 1<<16))
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("gunzip: %w", err)
		}
		r = s.gz
	}
	br := bufio.NewReaderSize(r, 1<<20)
	head, err := br.Peek(detectSample)
	if err != nil && err != io.EOF && !errors.Is(err, bufio.ErrBufferFull) {
		s.Close()
		return nil, err
	}
	bom := bytes.HasPrefix(head, utf8BOM)
	if bom {
		br.Discard(len(utf8BOM))
		head = head[len(utf8BOM):]
	}
	switch strings.ToLower(strings.ReplaceAll(enc, "-", "")) {
	case "":
		if bom || validPrefix(head, len(head) == detectSample-len(utf8BOM) || len(head) == detectSample) {
			s.Encoding = "utf-8"
		} else {
			s.Encoding = "gb18030"
		}
	case "utf8":
		s.Encoding = "utf-8"
	case "gb18030", "gbk", "gb2312":
		s.Encoding = "gb18030"
	default:
		s.Close()
		return nil, fmt.Errorf("unknown encoding %q (want utf-8 or gb18030)", enc)
	}
	if s.Encoding == "gb18030" {
		s.r = bufio.NewReaderSize(transform.NewReader(br, simplifiedchinese.GB18030.NewDecoder()), 1<<20)
	} else {
		s.r = br
		if bom {
			s.Encoding = "utf-8-bom"
		}
	}
	return s, nil
}

// validPrefix reports whether b is valid UTF-8, allowing a rune cut at the
// end when the sample was truncated.
func validPrefix(b []byte, truncated bool) bool {
	if truncated {
		for i := 0; i < utf8.UTFMax && len(b) > 0; i++ {
			if utf8.Valid(b) {
				return true
			}
			b = b[:len(b)-1]
		}
	}
	return utf8.Valid(b)
}
