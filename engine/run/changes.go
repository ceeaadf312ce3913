package run

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"math"
	"path/filepath"

	"github.com/povrisk/povrisk/engine/rundir"
)

// MaxRises is the number of largest score rises listed in changes.csv.
const MaxRises = 50

// changeSet is the previous run and the changes since it.
type changeSet struct {
	prev string
}

// changesQueries are the three parts of changes.csv, in order, each a
// join of the night's ranked list (cur) with the previous run's (prev)
// that DuckDB streams (its joins and sorts spill to disk beyond its
// memory limit): the households that entered their county top k (in the
// night's rank order), those that left it (in the previous rank order),
// and the MaxRises largest score rises among households in both lists
// (largest first, ties by household_id). Columns: household_id,
// region_code, score, previous_score (NULL: absent from that list).
var changesQueries = [3]struct{ change, query string }{
	{"entered", `SELECT c.household_id, c.region_code, c.score, p.score FROM cur c LEFT JOIN prev p USING (household_id)
WHERE c.in_top_k AND (p.household_id IS NULL OR NOT p.in_top_k) ORDER BY c.rank`},
	{"left", `SELECT p.household_id, coalesce(c.region_code, p.region_code), c.score, p.score FROM prev p LEFT JOIN cur c USING (household_id)
WHERE p.in_top_k AND (c.household_id IS NULL OR NOT c.in_top_k) ORDER BY p.rank`},
	{"rose", `SELECT c.household_id, c.region_code, c.score, p.score FROM cur c JOIN prev p USING (household_id)
WHERE c.score > p.score ORDER BY c.score - p.score DESC, c.household_id LIMIT ` + fmt.Sprint(MaxRises)},
}

// writeChanges writes changes.csv to w: the night's ranked list (the
// ranked.parquet at cur) against the previous run's
// (RUNS/<prev>/ranked.parquet; prev "": none, the header only). It holds
// one line at a time.
func writeChanges(ctx context.Context, db *sql.DB, w io.Writer, cur, runs, prev string) error {
	cw, err := rundir.NewChangesWriter(w)
	if err != nil {
		return err
	}
	if prev != "" {
		path := filepath.Join(runs, prev, "ranked.parquet")
		with := `WITH cur AS (SELECT household_id, region_code, score, in_top_k, rank FROM read_parquet(?)),
prev AS (SELECT household_id, region_code, score, in_top_k, rank FROM read_parquet(?)) `
		for _, q := range changesQueries {
			if err := changeLines(ctx, db, with+q.query, q.change, cur, path, cw); err != nil {
				return fmt.Errorf("compare with the previous run %s: %w", path, err)
			}
		}
	}
	return cw.Close()
}

// changeLines writes the lines of one of changesQueries.
func changeLines(ctx context.Context, db *sql.DB, query, change, cur, prev string, cw *rundir.ChangesWriter) error {
	q, err := db.QueryContext(ctx, query, cur, prev)
	if err != nil {
		return err
	}
	defer q.Close()
	for q.Next() {
		var id, region string
		var score, before sql.NullFloat64
		if err := q.Scan(&id, &region, &score, &before); err != nil {
			return err
		}
		c := rundir.Change{HouseholdID: id, RegionCode: region, Change: change, Score: math.NaN(), PreviousScore: math.NaN()}
		if score.Valid {
			c.Score = score.Float64
		}
		if before.Valid {
			c.PreviousScore = before.Float64
		}
		if err := cw.Write(c); err != nil {
			return err
		}
	}
	return q.Err()
}

// enteredTopK is the households of rows in their county top k that were
// not in the previous run's (RUNS/<prev>/ranked.parquet): the work list's
// 新进入, the "entered" lines of changes.csv. With no previous run (prev
// "") none entered, as changes.csv then lists none: a first night has
// nothing to compare with. It holds the rows' top-k households only,
// reading the previous run's top k as DuckDB streams it.
func enteredTopK(ctx context.Context, db *sql.DB, runs, prev string, rows []rundir.Row) (map[string]bool, error) {
	entered := map[string]bool{}
	if prev == "" {
		return entered, nil
	}
	for i := range rows {
		if rows[i].InTopK {
			entered[rows[i].HouseholdID] = true
		}
	}
	if len(entered) == 0 {
		return entered, nil
	}
	path := filepath.Join(runs, prev, "ranked.parquet")
	q, err := db.QueryContext(ctx, `SELECT household_id FROM read_parquet(?) WHERE in_top_k`, path)
	if err != nil {
		return nil, fmt.Errorf("read the previous run %s: %w", path, err)
	}
	defer q.Close()
	for q.Next() {
		var id string
		if err := q.Scan(&id); err != nil {
			return nil, fmt.Errorf("read the previous run %s: %w", path, err)
		}
		delete(entered, id)
	}
	if err := q.Err(); err != nil {
		return nil, fmt.Errorf("read the previous run %s: %w", path, err)
	}
	return entered, nil
}
