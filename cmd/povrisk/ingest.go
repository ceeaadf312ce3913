package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/povrisk/povrisk/engine"
	"github.com/povrisk/povrisk/engine/fault"
	"github.com/povrisk/povrisk/engine/ingest"
	"github.com/povrisk/povrisk/engine/progress"
)

// ingestOptions are the flags of povrisk ingest and povrisk validate.
type ingestOptions struct {
	Drop, Warehouse, KeyFile, Encoding, Report string
	JSON, Validate                             bool
	Verbose                                    bool // every table's line, not only those with something to say
	// MaxRejectShare and Wait: see ingest.Options.
	MaxRejectShare float64
	Wait           time.Duration
	Reporter       progress.Reporter // per-table progress: bars on a terminal, lines with --verbose (see reporter)
}

func init() {
	register(&cli.Command{
		Name:      "ingest",
		Usage:     "check a drop against the data standard and merge its accepted rows into the warehouse",
		UsageText: "povrisk ingest --drop DIR --warehouse DIR [--key-file FILE] [--encoding utf-8|gb18030] [--max-reject-share S] [--wait DURATION] [--json]",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "drop", Usage: "drop directory (one file per table)", Required: true},
			&cli.StringFlag{Name: "warehouse", Usage: "warehouse directory", Required: true},
			keyFileFlag(),
			&cli.StringFlag{Name: "encoding", Usage: "CSV encoding: utf-8 or gb18030 (default: detected per file)"},
			&cli.Float64Flag{Name: "max-reject-share", Usage: "fail (exit 3, nothing ingested) when a table rejects more than this share of its rows (0 to 1; 0 or unset: the policy's [health] max_reject_share, else 0.05)"},
			waitFlag(),
			jsonFlag("the report"),
		},
		Action: func(c *cli.Context) error {
			return runIngest(c.Context, ingestOptions{
				Drop: c.String("drop"), Warehouse: c.String("warehouse"), KeyFile: c.String("key-file"),
				Encoding: c.String("encoding"), JSON: c.Bool("json"), Reporter: reporter(c), Verbose: verbose(c),
				MaxRejectShare: c.Float64("max-reject-share"), Wait: c.Duration("wait"),
			}, c.App.Writer, infoWriter(c))
		},
	})
}

