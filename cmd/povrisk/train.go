package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/povrisk/povrisk/engine"
	"github.com/povrisk/povrisk/engine/fault"
	"github.com/povrisk/povrisk/engine/progress"
	"github.com/povrisk/povrisk/engine/train"
	"github.com/povrisk/povrisk/features/rules"
	"github.com/povrisk/povrisk/models/forest"
	"github.com/povrisk/povrisk/models/registry"
)

// trainOptions are the flags of povrisk train and povrisk evaluate.
type trainOptions struct {
	Warehouse, Models, AsOf, Policy, Truth, ModelID string
	Horizon, Snapshots, Trees, Profiles, MinLeaf    int
	Seed                                            uint64
	JSON, Verbose, Quiet                            bool
	Grid                                            string // --grid FILE, or "none": one configuration from the flags
	Origins, MaxRows                                int
	Relapse, MinLeafSet, SnapshotsSet               bool
	trainCommand                                    bool              // povrisk train (not evaluate)
	Reporter                                        progress.Reporter // stages: bars on a terminal (see reporter)
	// generic table path (train only)
	Table, Label, Ignore, Positive string
	Folds                          int
}

// temporalFlags are shared by train and evaluate.
func temporalFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "warehouse", Usage: "warehouse directory"},
		&cli.StringFlag{Name: "models", Usage: "models directory (the registry)"},
		&cli.StringFlag{Name: "as-of", Usage: "last month-end of the data to use, YYYY-MM-DD (default: the end of the data)"},
		&cli.IntFlag{Name: "horizon", Value: 6, Usage: "months ahead to predict"},
		&cli.IntFlag{Name: "snapshots", Value: 6, Usage: "monthly training snapshots (train: given, the default grid uses this count alone instead of 6 and 12)"},
		policyFlag(),
		&cli.StringFlag{Name: "truth", Usage: "ground-truth CSV of a simulated drop (household_id,as_of,p_identified_6m): adds the oracle AUC"},
		&cli.Uint64Flag{Name: "seed", Value: 1, Usage: "random seed"},
		&cli.IntFlag{Name: "trees", Value: forest.DefaultTrees, Usage: "trees in the forest"},
		&cli.IntFlag{Name: "min-leaf", Usage: fmt.Sprintf("fewest training rows in a leaf; 0: %d for households, %d for --table; given: no grid, this one forest", train.DefaultMinLeaf, forest.DefaultMinLeaf)},
		&cli.IntFlag{Name: "origins", Value: train.DefaultOrigins, Usage: "rolling test origins (fewer when the data are short)"},
		jsonFlag("the metrics"),
	}
}

func readTrainFlags(c *cli.Context) trainOptions {
	return trainOptions{
		Warehouse: c.String("warehouse"), Models: c.String("models"), AsOf: c.String("as-of"),
		Policy: c.String("policy"), Truth: c.String("truth"), ModelID: c.String("model"),
		Horizon: c.Int("horizon"), Snapshots: c.Int("snapshots"), Trees: c.Int("trees"), Profiles: c.Int("profiles"), MinLeaf: c.Int("min-leaf"),
		Seed: c.Uint64("seed"), JSON: c.Bool("json"), Verbose: c.Bool("verbose"), Quiet: c.Bool("quiet"), Reporter: reporter(c),
		Table: c.String("table"), Label: c.String("label"), Ignore: c.String("ignore"),
		Positive: c.String("positive"), Folds: c.Int("folds"),
		Grid: c.String("grid"), Origins: c.Int("origins"), MaxRows: c.Int("max-rows"), Relapse: c.Bool("relapse"), MinLeafSet: c.IsSet("min-leaf"), SnapshotsSet: c.IsSet("snapshots"),
	}
}

