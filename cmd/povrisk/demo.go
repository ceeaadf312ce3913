package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/povrisk/povrisk/datasets"
	"github.com/povrisk/povrisk/engine"
	"github.com/povrisk/povrisk/engine/atomicfile"
	"github.com/povrisk/povrisk/engine/audit"
	"github.com/povrisk/povrisk/engine/brief"
	"github.com/povrisk/povrisk/engine/brief/browser"
	"github.com/povrisk/povrisk/engine/civil"
	"github.com/povrisk/povrisk/engine/fault"
	"github.com/povrisk/povrisk/engine/feedback"
	"github.com/povrisk/povrisk/engine/ingest"
	"github.com/povrisk/povrisk/engine/progress"
	night "github.com/povrisk/povrisk/engine/run"
	"github.com/povrisk/povrisk/engine/rundir"
	"github.com/povrisk/povrisk/engine/train"
	"github.com/povrisk/povrisk/engine/warehouse"
	"github.com/povrisk/povrisk/features"
	"github.com/povrisk/povrisk/features/rules"
	"github.com/povrisk/povrisk/models/registry"
)

// demoOptions are the flags of `povrisk demo`.
type demoOptions struct {
	Dir        string
	Households int
	Seed       uint64
	KeyFile    string            // --key-file: the HMAC key; "" the demo's own demo.key
	JSON       bool              // --json: the summary as one JSON object on stdout
	Reporter   progress.Reporter // bars on a terminal (see reporter)
}

// demoKey is the HMAC key of the demo warehouse: sample data only, never
// for a real drop.
const demoKey = "povrisk-demo-key: sample data only, not for production\n"

func init() {
	register(&cli.Command{
		Name:  "demo",
		Usage: "the whole night on sample data: generate a drop, ingest, train, run two nights, write the brief",
		Description: "Everything goes under --dir (default ./povrisk-demo): drop/, warehouse/ (with demo.key), models/,\n" +
			"runs/ (the previous month-end and the latest night) and the brief. Steps already done are reused;\n" +
			"a --dir holding a drop of another size is refused (use another --dir, or remove it to start over).",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "dir", Value: "povrisk-demo", Usage: "directory for everything the demo writes"},
			&cli.IntFlag{Name: "households", Value: 20000, Usage: "households in the sample drop"},
			&cli.Uint64Flag{Name: "seed", Value: 1, Usage: "seed of the sample drop and the model"},
			&cli.StringFlag{Name: "key-file", Usage: "HMAC key file for ID numbers (mode 600); default DIR/demo.key, written by the demo (sample data only)"},
			jsonFlag("the summary (paths, model, counts)"),
		},
		Action: func(c *cli.Context) error {
			return runDemo(c.Context, demoOptions{Dir: c.String("dir"), Households: c.Int("households"), Seed: c.Uint64("seed"),
				KeyFile: c.String("key-file"), JSON: c.Bool("json"), Reporter: reporter(c)}, reportWriter(c), infoWriter(c))
		},
	})
}

// demo is one run of `povrisk demo`: its paths, and what each step leaves
// for the next (the steps are runDemo's, in order).
type demo struct {
	o                                             demoOptions
	drop, wh, keyPath, auditKeyPath, models, runs string
	ownKey                                        bool
	start                                         time.Time
	stderr                                        io.Writer
	db                                            *sql.DB
	prevEnd                                       time.Time
	last                                          *night.Result
	briefPath, pdfPath, briefs                    string
}

func (d *demo) step(format string, a ...any) {
	fmt.Fprintf(d.stderr, "[%5.1fs] "+format+"\n", append([]any{time.Since(d.start).Seconds()}, a...)...)
}

