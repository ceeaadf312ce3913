package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

func TestFeaturesCommand(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout []string // substrings
		stderr string
	}{
		{"list", []string{"features", "--list"}, 0, []string{"net_income_pc_12m", "yuan/person", "rule_medical_burden"}, ""},
		{"list json", []string{"features", "--list", "--json"}, 0, []string{`"name": "net_income_pc_12m"`, `"unit": "yuan/person"`, `"model": true`}, ""},
		{"missing flags", []string{"features", "--warehouse", "w"}, ExitUsage, nil, "--warehouse, --as-of and --out are required"},
		{"bad date", []string{"features", "--warehouse", "w", "--out", "f.csv", "--as-of", "2025-13-01"}, ExitUsage, nil, "want YYYY-MM-DD"},
		{"no warehouse", []string{"features", "--warehouse", filepath.Join(t.TempDir(), "none"), "--out", "f.csv", "--as-of", "2025-06-30", "-q"}, ExitBadInput, nil, "no current version"},
		{"bad policy", []string{"features", "--warehouse", "w", "--out", "f.csv", "--as-of", "2025-06-30", "--policy", filepath.Join(t.TempDir(), "none.toml")}, ExitPolicy, nil, "read policy"},
	}
	for _, tt := range tests {
		var out, errb bytes.Buffer
		code := run(append([]string{"povrisk"}, tt.args...), strings.NewReader(""), &out, &errb)
		if code != tt.code {
			t.Errorf("%s: exit %d, want %d (stderr %s)", tt.name, code, tt.code, errb.String())
		}
		for _, s := range tt.stdout {
			if !strings.Contains(out.String(), s) {
				t.Errorf("%s: stdout lacks %q", tt.name, s)
			}
		}
		if tt.stderr != "" && !strings.Contains(errb.String(), tt.stderr) {
			t.Errorf("%s: stderr %q, want %q", tt.name, errb.String(), tt.stderr)
		}
	}
}
