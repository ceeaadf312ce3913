package features

import (
	"fmt"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/povrisk/povrisk/features/rules"
)

// ScreenRow is one household's rule screen recomputed from a feature table.
type ScreenRow struct {
	HouseholdID, RegionCode string
	// Monitored: a monitoring object on the as-of date (monitored_at_as_of):
	// not eligible for the ranking.
	Monitored bool
	Household rules.Household // the facts the screen read
	Result    rules.Result
}

// ScreenTable screens every row of a feature table, as Compute returns it
// or as read back from a run's features.parquet, under pol for the as-of
// date, in the table's row order. The screen reads only feature columns
// (screenInputs, each in the catalog) and the policy, so a feature table
// holds all it needs: under the night's own policy the result equals the
// table's rule columns.
func ScreenTable(tab arrow.Table, asOf time.Time, pol *rules.Policy) ([]ScreenRow, error) {
	idx := map[string]int{}
	for i, f := range tab.Schema().Fields() {
		idx[f.Name] = i
	}
	inputs := screenInputs()
	for _, name := range append([]string{"household_id", "monitored_at_as_of"}, inputColumns(inputs)...) {
		if _, ok := idx[name]; !ok {
			return nil, fmt.Errorf("rescreen: the feature table has no column %s (a table of an older catalog?)", name)
		}
	}
	rs := rules.Rules()
	out := make([]ScreenRow, 0, tab.NumRows())
	tr := array.NewTableReader(tab, 1<<16)
	defer tr.Release()
	for tr.Next() {
		rec := tr.RecordBatch()
		ids, mon := rec.Column(idx["household_id"]), rec.Column(idx["monitored_at_as_of"])
		cols := make([]arrow.Array, len(inputs))
		for k, in := range inputs {
			cols[k] = rec.Column(idx[in.col])
		}
		for i := 0; i < int(rec.NumRows()); i++ {
			var h rules.Household
			for k, in := range inputs {
				in.set(&h, cols[k], i, pol.Thresholds)
			}
			r, err := pol.ScreenWith(rs, h, asOf)
			if err != nil {
				return nil, fmt.Errorf("rescreen of household %s: %w", str(ids, i), err)
			}
			out = append(out, ScreenRow{HouseholdID: str(ids, i), RegionCode: h.RegionCode, Monitored: isTrue(mon, i), Household: h, Result: r})
		}
	}
	if err := tr.Err(); err != nil {
		return nil, fmt.Errorf("rescreen: %w", err)
	}
	return out, nil
}

func inputColumns(in []screenInput) []string {
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = s.col
	}
	return out
}
