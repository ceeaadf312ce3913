package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"

	"github.com/povrisk/povrisk/engine/warehouse"
)

// TestCrashHelper is the ingest run in a child process by TestCrashSafety:
// its crash hook kills the process (SIGKILL) at POVRISK_CRASH_POINT.
func TestCrashHelper(t *testing.T) {
	if os.Getenv("POVRISK_CRASH_HELPER") != "1" {
		t.Skip("helper process for TestCrashSafety")
	}
	point := os.Getenv("POVRISK_CRASH_POINT")
	kill := func(p string) {
		if p == point {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {}
		}
	}
	_, err := Run(context.Background(), openDB(t), Options{Drop: os.Getenv("POVRISK_CRASH_DROP"), Warehouse: os.Getenv("POVRISK_CRASH_WH"),
		Key: testKey, Hooks: Hooks{CrashAt: kill}})
	if err != nil {
		t.Fatal(err)
	}
}

// treeSums lists every file under dir (but the lock file) with its SHA-256.
func treeSums(t *testing.T, dir string) string {
	t.Helper()
	var lines []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if rel == "LOCK" {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		s := sha256.Sum256(b)
		lines = append(lines, rel+" "+hex.EncodeToString(s[:]))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// TestCrashSafety kills an ingest (SIGKILL, from its crash hook) at each
// step of building and publishing a version: the previous version stays
// current and readable, and the next ingest succeeds and leaves a
// warehouse byte-identical to one that never crashed.
func TestCrashSafety(t *testing.T) {
	current := map[string]string{"after-current": "v000002"} // else v000001
	later := filepath.Join("testdata", "later")
	ref := t.TempDir()
	ingestT(t, filepath.Join("testdata", "clean"), ref)
	ingestT(t, later, ref)
	want := treeSums(t, ref)
	for _, point := range CrashPoints() {
		t.Run(point, func(t *testing.T) {
			wantCur := current[point]
			if wantCur == "" {
				wantCur = "v000001"
			}
			wh := t.TempDir()
			ingestT(t, filepath.Join("testdata", "clean"), wh)
			before := dumpTable(t, wh, "households")
			cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelper$")
			cmd.Env = append(os.Environ(), "POVRISK_CRASH_HELPER=1", "POVRISK_CRASH_POINT="+point,
				"POVRISK_CRASH_DROP="+later, "POVRISK_CRASH_WH="+wh)
			out, err := cmd.CombinedOutput()
			ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
			if err == nil || !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
				t.Fatalf("helper was not killed at %s: %v\n%s", point, err, out)
			}
			w, err := warehouse.Open(wh)
			if err != nil {
				t.Fatalf("open after crash: %v", err)
			}
			if w.Version() != wantCur {
				t.Fatalf("current version after crash %s, want %s", w.Version(), wantCur)
			}
			if wantCur == "v000001" {
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
			// The next ingest takes over the killed one's lock (Wait 0) and
			// goes through (or finds the drop merged).
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
			if got := treeSums(t, wh); got != want {
				t.Errorf("warehouse after crash at %s and rerun differs from one that never crashed:\n%s\nwant\n%s", point, got, want)
			}
		})
	}
}
