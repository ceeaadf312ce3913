package ingest

import (
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/povrisk/povrisk/engine/civil"
)

// Field decoders: each parses a field's bytes without allocating and returns
// an error wrapping a sentinel (ErrType, ErrDate, ErrRange, ErrCode) that
// quotes the offending value.

// daysFromCivil returns the days since 1970-01-01 of a date (years 1..9999).
func daysFromCivil(y, m, d int) int32 { return int32(civil.DaysFromCivil(y, m, d)) }

// civilFromDays is the inverse of daysFromCivil.
func civilFromDays(z int32) (y, m, d int) { return civil.CivilFromDays(int64(z)) }

func digits(b []byte) (int, bool) {
	if len(b) == 0 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// Accepted years; anything else is taken for a typing error.
const minYear, maxYear = 1900, 2100

// parseDate parses YYYY-MM-DD, YYYY/MM/DD or YYYYMMDD into days since the epoch.
func parseDate(b []byte) (int32, error) {
	var ys, ms, ds []byte
	switch {
	case len(b) == 10 && (b[4] == '-' && b[7] == '-' || b[4] == '/' && b[7] == '/'):
		ys, ms, ds = b[0:4], b[5:7], b[8:10]
	case len(b) == 8:
		ys, ms, ds = b[0:4], b[4:6], b[6:8]
	default:
		return 0, fmt.Errorf("%w: %s is not YYYY-MM-DD, YYYY/MM/DD or YYYYMMDD", ErrDate, quoteVal(b))
	}
	y, ok1 := digits(ys)
	m, ok2 := digits(ms)
	d, ok3 := digits(ds)
	if !ok1 || !ok2 || !ok3 {
		return 0, fmt.Errorf("%w: %s is not YYYY-MM-DD, YYYY/MM/DD or YYYYMMDD", ErrDate, quoteVal(b))
	}
	if y < minYear || y > maxYear || m < 1 || m > 12 || d < 1 || d > civil.DaysInMonth(y, time.Month(m)) {
		return 0, fmt.Errorf("%w: %s is not a calendar day between %d and %d", ErrDate, quoteVal(b), minYear, maxYear)
	}
	return monthStart[(y-minYear)*12+m-1] + int32(d-1), nil
}

// monthStart holds daysFromCivil(y, m, 1) of every month of the accepted
// years, at (y-minYear)*12+m-1 (read only).
var monthStart = func() []int32 {
	t := make([]int32, (maxYear-minYear+1)*12)
	for i := range t {
		t[i] = daysFromCivil(minYear+i/12, i%12+1, 1)
	}
	return t
}()

// parseMonth parses YYYY-MM or YYYYMM into the days since the epoch of the
// month's first day.
func parseMonth(b []byte) (int32, error) {
	d, _, err := parseMonthNum(b)
	return d, err
}

// parseMonthNum is parseMonth that also returns the month's number,
// y*12 + m - 1.
func parseMonthNum(b []byte) (int32, int32, error) {
	var ys, ms []byte
	switch {
	case len(b) == 7 && b[4] == '-':
		ys, ms = b[0:4], b[5:7]
	case len(b) == 6:
		ys, ms = b[0:4], b[4:6]
	default:
		return 0, 0, fmt.Errorf("%w: %s is not a month YYYY-MM or YYYYMM", ErrDate, quoteVal(b))
	}
	y, ok1 := digits(ys)
	m, ok2 := digits(ms)
	if !ok1 || !ok2 {
		return 0, 0, fmt.Errorf("%w: %s is not a month YYYY-MM or YYYYMM", ErrDate, quoteVal(b))
	}
	if y < minYear || y > maxYear || m < 1 || m > 12 {
		return 0, 0, fmt.Errorf("%w: %s is not a month between %d and %d", ErrDate, quoteVal(b), minYear, maxYear)
	}
	return monthStart[(y-minYear)*12+m-1], int32(y*12 + m - 1), nil
}

// parseMoney parses a decimal number of yuan: an optional sign, digits, and
// an optional fraction. Thousands separators, exponents, "NaN" and "Inf"
// are refused. One pass checks the text and gathers its digits: a number
// of at most 15 digits is converted exactly (exactQuotient), a longer one
// by strconv.
func parseMoney(b []byte) (float64, error) {
	i, neg := 0, false
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		neg = b[0] == '-'
		i++
	}
	var m uint64 // wraps beyond 19 digits, used only up to 15
	nd, intDigits, dot := 0, 0, false
	for ; i < len(b); i++ {
		if d := b[i] - '0'; d <= 9 {
			m = m*10 + uint64(d)
			nd++
			continue
		}
		if b[i] != '.' || dot {
			return 0, fmt.Errorf("%w: %s is not a decimal amount in yuan", ErrType, quoteVal(b))
		}
		dot, intDigits = true, nd
	}
	if nd == 0 {
		return 0, fmt.Errorf("%w: %s is not a decimal amount in yuan", ErrType, quoteVal(b))
	}
	if nd <= 15 {
		frac := 0
		if dot {
			frac = nd - intDigits
		}
		return exactQuotient(m, frac, neg), nil
	}
	v, err := strconv.ParseFloat(unsafe.String(unsafe.SliceData(b), len(b)), 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %s is not a decimal amount in yuan", ErrType, quoteVal(b))
	}
	return v, nil
}

