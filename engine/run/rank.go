package run

import (
	"slices"
	"strings"

	"github.com/povrisk/povrisk/engine/rundir"
	"github.com/povrisk/povrisk/models/eval"
)

// Tier cut-offs on the score, a probability of identification within the
// horizon (see the package comment), and the default county top-k share.
const (
	TierHigh        = 0.2
	TierMedium      = 0.1
	DefaultTopShare = 0.05
)

// TopK fixes a county's work-list size: K households when K > 0, else
// ceil(Share × eligible), at least 1.
type TopK struct {
	Share float64 `toml:"share"`
	K     int     `toml:"k"`
}

// rankRows sorts rows by score descending, ties by household_id, and fills
// the three ranks, the tier and in_top_k. topK gives each county's k.
func rankRows(rows []rundir.Row, defaultShare float64, counties map[string]TopK) (topKByCounty map[string]int) {
	// Sort (score, index) keys, small and contiguous (rows are large and
	// a comparison that reads them misses the cache), then permute rows
	// into that order; household_id is read on a tie only.
	type key struct {
		score float64
		i     int32
	}
	keys := make([]key, len(rows))
	for i := range rows {
		keys[i] = key{rows[i].Score, int32(i)}
	}
	slices.SortFunc(keys, func(a, b key) int {
		if a.score != b.score {
			if a.score > b.score {
				return -1
			}
			return 1
		}
		return strings.Compare(rows[a.i].HouseholdID, rows[b.i].HouseholdID)
	})
	// Permute in place, cycle by cycle (no second copy of the rows):
	// position i takes the row at keys[i].i.
	for i := range keys {
		if keys[i].i < 0 || int(keys[i].i) == i {
			continue
		}
		tmp := rows[i]
		j := i
		for {
			src := int(keys[j].i)
			keys[j].i = -1
			if src == i {
				rows[j] = tmp
				break
			}
			rows[j] = rows[src]
			j = src
		}
	}
	nCounty := map[string]int{}
	for i := range rows {
		nCounty[rows[i].CountyCode]++
	}
	topKByCounty = countyTopK(nCounty, defaultShare, counties)
	rc, rt := map[string]int32{}, map[string]int32{}
	for i := range rows {
		r := &rows[i]
		r.Rank = int32(i + 1)
		rc[r.CountyCode]++
		rt[r.TownshipCode]++
		r.RankCounty, r.RankTownship = rc[r.CountyCode], rt[r.TownshipCode]
		switch {
		case r.Score >= TierHigh:
			r.Tier = "high"
		case r.Score >= TierMedium:
			r.Tier = "medium"
		default:
			r.Tier = "low"
		}
		r.InTopK = int(r.RankCounty) <= topKByCounty[r.CountyCode]
	}
	return topKByCounty
}

// countyTopK is the size of every county's top k: nCounty gives each
// county's eligible households, counties the sizes set per county.
func countyTopK(nCounty map[string]int, defaultShare float64, counties map[string]TopK) map[string]int {
	topK := map[string]int{}
	for c, n := range nCounty {
		t, ok := counties[c]
		switch {
		case ok && t.K > 0:
			topK[c] = min(t.K, n)
		case ok && t.Share > 0:
			topK[c] = eval.TopK(n, t.Share)
		default:
			topK[c] = eval.TopK(n, defaultShare)
		}
	}
	return topK
}
