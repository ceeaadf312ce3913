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
	Runs   string
	Verify bool
	JSON   bool
}

func init() {
	register(&cli.Command{
		Name:  "audit",
		Usage: "list the audit log of a runs directory and verify its chain and run directories",
		Description: "Prints one line per record (seq, time, user, run, model, files) and checks the hash chain: an\n" +
			"altered, removed or inserted record is reported by its seq. With --verify it also checks that every\n" +
			"run directory holds exactly the files and checksums its last record names. Exits 6 on any problem.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "runs", Value: "runs", Usage: "runs directory holding audit.log"},
			&cli.BoolFlag{Name: "verify", Usage: "verify the hash chain and the run directories (exit 6 on a problem)"},
			jsonFlag("the records and problems"),
		},
		Action: func(c *cli.Context) error {
			o := auditOptions{Runs: c.String("runs"), Verify: c.Bool("verify"), JSON: c.Bool("json")}
			if o.JSON {
				return runAuditJSON(o, c.App.Writer)
			}
			return runAudit(o, reportWriter(c))
		},
	})
}

func runAudit(o auditOptions, w io.Writer) error {
	rep, err := audit.Verify(o.Runs)
	if err != nil {
		return withCode(ExitBadInput, err)
	}
	for _, l := range rep.Lines {
		if l.Err != nil {
			fmt.Fprintf(w, "line %d: unreadable\n", l.N)
			continue
		}
		r := l.Record
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\tmodel=%s\tfiles=%d\t%s\n", r.Seq, r.Time, r.User, r.Run, r.Model, len(r.Outputs), r.Command)
		if o.Verify {
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
		return withCode(ExitIncomplete, fmt.Errorf("audit: %s in %s: the log or a run directory was altered; see the lines above", plural(int64(len(probs)), "problem"), o.Runs))
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
	rep, err := audit.Verify(o.Runs)
	if err != nil {
		return withCode(ExitBadInput, err)
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