func init() {
	flags := append(temporalFlags(),
		&cli.IntFlag{Name: "profiles", Usage: "k-means risk profiles to fit (default: chosen by silhouette, 3..6)"},
		&cli.StringFlag{Name: "table", Usage: "generic mode: cross-validate on this numeric table (.parquet or .csv with a header)"},
		&cli.StringFlag{Name: "label", Usage: "generic mode: the 0/1 (or two-valued) outcome column"},
		&cli.IntFlag{Name: "folds", Value: 5, Usage: "generic mode: stratified folds"},
		&cli.StringFlag{Name: "ignore", Usage: "generic mode: columns to leave out, comma-separated"},
		&cli.StringFlag{Name: "positive", Usage: "generic mode: the label value that counts as positive"},
		&cli.StringFlag{Name: "grid", Usage: "selection grid: a TOML or JSON file of configurations (families forest, boost), or none (one forest from the flags); default: the built-in grid"},
		&cli.IntFlag{Name: "max-rows", Usage: fmt.Sprintf("training rows above which negatives are sampled per county and weighted (0: %d; -1: never)", train.DefaultMaxRows)},
		&cli.BoolFlag{Name: "relapse", Usage: "train the relapse model (households whose risk was eliminated) instead of the identification model"},
	)
	register(&cli.Command{
		Name:  "train",
		Usage: "train, validate over time against the rule screen, and save a model with its card",
		UsageText: "povrisk train --warehouse W --models DIR [--as-of D] [--horizon 6] [--snapshots 6] [--policy P] [--truth F] [--seed S] [--trees N] [--grid FILE|none] [--origins 4] [--max-rows N] [--relapse] [--json]\n" +
			"povrisk train --table F.parquet|F.csv --label COLUMN [--folds 5] [--ignore a,b] [--json]",
		Flags: flags,
		Action: func(c *cli.Context) error {
			return runTrain(c.Context, readTrainFlags(c), reportWriter(c), c.App.ErrWriter)
		},
	})
}

// temporalOptions turns flags into train.Options.
func (o trainOptions) temporalOptions(stderr io.Writer) (train.Options, error) {
	if o.Warehouse == "" {
		return train.Options{}, withCode(ExitUsage, errors.New("--warehouse is required"))
	}
	opts := train.Options{Warehouse: o.Warehouse, Models: o.Models, HorizonMonths: o.Horizon, Snapshots: o.Snapshots,
		Truth: o.Truth, Seed: o.Seed, ProfileK: o.Profiles, ModelID: o.ModelID, CreatedBy: "povrisk " + Version}
	if o.Horizon < 1 || o.Snapshots < 1 {
		return opts, withCode(ExitUsage, fmt.Errorf("--horizon %d --snapshots %d: both must be at least 1", o.Horizon, o.Snapshots))
	}
	if o.AsOf != "" {
		t, err := time.Parse("2006-01-02", o.AsOf)
		if err != nil {
			return opts, withCode(ExitUsage, fmt.Errorf("--as-of %q: want YYYY-MM-DD", o.AsOf))
		}
		opts.AsOf = t
	}
	if o.Trees < 1 || o.MinLeaf < 0 {
		return opts, withCode(ExitUsage, fmt.Errorf("--trees %d --min-leaf %d: want at least 1 tree and a leaf of 0 (the default) or more rows", o.Trees, o.MinLeaf))
	}
	// A zero field is train's default (MinLeaf 0: train.DefaultMinLeaf).
	opts.Forest = forest.Options{Trees: o.Trees, MinLeaf: o.MinLeaf, Seed: o.Seed}
	opts.Origins, opts.MaxRows = o.Origins, o.MaxRows
	if !o.SnapshotsSet {
		opts.Snapshots = 0 // train's default: 6, and 6 or 12 in the default grid
	}
	if o.Origins < 0 {
		return opts, withCode(ExitUsage, fmt.Errorf("--origins %d: want 1 or more", o.Origins))
	}
	switch {
	case o.Grid == "none" || (o.Grid == "" && o.MinLeafSet):
		opts.Grid = []train.Config{{}} // the forest of the flags
	case o.Grid != "":
		g, err := train.ReadGrid(o.Grid)
		if err != nil {
			return opts, err
		}
		opts.Grid = g
	}

	switch o.Policy {
	case samplePolicyName:
		opts.Policy = rules.SamplePolicy()
	case "":
		// The one --policy rule (flags.go): the fallback to the sample ends in the next release.
		opts.Policy = rules.SamplePolicy()
		if !o.Quiet {
			fmt.Fprintln(stderr, "povrisk: warning: no --policy given: using the illustrative sample policy; this fallback ends in the next release, pass --policy sample (or a policy file)")
		}
	default:
		p, err := rules.LoadPolicy(o.Policy)
		if err != nil {
			return opts, withCode(ExitPolicy, err)
		}
		opts.Policy = p
	}
	if o.Truth != "" {
		if _, err := os.Stat(o.Truth); err != nil {
			return opts, withCode(ExitUsage, fmt.Errorf("--truth: %w", err))
		}
	}
	// Stages (snapshots, trees, profiles) go to the reporter: a bar on a
	// terminal, a line per stage with --verbose; the engine's own log
	// lines only with --verbose.
	opts.Reporter = o.Reporter
	if o.Verbose && !o.Quiet {
		opts.Progress = stderr
	}
	return opts, nil
}

