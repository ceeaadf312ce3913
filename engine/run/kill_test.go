package run

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/povrisk/povrisk/engine"
	"github.com/povrisk/povrisk/engine/audit"
	"github.com/povrisk/povrisk/engine/civil"
	"github.com/povrisk/povrisk/engine/rundir"
)

// TestRunHelper is the night that runChild runs in a child process (this
// test binary, not the povrisk binary, which has no test hook): the
// options `povrisk run` gives Run for the fixture's flags, and, when
// POVRISK_RUN_PAUSE_AT names a stage, a pause there through
// Options.PauseAt/Pause that prints "povrisk: paused at <stage>" and sleeps
// until the parent kills it.
func TestRunHelper(t *testing.T) {
	if os.Getenv("POVRISK_RUN_HELPER") != "1" {
		t.Skip("helper process for TestKilledRunThenRerun")
	}
	asOf, err := civil.Parse(os.Getenv("POVRISK_RUN_AS_OF"))
	if err != nil {
		t.Fatal(err)
	}
	o := Options{Warehouse: os.Getenv("POVRISK_RUN_WH"), Models: os.Getenv("POVRISK_RUN_MODELS"), Runs: os.Getenv("POVRISK_RUN_RUNS"),
		PolicyPath: os.Getenv("POVRISK_RUN_POLICY"), AsOf: asOf, Command: "povrisk run"}
	if s := os.Getenv("POVRISK_RUN_SHARD"); s != "" { // a shard task (shard_test.go)
		sh, err := ParseShard(s, os.Getenv)
		if err != nil {
			t.Fatal(err)
		}
		o.Shard = &sh
		fmt.Sscan(os.Getenv("POVRISK_RUN_SHARD_HOUSEHOLDS"), &o.ShardHouseholds)
		for _, kv := range strings.Split(os.Getenv("POVRISK_RUN_TOPK"), ",") { // county=k,...
			if c, k, ok := strings.Cut(kv, "="); ok {
				if o.TopK == nil {
					o.TopK = map[string]TopK{}
				}
				var n int
				fmt.Sscan(k, &n)
				o.TopK[c] = TopK{K: n}
			}
		}
	}
	if stage := os.Getenv("POVRISK_RUN_PAUSE_AT"); stage != "" {
		o.PauseAt = stage
		o.Pause = func(s string) {
			fmt.Fprintf(os.Stderr, "povrisk: paused at %s\n", s)
			time.Sleep(time.Hour)
		}
	}
	db, err := engine.OpenDB("")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := Run(context.Background(), db, o); err != nil {
		t.Fatal(err)
	}
}

// runChild runs the night (TestRunHelper) in a child process into runs;
// with pauseAt set it waits until the child reports the pause, kills it
// with SIGKILL and returns.
func runChild(t *testing.T, f *e2eFixture, runs, pauseAt string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestRunHelper$")
	cmd.Env = append(os.Environ(), "POVRISK_RUN_HELPER=1", "POVRISK_RUN_WH="+f.wh, "POVRISK_RUN_MODELS="+f.models,
		"POVRISK_RUN_RUNS="+runs, "POVRISK_RUN_POLICY="+f.policy, "POVRISK_RUN_AS_OF="+civil.Format(f.asOf),
		"POVRISK_RUN_PAUSE_AT="+pauseAt)
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
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
			t.Fatalf("night in a child process: %v\n%s%s", err, stdout.String(), buf.String())
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
		t.Fatalf("child never paused at %s:\n%s%s", pauseAt, stdout.String(), strings.Join(lines, "\n"))
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
