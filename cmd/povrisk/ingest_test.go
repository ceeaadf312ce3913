package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestIngestCommand runs povrisk ingest and validate on the hand-written
// drops of engine/ingest/testdata and checks exit codes and output.
func TestIngestCommand(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "key")
	writeTestFile(t, key, "cmd-test-key-0123456789\n")
	openKey := filepath.Join(dir, "openkey")
	writeTestFile(t, openKey, "cmd-test-key-0123456789\n")
	if err := os.Chmod(openKey, 0o644); err != nil {
		t.Fatal(err)
	}
	noPersons := filepath.Join(dir, "nopersons")
	if err := os.Mkdir(noPersons, 0o700); err != nil {
		t.Fatal(err)
	}
	hh, err := os.ReadFile("../../engine/ingest/testdata/clean/households.csv")
	if err != nil {
		t.Fatal(err)
	}
	writeTestFile(t, filepath.Join(noPersons, "households.csv"), string(hh))
	dirty := "../../engine/ingest/testdata/dirty"
	tests := []struct {
		name     string
		args     []string
		code     int
		stdout   []string // substrings
		stderr   []string
		noStdout []string
	}{
		{"ingest json", []string{"ingest", "--drop", dirty, "--warehouse", filepath.Join(dir, "w1"), "--key-file", key, "--json"},
			ExitBadInput, // social_insurance and education fail as whole files
			[]string{`"table": "households"`, `"read": 13`, `"accepted": 3`, `"rejected": 10`, `"missing": [`, `"assistance"`},
			[]string{"social_insurance: FAILED: social_insurance.csv: column contribution_base: required column missing"}, nil},
		{"v1 drop json", []string{"ingest", "--drop", "../../engine/ingest/testdata/clean", "--warehouse", filepath.Join(dir, "w4"), "--key-file", key, "--json"},
			ExitOK, // a v1 drop lacks the v1.1 tables by right: absent optional, not missing
			[]string{`"missing": [
    "unemployment",
    "education",
    "assets",
    "assistance"
  ],
  "absent_optional": [
    "regions",
    "person_events",
    "visit_outcomes"
  ]`}, nil, nil},
		{"v1 drop validate", []string{"validate", "--drop", "../../engine/ingest/testdata/clean"},
			ExitOK, nil, []string{"optional tables absent (standard v1.1, not required): regions, person_events, visit_outcomes"}, nil},
		{"key readable by others", []string{"ingest", "--drop", dirty, "--warehouse", filepath.Join(dir, "w2"), "--key-file", openKey},
			ExitUsage, nil, []string{"chmod 600 " + openKey}, nil},
		{"no persons", []string{"ingest", "--drop", noPersons, "--warehouse", filepath.Join(dir, "w3"), "--key-file", key},
			ExitBadInput, nil, []string{"persons.csv"}, nil},
		{"validate", []string{"validate", "--drop", dirty},
			ExitBadInput,
			[]string{"table,file,line,column,reason,original\n", "persons,persons.csv,4,id_number,", "P003,H001,[ID number],"},
			[]string{"households: households.csv read 13 accepted 3 rejected 10", "personal data (dropped) column name: header names personal data"},
			[]string{"52012319800101123", "13800000003", "王五"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("POVRISK_KEY", "")
			t.Setenv("POVRISK_KEY_FILE", "")
			var out, errb bytes.Buffer
			code := run(append([]string{"povrisk"}, tc.args...), strings.NewReader(""), &out, &errb)
			if code != tc.code {
				t.Errorf("exit %d, want %d\nstderr: %s", code, tc.code, errb.String())
			}
			for _, s := range tc.stdout {
				if !strings.Contains(out.String(), s) {
					t.Errorf("stdout lacks %q:\n%s", s, out.String())
				}
			}
			for _, s := range tc.noStdout {
				if strings.Contains(out.String(), s) {
					t.Errorf("stdout contains %q in clear", s)
				}
			}
			for _, s := range tc.stderr {
				if !strings.Contains(errb.String(), s) {
					t.Errorf("stderr lacks %q:\n%s", s, errb.String())
				}
			}
			if tc.name == "ingest json" {
				var rep struct {
					DropID string `json:"drop_id"`
					Tables []struct {
						Table                    string
						Read, Accepted, Rejected int64
					}
				}
				if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
					t.Fatalf("stdout is not JSON: %v", err)
				}
				for _, tb := range rep.Tables {
					if tb.Read != tb.Accepted+tb.Rejected {
						t.Errorf("%s: read %d != %d + %d", tb.Table, tb.Read, tb.Accepted, tb.Rejected)
					}
				}
			}
		})
	}
}
