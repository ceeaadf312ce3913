package ingest

import (
	"errors"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestParseDate(t *testing.T) {
	day := func(s string) int32 {
		tm, _ := time.Parse("2006-01-02", s)
		return int32(tm.Unix() / 86400)
	}
	tests := []struct {
		in   string
		want int32
		err  error
	}{
		{"2024-01-31", day("2024-01-31"), nil},
		{"2024/02/29", day("2024-02-29"), nil},
		{"20000229", day("2000-02-29"), nil},
		{"1900-03-01", day("1900-03-01"), nil},
		{"1969-12-31", -1, nil},
		{"2023-02-29", 0, ErrDate},
		{"1900-02-29", 0, ErrDate},
		{"2024-13-01", 0, ErrDate},
		{"2024-1-1", 0, ErrDate},
		{"31.12.2024", 0, ErrDate},
		{"2024-01-3x", 0, ErrDate},
		{"1899-12-31", 0, ErrDate},
		{"2024-01/01", 0, ErrDate},
	}
	for _, tc := range tests {
		got, err := parseDate([]byte(tc.in))
		if !errors.Is(err, tc.err) || (tc.err == nil && (err != nil || got != tc.want)) {
			t.Errorf("parseDate(%q) = %d, %v; want %d, %v", tc.in, got, err, tc.want, tc.err)
		}
	}
	// civilFromDays inverts daysFromCivil over two centuries.
	for d := int32(-25567); d < 47482; d += 7 {
		y, m, dd := civilFromDays(d)
		if daysFromCivil(y, m, dd) != d {
			t.Fatalf("civilFromDays(%d) = %d-%d-%d does not round-trip", d, y, m, dd)
		}
	}
}

func TestParseMonth(t *testing.T) {
	tests := []struct {
		in   string
		want string
		err  error
	}{
		{"2024-01", "2024-01-01", nil},
		{"202412", "2024-12-01", nil},
		{"2024-13", "", ErrDate},
		{"2024-00", "", ErrDate},
		{"24-5", "", ErrDate},
		{"2024-01-01", "", ErrDate},
	}
	for _, tc := range tests {
		got, err := parseMonth([]byte(tc.in))
		if !errors.Is(err, tc.err) {
			t.Errorf("parseMonth(%q) err %v, want %v", tc.in, err, tc.err)
			continue
		}
		if tc.err == nil {
			if s := time.Unix(int64(got)*86400, 0).UTC().Format("2006-01-02"); s != tc.want {
				t.Errorf("parseMonth(%q) = %s, want %s", tc.in, s, tc.want)
			}
		}
	}
}

func TestParseScalars(t *testing.T) {
	money := []struct {
		in   string
		want float64
		err  error
	}{
		{"0", 0, nil}, {"1500.50", 1500.5, nil}, {"-12.5", -12.5, nil}, {"+3", 3, nil}, {".5", 0.5, nil},
		{"1,000", 0, ErrType}, {"1e3", 0, ErrType}, {"NaN", 0, ErrType}, {"Inf", 0, ErrType},
		{"12.5元", 0, ErrType}, {"1.2.3", 0, ErrType}, {"-", 0, ErrType}, {".", 0, ErrType}, {"#VALUE!", 0, ErrType},
	}
	for _, tc := range money {
		got, err := parseMoney([]byte(tc.in))
		if !errors.Is(err, tc.err) || got != tc.want {
			t.Errorf("parseMoney(%q) = %v, %v; want %v, %v", tc.in, got, err, tc.want, tc.err)
		}
	}
	ints := []struct {
		in       string
		min, max int64
		want     int32
		err      error
	}{
		{"0", 0, 4, 0, nil}, {"4", 0, 4, 4, nil}, {"5", 0, 4, 0, ErrRange}, {"-1", 0, 4, 0, ErrRange},
		{"2019", 1978, 2100, 2019, nil}, {"1850", 1978, 2100, 0, ErrRange}, {"x2", 0, 4, 0, ErrType},
		{"三", 0, 4, 0, ErrType}, {"1e", 0, 4, 0, ErrType}, {"", 0, 4, 0, ErrType}, {"-", 0, 0, 0, ErrType},
		{"2147483647", 0, 0, 2147483647, nil}, {"2147483648", 0, 0, 0, ErrRange}, {"99999999999", 0, 0, 0, ErrType},
	}
	for _, tc := range ints {
		got, err := parseInt([]byte(tc.in), tc.min, tc.max)
		if !errors.Is(err, tc.err) || got != tc.want {
			t.Errorf("parseInt(%q, %d, %d) = %v, %v; want %v, %v", tc.in, tc.min, tc.max, got, err, tc.want, tc.err)
		}
	}
	bools := []struct {
		in   string
		want bool
		err  error
	}{
		{"true", true, nil}, {"TRUE", true, nil}, {"False", false, nil}, {"1", true, nil}, {"0", false, nil},
		{"是", true, nil}, {"否", false, nil}, {"2", false, ErrType}, {"maybe", false, ErrType}, {"yes", false, ErrType},
	}
	for _, tc := range bools {
		got, err := parseBool([]byte(tc.in))
		if !errors.Is(err, tc.err) || got != tc.want {
			t.Errorf("parseBool(%q) = %v, %v; want %v, %v", tc.in, got, err, tc.want, tc.err)
		}
	}
	regions := []struct {
		in   string
		lens []int
		err  error
	}{
		{"520123102201", nil, nil}, {"52012310220", nil, ErrCode}, {"52012310220a", nil, ErrCode},
		{"520123", []int{6, 9, 12}, nil}, {"5201231", []int{6, 9, 12}, ErrCode},
	}
	for _, tc := range regions {
		if err := checkRegion([]byte(tc.in), tc.lens); !errors.Is(err, tc.err) {
			t.Errorf("checkRegion(%q) = %v, want %v", tc.in, err, tc.err)
		}
	}
	// An ID number in a reject file is its pseudonym or a placeholder,
	// never a digit of it (it used to be 5201**********1234).
	if got := newPseudonymizer(nil).forReject([]byte("520123198001011234")); got != idNoKey {
		t.Errorf("forReject without a key = %s", got)
	}
}

// TestExactMoney compares the fast decimal conversion with strconv.ParseFloat
// (the reference) on edge cases and random amounts, bit for bit.
func TestExactMoney(t *testing.T) {
	cases := []string{"0", "-0", "+0", "0.0", ".5", "5.", "-.25", "0.1", "0.3", "1.005",
		"123456789012345", "12345678901234.5", "999999999999999", "-999999999999.99",
		"0.000000000000001", "4503599627370497", "9007199254740993", "1234567890123456789.5"}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 20000; i++ {
		intDigits := rng.IntN(14)
		s := strconv.FormatUint(rng.Uint64()%pow10u(intDigits+1), 10)
		if rng.IntN(2) == 0 {
			s += "." + strconv.FormatUint(rng.Uint64()%1000, 10)
		}
		if rng.IntN(4) == 0 {
			s = "-" + s
		}
		cases = append(cases, s)
	}
	for _, c := range cases {
		want, err := strconv.ParseFloat(c, 64)
		if err != nil {
			t.Fatalf("reference %q: %v", c, err)
		}
		got, err := parseMoney([]byte(c))
		if err != nil {
			t.Errorf("parseMoney(%q): %v", c, err)
			continue
		}
		if math.Float64bits(got) != math.Float64bits(want) {
			t.Errorf("parseMoney(%q) = %v (%x), strconv says %v (%x)", c, got, math.Float64bits(got), want, math.Float64bits(want))
		}
	}
}

func pow10u(n int) uint64 {
	v := uint64(1)
	for i := 0; i < n; i++ {
		v *= 10
	}
	return v
}

// fullStringCheck is checkString's answer without the plainASCII shortcut.
func fullStringCheck(b []byte, ident bool) bool {
	if !utf8.Valid(b) {
		return false
	}
	var err error
	if ident {
		err = checkIdent(b)
	} else {
		err = checkText(b)
	}
	return err == nil && !holdsID(b)
}

// checkPlainASCII fails when the shortcut accepts what the full checks
// refuse, or refuses plain printable ASCII that the full checks accept
// (the shortcut must stay the common path).
func checkPlainASCII(t *testing.T, b []byte) {
	t.Helper()
	if len(b) == 0 {
		return
	}
	for _, ident := range []bool{true, false} {
		fast, full := plainASCII(b, ident), fullStringCheck(b, ident)
		if fast && !full {
			t.Fatalf("plainASCII(%q, ident=%v) accepts what the full checks refuse", b, ident)
		}
		printable := true
		for _, c := range b {
			printable = printable && c >= 0x20 && c < 0x7f && (c < '0' || c > '9')
		}
		if full && printable && len(b) <= MaxKeyLen && !fast {
			t.Fatalf("plainASCII(%q, ident=%v) refuses plain text the full checks accept", b, ident)
		}
	}
}

// TestPlainASCII compares the shortcut with the full checks on chosen
// cases (ID numbers with and without text around them, runs of 14, 15,
// 17+X digits, formula starts, controls, non-ASCII) and on random bytes.
func TestPlainASCII(t *testing.T) {
	cases := []string{"P0000000101", "C0000000100001", "J06.9", "=1+1", "-5", "@x", " a", "a ", "a\tb", "a\nb", "a\x1bb", "a\x7f",
		"11010519491231002X", "110105194912310028", "ID 110105194912310028 here", "12345678901234", "123456789012345", "12345678901234567X",
		"110105491231002", "x110105491231002y", "中文", "caf\xc3\xa9", "\xff", strings.Repeat("a", MaxKeyLen+1), strings.Repeat("b", MaxTextLen+1)}
	for _, c := range cases {
		checkPlainASCII(t, []byte(c))
	}
	if !plainASCII([]byte("P0000000101"), true) || plainASCII([]byte("110105194912310028"), false) || plainASCII([]byte("a\tb"), true) || !plainASCII([]byte("a\tb"), false) {
		t.Fatal("plainASCII: a hand-checked case is wrong")
	}
	rng := rand.New(rand.NewPCG(5, 5))
	alphabet := []byte("0123456789Xx =+-@\t\n\r\x1b\x7fab.,")
	for k := 0; k < 200000; k++ {
		b := make([]byte, 1+rng.IntN(24))
		for i := range b {
			if rng.IntN(3) == 0 {
				b[i] = byte('0' + rng.IntN(10))
			} else {
				b[i] = alphabet[rng.IntN(len(alphabet))]
			}
		}
		checkPlainASCII(t, b)
	}
}

// FuzzPlainASCII: the shortcut never accepts what the full checks refuse.
func FuzzPlainASCII(f *testing.F) {
	for _, s := range []string{"P0000000101", "ID 110105194912310028", "=x", "a\tb", "中文"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) { checkPlainASCII(t, b) })
}

// TestMonthTable checks the month table against the time package for every
// accepted month, through parseDate (first and last day) and parseMonthNum.
func TestMonthTable(t *testing.T) {
	for y := minYear; y <= maxYear; y++ {
		for m := 1; m <= 12; m++ {
			first := time.Date(y, time.Month(m), 1, 0, 0, 0, 0, time.UTC)
			last := first.AddDate(0, 1, -1)
			want := int32(first.Unix() / 86400)
			if d, err := parseDate([]byte(first.Format("2006-01-02"))); err != nil || d != want {
				t.Fatalf("parseDate(%s) = %d, %v; want %d", first.Format("2006-01-02"), d, err, want)
			}
			if d, err := parseDate([]byte(last.Format("20060102"))); err != nil || d != int32(last.Unix()/86400) {
				t.Fatalf("parseDate(%s) = %d, %v; want %d", last.Format("20060102"), d, err, last.Unix()/86400)
			}
			d, mon, err := parseMonthNum([]byte(first.Format("2006-01")))
			if err != nil || d != want || mon != int32(y*12+m-1) {
				t.Fatalf("parseMonthNum(%s) = %d, %d, %v; want %d, %d", first.Format("2006-01"), d, mon, err, want, y*12+m-1)
			}
		}
	}
}
