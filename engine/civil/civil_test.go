package civil

import (
	"testing"
	"time"
)

func TestMonthArithmetic(t *testing.T) {
	cases := []struct {
		in   string
		n    int
		want string
	}{
		{"2025-01-31", 1, "2025-02-28"},
		{"2024-01-31", 1, "2024-02-29"},
		{"2025-12-31", 1, "2026-01-31"},
		{"2025-03-15", -3, "2024-12-31"},
		{"2000-02-29", 12, "2001-02-28"},
	}
	for _, c := range cases {
		d, _ := Parse(c.in)
		if got := Format(AddMonths(d, c.n)); got != c.want {
			t.Errorf("AddMonths(%s, %d) = %s, want %s", c.in, c.n, got, c.want)
		}
	}
	a, _ := Parse("2025-12-15")
	b, _ := Parse("2026-06-30")
	if MonthsBetween(a, b) != 6 || MonthsBetween(b, a) != -6 {
		t.Errorf("MonthsBetween = %d/%d, want 6/-6", MonthsBetween(a, b), MonthsBetween(b, a))
	}
	if IsMonthEnd(a) || !IsMonthEnd(b) || !IsMonthEnd(Date(2024, 2, 29)) || IsMonthEnd(Date(2024, 2, 28)) {
		t.Error("IsMonthEnd is wrong")
	}
	if DaysInMonth(1900, time.February) != 28 || DaysInMonth(2000, time.February) != 29 {
		t.Error("DaysInMonth leap rule is wrong")
	}
	// Against time.Date's own calendar, every month of 400 years (one
	// Gregorian cycle) and some negative years, and months out of range.
	for y := -5; y <= 2400; y++ {
		if y == 5 {
			y = 1800
		}
		for m := time.Month(-1); m <= 14; m++ {
			if got, want := DaysInMonth(y, m), time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day(); got != want {
				t.Fatalf("DaysInMonth(%d, %d) = %d, want %d", y, m, got, want)
			}
		}
	}
}

func TestDaysRoundTrip(t *testing.T) {
	// Against the standard library over a wide window, including negatives.
	for d := Date(1600, 1, 1); d.Before(Date(2500, 1, 1)); d = d.AddDate(0, 0, 37) {
		z := DaysFromCivil(d.Year(), int(d.Month()), d.Day())
		if want := d.Unix() / 86400; z != want {
			t.Fatalf("DaysFromCivil(%s) = %d, want %d", Format(d), z, want)
		}
		y, m, dd := CivilFromDays(z)
		if y != d.Year() || m != int(d.Month()) || dd != d.Day() {
			t.Fatalf("CivilFromDays(%d) = %d-%d-%d, want %s", z, y, m, dd, Format(d))
		}
	}
}

func TestDayDropsZone(t *testing.T) {
	sh := time.FixedZone("Asia/Shanghai", 8*3600)
	local := time.Date(2025, 6, 1, 0, 0, 0, 0, sh) // 2025-05-31T16:00Z
	if got := Format(Day(local)); got != "2025-06-01" {
		t.Errorf("Day(local midnight) = %s, want 2025-06-01", got)
	}
}
