package run

import (
	"bufio"
	"bytes"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/povrisk/povrisk/engine/audit"
	"github.com/povrisk/povrisk/engine/rundir"
)

// buildBinary builds cmd/povrisk once per test binary.
var binPath string

func povriskBinary(t *testing.T) string {
	t.Helper()
	if binPath != "" {
		return binPath
	}
	out := filepath.Join(fixRoot, "povrisk")
	cmd := exec.Command("go", "build", "-tags", "duckdb_arrow", "-o", out, "../../cmd/povrisk")
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build povrisk: %v\n%s", err, b)
	}
	binPath = out
	return out
}

// runChild runs `povrisk run` into runs; with pauseAt set it waits until
// the child reports the pause, kills it with SIGKILL and returns.
func runChild(t *testing.T, f *e2eFixture, runs, pauseAt string) {
	t.Helper()
	cmd := exec.Command(povriskBinary(t), "run", "--warehouse", f.wh, "--models", f.models, "--runs", runs,
		"--policy", f.policy, "--as-of", f.asOf.Format("2006-01-02"))
	cmd.Env = append(os.Environ(), "POVRISK_TEST_PAUSE_AT="+pauseAt)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if pauseAt == "" {
		var buf bytes.Buffer
		buf.ReadFrom(stderr)
		if err := cmd.Wait(); err != nil {
			t.Fatalf("povrisk run: %v\n%s", err, buf.String())
		}
		return
	}
	sc := bufio.NewScanner(stderr)
	paused := false
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if sc.Text() == "povrisk: paused at "+pauseAt {
			paused = true
			break
		}
	}
	if !paused {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("child never paused at %s:\n%s", pauseAt, strings.Join(lines, "\n"))
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child was not killed by SIGKILL: %v", err)
	}
}

// readTree returns every file under dir (relative path -> bytes).
func readTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		rel, _ := filepath.Rel(dir, path)
		out[rel] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sameTree(t *testing.T, got, want map[string][]byte) {
	t.Helper()
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if !bytes.Equal(got[k], want[k]) {
			t.Errorf("%s differs from the uninterrupted run (%d bytes, want %d)", k, len(got[k]), len(want[k]))
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("extra file %s", k)
		}
	}
}

// TestKilledRunThenRerun kills `povrisk run` (SIGKILL) at several stages
// and checks that nothing that looks complete is left, and that a rerun
// gives the same bytes as an uninterrupted run.
func TestKilledRunThenRerun(t *testing.T) {
	f := setupE2E(t)
	day := f.asOf.Format("2006-01-02")
	refRuns := filepath.Join(fixRoot, "kill-ref")
	runChild(t, f, refRuns, "")
	ref := readTree(t, filepath.Join(refRuns, day))
	if len(ref) < 8 {
		t.Fatalf("reference run has %d files", len(ref))
	}
	// Stages: before any file, with a partial directory half written, just
	// before the rename, and after the rename but before the audit record.
	for _, stage := range []string{"features", "worklists", "commit", "audit"} {
		t.Run(stage, func(t *testing.T) {
			runs := filepath.Join(fixRoot, "kill-"+stage)
			runChild(t, f, runs, stage)
			_, err := os.Stat(filepath.Join(runs, day))
			switch stage {
			case "audit": // renamed, not yet recorded: the audit shows it
				if err != nil {
					t.Fatalf("run directory missing after a kill before the audit record: %v", err)
				}
				rep, err := audit.Verify(runs, testAuditKey(t))
				if err != nil {
					t.Fatal(err)
				}
				if rep.OK() || !strings.Contains(rep.Problems[0].What, "no audit record") {
					t.Errorf("audit after a kill before the record: problems %v", rep.Problems)
				}
			default:
				if err == nil {
					t.Fatalf("a run killed at %s left %s/%s that looks complete", stage, runs, day)
				}
			}
			runChild(t, f, runs, "")
			sameTree(t, readTree(t, filepath.Join(runs, day)), ref)
			if _, err := os.Stat(filepath.Join(runs, rundir.PartialName(day))); err == nil {
				t.Errorf("partial directory left after the rerun")
			}
			rep, err := audit.Verify(runs, testAuditKey(t))
			if err != nil {
				t.Fatal(err)
			}
			if !rep.OK() {
				t.Errorf("audit after the rerun: %v", rep.Problems)
			}
		})
	}

	// Killing a rerun leaves the earlier complete run in place.
	t.Run("rerun killed", func(t *testing.T) {
		runs := filepath.Join(fixRoot, "kill-audit") // holds a complete rerun
		runChild(t, f, runs, "commit")
		sameTree(t, readTree(t, filepath.Join(runs, day)), ref)
	})
}
