package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/povrisk/povrisk/engine/lock"
)

// TestIngestExitCodes: a locked warehouse exits 7 naming the holder, a
// warehouse that cannot be written exits 8, a bad --max-reject-share 2.
func TestIngestExitCodes(t *testing.T) {
	t.Setenv("POVRISK_KEY", "cmd-test-key-0123456789")
	t.Setenv("POVRISK_KEY_FILE", "")
	dir := t.TempDir()
	clean := "../../engine/ingest/testdata/clean"
	locked := filepath.Join(dir, "locked")
	notDir := filepath.Join(dir, "file")
	writeTestFile(t, notDir, "not a directory\n")
	tests := []struct {
		name string
		args []string
		code int
		text string
	}{
		{"busy", []string{"ingest", "--drop", clean, "--warehouse", locked}, 7, "locked by pid"},
		{"busy after waiting", []string{"ingest", "--drop", clean, "--warehouse", locked, "--wait", "300ms"}, 7, "after waiting 300ms"},
		{"cannot write", []string{"ingest", "--drop", clean, "--warehouse", filepath.Join(notDir, "w")}, 8, "create warehouse"},
		{"bad share", []string{"ingest", "--drop", clean, "--warehouse", filepath.Join(dir, "w"), "--max-reject-share", "1.5"}, 2, "between 0 and 1"},
		{"ok", []string{"ingest", "--drop", clean, "--warehouse", filepath.Join(dir, "w3"), "--max-reject-share", "0.5"}, 0, "ingested: warehouse version v000001"},
	}
	l, err := lock.Acquire(mkdirT(t, locked), lock.Options{Command: "povrisk ingest --drop other"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(append([]string{"povrisk"}, tc.args...), strings.NewReader(""), &out, &errb)
			if code != tc.code || !strings.Contains(errb.String(), tc.text) {
				t.Errorf("exit %d, want %d with %q\nstderr: %s", code, tc.code, tc.text, errb.String())
			}
		})
	}
}

func mkdirT(t *testing.T, dir string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Without a terminal (cron) an ingest of a good drop prints the drop's one
// line and the tables with something to say (here persons: its name and
// phone columns were dropped); --verbose prints every table.
func TestIngestCronLines(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "key")
	os.WriteFile(key, []byte("cmd-test-key-0123456789abcdef"), 0o600)
	drop := filepath.Join(dir, "drop")
	if code, _, errs := runCLI(t, []string{"generate", "--households", "30", "--months", "8", "--out", drop, "-q"}); code != 0 {
		t.Fatalf("generate: exit %d: %s", code, errs)
	}
	code, _, errs := runCLI(t, []string{"ingest", "--drop", drop, "--warehouse", filepath.Join(dir, "w1"), "--key-file", key})
	lines := strings.Split(strings.TrimSpace(errs), "\n")
	if code != 0 || len(lines) != 2 || !strings.HasPrefix(lines[0], "persons: persons.csv read ") ||
		!strings.Contains(lines[1], " ingested: warehouse version v000001") {
		t.Errorf("ingest without a terminal: exit %d, %d lines:\n%s", code, len(lines), errs)
	}
	code, _, errs = runCLI(t, []string{"ingest", "--drop", drop, "--warehouse", filepath.Join(dir, "w2"), "--key-file", key, "--verbose"})
	if code != 0 || !strings.Contains(errs, "households: households.csv read 30 accepted 30 rejected 0") ||
		!strings.Contains(errs, "income_records: income_records.csv read ") {
		t.Errorf("ingest --verbose: exit %d:\n%s", code, errs)
	}
}
