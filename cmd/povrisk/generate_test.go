package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
