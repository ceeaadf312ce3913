package brief

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/povrisk/povrisk/engine/fault"
	"github.com/povrisk/povrisk/engine/rundir"
)

// copyRuns copies the fixture runs directory into a temporary one.
func copyRuns(t *testing.T) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "runs")
	if err := os.CopyFS(dst, os.DirFS(fixtureRuns)); err != nil {
		t.Fatal(err)
	}
	return dst
}

func editFile(t *testing.T, path string, fn func([]byte) []byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, fn(b), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestRefuseIncomplete checks that no brief is written from a run directory
// that is incomplete, altered, or out of step with its audit record.
func TestRefuseIncomplete(t *testing.T) {
	const run = "2025-12-31"
	for _, tc := range []struct {
		name   string
		tamper func(t *testing.T, runs string) string // returns the directory to brief
		want   string                                 // in the error; "" = accepted
	}{
		{"intact", func(t *testing.T, runs string) string { return filepath.Join(runs, run) }, ""},
		{"no checksums", func(t *testing.T, runs string) string {
			os.Remove(filepath.Join(runs, run, "checksums.sha256"))
			return filepath.Join(runs, run)
		}, "no checksums.sha256"},
		{"file altered", func(t *testing.T, runs string) string {
			editFile(t, filepath.Join(runs, run, "summary.json"), func(b []byte) []byte {
				return bytes.Replace(b, []byte(`"eligible": `), []byte(`"eligible": 1`), 1) // one more digit: another count
			})
			return filepath.Join(runs, run)
		}, "summary.json does not match checksums.sha256"},
		{"file truncated", func(t *testing.T, runs string) string {
			editFile(t, filepath.Join(runs, run, "ranked.parquet"), func(b []byte) []byte { return b[:len(b)/2] })
			return filepath.Join(runs, run)
		}, "ranked.parquet does not match"},
		{"file missing", func(t *testing.T, runs string) string {
			os.Remove(filepath.Join(runs, run, "changes.csv"))
			return filepath.Join(runs, run)
		}, "changes.csv listed in checksums.sha256 is missing"},
		{"extra file", func(t *testing.T, runs string) string {
			os.WriteFile(filepath.Join(runs, run, "notes.txt"), []byte("x"), 0o644)
			return filepath.Join(runs, run)
		}, "notes.txt is not in checksums.sha256"},
		{"partial", func(t *testing.T, runs string) string {
			p := filepath.Join(runs, ".2026-01-31.partial")
			os.Rename(filepath.Join(runs, run), p)
			return p
		}, ".partial"},
		{"checksums rewritten to match a change, audit not", func(t *testing.T, runs string) string {
			dir := filepath.Join(runs, run)
			editFile(t, filepath.Join(dir, "changes.csv"), func(b []byte) []byte { return append(b, "H123,x,x,x,entered,1,0,1\n"...) })
			b, err := os.ReadFile(filepath.Join(dir, "checksums.sha256"))
			if err != nil {
				t.Fatal(err)
			}
			sums, err := rundir.ParseChecksums(b)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			for _, p := range slices.Sorted(maps.Keys(sums)) {
				h := sums[p]
				if p == "changes.csv" {
					h = sha256File(t, filepath.Join(dir, p))
				}
				buf.WriteString(h + "  " + p + "\n")
			}
			os.WriteFile(filepath.Join(dir, "checksums.sha256"), buf.Bytes(), 0o644)
			return dir
		}, "does not match audit record"},
		{"audit record altered", func(t *testing.T, runs string) string {
			editFile(t, filepath.Join(runs, "audit.log"), func(b []byte) []byte {
				lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
				last := lines[len(lines)-1]
				lines[len(lines)-1] = strings.Replace(last, `"user":"fixture"`, `"user":"someone"`, 1)
				return []byte(strings.Join(lines, "\n") + "\n")
			})
			return filepath.Join(runs, run)
		}, "was altered"},
		{"no audit record", func(t *testing.T, runs string) string {
			editFile(t, filepath.Join(runs, "audit.log"), func(b []byte) []byte {
				lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
				return []byte(strings.Join(lines[:len(lines)-1], "\n") + "\n")
			})
			return filepath.Join(runs, run)
		}, "no record for run 2025-12-31"},
		{"no audit log", func(t *testing.T, runs string) string {
			os.Remove(filepath.Join(runs, "audit.log"))
			return filepath.Join(runs, run)
		}, "no record for run 2025-12-31"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := tc.tamper(t, copyRuns(t))
			out := filepath.Join(t.TempDir(), "brief.html")
			_, err := Write(context.Background(), Options{Run: dir, Out: out})
			if tc.want == "" {
				if err != nil {
					t.Fatalf("intact run refused: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrIncomplete) {
				t.Fatalf("error %v does not wrap ErrIncomplete", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
			if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a brief was written from a refused run directory")
			}
		})
	}
}

// TestEarlierRunSkipped: an altered earlier run is left out of the
// comparisons, and the brief says so.
func TestEarlierRunSkipped(t *testing.T) {
	runs := copyRuns(t)
	editFile(t, filepath.Join(runs, "2025-12-30", "ranked.parquet"), func(b []byte) []byte { return b[:100] })
	var buf bytes.Buffer
	if _, err := HTML(context.Background(), &buf, Options{Run: filepath.Join(runs, "2025-12-31"), Lang: "en"}); err != nil {
		t.Fatal(err)
	}
	text := textOf(buf.String())
	for _, want := range []string{
		"Earlier run 2025-12-30 is incomplete",
		"since the previous run (2025-11-30)", // the run before the altered one
		"5 runs over the last 6 months",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("brief lacks %q", want)
		}
	}
}

func sha256File(t *testing.T, path string) string {
	t.Helper()
	h, err := rundir.HashFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestDamagedRunRefused: a run whose files are damaged in ways checksums
// cannot tell (a writer's bug, or files rewritten with their checksums)
// gives an error marked fault.Tampered (an incomplete or altered run
// directory, exit 6) naming the file, never a panic.
func TestDamagedRunRefused(t *testing.T) {
	const run = "2025-12-31"
	for _, tc := range []struct {
		name, file, body, want string
	}{
		{"summary empty", "summary.json", "", "summary.json"},
		{"summary cut", "summary.json", `{"as_of": "2025-`, "summary.json"},
		{"summary not an object", "summary.json", `[1, 2]`, "summary.json"},
		{"as_of a number", "summary.json", `{"as_of": 5}`, "summary.json"},
		{"as_of empty", "summary.json", `{"schema": 1, "as_of": ""}`, "as_of"},
		{"as_of not a date", "summary.json", `{"schema": 1, "as_of": "2025-13-45"}`, "as_of"},
		{"as_of short", "summary.json", `{"schema": 1, "as_of": "x"}`, "as_of"},
		{"counts of the wrong type", "summary.json", `{"as_of": "2025-12-31", "counts": {"households": "many"}}`, "summary.json"},
		{"ranked empty", "ranked.parquet", "", "ranked.parquet"},
		{"ranked garbage", "ranked.parquet", "PAR1\x00\x01\x02garbagePAR1", "ranked.parquet"},
		{"ranked csv", "ranked.parquet", "household_id,region_code,tier\nH1,520123,high\n", "ranked.parquet"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(copyRuns(t), run)
			if err := os.WriteFile(filepath.Join(dir, tc.file), []byte(tc.body), 0o644); err != nil {
				t.Fatal(err)
			}
			cur, err := readCurrent(context.Background(), dir, "", "sha")
			err = badInput(err)
			if err == nil {
				t.Fatalf("accepted: %+v", cur.Summary)
			}
			if !fault.Is(err, fault.Tampered) {
				t.Errorf("kind %v, want incomplete or tampered run directory: %v", fault.Of(err), err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
		})
	}
	// Truncating a valid Parquet file at every 997th byte never panics.
	dir := filepath.Join(copyRuns(t), run)
	whole, err := os.ReadFile(filepath.Join(dir, "ranked.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	for n := 0; n < len(whole); n += 997 {
		os.WriteFile(filepath.Join(dir, "ranked.parquet"), whole[:n], 0o644)
		if _, err := readCurrent(context.Background(), dir, "", "sha"); err == nil {
			t.Errorf("ranked.parquet cut at %d of %d bytes was accepted", n, len(whole))
		}
	}
	// Flipping 8 bytes every 131 bytes never panics; a flip the reader
	// notices is a tampered run directory (one in a data page may decode to other values).
	refused := 0
	for n := 4; n < len(whole)-8; n += 131 {
		b := append([]byte(nil), whole...)
		for i := n; i < n+8; i++ {
			b[i] ^= 0xA5
		}
		os.WriteFile(filepath.Join(dir, "ranked.parquet"), b, 0o644)
		if _, err := readCurrent(context.Background(), dir, "", "sha"); err != nil {
			refused++
			if err = badInput(err); !fault.Is(err, fault.Tampered) || !strings.Contains(err.Error(), "ranked.parquet") {
				t.Errorf("flip at %d: %v (kind %v), want a tampered run directory naming ranked.parquet", n, err, fault.Of(err))
			}
		}
	}
	if refused == 0 {
		t.Errorf("no flipped ranked.parquet was refused")
	}
}
