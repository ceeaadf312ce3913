package main

import (
	"context"
	"errors"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/povrisk/povrisk/engine"
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
			return runEvaluate(c.Context, readTrainFlags(c), c.App.Writer, c.App.ErrWriter)
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
	opts, err := o.temporalOptions(stderr)
	if err != nil {
		return err
	}
	db, err := engine.OpenDB("")
	if err != nil {
		return err
	}
	defer db.Close()
	m, err := train.Evaluate(ctx, db, opts)
	if err != nil {
		return trainErrCode(err)
	}
	if o.JSON {
		return writeJSON(stdout, m)
	}
	if m.Model != "" {
		io.WriteString(stdout, "model "+m.Model+"\n")
	}
	printMetricsSummary(stdout, m.Map())
	return nil
}
