package eval

import (
	"math"
	"sort"
	"strconv"
)

// GroupRate is the error rates of one group of rows at a selection (the
// households flagged for a visit): how many were flagged, and how the
// flags fell on the group's positives and negatives. A rate whose
// denominator is zero is NaN.
type GroupRate struct {
	Group         string  `json:"group"`
	N             int     `json:"n"`              // rows in the group
	Positives     int     `json:"positives"`      // positives in the group
	Flagged       int     `json:"flagged"`        // flagged rows
	TruePositives int     `json:"true_positives"` // flagged positives
	Share         float64 `json:"share"`          // Flagged / N
	TPR           float64 `json:"tpr"`            // TruePositives / Positives
	FPR           float64 `json:"fpr"`            // flagged negatives / negatives
	Precision     float64 `json:"precision"`      // TruePositives / Flagged
}

func rate(a, b int) float64 {
	if b == 0 {
		return math.NaN()
	}
	return float64(a) / float64(b)
}

// groupRows returns the rows of each group and the group names sorted.
func groupRows(groups []string) (map[string][]int, []string) {
	rows := map[string][]int{}
	for i, g := range groups {
		rows[g] = append(rows[g], i)
	}
	names := make([]string, 0, len(rows))
	for g := range rows {
		names = append(names, g)
	}
	sort.Strings(names)
	return rows, names
}

// GroupRates reports, for each group (sorted by name), the share of rows
// flagged and the true positive rate, false positive rate and precision
// of the flags. y is 0/1 (non-zero counts as positive); the three slices
// have one entry per row.
func GroupRates(y []int, flagged []bool, groups []string) []GroupRate {
	if len(flagged) != len(y) || len(groups) != len(y) {
		panic("eval: GroupRates: " + strconv.Itoa(len(y)) + " labels, " + strconv.Itoa(len(flagged)) + " flags, " + strconv.Itoa(len(groups)) + " groups")
	}
	rows, names := groupRows(groups)
	out := make([]GroupRate, 0, len(names))
	for _, g := range names {
		r := GroupRate{Group: g}
		fp := 0
		for _, i := range rows[g] {
			r.N++
			pos := y[i] != 0
			if pos {
				r.Positives++
			}
			if flagged[i] {
				r.Flagged++
				if pos {
					r.TruePositives++
				} else {
					fp++
				}
			}
		}
		r.Share = rate(r.Flagged, r.N)
		r.TPR = rate(r.TruePositives, r.Positives)
		r.FPR = rate(fp, r.N-r.Positives)
		r.Precision = rate(r.TruePositives, r.Flagged)
		out = append(out, r)
	}
	return out
}

// TopKByGroup marks the rows each group would select when it ranks its
// own rows by score: its top k = TopK(group size, share), ties broken by
// row index and NaN scores last, as in PrecisionAtShare. The result has
// one entry per row.
func TopKByGroup(score []float64, groups []string, share float64) []bool {
	if len(groups) != len(score) {
		panic("eval: TopKByGroup: " + strconv.Itoa(len(groups)) + " groups for " + strconv.Itoa(len(score)) + " scores")
	}
	in := make([]bool, len(score))
	rows, names := groupRows(groups)
	for _, g := range names {
		idx := rows[g]
		gs := make([]float64, len(idx))
		for k, i := range idx {
			gs[k] = score[i]
		}
		// idx is ascending, so order's ties by position are ties by row index.
		for _, k := range order(gs)[:TopK(len(idx), share)] {
			in[idx[k]] = true
		}
	}
	return in
}
