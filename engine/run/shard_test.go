package run

import (
	"bytes"
	"context"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/povrisk/povrisk/engine"
	"github.com/povrisk/povrisk/engine/audit"
	"github.com/povrisk/povrisk/engine/civil"
	"github.com/povrisk/povrisk/engine/fault"
)

func TestParseShard(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	for _, c := range []struct {
		in   string
		env  map[string]string
		want Shard
	}{
		{"0/1", nil, Shard{0, 1}},
		{"3/4", nil, Shard{3, 4}},
		{"auto/4", map[string]string{"JOB_COMPLETION_INDEX": "2", "SLURM_ARRAY_TASK_ID": "1"}, Shard{2, 4}},
		{"auto/4", map[string]string{"SLURM_ARRAY_TASK_ID": "1"}, Shard{1, 4}},
	} {
		got, err := ParseShard(c.in, env(c.env))
		if err != nil || got != c.want {
			t.Errorf("ParseShard(%q, %v) = %v, %v; want %v", c.in, c.env, got, err, c.want)
		}
	}
	for _, c := range []struct {
		in  string
		env map[string]string
	}{
		{"4/4", nil}, {"-1/4", nil}, {"1", nil}, {"1/0", nil}, {"a/3", nil}, {"auto/3", nil},
		{"auto/3", map[string]string{"JOB_COMPLETION_INDEX": "3"}}, {"auto/3", map[string]string{"SLURM_ARRAY_TASK_ID": "x"}},
	} {
		if _, err := ParseShard(c.in, env(c.env)); fault.Of(err) != fault.Usage {
			t.Errorf("ParseShard(%q, %v): %v, want a usage error", c.in, c.env, err)
		}
	}
}

