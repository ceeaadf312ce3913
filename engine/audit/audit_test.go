package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// writeRun creates RUNS/<name> with the given files and returns their
// checksums computed here with crypto/sha256 directly.
func writeRun(t *testing.T, runs, name string, files map[string]string) map[string]string {
	t.Helper()
	sums := map[string]string{}
	for rel, content := range files {
		p := filepath.Join(runs, name, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		s := sha256.Sum256([]byte(content))
		sums[rel] = hex.EncodeToString(s[:])
	}
	return sums
}

// fixture writes three runs and their records.
func fixture(t *testing.T) string {
	t.Helper()
	runs := t.TempDir()
	for i, name := range []string{"2025-10-31", "2025-11-30", "2025-12-31"} {
		sums := writeRun(t, runs, name, map[string]string{
			"ranked.csv":            "household_id\nH" + name + "\n",
			"worklists/520123.xlsx": strings.Repeat("x", i+1),
			"checksums.sha256":      "sums " + name,
		})
		_, err := Append(runs, Record{Time: "2026-01-0" + string(rune('1'+i)) + "T02:00:00Z", User: "cadre", Command: "povrisk run --as-of " + name,
			Run: name, Inputs: map[string]string{"policy.toml": "ab"}, Model: "m1", PolicySHA256: "ab", Outputs: sums}, 0o600)
		if err != nil {
			t.Fatal(err)
		}
	}
	return runs
}

func TestAppendChains(t *testing.T) {
	runs := fixture(t)
	data, err := os.ReadFile(filepath.Join(runs, LogName))
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
	if len(lines) != 3 {
		t.Fatalf("%d lines, want 3", len(lines))
	}
	prev := ""
	for i, l := range lines {
		var m map[string]any
		if err := json.Unmarshal(l, &m); err != nil {
			t.Fatal(err)
		}
		if got := m["seq"].(float64); got != float64(i+1) {
			t.Errorf("line %d: seq %v", i+1, got)
		}
		if m["prev"] != prev {
			t.Errorf("line %d: prev %v, want %s", i+1, m["prev"], prev)
		}
		// The hash is the sha256 of the line with its hash field removed.
		h := m["hash"].(string)
		without := bytes.Replace(l, []byte(`,"hash":"`+h+`"`), nil, 1)
		s := sha256.Sum256(without)
		if hex.EncodeToString(s[:]) != h {
			t.Errorf("line %d: hash %s is not the sha256 of the record without it", i+1, h)
		}
		s = sha256.Sum256(l)
		prev = hex.EncodeToString(s[:])
	}
	st, err := os.Stat(filepath.Join(runs, LogName))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode().Perm())
	}
}

func TestVerify(t *testing.T) {
	// edit alters the log or the run directories of a fresh fixture.
	type edit func(t *testing.T, runs string)
	rewriteLine := func(n int, f func(line string) string) edit {
		return func(t *testing.T, runs string) {
			p := filepath.Join(runs, LogName)
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
			if nl := f(lines[n-1]); nl != "" {
				lines[n-1] = nl
			} else {
				lines = append(lines[:n-1], lines[n:]...) // remove the line
			}
			out := strings.Join(lines, "\n")
			if out != "" {
				out += "\n"
			}
			if err := os.WriteFile(p, []byte(out), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	rehash := func(line string) string { // alter the model and recompute the record's own hash
		var r Record
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			panic(err)
		}
		r.Model = "m2"
		r.Hash = r.ComputeHash()
		b, _ := json.Marshal(r)
		return string(b)
	}
	cases := []struct {
		name  string
		edit  edit
		want  []string // "seq N: substring" per problem, in order
		notes int
	}{
		{"intact", func(*testing.T, string) {}, nil, 0},
		{"record altered", rewriteLine(2, func(l string) string { return strings.Replace(l, `"user":"cadre"`, `"user":"other"`, 1) }),
			[]string{"seq 2: record altered", "seq 3: chain broken"}, 0},
		{"record altered and rehashed", rewriteLine(2, rehash), []string{"seq 3: chain broken"}, 0},
		{"output checksum altered", rewriteLine(3, func(l string) string { return strings.Replace(l, `"ranked.csv":"`, `"ranked.csv":"0`, 1) }),
			[]string{"seq 3: record altered", "seq 3: file ranked.csv was modified"}, 0},
		{"record removed", rewriteLine(2, func(string) string { return "" }), []string{"seq 3: seq 3 where 2 was expected", "seq 3: chain broken", "seq 0: run directory has no audit record"}, 0},
		{"file modified", func(t *testing.T, runs string) {
			if err := os.WriteFile(filepath.Join(runs, "2025-11-30", "ranked.csv"), []byte("household_id\nX\n"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, []string{"seq 2: file ranked.csv was modified"}, 0},
		{"file removed", func(t *testing.T, runs string) {
			if err := os.Remove(filepath.Join(runs, "2025-12-31", "worklists", "520123.xlsx")); err != nil {
				t.Fatal(err)
			}
		}, []string{"seq 3: file worklists/520123.xlsx is missing"}, 0},
		{"file added", func(t *testing.T, runs string) {
			if err := os.WriteFile(filepath.Join(runs, "2025-10-31", "extra.csv"), []byte("x"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, []string{"seq 1: file extra.csv is not in the record"}, 0},
		{"run pruned", func(t *testing.T, runs string) {
			if err := os.RemoveAll(filepath.Join(runs, "2025-10-31")); err != nil {
				t.Fatal(err)
			}
		}, nil, 1},
		{"unrecorded run", func(t *testing.T, runs string) {
			writeRun(t, runs, "2026-01-31", map[string]string{"checksums.sha256": "x"})
		}, []string{"seq 0: run directory has no audit record"}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			runs := fixture(t)
			c.edit(t, runs)
			rep, err := Verify(runs)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range rep.Problems {
				got = append(got, "seq "+strconv.FormatInt(p.Seq, 10)+": "+p.What)
				dirProblem := strings.HasPrefix(p.What, "file ") || strings.HasPrefix(p.What, "run directory")
				if p.Chain == dirProblem {
					t.Errorf("%q: Chain = %v", p.What, p.Chain)
				}
			}
			if len(got) != len(c.want) {
				t.Fatalf("problems:\n%s\nwant %d:\n%s", strings.Join(got, "\n"), len(c.want), strings.Join(c.want, "\n"))
			}
			for i := range got {
				if !strings.HasPrefix(got[i], c.want[i]) {
					t.Errorf("problem %d = %q, want prefix %q", i, got[i], c.want[i])
				}
			}
			if rep.OK() != (len(c.want) == 0) {
				t.Errorf("OK() = %v", rep.OK())
			}
			if len(rep.Notes) != c.notes {
				t.Errorf("notes %v, want %d", rep.Notes, c.notes)
			}
		})
	}
}

func TestAppendRefusesPartialLine(t *testing.T) {
	runs := fixture(t)
	f, err := os.OpenFile(filepath.Join(runs, LogName), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"seq":4,"ti`)
	f.Close()
	_, err = Append(runs, Record{Run: "x"}, 0o600)
	if err == nil || !strings.Contains(err.Error(), "partial line") {
		t.Fatalf("Append after a torn line: err = %v, want partial line", err)
	}
}
