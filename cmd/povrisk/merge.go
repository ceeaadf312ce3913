package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/povrisk/povrisk/engine"
	"github.com/povrisk/povrisk/engine/civil"
	"github.com/povrisk/povrisk/engine/fault"
	night "github.com/povrisk/povrisk/engine/run"
)

func init() {
	register(&cli.Command{
		Name:  "merge",
		Usage: "build the run directory of a sharded night from its shards (povrisk run --shard K/N)",
		Description: "Reads RUNS/.shards/<as-of>/<K>-of-<N>/ for K = 0 .. N-1, checks each against its checksums and that\n" +
			"all were computed from the same inputs, model, policy and settings, and writes RUNS/<as-of>/: the same\n" +
			"bytes a single povrisk run writes for the night; then appends the audit record. Exit codes: 0 ok,\n" +
			"2 usage, 3 a shard missing or not of this night (the message names it: run it again), 6 a shard whose\n" +
			"files do not match its checksums, 7 another run holds the runs directory, 8 could not write.\n" +
			"See docs/scale.md.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "runs", Value: "runs", Usage: "runs directory (holding .shards/<as-of>/)"},
			&cli.StringFlag{Name: "as-of", Required: true, Usage: "the night, YYYY-MM-DD"},
			&cli.IntFlag{Name: "shards", Required: true, Usage: "N, the number of shards of the night"},
			auditKeyFileFlag(),
			&cli.BoolFlag{Name: "shared-perms", Usage: "write files 0640 and directories 0750 instead of 0600 / 0700"},
			jsonFlag("the run result (counts, model, warnings, run directory)"),
			waitFlag(),
		},
		Action: func(c *cli.Context) error {
			day := c.String("as-of")
			if _, err := civil.Parse(day); err != nil {
				return withCode(ExitUsage, fmt.Errorf("--as-of %q: want YYYY-MM-DD", day))
			}
			o := night.MergeOptions{Runs: c.String("runs"), AsOf: day, Shards: c.Int("shards"), AuditKeyPath: c.String("audit-key-file"),
				SharedPerms: c.Bool("shared-perms"), Wait: c.Duration("wait"), Reporter: reporter(c), Command: strings.Join(os.Args, " ")}
			if verbose(c) {
				o.Progress = c.App.ErrWriter
			}
			return mergeNight(c.Context, o, c.Bool("json"), c.App.Writer, infoWriter(c))
		},
	})
}

func mergeNight(ctx context.Context, o night.MergeOptions, asJSON bool, stdout, stderr io.Writer) error {
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	heapSettings() // as povrisk run
	db, err := engine.OpenDB("")
	if err != nil {
		return err
	}
	defer db.Close()
	start := time.Now()
	res, err := night.Merge(ctx, db, o)
	if err != nil {
		if k := fault.Of(err); k != fault.Internal {
			return withCode(int(k), err)
		}
		return err
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(stderr, "povrisk merge %s: warning: %s\n", res.AsOf, w)
	}
	fmt.Fprintln(stderr, strings.Replace(resultLine(res, time.Since(start)), "povrisk run", "povrisk merge", 1))
	if asJSON {
		b, err := json.MarshalIndent(res, "", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, string(b))
	}
	return nil
}
