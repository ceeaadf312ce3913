package ingest

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
)

type rec struct {
	line   int
	fields []string
	err    error
}

func readAll(in string) []rec { return readAllSize(in, 0) }

// readAllSize reads with a bufio buffer of size bytes (0: the default), so
// that small sizes exercise lines longer than the buffer.
func readAllSize(in string, size int) []rec {
	rr := newRowReader(strings.NewReader(in))
	if size > 0 {
		rr = &rowReader{r: bufio.NewReaderSize(strings.NewReader(in), size)}
	}
	var out []rec
	for {
		err := rr.next()
		if err == io.EOF {
			return out
		}
		r := rec{line: rr.start, err: err}
		if err == nil {
			for i := 0; i < rr.numFields(); i++ {
				r.fields = append(r.fields, string(rr.field(i)))
			}
		}
		out = append(out, r)
		if err != nil && !errors.Is(err, ErrQuote) {
			return out
		}
	}
}

func TestRowReader(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []rec
	}{
		{"simple", "a,b\n1,2\n", []rec{{1, []string{"a", "b"}, nil}, {2, []string{"1", "2"}, nil}}},
		{"no final newline", "a,b\n1,2", []rec{{1, []string{"a", "b"}, nil}, {2, []string{"1", "2"}, nil}}},
		{"crlf", "a,b\r\n1,2\r\n", []rec{{1, []string{"a", "b"}, nil}, {2, []string{"1", "2"}, nil}}},
		{"empty fields", ",,\n", []rec{{1, []string{"", "", ""}, nil}}},
		{"quoted comma", `"a,b",c` + "\n", []rec{{1, []string{"a,b", "c"}, nil}}},
		{"doubled quote", `"say ""hi""",x` + "\n", []rec{{1, []string{`say "hi"`, "x"}, nil}}},
		{"empty quoted", `"",x` + "\n", []rec{{1, []string{"", "x"}, nil}}},
		{"multi-line field", "h\n\"a\nb\",c\nd\n", []rec{{1, []string{"h"}, nil}, {2, []string{"a\nb", "c"}, nil}, {4, []string{"d"}, nil}}},
		{"crlf inside quotes", "\"a\r\nb\"\r\n", []rec{{1, []string{"a\nb"}, nil}}},
		{"blank lines skipped", "a\n\n\nb\n", []rec{{1, []string{"a"}, nil}, {4, []string{"b"}, nil}}},
		{"utf8", "张三,是\n", []rec{{1, []string{"张三", "是"}, nil}}},
		{"bare quote", "a\"b,c\nd\n", []rec{{1, nil, ErrQuote}, {2, []string{"d"}, nil}}},
		{"text after quote", "\"a\"b,c\nd\n", []rec{{1, nil, ErrQuote}, {2, []string{"d"}, nil}}},
		{"unterminated", "x\n\"abc\n", []rec{{1, []string{"x"}, nil}, {2, nil, ErrQuote}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := readAll(tc.in)
			if len(got) != len(tc.want) {
				t.Fatalf("got %d records %+v, want %d %+v", len(got), got, len(tc.want), tc.want)
			}
			for i, w := range tc.want {
				g := got[i]
				if g.line != w.line || !errors.Is(g.err, w.err) || (w.err == nil && g.err != nil) || strings.Join(g.fields, "|") != strings.Join(w.fields, "|") || len(g.fields) != len(w.fields) {
					t.Errorf("record %d = %+v, want %+v", i, g, w)
				}
			}
		})
	}
}

