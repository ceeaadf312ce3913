package main

import (
	"context"
	"database/sql"
	"errors"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/povrisk/povrisk/engine/train"
)

func init() {
	register(&cli.Command{
		Name:  "evaluate",
		Usage: "validate over time without saving: a fresh forest, or a saved model (--model), against the rule screen",
		UsageText: "povrisk evaluate --warehouse W [--as-of D] [--horizon 6] [--snapshots 6] [--policy P] [--truth F] [--json]\n" +
			"povrisk evaluate --warehouse W --models DIR --model ID|latest [--json]",
		Flags: append(temporalFlags(),
			&cli.StringFlag{Name: "model", Usage: "evaluate this saved model (id, or latest) instead of training one"}),
		Action: func(c *cli.Context) error {
			return runEvaluate(c.Context, readTrainFlags(c), reportWriter(c), c.App.ErrWriter)
		},
	})
}

func runEvaluate(ctx context.Context, o trainOptions, stdout, stderr io.Writer) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if o.ModelID != "" && o.Models == "" {
		return withCode(ExitUsage, errors.New("--model needs --models DIR"))
	}
	var m *train.Metrics
	err := withTemporal(ctx, o, stderr, func(db *sql.DB, opts train.Options) (err error) {
		m, err = train.Evaluate(ctx, db, opts)
		return err
	})
	if err != nil {
		return err
	}
	if o.JSON {
		return writeJSON(stdout, m)
	}
	if m.Model != "" {
		io.WriteString(stdout, "model "+m.Model+"\n")
	}
	printMetricsSummary(stdout, *m)
	return nil
}