// TestBalance: worked by hand. Sizes 500 (A), 300 (B), 300 (C), 200 (D),
// 100 (E) into 2: A->0 (500), B->1 (300), C->1 (600), D->0 (700),
// E->1 (700; the tie at 700/600 went to the lighter shard 1 before).
func TestBalance(t *testing.T) {
	sizes := []countySize{{"E", 100}, {"C", 300}, {"A", 500}, {"B", 300}, {"D", 200}}
	got := balance(sizes, 2)
	want := [][]string{{"A", "D"}, {"B", "C", "E"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("balance = %v, want %v", got, want)
	}
	if got := balance(sizes, 7); len(got) != 7 || len(got[5]) != 0 || len(got[6]) != 0 {
		t.Errorf("balance into 7 = %v, want five groups of one and two empty", got)
	}
	// groupsOf: 1400 households in groups of at most about 600 -> 3
	// groups: A->0 (500), B->1 (300), C->2 (300), D->1 (tie 1/2: the
	// lower; 500), E->2 (400).
	g := groupsOf([]string{"A", "B", "C", "D", "E"}, sizes, 600)
	if !reflect.DeepEqual(g, [][]string{{"A"}, {"B", "D"}, {"C", "E"}}) {
		t.Errorf("groupsOf = %v", g)
	}
	if g := groupsOf(nil, sizes, 600); len(g) != 1 || len(g[0]) != 0 {
		t.Errorf("groupsOf of no county = %v, want one empty group", g)
	}
}

// runShardChild runs one shard task (TestRunHelper) in a child process
// with env (the batch engine's index variable) added.
func runShardChild(f *e2eFixture, runs, shard string, groupHH int, env ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^TestRunHelper$")
	cmd.Env = append(os.Environ(), "POVRISK_RUN_HELPER=1", "POVRISK_RUN_WH="+f.wh, "POVRISK_RUN_MODELS="+f.models,
		"POVRISK_RUN_RUNS="+runs, "POVRISK_RUN_POLICY="+f.policy, "POVRISK_RUN_AS_OF="+civil.Format(f.asOf),
		"POVRISK_RUN_SHARD="+shard, "POVRISK_RUN_SHARD_HOUSEHOLDS="+itoa(groupHH), "POVRISK_RUN_TOPK="+topKEnv(f.topK))
	cmd.Env = append(cmd.Env, env...)
	return cmd
}

func itoa(n int) string { return strconv.Itoa(n) }

func topKEnv(tk map[string]TopK) string {
	var parts []string
	for _, c := range slices.Sorted(maps.Keys(tk)) {
		parts = append(parts, c+"="+itoa(tk[c].K))
	}
	return strings.Join(parts, ",")
}

// copyTree copies the directory src to dst.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	for rel, b := range readTree(t, src) {
		p := filepath.Join(dst, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// lastOutputs is the outputs map of the last audit record of the night day.
func lastOutputs(t *testing.T, runs, day string) map[string]string {
	t.Helper()
	lines, err := audit.Read(runs)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]string
	for _, l := range lines {
		if l.Err == nil && l.Record.Run == day {
			out = l.Record.Outputs
		}
	}
	if out == nil {
		t.Fatalf("no audit record of %s in %s", day, runs)
	}
	return out
}

// TestShardsMergeSameBytes runs the night as 3 shards in 3 processes of
// this test binary at once (K from JOB_COMPLETION_INDEX for two of them,
// SLURM_ARRAY_TASK_ID for the third), merges them, and compares every
// file of the run directory, and the audit record's outputs, with the
// single run of the fixture; the same for a single run cut into county
// groups of a few hundred households. A retried shard rewrites the same
// bytes; a missing shard, a shard of another night's settings and an
// altered shard fail the merge with the kind that says so.
func TestShardsMergeSameBytes(t *testing.T) {
	f := setupE2E(t)
	day, prevDay := civil.Format(f.asOf), civil.Format(f.prevAsOf)
	ref := readTree(t, filepath.Join(f.runs, day))
	refOut := lastOutputs(t, f.runs, day)
	db, err := engine.OpenDB("")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()

	// Runs directories holding the same previous night, so that
	// changes.csv compares with it.
	newRuns := func(name string) string {
		runs := filepath.Join(t.TempDir(), name)
		copyTree(t, filepath.Join(f.runs, prevDay), filepath.Join(runs, prevDay))
		return runs
	}

	// In small county groups, with the warehouse split by group first and
	// without: the same bytes as the night in one group.
	for _, mode := range []struct {
		name  string
		split SplitMode
	}{{"split", SplitAlways}, {"filtered", SplitNever}} {
		t.Run("single run in small county groups, "+mode.name, func(t *testing.T) {
			runs := newRuns("groups-" + mode.name)
			o := f.options(runs)
			o.AsOf, o.ShardHouseholds, o.Split = f.asOf, 400, mode.split
			res, err := Run(ctx, db, o)
			if err != nil {
				t.Fatal(err)
			}
			if i := slices.IndexFunc(res.Stages, func(s Stage) bool { return s.Name == "split" }); (i >= 0) != (mode.split == SplitAlways) {
				t.Errorf("stages %v: a split stage is wanted exactly when the night splits", res.Stages)
			}
			sameTree(t, readTree(t, res.Dir), ref)
			if got := lastOutputs(t, runs, day); !maps.Equal(got, refOut) {
				t.Errorf("audit outputs differ from the single run")
			}
			if _, err := os.Stat(filepath.Join(runs, "."+day+".parts")); err == nil {
				t.Errorf("the parts of the groups were left behind")
			}
		})
	}

	// More shards than counties: the shards with no county write an
	// empty result (they failed, concatenating no feature batch), and
	// the merge of all of them is the single run.
	t.Run("more shards than counties", func(t *testing.T) {
		runs := newRuns("many-shards")
		lists, _ := filepath.Glob(filepath.Join(f.runDir(), "worklists", "*.xlsx"))
		counties := len(lists) // one work list per county
		if counties == 0 {
			t.Fatal("the single run wrote no county work list: cannot size the shards")
		}
		n := counties + 2
		empty := 0
		for k := range n {
			o := f.options(runs)
			o.AsOf, o.Shard = f.asOf, &Shard{K: k, N: n}
			if _, err := Run(ctx, db, o); err != nil {
				t.Fatalf("shard %d of %d: %v", k, n, err)
			}
			s, err := readShard(ShardsDir(runs, day, Shard{K: k, N: n}), true)
			if err != nil {
				t.Fatal(err)
			}
			if len(s.meta.Counties) == 0 {
				empty++
			}
		}
		if empty < 2 {
			t.Fatalf("%d of %d shards without a county, want at least 2", empty, n)
		}
		res, err := Merge(ctx, db, MergeOptions{Runs: runs, AsOf: day, Shards: n})
		if err != nil {
			t.Fatal(err)
		}
		sameTree(t, readTree(t, res.Dir), ref)
	})

	runs := newRuns("shards")
	const n = 3
	var cmds []*exec.Cmd
	var outs []*bytes.Buffer
	for k := range n {
		env := "JOB_COMPLETION_INDEX=" + itoa(k)
		if k == 2 {
			env = "SLURM_ARRAY_TASK_ID=2"
		}
		cmd := runShardChild(f, runs, "auto/3", 700, env)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds, outs = append(cmds, cmd), append(outs, &out)
	}
	for k, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("shard %d: %v\n%s", k, err, outs[k])
		}
	}
	shardDirs := make([]string, n)
	nonEmpty := 0
	for k := range n {
		shardDirs[k] = ShardsDir(runs, day, Shard{K: k, N: n})
		s, err := readShard(shardDirs[k], true)
		if err != nil {
			t.Fatal(err)
		}
		if len(s.meta.Counties) > 0 {
			nonEmpty++
		}
	}
	if nonEmpty < 2 {
		t.Fatalf("only %d of %d shards have counties: the fixture cannot test a merge", nonEmpty, n)
	}
	res, err := Merge(ctx, db, MergeOptions{Runs: runs, AsOf: day, Shards: n})
	if err != nil {
		t.Fatal(err)
	}
	sameTree(t, readTree(t, res.Dir), ref)
	if got := lastOutputs(t, runs, day); !maps.Equal(got, refOut) {
		t.Errorf("audit outputs of the merge differ from the single run")
	}
	if res.Counts.Households != f.res.Counts.Households || res.Top != f.res.Top {
		t.Errorf("merge result: %d households, top %s; single run: %d, %s", res.Counts.Households, res.Top, f.res.Counts.Households, f.res.Top)
	}

	// A retried shard (here from the Slurm variable) rewrites the same bytes.
	before := readTree(t, shardDirs[1])
	cmd := runShardChild(f, runs, "auto/3", 700, "SLURM_ARRAY_TASK_ID=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("retried shard: %v\n%s", err, out)
	}
	sameTree(t, readTree(t, shardDirs[1]), before)

	// An altered shard: fault.Tampered.
	rows := filepath.Join(shardDirs[0], "parts", "000", rowsFile)
	orig, err := os.ReadFile(rows)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(rows, append(bytes.Clone(orig), 0), 0o600)
	if _, err := Merge(ctx, db, MergeOptions{Runs: runs, AsOf: day, Shards: n}); fault.Of(err) != fault.Tampered || !strings.Contains(err.Error(), "shard 0 of 3") {
		t.Errorf("merge of an altered shard: %v, want tampered naming shard 0", err)
	}
	os.WriteFile(rows, orig, 0o600)

	// A missing shard: fault.BadInput, naming it.
	if err := os.RemoveAll(shardDirs[2]); err != nil {
		t.Fatal(err)
	}
	_, err = Merge(ctx, db, MergeOptions{Runs: runs, AsOf: day, Shards: n})
	if fault.Of(err) != fault.BadInput || !strings.Contains(err.Error(), "shard 2 of 3") || !strings.Contains(err.Error(), "missing") {
		t.Errorf("merge with shard 2 missing: %v, want bad input naming shard 2", err)
	}
	// Shards of another split: merge --shards 2 finds 0-of-2 missing.
	if _, err := Merge(ctx, db, MergeOptions{Runs: runs, AsOf: day, Shards: 2}); fault.Of(err) != fault.BadInput || !strings.Contains(err.Error(), "shard 0 of 2") {
		t.Errorf("merge --shards 2 of a 3-shard night: %v", err)
	}
	// The run directory the merge wrote is still the complete one.
	sameTree(t, readTree(t, filepath.Join(runs, day)), ref)
}

