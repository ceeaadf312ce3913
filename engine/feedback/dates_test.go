package feedback

import "testing"

// TestParseVisitDate: every accepted form, by hand: serial 46027 is
// 2026-01-05 (25569 is 1970-01-01; 46027 - 25569 = 20458 days).
func TestParseVisitDate(t *testing.T) {
	for _, tc := range []struct {
		in       string
		date1904 bool
		want     string // "" = refused
	}{
		{"2026-01-05", false, "2026-01-05"},
		{"2026/1/5", false, "2026-01-05"},
		{"2026.1.5", false, "2026-01-05"},
		{"2026年1月5日", false, "2026-01-05"},
		{"2026年01月05号", false, "2026-01-05"},
		{"20260105", false, "2026-01-05"},
		{"46027", false, "2026-01-05"},
		{"46027.75", false, "2026-01-05"},
		{"44565", true, "2026-01-05"}, // 1904 system: 1462 days fewer
		{"2026-01-05 10:30:00", false, "2026-01-05"},
		{"2026-01-05T10:30", false, "2026-01-05"},
		{"'2026-01-05", false, "2026-01-05"},
		{"2026-02-30", false, ""},
		{"2026-13-01", false, ""},
		{"2026", false, ""}, // a year alone is no serial of 2000-2100
		{"60", false, ""},   // Excel's 1900-02-29
		{"1月5日", false, ""}, // no year
		{"05/01/2026", false, ""},
		{"2026-1-5-1", false, ""},
		{"", false, ""},
		{"NaN", false, ""},
		{"1e9", false, ""},
	} {
		d, ok := parseVisitDate(tc.in, tc.date1904)
		got := ""
		if ok {
			got = formatDays(d)
		}
		if got != tc.want {
			t.Errorf("parseVisitDate(%q, %v) = %q, want %q", tc.in, tc.date1904, got, tc.want)
		}
	}
}
