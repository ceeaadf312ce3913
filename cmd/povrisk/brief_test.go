package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/povrisk/povrisk/engine/fault"
)

func TestBriefCommand(t *testing.T) {
	runs := copyBriefRuns(t)
	out := filepath.Join(t.TempDir(), "b.html")
	costs := filepath.Join(t.TempDir(), "costs.toml")
	os.WriteFile(costs, []byte("medical_aid = 4000\n"), 0o600)
	badCosts := filepath.Join(t.TempDir(), "bad.toml")
	os.WriteFile(badCosts, []byte("dibao = nan\n"), 0o600)
	notDir := filepath.Join(t.TempDir(), "a-file")
	os.WriteFile(notDir, []byte("x"), 0o600)
	if err := os.WriteFile(filepath.Join(runs, "2025-12-30", "extra.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		args    []string
		code    int
		stdout  string // exact, "" when none expected
		errHas  string
		htmlHas string
	}{
		{"html en", []string{"brief", "--run", filepath.Join(runs, "2025-12-31"), "--lang", "en", "--out", out, "--unit-costs", costs}, ExitOK, out + "\n", "", "4,000 yuan"},
		{"bad lang", []string{"brief", "--run", filepath.Join(runs, "2025-12-31"), "--lang", "fr"}, ExitUsage, "", "--lang \"fr\"", ""},
		{"bad region", []string{"brief", "--run", filepath.Join(runs, "2025-12-31"), "--region", "520"}, ExitUsage, "", "2, 4 or 6 digits", ""},
		{"altered run", []string{"brief", "--run", filepath.Join(runs, "2025-12-30"), "--out", out}, ExitIncomplete, "", "extra.txt is not in checksums.sha256", ""},
		{"no such run", []string{"brief", "--run", filepath.Join(runs, "2030-01-01"), "--out", out}, ExitBadInput, "", "no such file", ""},
		{"nan unit cost", []string{"brief", "--run", filepath.Join(runs, "2025-12-31"), "--out", out, "--unit-costs", badCosts}, ExitPolicy, "", "dibao = NaN is not a finite number", ""},
		{"cannot write", []string{"brief", "--run", filepath.Join(runs, "2025-12-31"), "--out", filepath.Join(notDir, "b.html")}, int(fault.Write), "", "write " + filepath.Join(notDir, "b.html"), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			os.Remove(out)
			var stdout, stderr bytes.Buffer
			code := run(append([]string{"povrisk"}, tc.args...), nil, &stdout, &stderr)
			if code != tc.code {
				t.Fatalf("exit code %d, want %d; stderr: %s", code, tc.code, stderr.String())
			}
			if stdout.String() != tc.stdout {
				t.Errorf("stdout %q, want %q", stdout.String(), tc.stdout)
			}
			if !strings.Contains(stderr.String(), tc.errHas) {
				t.Errorf("stderr %q lacks %q", stderr.String(), tc.errHas)
			}
			if tc.htmlHas != "" {
				b, err := os.ReadFile(out)
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(string(b), tc.htmlHas) {
					t.Errorf("brief lacks %q", tc.htmlHas)
				}
			}
		})
	}
}
