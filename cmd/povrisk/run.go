package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/povrisk/povrisk/engine"
	night "github.com/povrisk/povrisk/engine/run"
)

// defaultMemLimit is the Go heap's soft limit during a run (GOMEMLIMIT
// overrides it); DuckDB's memory comes on top.
const defaultMemLimit = 4 << 30

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
			"docs/run-directory.md) and appends the audit record. Exit codes: see 'povrisk --help'. On a terminal\n" +
			"it shows each stage; otherwise it prints one line at the end (none with --quiet).",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "drop", Usage: "drop directory to ingest first"},
			&cli.StringFlag{Name: "warehouse", Value: "warehouse", Usage: "warehouse directory"},
			keyFileFlag(),
			deprecatedFlag("key", "key-file"),
			&cli.StringFlag{Name: "audit-key-file", Usage: "audit key that signs the audit record (mode 600, outside the runs directory); default env POVRISK_AUDIT_KEY_FILE, else ~/.config/povrisk/audit.key"},
			&cli.StringFlag{Name: "as-of", Usage: "as-of date YYYY-MM-DD (default: the latest month-end with data)"},
			policyFlag(),
			&cli.StringFlag{Name: "models", Value: "models", Usage: "models directory"},
			&cli.StringFlag{Name: "model", Usage: "model id (default: the newest)"},
			&cli.StringFlag{Name: "runs", Value: "runs", Usage: "runs directory"},
			&cli.Float64Flag{Name: "top-share", Value: night.DefaultTopShare, Usage: "county work list size as a share of its eligible households"},
			&cli.StringFlag{Name: "top-k-file", Usage: "TOML with per-county sizes: [county.\"520123\"] share = 0.03 or k = 150"},
			&cli.BoolFlag{Name: "shared-perms", Usage: "write files 0640 and directories 0750 instead of 0600 / 0700"},
			jsonFlag("the run summary"),
		},
		Action: func(c *cli.Context) error {
			o, err := runOptionsFrom(c)
			if err != nil {
				return err
			}
			o.Progress = progressWriter(c)
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
	if s := c.String("as-of"); s != "" {
		t, err := time.Parse("2006-01-02", s)
		if err != nil {
			return o, withCode(ExitUsage, fmt.Errorf("--as-of %q: want YYYY-MM-DD", s))
		}
		o.AsOf = t
	}
	if o.TopKFile != "" {
		tk, err := loadTopK(o.TopKFile)
		if err != nil {
			return o, withCode(ExitBadInput, err)
		}
		if tk.Share > 0 && !c.IsSet("top-share") {
			o.TopShare = tk.Share
		}
		o.TopK = tk.County
	}
	o.Command = strings.Join(os.Args, " ")
	return o, nil
}

// topKFile is the --top-k-file format.
type topKFile struct {
	Share  float64               `toml:"share"`
	County map[string]night.TopK `toml:"county"`
}

func loadTopK(path string) (topKFile, error) {
	var f topKFile
	md, err := toml.DecodeFile(path, &f)
	if err != nil {
		return f, fmt.Errorf("read top-k file %s: %w", path, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		return f, fmt.Errorf("top-k file %s: unknown key %s", path, und[0])
	}
	for c, t := range f.County {
		if len(c) != 6 || t.K < 0 || t.Share < 0 || t.Share > 1 {
			return f, fmt.Errorf("top-k file %s: county %q: want a 6-digit code with k >= 0 or 0 <= share <= 1", path, c)
		}
	}
	return f, nil
}

// stderrIsTerminal reports whether w is a terminal (progress as it goes)
// rather than a log file, /dev/null or cron mail (summary lines only).
func stderrIsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// pauseFromEnv is the test hook POVRISK_TEST_PAUSE_AT=stage: the run
// prints "povrisk: paused at <stage>" on stderr and sleeps until killed.
func pauseFromEnv(o *night.Options, stderr io.Writer) {
	stage := os.Getenv("POVRISK_TEST_PAUSE_AT")
	if stage == "" {
		return
	}
	o.PauseAt = stage
	o.Pause = func(s string) {
		fmt.Fprintf(stderr, "povrisk: paused at %s\n", s)
		time.Sleep(time.Hour)
	}
}

func runNight(ctx context.Context, o runOptions, stdout, stderr io.Writer) error {
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	tty := stderrIsTerminal(stderr)
	pauseFromEnv(&o.Options, stderr)
	if os.Getenv("GOMEMLIMIT") == "" {
		// A soft limit on the Go heap: the night holds a few large tables
		// in turn, and collecting earlier keeps the peak down.
		debug.SetMemoryLimit(defaultMemLimit)
	}
	db, err := engine.OpenDB("")
	if err != nil {
		return err
	}
	defer db.Close()
	start := time.Now()
	res, err := night.Run(ctx, db, o.Options)
	switch {
	case err == nil:
	case errors.Is(err, night.ErrPolicy):
		return withCode(ExitPolicy, err)
	case errors.Is(err, night.ErrNoModel):
		return withCode(ExitNoModel, err)
	case errors.Is(err, night.ErrBadInput):
		return withCode(ExitBadInput, err)
	default:
		// the kind the engine marked (busy, could not write, ...) or internal
		return err
	}
	c := res.Counts
	line := fmt.Sprintf("povrisk run %s: %d households, %d eligible, %d high, %d in county top k (%d not flagged by rules); model %s; %s in %.0fs",
		res.AsOf, c.Households, c.Eligible, c.ByTier["high"], c.TopKTotal, c.TopKMissedByRules, res.ModelID, res.Dir, time.Since(start).Seconds())
	if !tty || o.Progress != nil {
		fmt.Fprintln(stderr, line)
	}
	if o.JSON {
		b, err := json.MarshalIndent(res, "", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, string(b))
	}
	return nil
}