// checkMoney applies the bounds of the standard to a decoded amount.
func checkMoney(v float64, b []byte) error {
	if v < 0 {
		return fmt.Errorf("%w: %s is negative; amounts in the standard are never negative", ErrRange, quoteVal(b))
	}
	if !(v <= MaxMoney) {
		return fmt.Errorf("%w: %s yuan is beyond the bound of %.0f yuan (a typing or export error?)", ErrRange, quoteVal(b), MaxMoney)
	}
	return nil
}

// MaxMoney is the largest amount accepted in a money column, in yuan (one
// billion: beyond any household's income, claim, asset or loss; 1e300 is a
// typing or export error). Negative amounts are refused in every column
// (checkMoney): the standard has no signed amount (net income is
// computed, never dropped).
const MaxMoney = 1e9

// quoteVal quotes a field's value for a reject reason: Go-quoted (control
// characters escaped) and cut to 40 bytes, so that a 10 MB field or an
// ANSI escape never reaches a reject file or a terminal as it is.
func quoteVal(b []byte) string {
	const max = 40
	if len(b) <= max {
		return strconv.Quote(string(b))
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(b[cut]) {
		cut--
	}
	return strconv.Quote(string(b[:cut])) + fmt.Sprintf("... (%d bytes)", len(b))
}

// pow10 are the powers of ten that a float64 holds exactly.
var pow10 = [...]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15}

// exactQuotient is m / 10^frac, negated when neg, for a decimal of at
// most 15 digits: the digits as an integer and the power of ten are both
// exact in a float64, so their IEEE quotient is the correctly rounded
// value, the same float64 that strconv.ParseFloat returns (the fast path
// strconv itself takes).
func exactQuotient(m uint64, frac int, neg bool) float64 {
	v := float64(m) / pow10[frac]
	if neg {
		v = -v
	}
	return v
}

// parseInt parses a whole number within [min, max] (unbounded when both are 0).
func parseInt(b []byte, min, max int64) (int32, error) {
	i, neg := 0, false
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		neg = b[0] == '-'
		i++
	}
	if i == len(b) || len(b)-i > 10 {
		return 0, fmt.Errorf("%w: %s is not a whole number", ErrType, quoteVal(b))
	}
	var v int64
	for ; i < len(b); i++ {
		c := b[i]
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%w: %s is not a whole number", ErrType, quoteVal(b))
		}
		v = v*10 + int64(c-'0')
	}
	if neg {
		v = -v
	}
	if min != 0 || max != 0 {
		if v < min || v > max {
			return 0, fmt.Errorf("%w: %d is not within %d..%d", ErrRange, v, min, max)
		}
	} else if v < -1<<31 || v > 1<<31-1 {
		return 0, fmt.Errorf("%w: %d does not fit a 32-bit integer", ErrRange, v)
	}
	return int32(v), nil
}

var (
	boolYes = []byte("是")
	boolNo  = []byte("否")
)

// parseBool accepts true/false (any case), 1/0 and 是/否.
func parseBool(b []byte) (bool, error) {
	switch len(b) {
	case 1:
		if b[0] == '1' {
			return true, nil
		}
		if b[0] == '0' {
			return false, nil
		}
	case 3:
		if string(b) == string(boolYes) {
			return true, nil
		}
		if string(b) == string(boolNo) {
			return false, nil
		}
	case 4:
		if lowerEq(b, "true") {
			return true, nil
		}
	case 5:
		if lowerEq(b, "false") {
			return false, nil
		}
	}
	return false, fmt.Errorf("%w: %s is not a boolean (true/false, 1/0, 是/否)", ErrType, quoteVal(b))
}

func lowerEq(b []byte, s string) bool {
	for i := range b {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

// checkRegion checks a statistical division code: digits only, of one of
// the accepted lengths (12 when lengths is nil).
func checkRegion(b []byte, lengths []int) error {
	for _, c := range b {
		if c < '0' || c > '9' {
			return fmt.Errorf("%w: region code %s has a non-digit", ErrCode, quoteVal(b))
		}
	}
	if lengths == nil {
		lengths = []int{12}
	}
	for _, l := range lengths {
		if len(b) == l {
			return nil
		}
	}
	return fmt.Errorf("%w: region code %s has %d digits, want %s", ErrCode, quoteVal(b), len(b), joinInts(lengths))
}

func joinInts(v []int) string {
	s := ""
	for i, x := range v {
		if i > 0 {
			s += " or "
		}
		s += strconv.Itoa(x)
	}
	return s
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}