func runDemo(ctx context.Context, o demoOptions, stdout, stderr io.Writer) error {
	if ctx == nil {
		ctx = context.Background()
	}
	d := &demo{o: o, start: time.Now(), stderr: stderr, drop: filepath.Join(o.Dir, "drop"), wh: filepath.Join(o.Dir, "warehouse"),
		keyPath: filepath.Join(o.Dir, "demo.key"), ownKey: o.KeyFile == "",
		auditKeyPath: filepath.Join(o.Dir, "demo-audit.key"), // a real night keeps it outside the runs directory's tree
		models:       filepath.Join(o.Dir, "models"), runs: filepath.Join(o.Dir, "runs")}
	if !d.ownKey {
		d.keyPath = o.KeyFile
	}
	if err := d.sampleDrop(ctx); err != nil {
		return err
	}
	if err := d.keys(); err != nil {
		return err
	}
	db, err := engine.OpenDB("")
	if err != nil {
		return err
	}
	defer db.Close()
	d.db = db
	for _, step := range []func(context.Context) error{d.ingestAndTrain, d.nights, d.writeBriefs} {
		if err := step(ctx); err != nil {
			return err
		}
	}
	d.step("done")
	return d.print(stdout)
}

// sampleDrop generates the sample drop, or reuses one of the same size.
func (d *demo) sampleDrop(ctx context.Context) error {
	o := d.o
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", o.Dir, err)
	}
	if o.Households <= 0 {
		return withCode(ExitUsage, fmt.Errorf("--households %d: want a positive number", o.Households))
	}
	if n, err := countRows(filepath.Join(d.drop, "households.csv")); err == nil && n != int64(o.Households) {
		return withCode(ExitUsage, fmt.Errorf("%s holds a sample drop of %s, not %s: use another --dir, or remove %s to start over",
			o.Dir, plural(n, "household"), count(int64(o.Households)), o.Dir))
	}
	if _, err := os.Stat(filepath.Join(d.drop, "households.csv")); err == nil {
		d.step("reusing the sample drop %s", d.drop)
		return nil
	}
	d.step("generating a sample drop of %d households, 24 months (seed %d)", o.Households, o.Seed)
	if _, err := datasets.Generate(ctx, datasets.GenerateOptions{Households: o.Households, Months: 24, Seed: o.Seed, Out: d.drop, Reporter: o.Reporter}); err != nil {
		return fmt.Errorf("generate the sample drop: %w", err) // its kind: could not write, or internal
	}
	return nil
}

// keys writes the demo's ID key (unless --key-file gives one) and its
// audit key, once.
func (d *demo) keys() error {
	if d.ownKey {
		if _, err := os.Stat(d.keyPath); errors.Is(err, os.ErrNotExist) {
			if err := os.WriteFile(d.keyPath, []byte(demoKey), 0o600); err != nil {
				return fmt.Errorf("write the demo key %s: %w", d.keyPath, err)
			}
		}
		if err := os.Chmod(d.keyPath, 0o600); err != nil {
			return fmt.Errorf("set mode of %s: %w", d.keyPath, err)
		}
	}
	if _, err := os.Stat(d.auditKeyPath); errors.Is(err, os.ErrNotExist) {
		if err := audit.NewKeyFile(d.auditKeyPath); err != nil {
			return fmt.Errorf("write the demo audit key: %w", err)
		}
	}
	return nil
}

