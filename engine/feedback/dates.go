package feedback

import (
	"strconv"
	"strings"
	"time"

	"github.com/povrisk/povrisk/engine/civil"
)

// Dates as they come back in 核查日期 or visit_date: a date cell (read
// raw: an Excel serial number, possibly with a time fraction), a number
// or text YYYYMMDD, or text with - / . separators and one- or two-digit
// month and day (2026-01-05, 2026/1/5, 2026.1.5), or 2026年1月5日; a time
// after the date (2026-01-05 10:30, 2026-01-05T10:30:00) is ignored.

// Accepted years (as ingest's).
const minYear, maxYear = 1900, 2100

func days(y, m, d int) int32 { return int32(civil.DaysFromCivil(y, m, d)) }

// formatDays formats days since 1970-01-01 as YYYY-MM-DD.
func formatDays(d int32) string {
	y, m, dd := civil.CivilFromDays(int64(d))
	return civil.Format(civil.Date(y, time.Month(m), dd))
}

// parseISO parses YYYY-MM-DD exactly (the _povrisk as_of).
func parseISO(s string) (int32, bool) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return 0, false
	}
	return ymd(s[0:4], s[5:7], s[8:10])
}

// parseVisitDate parses a visit date; ok is false when it is none of the
// accepted forms or not a calendar day between minYear and maxYear.
func parseVisitDate(s string, date1904 bool) (int32, bool) {
	if i := strings.IndexAny(s, " T"); i > 0 {
		s = s[:i]
	}
	if s == "" {
		return 0, false
	}
	if len(s) == 8 && allDigits(s) {
		return ymd(s[0:4], s[4:6], s[6:8])
	}
	if d, ok := serial(s, date1904); ok {
		return d, true
	}
	if strings.HasPrefix(s, "'") { // a text cell marked as text in some exports
		s = s[1:]
	}
	var parts []string
	if strings.Contains(s, "年") {
		s = strings.TrimSuffix(s, "日")
		s = strings.TrimSuffix(s, "号")
		y, rest, ok1 := strings.Cut(s, "年")
		m, d, ok2 := strings.Cut(rest, "月")
		if !ok1 || !ok2 {
			return 0, false
		}
		parts = []string{y, m, d}
	} else {
		for _, sep := range []string{"-", "/", "."} {
			if strings.Count(s, sep) == 2 {
				parts = strings.Split(s, sep)
				break
			}
		}
	}
	if len(parts) != 3 || len(parts[0]) != 4 || len(parts[1]) < 1 || len(parts[1]) > 2 || len(parts[2]) < 1 || len(parts[2]) > 2 {
		return 0, false
	}
	return ymd(parts[0], parts[1], parts[2])
}

func ymd(ys, ms, ds string) (int32, bool) {
	if !allDigits(ys) || !allDigits(ms) || !allDigits(ds) {
		return 0, false
	}
	y, _ := strconv.Atoi(ys)
	m, _ := strconv.Atoi(ms)
	d, _ := strconv.Atoi(ds)
	if y < minYear || y > maxYear || m < 1 || m > 12 || d < 1 || d > civil.DaysInMonth(y, time.Month(m)) {
		return 0, false
	}
	return days(y, m, d), true
}

// serial converts an Excel serial date number (days since 1899-12-30,
// with Excel's phantom 1900-02-29 as serial 60; since 1904-01-01 in the
// 1904 date system). Only serials giving a year from 2000 to maxYear are
// taken for dates: no visit of povrisk's lists is older, and a year typed
// alone ("2026", serial 1905-07-18) is then refused, not misread.
func serial(s string, date1904 bool) (int32, bool) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != f || f < 1 || f >= 2958466 {
		return 0, false
	}
	n := int64(f) // the time of day is dropped
	var d int64
	switch {
	case date1904:
		d = n + civil.DaysFromCivil(1904, 1, 1)
	case n == 60:
		return 0, false // 1900-02-29, which did not exist
	case n < 60:
		d = n - 1 + civil.DaysFromCivil(1900, 1, 1)
	default:
		d = n + civil.DaysFromCivil(1899, 12, 30)
	}
	y, _, _ := civil.CivilFromDays(d)
	if y < 2000 || y > maxYear {
		return 0, false
	}
	return int32(d), true
}
