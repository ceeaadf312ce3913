package rundir

import (
	"bytes"
	"encoding/csv"
	"math"
	"strconv"
	"testing"
)

// csvLinesSeeds are fields that exercise every quoting rule of
// encoding/csv and every formula start of Cell.
func csvLinesSeeds() []string {
	return []string{"", "a", `\.`, `'\.`, " lead", "\tx", "\u3000全角空格", "a,b", `say "hi"`, "\"", "line\nbreak", "cr\rx",
		"=1+2", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "＝1", "﹣1", "中文,逗号", "trail ", "\u00a0nbsp", "\xff\xfe"}
}

// csvReference is the line encoding/csv writes for the text cells fields
// (through Cell), then v as FormatFloat, n and b.
func csvReference(t testing.TB, fields []string, v float64, n int64, b bool) []byte {
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	rec := []string{}
	for _, f := range fields {
		rec = append(rec, Cell(f), f)
	}
	rec = append(rec, FormatFloat(v), strconv.FormatInt(n, 10), strconv.FormatBool(b))
	if err := cw.Write(rec); err != nil {
		t.Fatal(err)
	}
	cw.Flush()
	return buf.Bytes()
}

func csvLinesOf(t testing.TB, fields []string, v float64, n int64, b bool) []byte {
	var buf bytes.Buffer
	c := newCSVLines(&buf)
	for _, f := range fields {
		c.text(f)
		c.raw(f)
	}
	c.float(v)
	c.int(n)
	c.bool(b)
	c.end()
	if err := c.flush(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestCSVLinesMatchEncodingCSV: every seed field, alone and all on one
// line, gives the bytes encoding/csv gives.
func TestCSVLinesMatchEncodingCSV(t *testing.T) {
	seeds := csvLinesSeeds()
	for _, s := range seeds {
		want := csvReference(t, []string{s}, -0.125, -7, true)
		if got := csvLinesOf(t, []string{s}, -0.125, -7, true); !bytes.Equal(got, want) {
			t.Errorf("field %q: got %q, want %q", s, got, want)
		}
	}
	want := csvReference(t, seeds, math.NaN(), 0, false)
	if got := csvLinesOf(t, seeds, math.NaN(), 0, false); !bytes.Equal(got, want) {
		t.Errorf("all seeds: got %q, want %q", got, want)
	}
	// A hand-worked line: the formula gets its apostrophe inside the
	// quotes, the quote is doubled, NaN is empty.
	if got, want := string(csvLinesOf(t, []string{`=a"b`}, math.NaN(), 3, true)), "\"'=a\"\"b\",\"=a\"\"b\",,3,true\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestCSVLinesBlocks: lines past the block size are written out as they
// come, and together are the same bytes.
func TestCSVLinesBlocks(t *testing.T) {
	var got, want bytes.Buffer
	c := newCSVLines(&got)
	cw := csv.NewWriter(&want)
	for i := 0; i < 50000; i++ {
		s := strconv.Itoa(i) + `,"x"` + "\n中"
		c.text(s)
		c.int(int64(i))
		c.end()
		cw.Write([]string{Cell(s), strconv.Itoa(i)})
	}
	if err := c.flush(); err != nil {
		t.Fatal(err)
	}
	cw.Flush()
	if got.Len() < 2*csvBlock || !bytes.Equal(got.Bytes(), want.Bytes()) {
		t.Fatalf("%d bytes, want the %d bytes of encoding/csv (over %d)", got.Len(), want.Len(), 2*csvBlock)
	}
}

func FuzzCSVLines(f *testing.F) {
	for _, s := range csvLinesSeeds() {
		f.Add(s, s+"x", 1.5)
	}
	f.Fuzz(func(t *testing.T, a, b string, v float64) {
		fields := []string{a, b}
		if got, want := csvLinesOf(t, fields, v, 42, false), csvReference(t, fields, v, 42, false); !bytes.Equal(got, want) {
			t.Fatalf("fields %q %q: got %q, want %q", a, b, got, want)
		}
	})
}
