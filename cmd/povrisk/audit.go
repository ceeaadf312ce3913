package main

import (
	"fmt"
	"io"
	"sort"

	"github.com/urfave/cli/v2"

	"github.com/povrisk/povrisk/engine/audit"
)

// auditOptions are the flags of `povrisk audit`.
type auditOptions struct {
	Runs    string
	Verify  bool
	JSON    bool
	KeyFile string // --audit-key-file
	NewKey  string // --new-key: write a fresh audit key there and stop
}

func init() {
	register(&cli.Command{
		Name:  "audit",
		Usage: "list the audit log of a runs directory and verify its keyed chain and run directories",
		Description: "Prints one line per record (seq, time, user, run, model, files) and checks every record's MAC\n" +
			"under the audit key, the hash chain and the log's head: an altered, forged, removed, reordered or\n" +
			"inserted record is reported by its seq. With --verify it also checks that every run directory\n" +
			"holds exactly the files and checksums its last record names, and that none is missing. A missing\n" +
			"or empty runs directory is a problem too. Exits 6 on any problem.\n" +
			"The audit key is separate from the ID key; make one with --new-key FILE (mode 600) and keep it\n" +
			"outside the runs directory (see docs/contracts.md, engine/audit, for what it protects against).",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "runs", Value: "runs", Usage: "runs directory holding audit.log"},
			&cli.BoolFlag{Name: "verify", Usage: "verify the chain and the run directories (exit 6 on a problem)"},
			&cli.StringFlag{Name: "audit-key-file", Usage: "audit key (mode 600); default env " + audit.KeyEnv + ", else " + audit.DefaultKeyPath()},
			&cli.StringFlag{Name: "new-key", Usage: "write a fresh random audit key to this file (mode 600) and exit"},
			jsonFlag("the records and problems"),
		},
		Action: func(c *cli.Context) error {
			o := auditOptions{Runs: c.String("runs"), Verify: c.Bool("verify"), JSON: c.Bool("json"), KeyFile: c.String("audit-key-file"), NewKey: c.String("new-key")}
			if o.JSON && o.NewKey == "" {
				return runAuditJSON(o, c.App.Writer)
			}
			return runAudit(o, reportWriter(c))
		},
	})
}

func runAudit(o auditOptions, w io.Writer) error {
	if o.NewKey != "" {
		if err := audit.NewKeyFile(o.NewKey); err != nil {
			return err
		}
		fmt.Fprintf(w, "audit key written to %s (mode 600): give it to povrisk run with --audit-key-file or %s; keep a copy off this machine\n", o.NewKey, audit.KeyEnv)
		return nil
	}
	key, err := audit.LoadKey(o.KeyFile)
	if err != nil {
		return kindOr(ExitUsage, err)
	}
	rep, err := audit.Verify(o.Runs, key)
	if err != nil {
		return withCode(ExitIncomplete, err)
	}
	printAuditLines(w, rep, o.Verify)
	var probs []audit.Problem
	for _, p := range rep.Problems {
		if p.Chain || o.Verify {
			probs = append(probs, p)
		}
	}
	if o.Verify {
		for _, n := range rep.Notes {
			fmt.Fprintf(w, "note: %s\n", n)
		}
	}
	for _, p := range probs {
		fmt.Fprintf(w, "PROBLEM: %s\n", p)
	}
	if len(probs) > 0 {
		return withCode(ExitIncomplete, fmt.Errorf("audit: %s in %s: the log or a run directory was altered, removed or never written; see the lines above", plural(int64(len(probs)), "problem"), o.Runs))
	}
	if o.Verify {
		fmt.Fprintf(w, "ok: %s, chain intact, run directories match\n", plural(int64(len(rep.Lines)), "record"))
	} else {
		fmt.Fprintf(w, "ok: %s, chain intact (--verify also checks the run directories)\n", plural(int64(len(rep.Lines)), "record"))
	}
	return nil
}

// runAuditJSON prints the records and problems as one JSON object; the
// exit code is the same as without --json.
func runAuditJSON(o auditOptions, w io.Writer) error {
	key, err := audit.LoadKey(o.KeyFile)
	if err != nil {
		return kindOr(ExitUsage, err)
	}
	rep, err := audit.Verify(o.Runs, key)
	if err != nil {
		return withCode(ExitIncomplete, err)
	}
	type problem struct {
		Chain bool   `json:"chain"`
		Seq   int64  `json:"seq"`
		Line  int    `json:"line"`
		Run   string `json:"run,omitempty"`
		What  string `json:"what"`
	}
	out := struct {
		OK       bool           `json:"ok"`
		Records  []audit.Record `json:"records"`
		Problems []problem      `json:"problems"`
		Notes    []string       `json:"notes"`
	}{Records: []audit.Record{}, Problems: []problem{}, Notes: []string{}}
	for _, l := range rep.Lines {
		if l.Err == nil {
			out.Records = append(out.Records, l.Record)
		}
	}
	for _, p := range rep.Problems {
		if p.Chain || o.Verify {
			out.Problems = append(out.Problems, problem{p.Chain, p.Seq, p.Line, p.Run, p.What})
		}
	}
	if o.Verify {
		out.Notes = append(out.Notes, rep.Notes...)
	}
	out.OK = len(out.Problems) == 0
	if err := writeJSON(w, out); err != nil {
		return err
	}
	if !out.OK {
		return withCode(ExitIncomplete, fmt.Errorf("audit: %s in %s", plural(int64(len(out.Problems)), "problem"), o.Runs))
	}
	return nil
}

// printAuditLines prints one line per record (and its inputs with verbose).
func printAuditLines(w io.Writer, rep *audit.Report, verbose bool) {
	for _, l := range rep.Lines {
		if l.Err != nil {
			fmt.Fprintf(w, "line %d: unreadable\n", l.N)
			continue
		}
		r := l.Record
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\tmodel=%s\tfiles=%d\t%s\n", r.Seq, r.Time, r.User, r.Run, r.Model, len(r.Outputs), r.Command)
		if verbose {
			keys := make([]string, 0, len(r.Inputs))
			for k := range r.Inputs {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				fmt.Fprintf(w, "\tinput %s %s\n", r.Inputs[k], k)
			}
		}
	}
}
