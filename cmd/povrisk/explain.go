package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/povrisk/povrisk/engine"
	"github.com/povrisk/povrisk/engine/fault"
	"github.com/povrisk/povrisk/engine/ingest"
	night "github.com/povrisk/povrisk/engine/run"
)

// explainOptions are the arguments of `povrisk explain`.
type explainOptions struct {
	Household, Run string
	JSON           bool
}

func init() {
	register(&cli.Command{
		Name:      "explain",
		Usage:     "explain one household of a run: score, rank, every feature with its county percentile and contribution, rules, profile",
		ArgsUsage: "HOUSEHOLD_ID",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "run", Usage: "run directory (RUNS/<as-of>)"},
			&cli.BoolFlag{Name: "json", Usage: "print the explanation as JSON"},
		},
		Action: func(c *cli.Context) error {
			o, err := explainOptionsFrom(c)
			if err != nil {
				return err
			}
			return runExplain(c, o, c.App.Writer)
		},
	})
}

// explainOptionsFrom reads the flags, also when they follow the household
// id (`povrisk explain H001 --run DIR`), which the flag parser leaves as
// arguments.
func explainOptionsFrom(c *cli.Context) (explainOptions, error) {
	o := explainOptions{Run: c.String("run"), JSON: c.Bool("json")}
	args := c.Args().Slice()
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "--json" || a == "-json":
			o.JSON = true
		case (a == "--run" || a == "-run") && i+1 < len(args):
			o.Run = args[i+1]
			i++
		case strings.HasPrefix(a, "--run="):
			o.Run = strings.TrimPrefix(a, "--run=")
		case o.Household == "":
			o.Household = a
		default:
			shown := strconv.Quote(a)
			if ingest.LooksLikeIDNumber(a) {
				shown = "(an ID number, not repeated)"
			}
			return o, withCode(ExitUsage, fmt.Errorf("explain: unexpected argument %s: give one HOUSEHOLD_ID", shown))
		}
	}
	if o.Household == "" || o.Run == "" {
		return o, withCode(ExitUsage, errors.New("usage: povrisk explain HOUSEHOLD_ID --run RUNS/<as-of> [--json]"))
	}
	return o, nil
}

func runExplain(c *cli.Context, o explainOptions, w io.Writer) error {
	db, err := engine.OpenDB("")
	if err != nil {
		return err
	}
	defer db.Close()
	e, err := night.Explain(c.Context, db, o.Run, o.Household)
	if err != nil {
		// Kinds: not in the run is bad input, a run directory that does
		// not verify is tampered; anything else unreadable is too.
		if k := fault.Of(err); k != fault.Internal {
			return withCode(int(k), err)
		}
		return withCode(ExitIncomplete, err)
	}
	if o.JSON {
		b, err := json.MarshalIndent(e, "", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintln(w, string(b))
		return nil
	}
	printExplanation(w, e)
	return nil
}

func printExplanation(w io.Writer, e *night.Explanation) {
	fmt.Fprintf(w, "household %s  village %s  as of %s\n", e.HouseholdID, e.PlaceLine(), e.AsOf)
	if !e.Eligible {
		fmt.Fprintln(w, "not ranked: a monitoring object on the as-of date")
	} else {
		r := e.Ranked
		fmt.Fprintf(w, "score %.4f  rank %v (county %v, township %v)  tier %v  county top k: %v\n",
			r["score"], r["rank"], r["rank_county"], r["rank_township"], r["tier"], r["in_top_k"])
		fmt.Fprintf(w, "profile %v (%v)  risk types %v (%v)\n", r["profile"], r["profile_zh"], r["risk_types"], r["risk_types_zh"])
		fmt.Fprintf(w, "reasons: %v\n         %v\n", r["reasons"], r["reasons_en"])
		fmt.Fprintf(w, "measures: %v (%v)\n", r["measures"], r["measures_zh"])
		if d, _ := r["eliminated_date"].(string); d != "" {
			fmt.Fprintf(w, "watch after elimination (回头看): risk eliminated on %s\n", d)
		}
		if s, _ := r["conflicts"].(string); s != "" {
			fmt.Fprintf(w, "eligibility conflicts (evidence for the visit): %s\n", s)
		}
	}
	if len(e.Rules) > 0 {
		fmt.Fprintln(w, "rules tripped:")
		for i, r := range e.Rules {
			fact, en := "", ""
			if i < len(e.Facts) {
				fact = e.Facts[i]
			}
			if i < len(e.FactsEn) {
				en = e.FactsEn[i]
			}
			fmt.Fprintf(w, "  %-18s %s | %s\n", r, fact, en)
		}
	} else {
		fmt.Fprintln(w, "rules tripped: none")
	}
	fmt.Fprintf(w, "features (base %.4f + contributions = score), largest contribution first:\n", e.Base)
	fmt.Fprintf(w, "  %-28s %14s %10s %13s  %s\n", "feature", "value", "county pct", "contribution", "meaning")
	for _, f := range e.Features {
		v, p := "missing", "-"
		if f.Value != nil {
			v = strconv.FormatFloat(*f.Value, 'f', -1, 64)
		}
		if f.Percentile != nil {
			p = strconv.FormatFloat(*f.Percentile, 'f', 1, 64)
		}
		fmt.Fprintf(w, "  %-28s %14s %10s %+13.5f  %s\n", f.Feature, v, p, f.Contribution, f.LabelZh)
	}
}
