package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// The runs directory the brief and exit-code tests read: made once per
// test binary by the real commands (generate, ingest, train, two nights,
// the first not a month-end), so that they read what `povrisk run` writes.
var (
	fixtureOnce sync.Once
	fixtureRoot string // removed by TestMain
	fixtureRuns string
	fixtureErr  error
)

func buildCmdFixture() (string, error) {
	root, err := os.MkdirTemp("", "povrisk-cmd-fixture-")
	if err != nil {
		return "", err
	}
	fixtureRoot = root
	drop, wh, models, runs := filepath.Join(root, "drop"), filepath.Join(root, "wh"), filepath.Join(root, "models"), filepath.Join(root, "runs")
	key := filepath.Join(root, "key")
	if err := os.WriteFile(key, []byte("cmd-fixture-key-0123456789abcdef\n"), 0o600); err != nil {
		return "", err
	}
	steps := [][]string{
		{"generate", "--households", "1500", "--months", "24", "--seed", "1", "--out", drop, "-q"},
		{"ingest", "--drop", drop, "--warehouse", wh, "--key-file", key, "-q"},
		{"train", "--warehouse", wh, "--models", models, "--trees", "20", "--snapshots", "3", "--policy", "sample", "-q"},
		{"run", "--warehouse", wh, "--models", models, "--runs", runs, "--policy", "sample", "--as-of", "2025-12-30", "--any-day", "-q"},
		{"run", "--warehouse", wh, "--models", models, "--runs", runs, "--policy", "sample", "--as-of", "2025-12-31", "-q"},
	}
	for _, s := range steps {
		var out, errb bytes.Buffer
		if code := run(append([]string{"povrisk"}, s...), strings.NewReader(""), &out, &errb); code != 0 {
			return "", fmt.Errorf("%s: exit %d: %s", strings.Join(s, " "), code, errb.String())
		}
	}
	return runs, nil
}

// copyBriefRuns copies the fixture's runs directory (2025-12-30 and
// 2025-12-31) into a fresh directory of the test.
func copyBriefRuns(t *testing.T) string {
	t.Helper()
	fixtureOnce.Do(func() { fixtureRuns, fixtureErr = buildCmdFixture() })
	if fixtureErr != nil {
		t.Fatal("fixture:", fixtureErr)
	}
	dst := filepath.Join(t.TempDir(), "runs")
	if err := os.CopyFS(dst, os.DirFS(fixtureRuns)); err != nil {
		t.Fatal(err)
	}
	return dst
}
