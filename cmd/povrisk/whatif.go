package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/povrisk/povrisk/engine/brief"
	"github.com/povrisk/povrisk/engine/whatif"
	"github.com/povrisk/povrisk/features/rules"
)

func init() {
	register(&cli.Command{
		Name:  "whatif",
		Usage: "replay a run under another policy file: households flagged before and after, elimination verdicts, cost",
		Description: "Reads RUN's features.parquet (after verifying the run directory, exit 6 when altered) and screens every\n" +
			"eligible household again under NEW.toml (another monitoring line, another threshold), without\n" +
			"retraining: per rule and per county, households flagged before and after, those entering and leaving,\n" +
			"the elimination verdicts of the monitored households (when the run has elimination.parquet), and the\n" +
			"yearly cost of the suggested measures at the unit costs (the brief's illustrative table unless\n" +
			"--unit-costs). A policy file that does not load is exit 5.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "run", Usage: "run directory, e.g. runs/2025-12-31", Required: true},
			&cli.StringFlag{Name: "policy", Usage: "the new policy file (TOML, as features/rules/policy.sample.toml)", Required: true},
			&cli.StringFlag{Name: "unit-costs", Usage: "TOML or JSON file of yuan per household per year by measure; default an illustrative table"},
			&cli.StringFlag{Name: "out", Usage: "also write the comparison as an annex in the brief's style to this file (.html or .pdf, by its extension)"},
			&cli.StringFlag{Name: "lang", Value: "zh", Usage: "language of the annex: zh or en"},
			jsonFlag("the comparison (flagged_before, flagged_after, entered, left, rules, counties, ...)"),
		},
		Action: func(c *cli.Context) error {
			return runWhatif(c.Context, whatifOptions{Run: c.String("run"), Policy: c.String("policy"),
				UnitCosts: c.String("unit-costs"), JSON: c.Bool("json"), Quiet: c.Bool("quiet"),
				Out: c.String("out"), Lang: c.String("lang")}, c.App.Writer)
		},
	})
}

// whatifOptions are the flags of povrisk whatif.
type whatifOptions struct {
	Run, Policy, UnitCosts string // paths; UnitCosts "" = the brief's illustrative table
	Out, Lang              string // the annex (HTML or PDF by Out's extension); "" none
	JSON, Quiet            bool
}

// runWhatif loads the policy and the unit costs, replays the run and
// prints the comparison on stdout.
func runWhatif(ctx context.Context, o whatifOptions, stdout io.Writer) error {
	pol, err := rules.LoadPolicy(o.Policy) // fault.Policy: exit 5
	if err != nil {
		return err
	}
	costs := brief.DefaultUnitCosts()
	if o.UnitCosts != "" {
		if costs, err = brief.LoadUnitCosts(o.UnitCosts); err != nil { // fault.Policy: exit 5
			return err
		}
	}
	res, err := whatif.Compute(ctx, whatif.Options{Run: o.Run, Policy: pol, UnitCosts: costs})
	if err != nil {
		return err // marked where it arose: Tampered 6, BadInput 3, Policy 5
	}
	if o.Out != "" {
		format := "html"
		if strings.EqualFold(filepath.Ext(o.Out), ".pdf") {
			format = "pdf"
		}
		if _, err := brief.WriteWhatIf(ctx, res, brief.WhatIfOptions{Lang: o.Lang, Format: format, Out: o.Out}); err != nil {
			return err // its kind: Usage (language), Write, Internal (no Chromium)
		}
	}
	if o.JSON {
		return writeJSON(stdout, res)
	}
	if !o.Quiet {
		printWhatif(stdout, res)
	}
	return nil
}

// printWhatif writes the comparison for people.
func printWhatif(w io.Writer, r *whatif.Result) {
	fmt.Fprintf(w, "run %s under policy %s (the night's: %s)\n", r.Run, short(r.PolicyAfter), short(r.PolicyBefore))
	for _, ch := range r.Changes {
		fmt.Fprintf(w, "  change: %s\n", ch)
	}
	fmt.Fprintf(w, "households flagged: %s -> %s (entered %s, left %s)\n",
		rules.Thousands(float64(r.FlaggedBefore)), rules.Thousands(float64(r.FlaggedAfter)), rules.Thousands(float64(r.Entered)), rules.Thousands(float64(r.Left)))
	fmt.Fprintf(w, "cost of measures: %s -> %s yuan a year\n", rules.Thousands(r.CostBefore), rules.Thousands(r.CostAfter))
	fmt.Fprintf(w, "\n%-22s %8s %8s %8s %8s\n", "rule", "before", "after", "entered", "left")
	for _, x := range r.Rules {
		if x.FlaggedBefore == 0 && x.FlaggedAfter == 0 {
			continue
		}
		fmt.Fprintf(w, "%-22s %8d %8d %8d %8d\n", x.Rule, x.FlaggedBefore, x.FlaggedAfter, x.Entered, x.Left)
	}
	fmt.Fprintf(w, "\n%-8s %-16s %8s %8s %8s %8s %14s %14s\n", "county", "name", "before", "after", "entered", "left", "cost before", "cost after")
	for _, c := range r.Counties {
		fmt.Fprintf(w, "%-8s %-16s %8d %8d %8d %8d %14s %14s\n", c.Code, c.Name, c.FlaggedBefore, c.FlaggedAfter, c.Entered, c.Left, rules.Thousands(c.CostBefore), rules.Thousands(c.CostAfter))
	}
	if r.EliminationBefore != nil {
		fmt.Fprintln(w, "\nelimination verdicts (monitored households):")
		for _, v := range whatif.Verdicts() {
			fmt.Fprintf(w, "  %-8s %6d -> %6d\n", v, r.EliminationBefore[v], r.EliminationAfter[v])
		}
	}
}

func short(sum string) string {
	if len(sum) > 12 {
		return sum[:12]
	}
	return strings.TrimSpace(sum)
}
