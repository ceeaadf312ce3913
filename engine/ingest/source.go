package ingest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"unicode/utf8"

	"github.com/klauspost/compress/gzip"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"

	"github.com/povrisk/povrisk/datasets"
	"github.com/povrisk/povrisk/engine/fault"
)

// detectSample is how much of a CSV file is inspected to tell UTF-8 from GB18030.
const detectSample = 1 << 20

// csvSource is an opened CSV (or CSV.gz) file, decoded to UTF-8.
type csvSource struct {
	f        *os.File
	read     *countingReader // bytes read from the file (compressed, for .gz)
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

var (
	utf8BOM   = []byte{0xEF, 0xBB, 0xBF}
	gzipMagic = []byte{0x1f, 0x8b}
)

// openCSV opens path, decompresses it when it ends in .gz, strips a UTF-8
// BOM and decodes GB18030 when enc says so ("gb18030", "gbk") or, with enc
// "", when the start of the file is not valid UTF-8.
func openCSV(path, enc string) (*csvSource, error) {
	f, err := openNoFollow(path)
	if err != nil {
		return nil, err
	}
	s := &csvSource{f: f, read: &countingReader{r: f}}
	var r io.Reader = f
	fb := bufio.NewReaderSize(s.read, 1<<16)
	magic, _ := fb.Peek(2)
	// By the name, or by the content: a compressed file named .csv is read too.
	if strings.HasSuffix(strings.ToLower(path), ".gz") || bytes.Equal(magic, gzipMagic) {
		s.gz, err = gzip.NewReader(fb)
		if err != nil {
			f.Close()
			return nil, fault.Wrap(fault.BadInput, fmt.Errorf("gunzip: %w (a damaged or truncated .gz file?)", err))
		}
		r = gzipErrors{s.gz}
	} else {
		r = fb
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

// openNoFollow opens a drop file for reading, refusing a symbolic link
// (findFiles refuses them already; this closes the window in which one
// could be swapped in) and anything but a regular file (a FIFO would block).
func openNoFollow(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			return nil, fault.Wrap(fault.BadInput, fmt.Errorf("%s is a symbolic link: copy the file into the drop", path))
		}
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, fault.Wrap(fault.BadInput, fmt.Errorf("%s is not a regular file", path))
	}
	return f, nil
}

var formats = []string{"csv", "csv.gz", "parquet"}

// findFiles lists the drop's table files. File names are matched without
// regard to case (income_records.CSV is income_records' file); two files
// for one table is an error. A symbolic link among the table files is an
// error naming it, wherever it points: a drop holds its own files (a link
// out of the drop would let a drop read any file of the machine, and a
// link inside it is refused too, so that the rule is one). A directory or
// other non-regular file under a table's name is an error too.
func findFiles(dir string) (files []*dropFile, missing, unknown []string, err error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("read drop %s: %w", dir, err)
	}
	type hit struct{ name, format string }
	byTable := map[string][]hit{}
	for _, e := range ents {
		name := e.Name()
		table, format, ok := tableFileName(name)
		if !ok {
			if !strings.HasPrefix(name, ".") {
				unknown = append(unknown, name)
			}
			continue
		}
		path := filepath.Join(dir, name)
		st, err := os.Lstat(path)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("drop %s: %w", dir, err)
		}
		switch {
		case st.Mode()&os.ModeSymlink != 0:
			target, _ := os.Readlink(path)
			return nil, nil, nil, fault.Wrap(fault.BadInput, fmt.Errorf("drop %s: %s is a symbolic link (to %s); a drop must hold its own files: copy the file into the drop", dir, name, target))
		case !st.Mode().IsRegular():
			return nil, nil, nil, fault.Wrap(fault.BadInput, fmt.Errorf("drop %s: %s is not a regular file", dir, name))
		}
		byTable[table] = append(byTable[table], hit{name, format})
	}
	for _, t := range datasets.Tables() {
		hits := byTable[t.Name]
		switch len(hits) {
		case 0:
			missing = append(missing, t.Name)
		case 1:
			files = append(files, &dropFile{table: t, path: filepath.Join(dir, hits[0].name), format: hits[0].format})
		default:
			return nil, nil, nil, fault.Wrap(fault.BadInput, fmt.Errorf("drop %s: both %s and %s for table %s; keep one", dir, hits[0].name, hits[1].name, t.Name))
		}
	}
	return files, missing, unknown, nil
}

// tableFileName splits a drop file name into its table and format
// (csv, csv.gz, parquet), ignoring case.
func tableFileName(name string) (table, format string, ok bool) {
	low := strings.ToLower(name)
	for _, f := range formats {
		if t, cut := strings.CutSuffix(low, "."+f); cut {
			if _, known := datasets.Lookup(t); known {
				return t, f, true
			}
		}
	}
	return "", "", false
}

// gzipErrors marks the errors of decompression (truncated or damaged data)
// as bad input.
type gzipErrors struct{ r io.Reader }

func (g gzipErrors) Read(p []byte) (int, error) {
	n, err := g.r.Read(p)
	if err != nil && err != io.EOF {
		err = fault.Wrap(fault.BadInput, fmt.Errorf("damaged or truncated gzip data: %w", err))
	}
	return n, err
}

// countingReader counts the bytes read through it; the loader's goroutine
// reads while the progress callback reads the count.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// consumed is how many bytes of the file were read so far.
func (s *csvSource) consumed() int64 { return s.read.n.Load() }
