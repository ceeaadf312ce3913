package run

import (
	"context"
	"database/sql"
	"encoding/csv"
	"fmt"
	"io"
	"path/filepath"
	"sort"
)

// MaxRises is the number of largest score rises listed in changes.csv.
const MaxRises = 50

// change is one line of changes.csv.
type change struct {
	HouseholdID, RegionCode, Change string
	Score, PreviousScore            float64 // NaN when absent from that run
}

// computeChanges compares rows with the ranked list of the previous run
// (RUNS/<prev>/ranked.parquet): entered and left the county top k, and the
// MaxRises largest score rises among households in both runs.
func computeChanges(ctx context.Context, db *sql.DB, runs, prev string, rows []row) ([]change, error) {
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
	now := make(map[string]*row, len(rows))
	for i := range rows {
		now[rows[i].HouseholdID] = &rows[i]
	}
	nan := func() float64 { var z float64; return z / z }()
	var entered, left, rose []change
	for i := range rows { // rank order
		r := &rows[i]
		p, ok := before[r.HouseholdID]
		if r.InTopK && (!ok || !p.top) {
			ps := nan
			if ok {
				ps = p.score
			}
			entered = append(entered, change{r.HouseholdID, r.RegionCode, "entered", r.Score, ps})
		}
		if ok && r.Score > p.score {
			rose = append(rose, change{r.HouseholdID, r.RegionCode, "rose", r.Score, p.score})
		}
	}
	for _, id := range order {
		p := before[id]
		if !p.top {
			continue
		}
		if r, ok := now[id]; !ok {
			left = append(left, change{id, p.region, "left", nan, p.score})
		} else if !r.InTopK {
			left = append(left, change{id, r.RegionCode, "left", r.Score, p.score})
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

// writeChanges writes changes.csv (UTF-8, no BOM: it is read by programs).
func writeChanges(w io.Writer, ch []change) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"household_id", "region_code", "county_code", "township_code", "change", "score", "previous_score", "delta"}); err != nil {
		return err
	}
	for _, c := range ch {
		delta := c.Score - c.PreviousScore
		if err := cw.Write([]string{c.HouseholdID, c.RegionCode, prefix(c.RegionCode, 6), prefix(c.RegionCode, 9), c.Change,
			fmtFloat(c.Score), fmtFloat(c.PreviousScore), fmtFloat(delta)}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
