// Package civil holds povrisk's calendar arithmetic: month-ends, month
// steps and days since the epoch, all in UTC calendar dates. It is a leaf:
// every package that counts months uses it instead of its own copy.
package civil

import (
	"fmt"
	"time"
)

// Layout is the one date format povrisk writes: YYYY-MM-DD.
const Layout = "2006-01-02"

// Date returns the UTC midnight of y-m-d (normalised as time.Date does).
func Date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// Day is t's calendar date, dropping clock and zone: the date a person on
// t's own wall clock would write.
func Day(t time.Time) time.Time { return Date(t.Year(), t.Month(), t.Day()) }

// Format writes t as YYYY-MM-DD.
func Format(t time.Time) string { return t.Format(Layout) }

// Parse reads YYYY-MM-DD as a UTC date.
func Parse(s string) (time.Time, error) {
	t, err := time.Parse(Layout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("date %q is not YYYY-MM-DD: %w", s, err)
	}
	return t, nil
}

// MonthEnd is the last day of t's month.
func MonthEnd(t time.Time) time.Time { return Date(t.Year(), t.Month()+1, 0) }

// MonthStart is the first day of t's month.
func MonthStart(t time.Time) time.Time { return Date(t.Year(), t.Month(), 1) }

// IsMonthEnd reports whether t is the last day of its month.
func IsMonthEnd(t time.Time) bool { return t.Day() == MonthEnd(t).Day() }

// AddMonths moves t by n months and returns the end of that month.
func AddMonths(t time.Time, n int) time.Time {
	return MonthEnd(Date(t.Year(), t.Month()+time.Month(n), 1))
}

// MonthsBetween is the number of whole calendar months from a's month to
// b's month (b later gives a positive count); days are ignored.
func MonthsBetween(a, b time.Time) int {
	return (b.Year()-a.Year())*12 + int(b.Month()) - int(a.Month())
}

// DaysInMonth is the number of days of month m of year y (proleptic
// Gregorian; a month outside 1..12 is normalised as time.Date does). It
// is arithmetic only, for the hot path of ingest's date checks.
func DaysInMonth(y int, m time.Month) int {
	switch m {
	case time.April, time.June, time.September, time.November:
		return 30
	case time.February:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case time.January, time.March, time.May, time.July, time.August, time.October, time.December:
		return 31
	}
	return Date(y, m+1, 0).Day()
}

// DaysFromCivil returns the days since 1970-01-01 of the proleptic
// Gregorian date y-m-d (H. Hinnant's algorithm; no allocation, any year).
func DaysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}

// CivilFromDays is the inverse of DaysFromCivil.
func CivilFromDays(z int64) (y, m, d int) {
	zz := z + 719468
	era := zz / 146097
	if zz < 0 && zz%146097 != 0 {
		era--
	}
	doe := int(zz - era*146097)
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + int(era)*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	if mp < 10 {
		m = mp + 3
	} else {
		m = mp - 9
	}
	if m <= 2 {
		y++
	}
	return
}
