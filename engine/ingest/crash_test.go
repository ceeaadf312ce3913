package ingest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/povrisk/povrisk/engine/warehouse"
)

// TestCrashHelper is the ingest run in a child process by TestCrashSafety.
func TestCrashHelper(t *testing.T) {
	if os.Getenv("POVRISK_CRASH_HELPER") != "1" {
		t.Skip("helper process for TestCrashSafety")
	}
	_, err := Run(context.Background(), openDB(t), Options{Drop: os.Getenv("POVRISK_CRASH_DROP"), Warehouse: os.Getenv("POVRISK_CRASH_WH"), Key: testKey})
	if err != nil {
		t.Fatal(err)
	}
}

// TestCrashSafety kills an ingest (SIGKILL) at each step of building and
// publishing a version: the previous version stays current and readable,
// and the next ingest succeeds.
func TestCrashSafety(t *testing.T) {
	points := []struct {
		name    string
		current string // version current after the crash
	}{
		{"after-tables", "v000001"},
		{"before-sync", "v000001"},
		{"before-version-rename", "v000001"},
		{"before-current", "v000001"},
		{"before-current-rename", "v000001"},
		{"after-current", "v000002"},
	}
	later := filepath.Join("testdata", "later")
	for _, p := range points {
		t.Run(p.name, func(t *testing.T) {
			wh := t.TempDir()
			ingestT(t, filepath.Join("testdata", "clean"), wh)
			before := dumpTable(t, wh, "households")
			cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelper$")
			cmd.Env = append(os.Environ(), "POVRISK_CRASH_HELPER=1", "POVRISK_TEST_CRASH_AT="+p.name,
				"POVRISK_CRASH_DROP="+later, "POVRISK_CRASH_WH="+wh)
			out, err := cmd.CombinedOutput()
			ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
			if err == nil || !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
				t.Fatalf("helper was not killed at %s: %v\n%s", p.name, err, out)
			}
			w, err := warehouse.Open(wh)
			if err != nil {
				t.Fatalf("open after crash: %v", err)
			}
			if w.Version() != p.current {
				t.Fatalf("current version after crash %s, want %s", w.Version(), p.current)
			}
			if p.current == "v000001" {
				if got := dumpTable(t, wh, "households"); got != before {
					t.Errorf("households changed by a crashed ingest:\n%s\nwant\n%s", got, before)
				}
			} else if got := dumpTable(t, wh, "households"); !strings.Contains(got, "H005") {
				t.Errorf("households after a completed publish lack H005:\n%s", got)
			}
			for _, ts := range w.Manifest().Tables {
				pth, _ := w.TablePath(ts.Name)
				dumpParquet(t, pth) // every table readable
			}
			// The next ingest goes through (or finds the drop merged).
			rep := ingestT(t, later, wh)
			if rep.Version != "v000002" {
				t.Errorf("ingest after crash: version %s, want v000002", rep.Version)
			}
			if got := dumpTable(t, wh, "households"); !strings.Contains(got, "H005,") {
				t.Errorf("households after re-ingest lack H005:\n%s", got)
			}
			if tmps, _ := filepath.Glob(filepath.Join(wh, ".tmp-*")); len(tmps) != 0 {
				t.Errorf("leftover work directories: %v", tmps)
			}
		})
	}
}
