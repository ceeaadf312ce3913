package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/povrisk/povrisk/engine"
	"github.com/povrisk/povrisk/engine/progress"
	"github.com/povrisk/povrisk/engine/warehouse"
	"github.com/povrisk/povrisk/features"
	"github.com/povrisk/povrisk/features/rules"
)

// featuresOptions are the flags of `povrisk features`.
type featuresOptions struct {
	Warehouse string
	AsOf      time.Time
	Out       string // .csv: CSV, else Parquet
	Policy    string // "" the sample policy (illustrative lines)
	List      bool
	JSON      bool              // --json: the catalog (--list) or the table written, as JSON on stdout
	Progress  io.Writer         // the summary line (and the engine's line per step with --verbose)
	Reporter  progress.Reporter // a bar on a terminal (see reporter)

	verboseLines io.Writer // the engine's line per step: --verbose without a terminal
}

func init() {
	register(&cli.Command{
		Name:      "features",
		Usage:     "compute the feature table (with rule screen) for an as-of date, or list the catalog",
		UsageText: "povrisk features --warehouse W --as-of YYYY-MM-DD --out F.parquet|F.csv [--policy P]\npovrisk features --list",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "warehouse", Usage: "warehouse directory (povrisk ingest)"},
			&cli.StringFlag{Name: "as-of", Usage: "as-of date YYYY-MM-DD: only data dated on or before it is used"},
			&cli.StringFlag{Name: "out", Usage: "output file: Parquet, or CSV when it ends in .csv"},
			policyFlag(),
			&cli.BoolFlag{Name: "list", Usage: "print the catalog: name, type, unit, family, meaning"},
			jsonFlag("the catalog (with --list) or the table written (path, households, columns, policy)"),
		},
		Action: func(c *cli.Context) error {
			o, err := parseFeaturesOptions(c)
			if err != nil {
				return withCode(ExitUsage, err)
			}
			o.Reporter = reporter(c)
			return runFeatures(c.Context, o, c.App.Writer)
		},
	})
}

func parseFeaturesOptions(c *cli.Context) (featuresOptions, error) {
	o := featuresOptions{Warehouse: c.String("warehouse"), Out: c.String("out"), Policy: c.String("policy"), List: c.Bool("list"), JSON: c.Bool("json")}
	if !c.Bool("quiet") {
		o.Progress = c.App.ErrWriter
	}
	if verbose(c) && !stderrIsTerminal(c.App.ErrWriter) {
		o.verboseLines = c.App.ErrWriter // a line per family where no bar shows
	}
	if o.List {
		return o, nil
	}
	if o.Warehouse == "" || o.Out == "" || c.String("as-of") == "" {
		return o, errors.New("features: --warehouse, --as-of and --out are required (or --list)")
	}
	d, err := time.Parse("2006-01-02", c.String("as-of"))
	if err != nil {
		return o, fmt.Errorf("features: --as-of %q: want YYYY-MM-DD", c.String("as-of"))
	}
	o.AsOf = d
	return o, nil
}

func runFeatures(ctx context.Context, o featuresOptions, stdout io.Writer) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if o.List && o.JSON {
		type column struct {
			Name    string `json:"name"`
			Type    string `json:"type"`
			Unit    string `json:"unit"`
			Family  string `json:"family"`
			Model   bool   `json:"model"`
			Meaning string `json:"meaning"`
		}
		var cols []column
		for _, col := range features.Catalog() {
			cols = append(cols, column{col.Name, col.Type, col.Unit, col.Family, col.Model, col.Meaning})
		}
		return writeJSON(stdout, cols)
	}
	if o.List {
		tw := tabwriter.NewWriter(stdout, 2, 8, 2, ' ', 0)
		fmt.Fprintln(tw, "name\ttype\tunit\tfamily\tmodel\tmeaning")
		for _, col := range features.Catalog() {
			m := ""
			if col.Model {
				m = "model"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", col.Name, col.Type, col.Unit, col.Family, m, col.Meaning)
		}
		return tw.Flush()
	}
	pol := rules.SamplePolicy()
	if o.Policy != "" && o.Policy != samplePolicyName {
		p, err := rules.LoadPolicy(o.Policy)
		if err != nil {
			return kindOr(ExitPolicy, err)
		}
		pol = p
	} else if o.Progress != nil && o.Policy == "" {
		fmt.Fprintln(o.Progress, "povrisk: warning: features: no --policy given: using the illustrative sample policy; this fallback ends in the next release, pass --policy sample (or a policy file)")
	}
	w, err := warehouse.Open(o.Warehouse)
	if err != nil {
		return kindOr(ExitBadInput, err)
	}
	db, err := engine.OpenDB("")
	if err != nil {
		return err
	}
	defer db.Close()
	t, err := features.ComputeWith(ctx, db, w, o.AsOf, pol, features.Options{Progress: o.verboseLines, Reporter: o.Reporter})
	if err != nil {
		return kindOr(ExitBadInput, err)
	}
	defer t.Release()
	if strings.HasSuffix(strings.ToLower(o.Out), ".csv") {
		err = features.WriteCSV(t, o.Out)
	} else {
		err = features.WriteParquet(t, o.Out)
	}
	if err != nil {
		return err
	}
	if o.JSON {
		return writeJSON(stdout, map[string]any{"path": o.Out, "households": t.NumRows(), "columns": t.NumCols(),
			"policy": pol.Name, "policy_sha256": pol.SHA256()})
	}
	if o.Progress != nil {
		fmt.Fprintf(o.Progress, "features: %d households, %d columns -> %s (policy %s, sha256 %s)\n", t.NumRows(), t.NumCols(), o.Out, pol.Name, pol.SHA256()[:12])
	}
	return nil
}