// ingestAndTrain ingests the drop and trains a model unless one exists.
func (d *demo) ingestAndTrain(ctx context.Context) error {
	key, err := ingest.LoadKey(d.keyPath)
	if err != nil {
		return kindOr(ExitUsage, fmt.Errorf("--key-file: %w", err)) // as ingest and doctor report a key
	}
	d.step("ingesting into %s", d.wh)
	rep, err := ingest.Run(ctx, d.db, ingest.Options{Drop: d.drop, Warehouse: d.wh, Key: key, Reporter: d.o.Reporter})
	if err != nil {
		return kindOr(ExitBadInput, fmt.Errorf("ingest the sample drop: %w", err))
	}
	d.step("warehouse version %s (%d rows rejected)", rep.Version, rep.Rejected())
	if _, err := registry.Latest(d.models); err == nil {
		d.step("reusing the model in %s", d.models)
		return nil
	}
	d.step("training a model into %s (temporal validation against the rule screen)", d.models)
	card, err := train.Train(ctx, d.db, train.Options{Warehouse: d.wh, Models: d.models, Seed: d.o.Seed, Policy: rules.SamplePolicy(),
		CreatedBy: "povrisk " + Version, Truth: d.drop + ".truth.csv", Reporter: d.o.Reporter})
	if err != nil {
		return fmt.Errorf("train the demo model: %w", err)
	}
	d.step("model %s: AUC %s, precision in the county top 5%%: %s", card.ID, score(card.Metrics.AUC), score(card.Metrics.CountyPrecision))
	// The relapse model (issue 16): the night's elimination assessment
	// defers households whose risk is likely to return.
	rc, err := train.TrainRelapse(ctx, d.db, train.Options{Warehouse: d.wh, Models: d.models, Seed: d.o.Seed, Policy: rules.SamplePolicy(),
		CreatedBy: "povrisk " + Version, Reporter: d.o.Reporter})
	switch {
	case fault.Of(err) == fault.BadInput: // too few past eliminations to learn from: the night defers on the months alone
		d.step("no relapse model: %v", err)
	case err != nil:
		return fmt.Errorf("train the demo relapse model: %w", err)
	default:
		d.step("relapse model %s: AUC %s on %d eliminations", rc.ID, score(rc.Metrics.AUC), rc.Metrics.TestRows)
	}
	return nil
}

// nights runs the night of the month-end before the data end, then the
// night of the data end (so the second has a previous run).
func (d *demo) nights(ctx context.Context) error {
	w, err := warehouse.Open(d.wh)
	if err != nil {
		return kindOr(ExitBadInput, err)
	}
	end, err := features.DataEnd(ctx, d.db, w)
	if err != nil {
		return kindOr(ExitBadInput, err)
	}
	d.prevEnd = civil.Date(end.Year(), end.Month(), 0) // the last day of the month before
	for _, asOf := range []time.Time{d.prevEnd, end} {
		d.step("running the night of %s", asOf.Format("2006-01-02"))
		res, err := night.Run(ctx, d.db, night.Options{Warehouse: d.wh, Runs: d.runs, Models: d.models, Policy: rules.SamplePolicy(), AsOf: asOf,
			AuditKeyPath: d.auditKeyPath, Command: "povrisk demo --dir " + d.o.Dir, Reporter: d.o.Reporter})
		if err != nil {
			return fmt.Errorf("run the night of %s: %w", asOf.Format("2006-01-02"), err)
		}
		d.last = res
		if asOf.Equal(d.prevEnd) {
			if err := d.visitLoop(ctx, res, end); err != nil {
				return err
			}
		}
	}
	return nil
}

// visitLoop is the office loop between the two nights (issue 13): the
// first night's work lists filled in with simulated home visits dated
// after its as-of date up to the second night's (to), then imported into
// the warehouse as visit_outcomes, so that the second night's summary
// reports them.
func (d *demo) visitLoop(ctx context.Context, first *night.Result, to time.Time) error {
	files, err := d.simulateVisits(ctx, first, to)
	if err != nil {
		return fmt.Errorf("simulate the visits of the night of %s: %w", first.AsOf, err)
	}
	if files == nil {
		d.step("no visit simulator in this build: the second night reports no visits")
		return nil
	}
	d.step("simulated visits written into %d work lists", len(files))
	n, err := d.importVisits(ctx, files)
	if err != nil {
		return fmt.Errorf("import the visit outcomes: %w", err)
	}
	d.step("imported %d visit outcomes into %s", n, d.wh)
	return nil
}

