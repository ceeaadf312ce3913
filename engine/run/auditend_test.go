package run

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/povrisk/povrisk/engine"
	"github.com/povrisk/povrisk/engine/audit"
	"github.com/povrisk/povrisk/engine/fault"
)

// TestNightRefusesShortenedLog: with the last record and its run
// directory removed, the next night is refused as tampered before it
// writes anything; before, it chained on the shortened log and the removal
// no longer showed in `audit --verify` (issue 11 review).
func TestNightRefusesShortenedLog(t *testing.T) {
	f := setupE2E(t)
	runs := filepath.Join(t.TempDir(), "runs")
	if err := os.CopyFS(runs, os.DirFS(f.runs)); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(runs, "LOCK"))
	logPath := filepath.Join(runs, audit.LogName)
	b, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(b), "\n")
	if len(lines) != 3 { // two records and ""
		t.Fatalf("%d log lines, want 2 records", len(lines)-1)
	}
	if err := os.WriteFile(logPath, []byte(lines[0]), 0o600); err != nil {
		t.Fatal(err)
	}
	day := f.asOf.Format("2006-01-02")
	if err := os.RemoveAll(filepath.Join(runs, day)); err != nil {
		t.Fatal(err)
	}
	db, err := engine.OpenDB("")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, err = Run(context.Background(), db, f.options(runs))
	if fault.Of(err) != fault.Tampered || !strings.Contains(err.Error(), "head names 2 records and the log holds 1") {
		t.Fatalf("night on a shortened log: %v (kind %v), want tampered", err, fault.Of(err))
	}
	if _, err := os.Stat(filepath.Join(runs, day)); !os.IsNotExist(err) {
		t.Errorf("the refused night wrote its run directory (%v)", err)
	}
	if got, _ := os.ReadFile(logPath); string(got) != lines[0] {
		t.Error("the refused night changed the log")
	}
}
