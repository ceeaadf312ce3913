package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/povrisk/povrisk/engine"
	"github.com/povrisk/povrisk/engine/civil"
	"github.com/povrisk/povrisk/engine/fault"
	night "github.com/povrisk/povrisk/engine/run"
)

// defaultMemLimit is the Go heap's soft limit during a run (GOMEMLIMIT
// overrides it); DuckDB's memory comes on top.
const defaultMemLimit = 4 << 30

// defaultGCPercent is Go's GOGC during a run or a merge (GOGC overrides
// it): a county group's live heap is a few large tables, and the default
// 100 let the garbage beside them grow as large again. A 4M-household
// shard of four groups (load 9-12): 1.86 GB peak against 2.66 GB, CPU
// 283 against 295 s.
const defaultGCPercent = 50

// heapSettings sets the collector for a night or a merge, where the
// environment does not (GOMEMLIMIT, GOGC).
func heapSettings() {
	if os.Getenv("GOMEMLIMIT") == "" {
		// A soft limit on the Go heap: the night holds a few large tables
		// in turn, and collecting earlier keeps the peak down.
		debug.SetMemoryLimit(defaultMemLimit)
	}
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
}

// runOptions are the flags of `povrisk run`.
type runOptions struct {
	night.Options
	TopKFile string
	JSON     bool
}

func init() {
	register(&cli.Command{
		Name:  "run",
		Usage: "run the night: ingest (optional), features, rule screen, score, explain, rank, write the run directory",
		Description: "Writes RUNS/<as-of>/ (ranked list, per-county XLSX work lists, changes, summary, checksums; see\n" +
			"docs/run-directory.md) and appends the audit record. Exit codes: 0 ok, 2 usage (e.g. --as-of not a\n" +
			"month-end without --any-day), 3 bad input (or data staler than --max-stale-months), 4 no usable model,\n" +
			"5 policy or top-k file invalid, 7 another run holds the runs directory, 8 could not write.\n" +
			"Stale source tables are listed on stderr, in --json \"warnings\" and in summary.json. A run that\n" +
			"waited (--wait) for another run of the same night, which wrote it, prints \"already done\" and exits 0.\n" +
			"On a terminal it prints each stage; otherwise one line.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "drop", Usage: "drop directory to ingest first"},
			&cli.StringFlag{Name: "warehouse", Value: "warehouse", Usage: "warehouse directory"},
			keyFileFlag(),
			deprecatedFlag("key", "key-file"),
			auditKeyFileFlag(),
			&cli.StringFlag{Name: "as-of", Usage: "as-of date YYYY-MM-DD (default: the latest month-end with data)"},
			policyFlag(),
			&cli.StringFlag{Name: "models", Value: "models", Usage: "models directory"},
			&cli.StringFlag{Name: "model", Usage: "model id (default: the newest)"},
			&cli.StringFlag{Name: "runs", Value: "runs", Usage: "runs directory"},
			&cli.Float64Flag{Name: "top-share", Value: night.DefaultTopShare, Usage: "county work list size as a share of its eligible households"},
			&cli.StringFlag{Name: "top-k-file", Usage: "TOML with per-county sizes: [county.\"520123\"] share = 0.03 or k = 150"},
			&cli.BoolFlag{Name: "shared-perms", Usage: "write files 0640 and directories 0750 instead of 0600 / 0700"},
			jsonFlag("the run result (counts, model, warnings, run directory)"),
			&cli.BoolFlag{Name: "any-day", Usage: "accept an --as-of that is not a month-end"},
			&cli.IntFlag{Name: "max-stale-months", Usage: "fail (exit 3) when a source table's data is more than N months behind the as-of date (0: the policy's [freshness] max_stale_months; warn only when that is 0 too)"},
			waitFlag(),
			&cli.StringFlag{Name: "shard", Usage: "compute shard K/N only (K from 0), or auto/N (K from JOB_COMPLETION_INDEX, else SLURM_ARRAY_TASK_ID), into RUNS/.shards/<as-of>/<K>-of-<N>; then povrisk merge (docs/scale.md)"},
			&cli.IntFlag{Name: "shard-households", Value: night.DefaultShardHouseholds, Usage: "households per county group computed at a time (peak memory follows the largest group)"},
			&cli.StringFlag{Name: "split", Value: "auto", Usage: "with several county groups, first copy the warehouse cut by group: auto (when that costs less than filtering it per group), always, never; the outputs are the same bytes"},
		},
		Action: func(c *cli.Context) error {
			o, err := runOptionsFrom(c)
			if err != nil {
				return err
			}
			o.Reporter = reporter(c) // bars on a terminal, a line per stage with --verbose
			if verbose(c) {
				o.Progress = c.App.ErrWriter // and the engine's own line per stage
			}
			return runNight(c.Context, o, c.App.Writer, infoWriter(c))
		},
	})
}

