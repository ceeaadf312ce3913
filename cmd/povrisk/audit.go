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
}

func init() {
	register(&cli.Command{
		Name:  "audit",
		Usage: "list the audit log of a runs directory and verify its chain and run directories",
		Description: "Prints one line per record (seq, time, user, run, model, files). With --verify it also checks\n" +
			"that no record was altered, removed or inserted and that every run directory still holds exactly\n" +
			"the files and checksums its last record names; exits 6 (incomplete) on any problem.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "runs", Value: "runs", Usage: "runs directory holding audit.log"},
			&cli.BoolFlag{Name: "verify", Usage: "verify the hash chain and the run directories (exit 6 on a problem)"},
		},
		Action: func(c *cli.Context) error {
			return runAudit(auditOptions{Runs: c.String("runs"), Verify: c.Bool("verify")}, c.App.Writer)
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
	if !o.Verify {
		return nil
	}
	for _, n := range rep.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	for _, p := range rep.Problems {
		fmt.Fprintf(w, "PROBLEM: %s\n", p)
	}
	if !rep.OK() {
		return withCode(ExitIncomplete, fmt.Errorf("audit: %d problem(s) in %s: the log or a run directory was altered; see the lines above", len(rep.Problems), o.Runs))
	}
	fmt.Fprintf(w, "ok: %d records, chain intact, run directories match\n", len(rep.Lines))
	return nil
}
