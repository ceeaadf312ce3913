package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/povrisk/povrisk/datasets"
)

func init() {
	register(&cli.Command{
		Name:  "generate",
		Usage: "write a simulated verification-data drop (DATA-STANDARD v1) with its ground truth",
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "households", Value: 20000, Usage: "number of households"},
			&cli.IntFlag{Name: "counties", Value: datasets.DefaultCounties, Usage: fmt.Sprintf("number of counties (1..%d): the first six are real counties of Guizhou and Yunnan of six townships each, more are simulated ones of 3 to 12 townships (a county's households follow its townships)", datasets.MaxCounties)},
			&cli.IntFlag{Name: "months", Value: 24, Usage: "number of months of data (at least 7)"},
			&cli.StringFlag{Name: "start", Value: "2024-01", Usage: "first month, YYYY-MM"},
			&cli.Uint64Flag{Name: "seed", Value: 1, Usage: "random seed: the same seed gives the same bytes"},
			&cli.StringFlag{Name: "out", Required: true, Usage: "drop directory to write (created)"},
			&cli.StringFlag{Name: "truth", Usage: "ground-truth CSV (default: OUT.truth.csv)"},
			&cli.Float64Flag{Name: "dirty", Usage: "share of extra defective rows per table (0 = clean); defects listed in OUT.defects.csv"},
			&cli.StringFlag{Name: "encoding", Usage: "gb18030: households and persons in GB18030, income_records UTF-8 with BOM"},
			&cli.StringFlag{Name: "format", Value: "csv", Usage: "csv, csv.gz or parquet"},
			jsonFlag("the report"),
		},
		Action: func(c *cli.Context) error {
			o, err := generateOptions(c)
			if err != nil {
				return withCode(ExitUsage, err)
			}
			o.Reporter = reporter(c) // a bar on a terminal; cron and logs stay quiet
			return runGenerate(c.Context, o, c.Bool("json"), reportWriter(c))
		},
	})
}

// generateOptions fills datasets.GenerateOptions from the flags.
func generateOptions(c *cli.Context) (datasets.GenerateOptions, error) {
	start, err := time.Parse("2006-01", c.String("start"))
	if err != nil {
		return datasets.GenerateOptions{}, fmt.Errorf("--start %q: want YYYY-MM", c.String("start"))
	}
	if c.Int("households") <= 0 {
		return datasets.GenerateOptions{}, errors.New("--households must be positive")
	}
	if n := c.Int("counties"); n < 1 || n > datasets.MaxCounties {
		return datasets.GenerateOptions{}, fmt.Errorf("--counties %d: want 1 to %d", n, datasets.MaxCounties)
	}
	if err := checkDataEnd(start, c.Int("months"), time.Now()); err != nil {
		return datasets.GenerateOptions{}, err
	}
	return datasets.GenerateOptions{
		Households: c.Int("households"),
		Counties:   c.Int("counties"),
		Months:     c.Int("months"),
		Start:      start,
		Seed:       c.Uint64("seed"),
		Out:        c.String("out"),
		Truth:      c.String("truth"),
		Dirty:      c.Float64("dirty"),
		Encoding:   c.String("encoding"),
		Format:     c.String("format"),
	}, nil
}

// runGenerate writes the drop and prints one line per table.
func runGenerate(ctx context.Context, o datasets.GenerateOptions, asJSON bool, stdout io.Writer) error {
	if ctx == nil {
		ctx = context.Background()
	}
	rep, err := datasets.Generate(ctx, o)
	if errors.Is(err, datasets.ErrOptions) {
		return withCode(ExitUsage, err)
	}
	if err != nil {
		return err // a write failure is fault.Write (8); anything else internal
	}
	if asJSON {
		return writeJSON(stdout, generateJSON(o.Out, rep))
	}
	fmt.Fprintf(stdout, "drop %s: %s, %s to %s, %s identified\n", o.Out, plural(int64(rep.Households), "household"),
		rep.Start.Format("2006-01-02"), rep.End.Format("2006-01-02"), count(int64(rep.Identified)))
	for _, t := range rep.Tables {
		fmt.Fprintf(stdout, "  %-18s %10d rows", t.Name, t.Rows)
		if t.Defects > 0 {
			fmt.Fprintf(stdout, " (%d defective)", t.Defects)
		}
		fmt.Fprintln(stdout)
	}
	fmt.Fprintf(stdout, "truth %s\n", rep.Truth)
	fmt.Fprintf(stdout, "relapse truth %s (%s eliminated)\n", rep.Relapse, count(int64(rep.Eliminated)))
	if rep.Defects != "" {
		fmt.Fprintf(stdout, "defects %s\n", rep.Defects)
	}
	return nil
}

// generateJSON is the --json report of generate.
func generateJSON(out string, rep *datasets.GenerateReport) any {
	type table struct {
		Name    string `json:"name"`
		Path    string `json:"path"`
		Rows    int64  `json:"rows"`
		Defects int64  `json:"defects"`
	}
	r := struct {
		Drop       string   `json:"drop"`
		Households int      `json:"households"`
		Start      string   `json:"start"`
		End        string   `json:"end"`
		Identified int      `json:"identified"`
		Tables     []table  `json:"tables"`
		Truth      string   `json:"truth"`
		Relapse    string   `json:"relapse"`
		Eliminated int      `json:"eliminated"`
		Defects    string   `json:"defects,omitempty"`
		AsOf       []string `json:"as_of"`
	}{Drop: out, Households: rep.Households, Start: rep.Start.Format("2006-01-02"), End: rep.End.Format("2006-01-02"),
		Identified: rep.Identified, Tables: []table{}, Truth: rep.Truth, Relapse: rep.Relapse, Eliminated: rep.Eliminated, Defects: rep.Defects, AsOf: rep.AsOf}
	for _, t := range rep.Tables {
		r.Tables = append(r.Tables, table{t.Name, t.Path, t.Rows, t.Defects})
	}
	return r
}

// checkDataEnd refuses a period whose last month ends after today (at
// UTC+14, the rule of ingest's export day): a drop is exported on the last
// day of its data, and ingest rejects every date after the export day, so
// such a drop could not be ingested. months < 1 is left to
// datasets.Generate's own check.
func checkDataEnd(start time.Time, months int, now time.Time) error {
	if months < 1 {
		return nil
	}
	end := time.Date(start.Year(), start.Month()+time.Month(months), 0, 0, 0, 0, 0, time.UTC) // last day of the last month
	t := now.In(time.FixedZone("UTC+14", 14*3600))
	today := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	if !end.After(today) {
		return nil
	}
	lastFull := time.Date(today.Year(), today.Month(), 1, 0, 0, 0, 0, time.UTC) // the month before today's, unless today ends its month
	if today.AddDate(0, 0, 1).Day() == 1 {
		lastFull = lastFull.AddDate(0, 1, 0)
	}
	latest := lastFull.AddDate(0, -months, 0)
	return fmt.Errorf("--start %s with --months %d ends the data on %s, after today (%s): ingest rejects dates after the day of the export; give --start %s or earlier",
		start.Format("2006-01"), months, end.Format("2006-01-02"), today.Format("2006-01-02"), latest.Format("2006-01"))
}