// TestShardMismatch: a shard computed with other settings (top share)
// than the others is refused, naming the field.
func TestShardMismatch(t *testing.T) {
	f := setupE2E(t)
	day := civil.Format(f.asOf)
	runs := filepath.Join(t.TempDir(), "runs")
	db, err := engine.OpenDB("")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for k, share := range []float64{0.05, 0.1} {
		o := f.options(runs)
		o.AsOf, o.Shard, o.TopShare = f.asOf, &Shard{K: k, N: 2}, share
		if _, err := Run(context.Background(), db, o); err != nil {
			t.Fatal(err)
		}
	}
	_, err = Merge(context.Background(), db, MergeOptions{Runs: runs, AsOf: day, Shards: 2})
	if fault.Of(err) != fault.BadInput || !strings.Contains(err.Error(), "top_share") {
		t.Errorf("merge of shards with other top shares: %v", err)
	}
	if _, err := os.Stat(filepath.Join(runs, day)); err == nil {
		t.Errorf("a refused merge wrote the run directory")
	}
}

// FuzzParseShard: any --shard text and index variable give a shard
// 0 <= K < N <= MaxShards or a usage error, never a panic.
func FuzzParseShard(f *testing.F) {
	for _, s := range []string{"0/1", "3/4", "auto/4", "4/4", "-1/2", "auto/", "/", "01/02", " 1/2", "1/2 ", "auto/10001"} {
		f.Add(s, "2")
	}
	f.Fuzz(func(t *testing.T, s, idx string) {
		sh, err := ParseShard(s, func(k string) string {
			if k == "JOB_COMPLETION_INDEX" {
				return idx
			}
			return ""
		})
		if err != nil {
			if fault.Of(err) != fault.Usage {
				t.Fatalf("ParseShard(%q): error of kind %v, want usage", s, fault.Of(err))
			}
			return
		}
		if sh.K < 0 || sh.K >= sh.N || sh.N > MaxShards {
			t.Fatalf("ParseShard(%q, %q) = %v", s, idx, sh)
		}
	})
}