// withTemporal resolves the flags of train and evaluate into train.Options,
// opens an in-memory DuckDB and calls fn with both; fn's error gets its exit
// code from trainErrCode.
func withTemporal(ctx context.Context, o trainOptions, stderr io.Writer, fn func(*sql.DB, train.Options) error) error {
	opts, err := o.temporalOptions(stderr)
	if err != nil {
		return err
	}
	db, err := engine.OpenDB("")
	if err != nil {
		return err
	}
	defer db.Close()
	return trainErrCode(fn(db, opts))
}

// trainErrCode maps errors of package train to exit codes.
func trainErrCode(err error) error {
	switch {
	case err == nil:
		return nil
	case fault.Of(err) != fault.Internal:
		return err // the engine knew its kind: keep it
	case errors.Is(err, registry.ErrNoModel), errors.Is(err, registry.ErrFeatureMismatch):
		return withCode(ExitNoModel, err)
	case errors.Is(err, os.ErrNotExist):
		return withCode(ExitBadInput, err)
	}
	var nn *train.NonNumericError
	if errors.As(err, &nn) {
		return withCode(ExitBadInput, err)
	}
	return err
}

func runTrain(ctx context.Context, o trainOptions, stdout, stderr io.Writer) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if o.Table != "" {
		return runTrainTable(ctx, o, stdout, stderr)
	}
	if o.Models == "" {
		return withCode(ExitUsage, errors.New("--models is required (or --table for the generic mode)"))
	}
	var card registry.Card
	err := withTemporal(ctx, o, stderr, func(db *sql.DB, opts train.Options) (err error) {
		if o.Relapse {
			card, err = train.TrainRelapse(ctx, db, opts)
		} else {
			card, err = train.Train(ctx, db, opts)
		}
		return err
	})
	if err != nil {
		return err
	}
	if o.JSON {
		return writeTrainJSON(stdout, card)
	}
	fmt.Fprintf(stdout, "model %s saved in %s\n", card.ID, o.Models)
	printMetricsSummary(stdout, card.Metrics)
	if s := card.Selection; s != nil {
		fmt.Fprintf(stdout, "selection: %s of %s (regret %s in mean AUC; best family %s)\n", s.Chosen, plural(int64(len(s.Configs)), "configuration"), num3(s.Regret), s.BestFamily)
	}
	if c := card.Calibration; c != nil {
		fmt.Fprintf(stdout, "calibration: %s, ECE %s (uncalibrated %s)\n", c.Method, num3(c.ECE), num3(c.ECERaw))
	}
	return nil
}

// writeTrainJSON prints the metrics of a trained model (origins
// included) with the card's kind, selection and calibration.
func writeTrainJSON(w io.Writer, card registry.Card) error {
	m := card.Metrics
	m.Model = card.ID
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode json: %w", err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		return fmt.Errorf("encode json: %w", err)
	}
	out["kind"] = card.Kind
	if card.Selection != nil {
		out["selection"] = card.Selection
	}
	if card.Calibration != nil {
		out["calibration"] = card.Calibration
	}
	return writeJSON(w, out)
}

func writeJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode json: %w", err)
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// printMetricsSummary prints the headline figures of a temporal
// evaluation, rounded for people (3 places).
func printMetricsSummary(w io.Writer, m registry.Metrics) {
	row := func(name string, auc, prauc float64, at map[string]float64) {
		fmt.Fprintf(w, "%-12s %7s %7s %7s %7s %7s\n", name, num3(auc), num3(prauc), share3(at, 0.01), share3(at, 0.05), share3(at, 0.1))
	}
	fmt.Fprintf(w, "test as-of %s (horizon %s): %s, %s identified\n", m.TestAsOf, plural(int64(m.HorizonMonths), "month"), plural(int64(m.TestRows), "household"), count(int64(m.TestPositive)))
	fmt.Fprintf(w, "%-12s %7s %7s %7s %7s %7s\n", "", "AUC", "PR AUC", "P@1%", "P@5%", "P@10%")
	row("model", m.AUC, m.PRAUC, m.PrecisionAt)
	row("rule screen", m.RulesAUC, m.RulesPRAUC, m.RulesPrecisionAt)
	if m.OracleAUC != nil && m.OraclePRAUC != nil {
		row("oracle", *m.OracleAUC, *m.OraclePRAUC, m.OraclePrecisionAt)
		share := "-"
		if m.AUCShareOfOracle != nil {
			share = num3(*m.AUCShareOfOracle)
		}
		fmt.Fprintf(w, "model share of the oracle's AUC lift: %s\n", share)
	}
	fmt.Fprintf(w, "county top %s%%: model precision %s, rule screen %s; Brier %s\n", strconv.FormatFloat(m.CountyShare*100, 'f', -1, 32), num3(m.CountyPrecision), num3(m.RulesCountyPrecision), num3(m.Brier))
	if len(m.Origins) > 1 {
		fmt.Fprintf(w, "%s: AUC mean %s (sd %s), county precision mean %s (sd %s)\n", plural(int64(len(m.Origins)), "rolling origin"),
			num3(m.OriginsMean["auc"]), num3(m.OriginsSD["auc"]), num3(m.OriginsMean["county_precision"]), num3(m.OriginsSD["county_precision"]))
	}
	for _, n := range m.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
}

func num3(v float64) string { return score(v) }

// share3 is the figure at a top share, or "-" when not computed.
func share3(at map[string]float64, share float64) string {
	if v, ok := at[registry.ShareKey(share)]; ok {
		return num3(v)
	}
	return "-"
}

func runTrainTable(ctx context.Context, o trainOptions, stdout, stderr io.Writer) error {
	if o.Label == "" {
		return withCode(ExitUsage, errors.New("--table needs --label COLUMN"))
	}
	if o.Folds < 2 {
		return withCode(ExitUsage, fmt.Errorf("--folds %d: want at least 2", o.Folds))
	}
	if _, err := os.Stat(o.Table); err != nil {
		return withCode(ExitBadInput, fmt.Errorf("--table: %w", err))
	}
	db, err := engine.OpenDB("")
	if err != nil {
		return err
	}
	defer db.Close()
	var ignore []string
	if o.Ignore != "" {
		ignore = strings.Split(o.Ignore, ",")
	}
	X, y, skipped, err := train.LoadTable(ctx, db, train.TableOptions{Path: o.Table, Label: o.Label, Ignore: ignore, Positive: o.Positive})
	if err != nil {
		return kindOr(ExitBadInput, err)
	}
	if skipped > 0 {
		fmt.Fprintf(stderr, "povrisk: %s without a label skipped\n", plural(int64(skipped), "row"))
	}
	if o.Trees < 1 || o.MinLeaf < 0 {
		return withCode(ExitUsage, fmt.Errorf("--trees %d --min-leaf %d: want at least 1 tree and a leaf of 0 (the default) or more rows", o.Trees, o.MinLeaf))
	}
	// A zero field is the forest's default (MinLeaf 0: forest.DefaultMinLeaf).
	fo := forest.Options{Trees: o.Trees, MinLeaf: o.MinLeaf, Seed: o.Seed}
	var progress func(train.Fold)
	if !o.JSON {
		fmt.Fprintf(stdout, "%s: %s, %s, %s\n", o.Table, plural(int64(X.Rows), "row"), plural(int64(X.NumCols()), "feature"), plural(int64(o.Folds), "fold"))
		progress = func(f train.Fold) {
			fmt.Fprintf(stdout, "fold %d: AUC %s  PR AUC %s  (%s train, %s test)\n", f.Fold, score(f.AUC), score(f.PRAUC), count(int64(f.Train)), count(int64(f.Test)))
		}
	}
	t0 := time.Now()
	res, err := train.CrossValidate(ctx, X, y, o.Folds, fo, progress)
	if err != nil {
		return err
	}
	if o.JSON {
		return writeJSON(stdout, map[string]any{"table": o.Table, "rows": res.Rows, "features": res.Features,
			"folds": res.Folds, "auc": res.MeanAUC, "auc_sd": res.SDAUC, "pr_auc": res.MeanPR})
	}
	fmt.Fprintf(stdout, "mean AUC %s (sd %s), mean PR AUC %s, %s\n", score(res.MeanAUC), score(res.SDAUC), score(res.MeanPR), seconds(time.Since(t0).Seconds()))
	return nil
}