func runIngest(ctx context.Context, o ingestOptions, stdout, stderr io.Writer) (err error) {
	if ctx == nil {
		ctx = context.Background()
	}
	opts := ingest.Options{Drop: o.Drop, Warehouse: o.Warehouse, Encoding: o.Encoding, ValidateOnly: o.Validate,
		MaxRejectShare: o.MaxRejectShare, Wait: o.Wait}
	if !o.Validate {
		key, err := ingest.LoadKey(o.KeyFile)
		if err != nil {
			return withCode(ExitUsage, err)
		}
		opts.Key = key
	}
	tty := stderrIsTerminal(stderr) // progress shown as it goes: no summary lines after it
	opts.Reporter = o.Reporter
	var rejOut io.Writer
	if o.Validate {
		rejOut = stdout
		if o.JSON {
			rejOut = nil
		}
		if o.Report != "" {
			f, err := os.OpenFile(o.Report, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
			if err != nil {
				return withCode(ExitWrite, fmt.Errorf("create report file %s: %w", o.Report, err))
			}
			defer func() {
				if cerr := f.Close(); cerr != nil && err == nil {
					err = fmt.Errorf("write report file %s: %w", o.Report, cerr)
				}
			}()
			rejOut = f
		}
		if rejOut != nil {
			fmt.Fprintln(rejOut, "table,file,line,column,reason,original")
			opts.Rejects = rejOut
		}
	}
	db, err := engine.OpenDB("")
	if err != nil {
		return err
	}
	defer db.Close()
	rep, err := ingest.Run(ctx, db, opts)
	if rep != nil {
		if o.JSON {
			printReportJSON(stdout, rep)
		}
		if !tty || o.JSON || o.Validate {
			// A validation is a report: every table. An ingest (cron)
			// prints its one line, and the tables with something to say.
			printReportLines(stderr, rep, o.Validate || o.Verbose)
		}
	}
	if err == nil && o.Validate {
		// A validation reports like the ingest would judge it.
		err = rep.Check(o.MaxRejectShare)
	}
	if err != nil {
		// The engine marks each error with its kind (engine/fault):
		// bad input 3, busy 7, could not write 8, ...
		if k := fault.Of(err); k != fault.Internal {
			return withCode(int(k), err)
		}
		var fe *ingest.FileError
		if errors.Is(err, ingest.ErrRequiredTable) || errors.Is(err, ingest.ErrNoKey) || errors.As(err, &fe) {
			return withCode(ExitBadInput, err)
		}
		return err
	}
	return nil
}

// printReportLines prints the summary lines of a report (the cron form):
// with all, one per table; else only the tables that failed, rejected
// rows or dropped personal data, then the drop's one line.
func printReportLines(w io.Writer, rep *ingest.Report, all bool) {
	if rep.Unchanged {
		fmt.Fprintf(w, "drop %s already ingested (same checksums): warehouse unchanged at %s\n", rep.DropID, rep.Version)
		return
	}
	for _, t := range rep.Tables {
		if !all && t.Error == "" && t.Rejected == 0 && len(t.Personal) == 0 {
			continue
		}
		if t.Error != "" {
			fmt.Fprintf(w, "%s: FAILED: %s\n", t.Table, t.Error)
			continue
		}
		fmt.Fprintf(w, "%s: %s read %d accepted %d rejected %d", t.Table, t.File, t.Read, t.Accepted, t.Rejected)
		if t.Seconds > 0 {
			fmt.Fprintf(w, " in %s (%s rows/s)", seconds(t.Seconds), count(int64(float64(t.Read)/t.Seconds)))
		}
		if t.RejectFile != "" {
			fmt.Fprintf(w, " rejects %s", t.RejectFile)
		}
		if len(t.Extra) > 0 {
			fmt.Fprintf(w, " ignored columns %s", strings.Join(t.Extra, ", "))
		}
		if len(t.Personal) > 0 {
			fmt.Fprintf(w, "; personal data (dropped) %s", t.PersonalSummary())
		}
		fmt.Fprintln(w)
	}
	for _, m := range rep.Missing {
		fmt.Fprintf(w, "%s: absent from the drop\n", m)
	}
	if len(rep.Optional) > 0 && all {
		// Optional tables of standard v1.1: a v1 drop lacks them by right.
		fmt.Fprintf(w, "optional tables absent (standard v1.1, not required): %s\n", strings.Join(rep.Optional, ", "))
	}
	if rep.Version != "" {
		fmt.Fprintf(w, "drop %s ingested: warehouse version %s\n", rep.DropID, rep.Version)
	}
}

type jsonTable struct {
	Table      string `json:"table"`
	File       string `json:"file"`
	Read       int64  `json:"read"`
	Accepted   int64  `json:"accepted"`
	Rejected   int64  `json:"rejected"`
	RejectFile string `json:"reject_file"`
	Error      string `json:"error"`
}

func printReportJSON(w io.Writer, rep *ingest.Report) {
	out := struct {
		DropID    string      `json:"drop_id"`
		Tables    []jsonTable `json:"tables"`
		Missing   []string    `json:"missing"`
		Optional  []string    `json:"absent_optional"`
		Unchanged bool        `json:"unchanged"`
		Version   string      `json:"version,omitempty"`
	}{DropID: rep.DropID, Tables: []jsonTable{}, Missing: rep.Missing, Optional: rep.Optional, Unchanged: rep.Unchanged, Version: rep.Version}
	if out.Missing == nil {
		out.Missing = []string{}
	}
	if out.Optional == nil {
		out.Optional = []string{}
	}
	for _, t := range rep.Tables {
		out.Tables = append(out.Tables, jsonTable{t.Table, t.File, t.Read, t.Accepted, t.Rejected, t.RejectFile, t.Error})
	}
	b, _ := json.MarshalIndent(out, "", "  ")
	fmt.Fprintf(w, "%s\n", b)
}
