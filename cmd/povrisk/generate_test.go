package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestGenerateCommand(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "drop")
	cases := []struct {
		name     string
		args     []string
		code     int
		stdout   string // a line the output must contain
		stderr   string
		wantFile string
	}{
		{"clean", []string{"--households", "40", "--months", "8", "--start", "2025-01", "--seed", "2", "--out", out},
			ExitOK, "drop " + out + ": 40 households, 2025-01-01 to 2025-08-31", "", filepath.Join(out, "persons.csv")},
		{"dirty gz", []string{"--households", "40", "--months", "8", "--dirty", "0.05", "--format", "csv.gz", "--out", out + "2"},
			ExitOK, "defects " + out + "2.defects.csv", "", filepath.Join(out+"2", "households.csv.gz")},
		{"bad start", []string{"--start", "2025-13", "--out", out}, ExitUsage, "", `--start "2025-13": want YYYY-MM`, ""},
		{"bad months", []string{"--months", "3", "--out", out}, ExitUsage, "", "months 3 out of range", ""},
		{"parquet dirty", []string{"--format", "parquet", "--dirty", "0.1", "--out", out}, ExitUsage, "", "dirty drops are CSV only", ""},
		{"no counties", []string{"--counties", "0", "--out", out}, ExitUsage, "", "--counties 0: want 1 to 3000", ""},
		{"too many counties", []string{"--counties", "3001", "--out", out}, ExitUsage, "", "--counties 3001: want 1 to 3000", ""},
	}
	t.Run("json", func(t *testing.T) {
		code, out, errs := runCLI(t, []string{"generate", "--households", "25", "--months", "8", "--start", "2025-01", "--out", filepath.Join(dir, "j"), "--json", "-q"})
		var rep struct {
			Households int    `json:"households"`
			End        string `json:"end"`
			Tables     []struct {
				Name string `json:"name"`
				Rows int64  `json:"rows"`
			} `json:"tables"`
		}
		if err := json.Unmarshal([]byte(out), &rep); err != nil || code != 0 {
			t.Fatalf("exit %d, %v: %s %s", code, err, out, errs)
		}
		if rep.Households != 25 || rep.End != "2025-08-31" || len(rep.Tables) == 0 || rep.Tables[0].Name != "households" || rep.Tables[0].Rows != 25 {
			t.Errorf("--json report %+v", rep)
		}
	})
	t.Run("counties", func(t *testing.T) {
		d := filepath.Join(dir, "c")
		if code, _, errs := runCLI(t, []string{"generate", "--households", "60", "--months", "8", "--start", "2025-01", "--counties", "11", "--out", d, "-q"}); code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		b, err := os.ReadFile(filepath.Join(d, "regions.csv"))
		if err != nil {
			t.Fatal(err)
		}
		counties := 0
		for _, l := range strings.Split(string(b), "\n") {
			if code, _, ok := strings.Cut(l, ","); ok && len(code) == 6 {
				counties++
			}
		}
		if counties != 11 {
			t.Errorf("--counties 11 wrote %d counties in regions.csv", counties)
		}
	})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(append([]string{"povrisk", "generate"}, c.args...), strings.NewReader(""), &stdout, &stderr)
			if code != c.code {
				t.Fatalf("exit %d, want %d; stderr: %s", code, c.code, stderr.String())
			}
			if !strings.Contains(stdout.String(), c.stdout) {
				t.Errorf("stdout %q lacks %q", stdout.String(), c.stdout)
			}
			if !strings.Contains(stderr.String(), c.stderr) {
				t.Errorf("stderr %q lacks %q", stderr.String(), c.stderr)
			}
			if c.wantFile != "" {
				if _, err := os.Stat(c.wantFile); err != nil {
					t.Errorf("missing %s: %v", c.wantFile, err)
				}
			}
		})
	}
}

// TestCheckDataEnd: a period ending after today is refused, naming the
// latest start that ends on or before today (hand-worked dates).
func TestCheckDataEnd(t *testing.T) {
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC) // 23:00 on the 1st at UTC+14
	m := func(s string) time.Time { v, _ := time.Parse("2006-01", s); return v }
	for _, c := range []struct {
		start  string
		months int
		want   string // "" accepted; else a part of the error
	}{
		{"2024-01", 24, ""},
		{"2023-12", 36, ""}, // ends 2026-11-30
		{"2024-01", 36, "ends the data on 2026-12-31, after today (2026-12-01)"},
		{"2024-01", 36, "give --start 2023-12 or earlier"},
		{"2026-06", 7, "give --start 2026-05 or earlier"},
		{"2024-01", 0, ""}, // left to datasets.Generate
	} {
		err := checkDataEnd(m(c.start), c.months, now)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s + %d months: %v", c.start, c.months, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s + %d months: error %v, want one with %q", c.start, c.months, err, c.want)
		}
	}
	// On the last day of a month (at UTC+14) that month counts.
	end := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC) // 2026-11-30 02:00 at UTC+14
	if err := checkDataEnd(m("2023-12"), 36, end); err != nil {
		t.Errorf("ending 2026-11-30, on 2026-11-30 at UTC+14: %v", err)
	}
	if err := checkDataEnd(m("2024-01"), 36, end); err == nil || !strings.Contains(err.Error(), "--start 2023-12") {
		t.Errorf("ending 2026-12-31 refused with the latest start 2023-12: %v", err)
	}
}