func runOptionsFrom(c *cli.Context) (runOptions, error) {
	o := runOptions{TopKFile: c.String("top-k-file"), JSON: c.Bool("json")}
	o.Drop, o.Warehouse, o.KeyPath, o.AuditKeyPath = c.String("drop"), c.String("warehouse"), stringFlag(c, "key-file", "key"), c.String("audit-key-file")
	pol, path, err := policyFrom(c, true)
	if err != nil {
		return o, err
	}
	o.PolicyPath, o.Policy = path, pol
	o.Models, o.ModelID, o.Runs = c.String("models"), c.String("model"), c.String("runs")
	o.TopShare, o.SharedPerms = c.Float64("top-share"), c.Bool("shared-perms")
	o.AnyDay, o.MaxStaleMonths, o.Wait = c.Bool("any-day"), c.Int("max-stale-months"), c.Duration("wait")
	o.ShardHouseholds = c.Int("shard-households")
	if o.Split, err = night.ParseSplit(c.String("split")); err != nil {
		return o, withCode(ExitUsage, err)
	}
	if s := c.String("shard"); s != "" {
		sh, err := night.ParseShard(s, os.Getenv)
		if err != nil {
			return o, withCode(ExitUsage, err)
		}
		o.Shard = &sh
	}
	if s := c.String("as-of"); s != "" {
		t, err := civil.Parse(s)
		if err != nil {
			return o, withCode(ExitUsage, fmt.Errorf("--as-of %q: want YYYY-MM-DD", s))
		}
		if !o.AnyDay && !civil.IsMonthEnd(t) {
			return o, withCode(ExitUsage, fmt.Errorf("--as-of %s is not a month-end (the month ends %s): pass --any-day to run another day",
				s, civil.Format(civil.MonthEnd(t))))
		}
		o.AsOf = t
	}
	if o.TopKFile != "" {
		tk, err := loadTopK(o.TopKFile)
		if err != nil {
			return o, withCode(int(fault.Of(err)), err)
		}
		if tk.Share > 0 && !c.IsSet("top-share") {
			o.TopShare = tk.Share
		}
		o.TopK = tk.County
	}
	o.Command = strings.Join(os.Args, " ")
	return o, nil
}

// loadTopK reads --top-k-file (night.LoadTopK: errors of kind fault.Policy).
func loadTopK(path string) (*night.TopKFile, error) { return night.LoadTopK(path) }

// stderrIsTerminal reports whether w is a terminal (progress as it goes)
// rather than a log file, /dev/null or cron mail (summary lines only).
func stderrIsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func runNight(ctx context.Context, o runOptions, stdout, stderr io.Writer) error {
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	heapSettings()
	db, err := engine.OpenDB("")
	if err != nil {
		return err
	}
	defer db.Close()
	start := time.Now()
	res, err := night.Run(ctx, db, o.Options)
	if err != nil {
		if k := fault.Of(err); k != fault.Internal {
			return withCode(int(k), err)
		}
		return err
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(stderr, "povrisk run %s: warning: %s\n", res.AsOf, w)
	}
	fmt.Fprintln(stderr, resultLine(res, time.Since(start)))
	if o.JSON {
		b, err := json.MarshalIndent(res, "", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, string(b))
	}
	return nil
}

// resultLine is the one line a run prints on stderr (also under cron).
func resultLine(res *night.Result, took time.Duration) string {
	c := res.Counts
	model := res.Model.ID
	if res.Model.Created != "" {
		model += " created " + res.Model.Created
	}
	if res.Shard != "" {
		return fmt.Sprintf("povrisk run %s: shard %s: %s, %s eligible; model %s; written to %s in %s (merge with povrisk merge)",
			res.AsOf, res.Shard, plural(int64(c.Households), "household"), count(int64(c.Eligible)), model, res.Dir, seconds(took.Seconds()))
	}
	prev := "no previous run"
	if res.PreviousRun != "" {
		prev = "previous run " + res.PreviousRun + " (" + res.PreviousAgo() + ")"
	}
	if res.AlreadyDone {
		return fmt.Sprintf("povrisk run %s: already done by the run this one waited for (%s verifies); model %s; %s eligible, %s high",
			res.AsOf, res.Dir, model, count(int64(c.Eligible)), count(int64(c.ByTier["high"])))
	}
	return fmt.Sprintf("povrisk run %s: %s, %s eligible, %s high, %s in county top k (%s not flagged by rules); model %s; %s; %s; %s in %s",
		res.AsOf, plural(int64(c.Households), "household"), count(int64(c.Eligible)), count(int64(c.ByTier["high"])), count(int64(c.TopKTotal)),
		count(int64(c.TopKMissedByRules)), model, prev, plural(int64(len(res.Warnings)), "stale table"), res.Dir, seconds(took.Seconds()))
}
