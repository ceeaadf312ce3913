// Command forestprep turns a table (CSV or Parquet) with a two-valued label
// column into the numeric train/test CSVs that bench/train.sh hands to
// every tool: numbers stay numbers, booleans become 0/1, text and dates are
// label-encoded (dense rank, NULL kept missing), text columns with more than
// -max-levels distinct values (identifiers, free text) are dropped, and
// rows are split by a seeded hash of their row number.
//
// With -warehouse it instead computes the engine's feature table (model
// columns only) at -as-of with labels over -horizon months.
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/povrisk/povrisk/engine"
)

func main() {
	in := flag.String("in", "", "input table (.csv, .csv.gz, .data or .parquet)")
	label := flag.String("label", "", "label column (two values; the larger one is class 1)")
	out := flag.String("out", "", "output directory for train.csv and test.csv")
	share := flag.Float64("test-share", 0.2, "share of rows in the test set")
	seed := flag.Int("seed", 1, "split seed")
	drop := flag.String("drop", "", "comma-separated columns to leave out")
	maxLevels := flag.Int("max-levels", 1000, "drop text columns with more distinct values")
	wh := flag.String("warehouse", "", "engine mode: warehouse directory (instead of -in)")
	asOf := flag.String("as-of", "", "engine mode: as-of date YYYY-MM-DD")
	horizon := flag.Int("horizon", 6, "engine mode: label horizon in months")
	flag.Parse()
	if *wh != "" {
		if err := engineTable(context.Background(), *wh, *asOf, *horizon, *out, *share, *seed); err != nil {
			fmt.Fprintln(os.Stderr, "forestprep:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(context.Background(), *in, *label, *out, *share, *seed, *drop, *maxLevels); err != nil {
		fmt.Fprintln(os.Stderr, "forestprep:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, in, label, out string, share float64, seed int, drop string, maxLevels int) error {
	if in == "" || label == "" || out == "" {
		return fmt.Errorf("need -in, -label and -out")
	}
	db, err := engine.OpenDB("")
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	src := "read_csv(?, sample_size = -1)"
	if strings.HasSuffix(in, ".parquet") {
		src = "read_parquet(?)"
	}
	if _, err := db.ExecContext(ctx, "CREATE TABLE t AS SELECT row_number() OVER () AS __row, * FROM "+src, in); err != nil {
		return fmt.Errorf("read %s: %w", in, err)
	}
	rows, err := db.QueryContext(ctx, "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 't' ORDER BY ordinal_position")
	if err != nil {
		return fmt.Errorf("describe %s: %w", in, err)
	}
	type column struct{ name, typ string }
	var cols []column
	for rows.Next() {
		var c column
		if err := rows.Scan(&c.name, &c.typ); err != nil {
			return err
		}
		cols = append(cols, c)
	}
	rows.Close()
	dropped := map[string]bool{"__row": true}
	for _, d := range strings.Split(drop, ",") {
		if d != "" {
			dropped[d] = true
		}
	}
	var sel []string
	var labelExpr string
	for _, c := range cols {
		q := engine.QuoteIdent(c.name)
		var e string
		switch {
		case strings.Contains(c.typ, "INT") || c.typ == "DOUBLE" || c.typ == "FLOAT" || strings.HasPrefix(c.typ, "DECIMAL"):
			e = "CAST(" + q + " AS DOUBLE)"
		case c.typ == "BOOLEAN":
			e = "CAST(" + q + " AS INTEGER)"
		default:
			if c.name != label {
				var levels int
				if err := db.QueryRowContext(ctx, "SELECT count(DISTINCT "+q+") FROM t").Scan(&levels); err != nil {
					return fmt.Errorf("count levels of %s: %w", c.name, err)
				}
				if levels > maxLevels {
					fmt.Fprintf(os.Stderr, "forestprep: dropping %s (%s, %d distinct values)\n", c.name, c.typ, levels)
					continue
				}
			}
			e = "CASE WHEN " + q + " IS NULL THEN NULL ELSE dense_rank() OVER (ORDER BY " + q + ") - 1 END"
		}
		if c.name == label {
			labelExpr = e
			continue
		}
		if dropped[c.name] {
			continue
		}
		sel = append(sel, e+" AS "+engine.QuoteIdent(c.name))
	}
	if labelExpr == "" {
		return fmt.Errorf("%s has no column %q", in, label)
	}
	if strings.HasPrefix(labelExpr, "CAST") { // numeric or boolean: rank too, so any two values map to 0/1
		labelExpr = "dense_rank() OVER (ORDER BY " + engine.QuoteIdent(label) + ") - 1"
	}
	q := "CREATE TABLE prepared AS SELECT __row, " + strings.Join(sel, ", ") + ", " + labelExpr + " AS label FROM t"
	if _, err := db.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("encode columns: %w", err)
	}
	var levels int
	if err := db.QueryRowContext(ctx, "SELECT count(DISTINCT label) FROM prepared").Scan(&levels); err != nil {
		return err
	}
	if levels != 2 {
		return fmt.Errorf("label %s has %d distinct values, want 2", label, levels)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	cut := int(share * 10000)
	for _, part := range []struct{ name, cond string }{{"train", ">="}, {"test", "<"}} {
		path := filepath.Join(out, part.name+".csv")
		q := fmt.Sprintf("COPY (SELECT * EXCLUDE (__row) FROM prepared WHERE hash(__row + %d * 1000003) %% 10000 %s %d ORDER BY __row) TO '%s' (HEADER, DELIMITER ',')",
			seed, part.cond, cut, strings.ReplaceAll(path, "'", "''"))
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
	}
	return printCounts(ctx, db, seed, cut)
}

func printCounts(ctx context.Context, db *sql.DB, seed, cut int) error {
	var n, test, pos, cols int
	err := db.QueryRowContext(ctx, fmt.Sprintf("SELECT count(*), count(*) FILTER (WHERE hash(__row + %d * 1000003) %% 10000 < %d), sum(label) FROM prepared", seed, cut)).Scan(&n, &test, &pos)
	if err != nil {
		return err
	}
	db.QueryRowContext(ctx, "SELECT count(*) - 2 FROM information_schema.columns WHERE table_name = 'prepared'").Scan(&cols)
	fmt.Fprintf(os.Stderr, "forestprep: %d rows (%d test), %d features, %.1f%% positive\n", n, test, cols, 100*float64(pos)/float64(n))
	return nil
}
