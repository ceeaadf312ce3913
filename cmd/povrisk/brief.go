package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/povrisk/povrisk/engine/brief"
	"github.com/povrisk/povrisk/engine/fault"
)

func init() {
	register(&cli.Command{
		Name:  "brief",
		Usage: "write the risk brief (风险研判简报) of a run directory as HTML or PDF",
		Description: "Reads RUN (and the earlier runs beside it) and writes a short report for a province, city or\n" +
			"county office: where and why risk rose, suggested actions (where first, which measures, the visits\n" +
			"due and by whom), the trend, what last month's home visits found, the risk elimination and the watch\n" +
			"after it, the assistance needed and its cost, how the rule screen compares with the model, the data\n" +
			"it stands on, and annexes with the technical sources and the fairness audit. Places are named from\n" +
			"the run's summary. Refuses an incomplete run directory or one that does not match its audit record\n" +
			"(exit 6).",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "run", Usage: "run directory, e.g. runs/2025-12-31", Required: true},
			&cli.StringFlag{Name: "region", Usage: "region-code prefix: 2 (province), 4 (city) or 6 (county) digits; default all"},
			&cli.StringFlag{Name: "lang", Value: "zh", Usage: "zh or en"},
			&cli.StringFlag{Name: "format", Value: "html", Usage: "html (one self-contained file) or pdf (A4, via headless chromium)"},
			&cli.StringFlag{Name: "out", Usage: "output file; default brief-<as-of>[-<region>]-<lang>.<format>"},
			&cli.StringFlag{Name: "unit-costs", Usage: "TOML or JSON file of yuan per household per year by measure; default an illustrative table"},
			&cli.StringFlag{Name: "chromium", Usage: "chromium binary for pdf; default looked up on PATH"},
			jsonFlag(`the file written ({"path": ...})`),
		},
		Action: func(c *cli.Context) error {
			o, err := briefOptions(c)
			if err != nil {
				return withCode(briefExit(err), err)
			}
			path, err := brief.Write(c.Context, o)
			if err != nil {
				// engine/brief marks every error with its kind: Tampered 6,
				// BadInput 3, Policy 5, Write 8, Usage 2; a missing or failing
				// Chromium is Internal 1.
				return withCode(int(fault.Of(err)), err)
			}
			if c.Bool("json") {
				return writeJSON(c.App.Writer, map[string]string{"path": path})
			}
			if !c.Bool("quiet") {
				fmt.Fprintln(c.App.Writer, path)
			}
			return nil
		},
	})
}

// briefExit is the exit code of an error of the options: its fault kind
// when marked (a bad unit-cost file is fault.Policy, 5), else usage (2).
func briefExit(err error) int {
	if k := fault.Of(err); k != fault.Internal {
		return int(k)
	}
	return ExitUsage
}

// briefOptions fills brief.Options from the command line.
func briefOptions(c *cli.Context) (brief.Options, error) {
	o := brief.Options{
		Run: c.String("run"), Region: c.String("region"), Lang: c.String("lang"),
		Format: c.String("format"), Out: c.String("out"), Chromium: c.String("chromium"),
	}
	if p := c.String("unit-costs"); p != "" {
		costs, err := brief.LoadUnitCosts(p) // fault.Policy: exit 5
		if err != nil {
			return o, err
		}
		o.UnitCosts = costs
	}
	switch o.Lang {
	case "zh", "en":
	default:
		return o, fmt.Errorf("--lang %q: use zh or en", o.Lang)
	}
	switch o.Format {
	case "html", "pdf":
	default:
		return o, fmt.Errorf("--format %q: use html or pdf", o.Format)
	}
	switch len(o.Region) {
	case 0, 2, 4, 6:
	default:
		return o, fmt.Errorf("--region %q: use a code prefix of 2, 4 or 6 digits", o.Region)
	}
	return o, nil
}
