package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/povrisk/povrisk/engine/audit"
)

// TestShardAndMergeUsage: the exit codes of the shard and merge flags
// that need no data: a --shard that is not K/N, auto/N with neither
// batch variable set, a merge without --shards or with a bad date (usage,
// 2), and a merge whose shards are not there (bad input, 3, naming the
// first missing shard and the command that makes it).
func TestShardAndMergeUsage(t *testing.T) {
	t.Setenv("JOB_COMPLETION_INDEX", "")
	t.Setenv("SLURM_ARRAY_TASK_ID", "")
	dir := t.TempDir()
	key := filepath.Join(dir, "audit.key")
	if err := audit.NewKeyFile(key); err != nil {
		t.Fatal(err)
	}
	t.Setenv(audit.KeyEnv, key)
	for _, c := range []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"shard not K/N", []string{"run", "--policy", "sample", "--shard", "3"}, ExitUsage, "want K/N or auto/N"},
		{"shard K too large", []string{"run", "--policy", "sample", "--shard", "2/2"}, ExitUsage, "from 0 to 1"},
		{"auto without index", []string{"run", "--policy", "sample", "--shard", "auto/4"}, ExitUsage, "JOB_COMPLETION_INDEX"},
		{"merge without shards", []string{"merge", "--runs", dir, "--as-of", "2025-12-31"}, ExitUsage, "shards"},
		{"merge bad date", []string{"merge", "--runs", dir, "--as-of", "2025-13-31", "--shards", "2"}, ExitUsage, "YYYY-MM-DD"},
		{"merge zero shards", []string{"merge", "--runs", dir, "--as-of", "2025-12-31", "--shards", "0"}, ExitUsage, "--shards 0"},
		{"merge shards missing", []string{"merge", "--runs", dir, "--as-of", "2025-12-31", "--shards", "2"}, ExitBadInput, "shard 0 of 2"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, _, errs := runCLI(t, c.args)
			if code != c.code || !strings.Contains(errs, c.msg) {
				t.Errorf("%v: exit %d, want %d; stderr:\n%s(want %q)", c.args, code, c.code, errs, c.msg)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "2025-12-31")); err == nil {
		t.Errorf("a failed merge wrote the run directory")
	}
}
