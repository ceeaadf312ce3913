package run

import (
	"slices"
	"strings"
	"testing"

	"github.com/povrisk/povrisk/engine/rundir"
	"github.com/povrisk/povrisk/models/eval"
)

// TestCountyTopK pins the county work-list sizes rankRows takes from
// eval.TopK: ceil(share × n), at least 1, at most n.
func TestCountyTopK(t *testing.T) {
	cases := []struct {
		share float64
		n     int
		want  int
	}{
		{0.05, 0, 0}, {0.05, 1, 1}, {0.05, 19, 1}, {0.05, 20, 1}, {0.05, 21, 2},
		{0.05, 6000, 300}, {0.01, 6000, 60}, {0.01, 150, 2}, {0.07, 100, 7}, {2, 5, 5},
	}
	for _, c := range cases {
		if got := eval.TopK(c.n, c.share); got != c.want {
			t.Errorf("eval.TopK(%d, %v) = %d, want %d", c.n, c.share, got, c.want)
		}
	}
}

func TestRankRows(t *testing.T) {
	// Two counties; county A has 3 households, B has 2 in two townships.
	// Hand-ranked: scores 0.9 (b1), 0.3 (a2), 0.3 (a1, tie broken by id),
	// 0.1 (b2), 0.05 (a3).
	rows := []rundir.Row{
		{HouseholdID: "a3", CountyCode: "A", TownshipCode: "A1", Score: 0.05},
		{HouseholdID: "a2", CountyCode: "A", TownshipCode: "A2", Score: 0.3},
		{HouseholdID: "b2", CountyCode: "B", TownshipCode: "B2", Score: 0.1},
		{HouseholdID: "a1", CountyCode: "A", TownshipCode: "A1", Score: 0.3},
		{HouseholdID: "b1", CountyCode: "B", TownshipCode: "B1", Score: 0.9},
	}
	topK := rankRows(rows, 0.05, map[string]TopK{"A": {K: 2}})
	want := []struct {
		id           string
		rank, rc, rt int32
		tier         string
		inTop        bool
	}{
		// Tiers by score alone: >= 0.2 high, >= 0.1 medium.
		{"b1", 1, 1, 1, "high", true},
		{"a1", 2, 1, 1, "high", true},
		{"a2", 3, 2, 1, "high", true}, // k = 2 in A
		{"b2", 4, 2, 1, "medium", false},
		{"a3", 5, 3, 2, "low", false},
	}
	for i, w := range want {
		r := rows[i]
		if r.HouseholdID != w.id || r.Rank != w.rank || r.RankCounty != w.rc || r.RankTownship != w.rt || r.Tier != w.tier || r.InTopK != w.inTop {
			t.Errorf("row %d = {%s %d %d %d %s %v}, want %+v", i, r.HouseholdID, r.Rank, r.RankCounty, r.RankTownship, r.Tier, r.InTopK, w)
		}
	}
	if topK["A"] != 2 || topK["B"] != 1 {
		t.Errorf("top k = %v, want A:2 B:1", topK)
	}
}

// TestRankRowsPermutation: on many rows with many tied scores, the order
// rankRows leaves (sorting keys and permuting in place) is the order of a
// plain sort of the whole rows by score descending then household_id,
// and every row is kept whole (Index travels with its row).
func TestRankRowsPermutation(t *testing.T) {
	rows := syntheticRows(5000)
	for i := range rows {
		rows[i].Score = float64(i*7919%13) / 13 // 13 distinct scores: ties everywhere
		rows[i].Index = i
	}
	want := slices.Clone(rows)
	slices.SortFunc(want, func(a, b rundir.Row) int {
		if a.Score != b.Score {
			if a.Score > b.Score {
				return -1
			}
			return 1
		}
		return strings.Compare(a.HouseholdID, b.HouseholdID)
	})
	rankRows(rows, DefaultTopShare, nil)
	for i := range rows {
		if rows[i].HouseholdID != want[i].HouseholdID || rows[i].Index != want[i].Index || rows[i].Score != want[i].Score {
			t.Fatalf("row %d: %s (index %d, score %v), want %s (index %d, score %v)", i, rows[i].HouseholdID, rows[i].Index, rows[i].Score,
				want[i].HouseholdID, want[i].Index, want[i].Score)
		}
	}
}
