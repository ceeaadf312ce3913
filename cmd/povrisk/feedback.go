package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/povrisk/povrisk/engine/feedback"
	"github.com/povrisk/povrisk/engine/progress"
)

// feedbackOptions are the flags of povrisk feedback.
type feedbackOptions struct {
	Warehouse, Runs, Rejects string
	Files                    []string
	JSON                     bool
	MaxRejectShare           float64
	Wait                     time.Duration
	Reporter                 progress.Reporter
}

func init() {
	register(&cli.Command{
		Name:      "feedback",
		Usage:     "import visit outcomes (filled work lists, visit_outcomes CSV files) into the warehouse",
		UsageText: "povrisk feedback --warehouse DIR [--runs DIR] [--rejects FILE] [--max-reject-share S] [--policy FILE] [--wait DURATION] [--json] FILE...",
		Description: "FILE is a work list (worklists/<county>.xlsx of a run, filled in and sent back from Excel, WPS or LibreOffice)\n" +
			"or a CSV file with the columns of visit_outcomes (household_id, visit_date, outcome, source, visitor_code, note).\n" +
			"Rows without 核查结果 are blank (counted, not stored); bad rows go to the reject file; read = accepted + rejected + blank.\n" +
			"Notes are stored in the warehouse, never printed.",
		ArgsUsage: "FILE...",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "warehouse", Usage: "warehouse directory", Required: true},
			&cli.StringFlag{Name: "runs", Value: "runs", Usage: "runs directory holding the runs the work lists come from"},
			&cli.StringFlag{Name: "rejects", Usage: "write the reject file here (default: W/drops/<import id>/rejects.csv)"},
			&cli.Float64Flag{Name: "max-reject-share", Usage: "fail (exit 3, nothing stored) when more than this share of the rows with an outcome is rejected (0 to 1; 0 or unset: the policy's [health] max_reject_share, else 0.05)"},
			policyFlag(),
			waitFlag(),
			jsonFlag("the import's counts"),
		},
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return usageError(c.Command, "povrisk feedback", fmt.Errorf("no FILE given: name the filled work lists or CSV files to import"))
			}
			share := c.Float64("max-reject-share")
			if share == 0 && c.String("policy") != "" {
				pol, _, err := policyFrom(c, true)
				if err != nil {
					return err
				}
				share = pol.MaxRejectShare()
			}
			return runFeedback(c.Context, feedbackOptions{
				Warehouse: c.String("warehouse"), Runs: c.String("runs"), Rejects: c.String("rejects"), Files: c.Args().Slice(),
				JSON: c.Bool("json"), MaxRejectShare: share, Wait: c.Duration("wait"), Reporter: reporter(c),
			}, reportWriter(c), infoWriter(c))
		},
	})
}

func runFeedback(ctx context.Context, o feedbackOptions, stdout, stderr io.Writer) error {
	if ctx == nil {
		ctx = context.Background()
	}
	rep, err := feedback.Import(ctx, feedback.Options{Warehouse: o.Warehouse, Runs: o.Runs, Files: o.Files, Rejects: o.Rejects,
		MaxRejectShare: o.MaxRejectShare, Wait: o.Wait, Reporter: o.Reporter})
	if rep != nil {
		if o.JSON {
			b, _ := json.MarshalIndent(rep, "", "  ")
			fmt.Fprintf(stdout, "%s\n", b)
		}
		printFeedbackLines(stderr, rep, err == nil)
	}
	// The engine marks each error with its kind (engine/fault): bad input
	// 3, tampered run directory 6, busy 7, could not write 8.
	return err
}

// printFeedbackLines prints a line per sheet, the reject file and the
// outcome. No cell of a row is printed (notes may hold personal data).
func printFeedbackLines(w io.Writer, rep *feedback.Report, ok bool) {
	for _, f := range rep.Files {
		for _, s := range f.Sheets {
			name := f.File
			if s.Sheet != "" {
				name += " " + s.Sheet
			}
			fmt.Fprintf(w, "%s: read %d accepted %d rejected %d blank %d\n", name, s.Read, s.Accepted, s.Rejected, s.Blank)
		}
	}
	if rep.RejectFile != "" {
		fmt.Fprintf(w, "rejected rows: %s\n", rep.RejectFile)
	}
	switch {
	case !ok:
	case rep.Unchanged && rep.Accepted > 0:
		fmt.Fprintf(w, "these files were imported before (same checksums): warehouse unchanged at %s\n", rep.WarehouseVersion)
	case rep.Unchanged:
		fmt.Fprintf(w, "no visit outcome to store: warehouse unchanged at %s\n", rep.WarehouseVersion)
	default:
		fmt.Fprintf(w, "%d visit outcomes stored (%d replacing earlier ones): warehouse version %s\n", rep.Accepted, rep.Replaced, rep.WarehouseVersion)
	}
}
