package run

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"sort"

	"github.com/povrisk/povrisk/engine/rundir"
)

// MaxRises is the number of largest score rises listed in changes.csv.
const MaxRises = 50

// changeSet is the previous run and the changes since it.
type changeSet struct {
	prev    string
	changes []rundir.Change
}

// changes compares the night's ranking with the previous month-end run.
func changes(ctx context.Context, db *sql.DB, in *inputs, rk *ranking) (*changeSet, error) {
	ch, err := computeChanges(ctx, db, in.cfg.Runs, in.prev, rk.rows)
	if err != nil {
		return nil, err
	}
	return &changeSet{prev: in.prev, changes: ch}, nil
}

// computeChanges compares rows with the ranked list of the previous run
// (RUNS/<prev>/ranked.parquet): entered and left the county top k, and the
// MaxRises largest score rises among households in both runs.
func computeChanges(ctx context.Context, db *sql.DB, runs, prev string, rows []rundir.Row) ([]rundir.Change, error) {
	if prev == "" {
		return nil, nil
	}
	path := filepath.Join(runs, prev, "ranked.parquet")
	q, err := db.QueryContext(ctx, `SELECT household_id, region_code, score, in_top_k, rank FROM read_parquet(?) ORDER BY rank`, path)
	if err != nil {
		return nil, fmt.Errorf("read the previous run %s: %w", path, err)
	}
	defer q.Close()
	type prevRow struct {
		region string
		score  float64
		top    bool
	}
	before := map[string]prevRow{}
	var order []string // previous rank order
	for q.Next() {
		var id string
		var p prevRow
		var rank int
		if err := q.Scan(&id, &p.region, &p.score, &p.top, &rank); err != nil {
			return nil, fmt.Errorf("read the previous run %s: %w", path, err)
		}
		before[id] = p
		order = append(order, id)
	}
	if err := q.Err(); err != nil {
		return nil, fmt.Errorf("read the previous run %s: %w", path, err)
	}
	now := make(map[string]*rundir.Row, len(rows))
	for i := range rows {
		now[rows[i].HouseholdID] = &rows[i]
	}
	nan := func() float64 { var z float64; return z / z }()
	var entered, left, rose []rundir.Change
	for i := range rows { // rank order
		r := &rows[i]
		p, ok := before[r.HouseholdID]
		if r.InTopK && (!ok || !p.top) {
			ps := nan
			if ok {
				ps = p.score
			}
			entered = append(entered, rundir.Change{HouseholdID: r.HouseholdID, RegionCode: r.RegionCode, Change: "entered", Score: r.Score, PreviousScore: ps})
		}
		if ok && r.Score > p.score {
			rose = append(rose, rundir.Change{HouseholdID: r.HouseholdID, RegionCode: r.RegionCode, Change: "rose", Score: r.Score, PreviousScore: p.score})
		}
	}
	for _, id := range order {
		p := before[id]
		if !p.top {
			continue
		}
		if r, ok := now[id]; !ok {
			left = append(left, rundir.Change{HouseholdID: id, RegionCode: p.region, Change: "left", Score: nan, PreviousScore: p.score})
		} else if !r.InTopK {
			left = append(left, rundir.Change{HouseholdID: id, RegionCode: r.RegionCode, Change: "left", Score: r.Score, PreviousScore: p.score})
		}
	}
	sort.SliceStable(rose, func(a, b int) bool {
		da, db := rose[a].Score-rose[a].PreviousScore, rose[b].Score-rose[b].PreviousScore
		if da != db {
			return da > db
		}
		return rose[a].HouseholdID < rose[b].HouseholdID
	})
	if len(rose) > MaxRises {
		rose = rose[:MaxRises]
	}
	return append(append(entered, left...), rose...), nil
}
