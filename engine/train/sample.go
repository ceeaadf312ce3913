package train

import (
	"hash/fnv"
	"math"
	"math/rand/v2"
	"sort"

	"github.com/povrisk/povrisk/models/registry"
)

// DefaultMaxRows is the default bound on training rows (Options.MaxRows)
// above which negatives are sampled.
const DefaultMaxRows = 2_000_000

// sampleRows chooses the training rows of stacked snapshots (labels y,
// county of each row) when there are more than maxRows: every positive,
// and of each county's negatives the same share r = (maxRows -
// positives) / negatives, at least one, chosen by a shuffle seeded by
// (seed, county). It returns the rows kept (ascending; nil: all, no
// sampling), their weights (a kept negative weighs its county's
// negatives / kept, so that weighted counts equal the full data's) and
// the record for the card.
func sampleRows(y []int, county []string, maxRows int, seed uint64) ([]int, []float64, *registry.Sampling) {
	rec := &registry.Sampling{MaxRows: maxRows, Rows: len(y)}
	negs := map[string][]int{}
	for i, v := range y {
		if v != 0 {
			rec.Positives++
		} else {
			negs[county[i]] = append(negs[county[i]], i)
		}
	}
	nneg := len(y) - rec.Positives
	if maxRows <= 0 || len(y) <= maxRows || nneg == 0 {
		rec.Kept, rec.Rate = len(y), 1
		return nil, nil, rec
	}
	room := maxRows - rec.Positives
	if room < len(negs) {
		room = len(negs)
		rec.Notes = append(rec.Notes, "the positives alone fill the bound: one negative kept per county")
	}
	rec.Rate = float64(room) / float64(nneg)
	rec.Applied = true
	names := make([]string, 0, len(negs))
	for c := range negs {
		names = append(names, c)
	}
	sort.Strings(names)
	keep := make([]bool, len(y))
	weight := make([]float64, len(y))
	for i, v := range y {
		if v != 0 {
			keep[i], weight[i] = true, 1
		}
	}
	for _, c := range names {
		rows := append([]int(nil), negs[c]...)
		k := max(1, min(len(rows), int(math.Round(rec.Rate*float64(len(rows))))))
		h := fnv.New64a()
		h.Write([]byte(c))
		rng := rand.New(rand.NewPCG(seed, h.Sum64()))
		rng.Shuffle(len(rows), func(a, b int) { rows[a], rows[b] = rows[b], rows[a] })
		w := float64(len(rows)) / float64(k)
		for _, i := range rows[:k] {
			keep[i], weight[i] = true, w
		}
		rec.Counties = append(rec.Counties, registry.CountySample{County: c, Negatives: len(rows), Kept: k, Weight: w})
	}
	var idx []int
	var ws []float64
	for i, k := range keep {
		if k {
			idx = append(idx, i)
			ws = append(ws, weight[i])
		}
	}
	rec.Kept = len(idx)
	return idx, ws, rec
}

func sortInts(v []int) { sort.Ints(v) }