// simulateVisits fills in the work lists of the night first
// (first.Dir/worklists/*.xlsx) with simulated visit outcomes dated after
// first.AsOf (the simulator knows what each household's next months
// hold: it reruns the drop's simulation past the as-of date) and writes
// the rule-only visits of the night as a visit_outcomes CSV beside the
// drop; it returns every file to import.
func (d *demo) simulateVisits(ctx context.Context, first *night.Result, to time.Time) ([]string, error) {
	rule := filepath.Join(d.o.Dir, "visits-rule-"+first.AsOf+".csv")
	asOf, err := civil.Parse(first.AsOf)
	if err != nil {
		return nil, err
	}
	// Visits within three weeks of the list, and before the next night.
	visitDate := asOf.AddDate(0, 0, 20)
	if visitDate.After(to) {
		visitDate = to
	}
	// The cadres fill in copies of the work lists sent out; the run
	// directory itself stays as the night wrote it (feedback verifies it).
	sent := filepath.Join(d.o.Dir, "returned", first.AsOf)
	if err := copyWorklists(filepath.Join(first.Dir, "worklists"), sent); err != nil {
		return nil, err
	}
	rep, err := datasets.SimulateVisits(ctx, datasets.VisitOptions{
		Worklists:  sent,
		VisitDate:  visitDate,
		Run:        first.Dir,
		Sim:        &datasets.GenerateOptions{Households: d.o.Households, Months: 24, Seed: d.o.Seed},
		RuleVisits: rule,
		Seed:       d.o.Seed,
	})
	if err != nil {
		return nil, err
	}
	d.step("simulated %d visits (%d on the work lists, %d rule-only)", rep.Visited()+rep.RuleVisits, rep.Visited(), rep.RuleVisits)
	files := slices.Clone(rep.Files)
	if rep.RuleVisits > 0 {
		files = append(files, rule)
	}
	return files, nil
}

// copyWorklists copies the work lists of a run directory to dir (made
// afresh), as an office sends them out.
func copyWorklists(from, dir string) error {
	if err := os.RemoveAll(dir); err != nil {
		return fault.Wrap(fault.Write, fmt.Errorf("clear %s: %w", dir, err))
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fault.Wrap(fault.Write, fmt.Errorf("create %s: %w", dir, err))
	}
	names, err := filepath.Glob(filepath.Join(from, "*.xlsx"))
	if err != nil {
		return err
	}
	for _, p := range names {
		b, err := os.ReadFile(p)
		if err != nil {
			return fmt.Errorf("read the work list %s: %w", p, err)
		}
		if err := atomicfile.WriteFile(filepath.Join(dir, filepath.Base(p)), b, 0o600); err != nil { // marked fault.Write
			return fmt.Errorf("copy the work list to %s: %w", dir, err)
		}
	}
	return nil
}

// importVisits imports the filled work lists and the rule-only visits
// into the warehouse as `povrisk feedback --warehouse d.wh --runs d.runs
// FILE...` does, and returns the outcomes accepted.
func (d *demo) importVisits(ctx context.Context, files []string) (int, error) {
	rep, err := feedback.Import(ctx, feedback.Options{Warehouse: d.wh, Runs: d.runs, Files: files,
		Rejects: filepath.Join(d.o.Dir, "visits-rejects.csv")})
	if err != nil {
		return 0, err
	}
	if rep.Rejected > 0 {
		d.step("%d visit rows rejected (see %s)", rep.Rejected, rep.RejectFile)
	}
	return int(rep.Accepted), nil
}

// writeBriefs writes the zh brief of the last night as HTML, and as PDF
// when headless Chromium is there (scripts/demo.sh installs it); without
// it the demo still succeeds and says how to get the PDF.
func (d *demo) writeBriefs(ctx context.Context) error {
	d.briefPath = filepath.Join(d.o.Dir, "brief-"+d.last.AsOf+"-zh.html")
	bp, err := brief.Write(ctx, brief.Options{Run: d.last.Dir, Out: d.briefPath})
	if err != nil {
		return fmt.Errorf("write the brief: %w", err)
	}
	pdf, err := brief.Write(ctx, brief.Options{Run: d.last.Dir, Format: "pdf", Out: strings.TrimSuffix(d.briefPath, ".html") + ".pdf"})
	switch {
	case errors.Is(err, browser.ErrNoBrowser):
		pdf = "(no PDF: " + err.Error() + ")"
	case err != nil:
		return fmt.Errorf("write the PDF brief: %w", err)
	default:
		d.pdfPath = pdf
	}
	d.briefs = bp + "\n  brief (PDF) " + pdf
	return nil
}

