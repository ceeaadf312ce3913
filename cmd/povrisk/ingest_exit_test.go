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
