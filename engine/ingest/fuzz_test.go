package ingest

import (
	"bytes"
	"path/filepath"
	"strconv"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/povrisk/povrisk/datasets"
)

// longDigits reports whether s holds a run of 14 or more digits.
func longDigits(s string) bool {
	run := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			run++
			if run >= 14 {
				return true
			}
		} else {
			run = 0
		}
	}
	return false
}

// FuzzCSVSource: whole CSV files (plain or gzip, any encoding setting) are
// read without panic; read = accepted + rejected (checked by loadOne); no
// long digit run (an ID number, an account) reaches the reject file.
func FuzzCSVSource(f *testing.F) {
	gb, _ := simplifiedchinese.GB18030.NewEncoder().Bytes([]byte(hhHeader + "H1,520123102201,escaped,2019,,2015-03-01,是,否\n"))
	for _, s := range [][]byte{
		[]byte(hhRows(3)),
		[]byte("\xEF\xBB\xBF" + hhRows(2)),
		gb,
		[]byte(hhHeader + "\"H1,520123102201\n"),
		[]byte(hhHeader + "11010519491231002X,520123102201,escaped,2019,,2015-03-01,true,true\n"),
		[]byte(hhHeader + "H\x00,5201231022011,rich,1e300,,2015-02-30,maybe,\n"),
		[]byte("a,a\n1,2\n"),
	} {
		f.Add(s, false, uint8(0))
		f.Add(s, true, uint8(1))
	}
	f.Fuzz(func(t *testing.T, data []byte, gz bool, enc uint8) {
		dir := t.TempDir()
		name := "households.csv"
		if gz {
			data = gzipped(t, data)
			name += ".gz"
			if len(data) > 20 && enc%3 == 2 {
				data = data[:len(data)-int(enc)%20] // truncated
			}
		}
		p := writeFile(t, filepath.Join(dir, name), data)
		r := loadOne(t, "households", p, []string{"", "utf-8", "gb18030"}[enc%3], nil, nil)
		if longDigits(r.rejectText) {
			t.Fatalf("reject file holds a long digit run:\n%q", r.rejectText)
		}
	})
}

// FuzzParquetSource: mutated bytes of small valid Parquet files are read
// without panic (or fatal allocation); an accepted file counts its rows.
func FuzzParquetSource(f *testing.F) {
	f.Add(smallHouseholds(f, 20, 10))
	f.Add(smallHouseholds(f, 3, 64))
	f.Fuzz(func(t *testing.T, data []byte) {
		p := writeFile(t, filepath.Join(t.TempDir(), "households.parquet"), data)
		r := loadOne(t, "households", p, "", nil, nil)
		if r.err == nil && r.read != r.accepted+r.rejected {
			t.Fatalf("read %d accepted %d rejected %d", r.read, r.accepted, r.rejected)
		}
	})
}

// FuzzFields: the field decoders never panic, and what they accept is
// what they should: dates round-trip, amounts equal strconv's, ID numbers
// carry their check character, scrubbed text holds no long digit run.
func FuzzFields(f *testing.F) {
	for _, s := range []string{"2024-02-29", "2023/02/29", "20240101", "2024-01", "202413", "1500.50", "-0.5", "1e300",
		"99999999999999999999", "11010519491231002X", "110105491231002", "是", "true", "520123102201", "H\x1b[0m", "=1+1", ""} {
		f.Add([]byte(s))
	}
	p := newPseudonymizer(nil)
	f.Fuzz(func(t *testing.T, b []byte) {
		if d, err := parseDate(b); err == nil {
			got := formatDay(d)
			var want []byte
			for _, c := range b {
				if c >= '0' && c <= '9' {
					want = append(want, c)
				}
			}
			if string(want) != got[0:4]+got[5:7]+got[8:10] {
				t.Fatalf("parseDate(%q) = %s", b, got)
			}
		}
		if d, err := parseMonth(b); err == nil {
			if y, _, dd := civilFromDays(d); dd != 1 || y < minYear || y > maxYear {
				t.Fatalf("parseMonth(%q) = day %d", b, d)
			}
		}
		if v, err := parseMoney(b); err == nil {
			w, err := strconv.ParseFloat(string(b), 64)
			if err != nil || w != v {
				t.Fatalf("parseMoney(%q) = %v, strconv %v %v", b, v, w, err)
			}
			if checkMoney(v, b) == nil && (v < 0 || v > MaxMoney) {
				t.Fatalf("checkMoney accepted %v", v)
			}
		}
		if v, err := parseInt(b, 0, 4); err == nil && (v < 0 || v > 4) {
			t.Fatalf("parseInt(%q) = %d", b, v)
		}
		parseBool(b)
		checkRegion(b, []int{6, 9, 12})
		if n, err := normalizeID(nil, b); err == nil {
			if c, err := datasets.IDCheckDigit(n[:min(17, len(n))]); len(n) != 18 || err != nil || c != n[17] || !looksLikeID(n) {
				t.Fatalf("normalizeID(%q) = %q", b, n)
			}
		}
		if utf8.Valid(b) && len(b) > 0 {
			if checkIdent(b) == nil && (len(b) > MaxKeyLen || bytes.ContainsAny(b, "\x00\x1b\t\r\n") || bytes.IndexByte([]byte("=+-@"), b[0]) >= 0) {
				t.Fatalf("checkIdent accepted %q", b)
			}
			checkText(b)
		}
		if s := scrubNumbers(string(b), p); longDigits(s) {
			t.Fatalf("scrubNumbers(%q) = %q", b, s)
		}
		if q := quoteVal(b); len(q) > 4*40+40 {
			t.Fatalf("quoteVal of %d bytes is %d long", len(b), len(q))
		}
		if s := safeText(string(b)); bytes.ContainsAny([]byte(s), "\x00\x1b\x7f") {
			t.Fatalf("safeText(%q) = %q", b, s)
		}
	})
}