// print says where everything is (or prints it as JSON with --json).
func (d *demo) print(stdout io.Writer) error {
	o, last, c := d.o, d.last, d.last.Counts
	var visits *rundir.Visits
	if s, err := rundir.ReadSummary(last.Dir); err == nil {
		visits = s.Visits // the run just wrote and recorded it
	}
	visitLine := "no visit outcomes in the warehouse"
	if visits != nil {
		visitLine = fmt.Sprintf("%d visited since %s, %d found at risk", visits.Visited, visits.Since, visits.Confirmed)
	}
	if o.JSON {
		return writeJSON(stdout, demoSummary{Dir: o.Dir, Drop: d.drop, Households: o.Households, Warehouse: d.wh, KeyFile: d.keyPath,
			Model: last.ModelID, Runs: d.runs, Nights: []string{civil.Format(d.prevEnd), last.AsOf}, AuditLog: filepath.Join(d.runs, "audit.log"),
			AuditKeyFile: d.auditKeyPath, RunDir: last.Dir, Brief: d.briefPath, PDF: d.pdfPath, Eligible: c.Eligible, High: c.ByTier["high"],
			TopK: c.TopKTotal, TopKMissedByRules: c.TopKMissedByRules, Visits: visits})
	}
	_, err := fmt.Fprintf(stdout, `povrisk demo: everything is under %s
  drop        %s  (%s, 24 months; ground truth %s.truth.csv)
  warehouse   %s  (HMAC key %s, mode 0600)
  model       %s/%s
  runs        %s  (%s and %s; audit log %s, audit key %s)
  ranked list %s
  work lists  %s
  brief       %s
  night of %s: %s, %d high tier, %d in the county top k (%d not flagged by any rule)
  visits      %s
next: povrisk explain %s --run %s
      povrisk audit --runs %s --verify --audit-key-file %s
`, o.Dir, d.drop, plural(int64(o.Households), "household"), d.drop, d.wh, d.keyPath, d.models, last.ModelID, d.runs, d.prevEnd.Format("2006-01-02"), last.AsOf,
		filepath.Join(d.runs, "audit.log"), d.auditKeyPath, filepath.Join(last.Dir, "ranked.csv"), filepath.Join(last.Dir, "worklists"), d.briefs,
		last.AsOf, plural(int64(c.Eligible), "eligible household"), c.ByTier["high"], c.TopKTotal, c.TopKMissedByRules, visitLine, firstRanked(last), last.Dir, d.runs, d.auditKeyPath)
	return err
}

// demoSummary is what demo --json prints.
type demoSummary struct {
	Dir               string   `json:"dir"`
	Drop              string   `json:"drop"`
	Households        int      `json:"households"`
	Warehouse         string   `json:"warehouse"`
	KeyFile           string   `json:"key_file"`
	Model             string   `json:"model"`
	Runs              string   `json:"runs"`
	Nights            []string `json:"nights"`
	AuditLog          string   `json:"audit_log"`
	AuditKeyFile      string   `json:"audit_key_file"`
	RunDir            string   `json:"run_dir"`
	Brief             string   `json:"brief"`
	PDF               string   `json:"pdf,omitempty"` // "" without Chromium
	Eligible          int      `json:"eligible"`
	High              int      `json:"high"`
	TopK              int      `json:"top_k"`
	TopKMissedByRules int      `json:"top_k_missed_by_rules"`
	// Visits: what the visits between the two nights found, as the second
	// night's summary.json says (null: no visit outcomes).
	Visits *rundir.Visits `json:"visits"`
}

// firstRanked is the household ranked first in the run (for the hint).
func firstRanked(r *night.Result) string {
	if r.Top != "" {
		return r.Top
	}
	return "HOUSEHOLD_ID"
}

// countRows is the number of data rows of a CSV file with a header line.
func countRows(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var n int64
	buf := make([]byte, 64<<10)
	for {
		k, err := f.Read(buf)
		n += int64(bytes.Count(buf[:k], []byte{'\n'}))
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, err
		}
	}
	return max(n-1, 0), nil
}