// FuzzParseRow: the splitter never panics, and on input that encoding/csv
// reads without error it returns the same records.
func FuzzParseRow(f *testing.F) {
	for _, s := range []string{"a,b\n1,2\n", `"a,b",c`, "\"a\nb\",c\r\n", `"x""y",`, ",,\n\n", "a\"b", "\r\n\r", "张,\"是\"\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		got := readAll(string(in))
		// Lines longer than the buffer take the copying path: same records,
		// lines and errors.
		if small := readAllSize(string(in), 16); fmt.Sprint(small) != fmt.Sprint(got) {
			t.Fatalf("%q: with a 16-byte buffer %+v, with the default %+v", in, small, got)
		}
		cr := csv.NewReader(bytes.NewReader(in))
		cr.FieldsPerRecord = -1
		want, err := cr.ReadAll()
		if err != nil {
			return
		}
		if len(got) != len(want) {
			t.Fatalf("%q: %d records, encoding/csv %d: %+v vs %q", in, len(got), len(want), got, want)
		}
		for i := range want {
			if got[i].err != nil {
				t.Fatalf("%q: record %d: %v; encoding/csv read %q", in, i, got[i].err, want[i])
			}
			if strings.Join(got[i].fields, "\x00") != strings.Join(want[i], "\x00") || len(got[i].fields) != len(want[i]) {
				t.Fatalf("%q: record %d = %q, encoding/csv %q", in, i, got[i].fields, want[i])
			}
		}
	})
}

// TestRowReaderRandom runs the fuzz check on many random inputs made of
// the characters that matter (separators, quotes, line ends), with the
// default buffer and a 16-byte one; encoding/csv is the reference.
func TestRowReaderRandom(t *testing.T) {
	alphabet := []string{"a", "bc", ",", "\"", "\n", "\r\n", "\r", "张", "0123456789"}
	rng := rand.New(rand.NewPCG(3, 4))
	checked := 0
	for k := 0; k < 5000; k++ {
		var sb strings.Builder
		for n := rng.IntN(40); n > 0; n-- {
			sb.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		in := sb.String()
		got := readAll(in)
		if small := readAllSize(in, 16); fmt.Sprint(small) != fmt.Sprint(got) {
			t.Fatalf("%q: with a 16-byte buffer %+v, with the default %+v", in, small, got)
		}
		cr := csv.NewReader(strings.NewReader(in))
		cr.FieldsPerRecord = -1
		want, err := cr.ReadAll()
		if err != nil {
			continue
		}
		checked++
		if len(got) != len(want) {
			t.Fatalf("%q: %d records, encoding/csv %d: %+v vs %q", in, len(got), len(want), got, want)
		}
		for i := range want {
			if got[i].err != nil || fmt.Sprintf("%q", got[i].fields) != fmt.Sprintf("%q", want[i]) {
				t.Fatalf("%q: record %d = %q (%v), encoding/csv %q", in, i, got[i].fields, got[i].err, want[i])
			}
		}
	}
	if checked < 250 {
		t.Fatalf("only %d inputs were valid CSV; the generator needs fixing", checked)
	}
}

// splitNaive is the byte loop splitCommas replaces: the reference.
func splitNaive(line []byte) ([]int, bool) {
	var ends []int
	for i, c := range line {
		switch c {
		case ',':
			ends = append(ends, i)
		case '"':
			return nil, true
		}
	}
	return ends, false
}

// FuzzSplitCommas: the eight-bytes-at-a-time comma search gives the byte
// loop's commas, and finds every quote, for any bytes.
func FuzzSplitCommas(f *testing.F) {
	for _, s := range []string{"", ",", "a,b,c", "12345678,", ",1234567,", "1234567\"", "\xac,\xa2\x2c\x22", "H00000001,2024-01,1000.50,0,0,12.25,3"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		want, wq := splitNaive(line)
		got, gq := splitCommas(line, nil)
		if gq != wq || !wq && fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%q: commas %v quoted %v, byte loop %v %v", line, got, gq, want, wq)
		}
	})
}

// TestSplitCommasBytes: every byte value at every position of lines of 1
// to 17 bytes (around the 8-byte words) among commas and other bytes.
func TestSplitCommasBytes(t *testing.T) {
	for n := 1; n <= 17; n++ {
		for pos := 0; pos < n; pos++ {
			for c := 0; c < 256; c++ {
				line := make([]byte, n)
				for i := range line {
					line[i] = "a,\x80\xff\x2b\x2d"[i%6]
				}
				line[pos] = byte(c)
				want, wq := splitNaive(line)
				got, gq := splitCommas(line, nil)
				if gq != wq || !wq && fmt.Sprint(got) != fmt.Sprint(want) {
					t.Fatalf("%q: commas %v quoted %v, byte loop %v %v", line, got, gq, want, wq)
				}
			}
		}
	}
}
