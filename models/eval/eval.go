package eval

import (
	"math"
	"slices"
	"strconv"
)

func checkLen(fn string, y []int, s []float64) {
	if len(y) != len(s) {
		panic("eval: " + fn + ": " + strconv.Itoa(len(y)) + " labels for " + strconv.Itoa(len(s)) + " scores")
	}
}

// key orders NaN scores below every number, so a missing score ranks last.
func key(v float64) float64 {
	if math.IsNaN(v) {
		return math.Inf(-1)
	}
	return v
}

// order returns the indices of score sorted by score descending, ties by
// index ascending.
func order(score []float64) []int {
	type kv struct {
		k float64
		i int
	}
	tmp := make([]kv, len(score))
	for i, v := range score {
		tmp[i] = kv{key(v), i}
	}
	slices.SortFunc(tmp, func(a, b kv) int {
		switch {
		case a.k > b.k:
			return -1
		case a.k < b.k:
			return 1
		}
		return a.i - b.i
	})
	idx := make([]int, len(score))
	for i, t := range tmp {
		idx[i] = t.i
	}
	return idx
}

// ROCAUC is the area under the ROC curve: the probability that a random
// positive scores above a random negative, ties counting one half
// (Mann-Whitney U / (P*N), with average ranks). NaN when y has no positive
// or no negative.
func ROCAUC(y []int, score []float64) float64 {
	checkLen("ROCAUC", y, score)
	idx := order(score)
	n := len(idx)
	var pos, neg float64
	// Walk from the highest score; for each group of tied scores, each
	// negative in it is beaten by every positive seen before the group and
	// ties half of the positives in the group.
	var u, posAbove float64
	for i := 0; i < n; {
		j := i
		var gp, gn float64
		for j < n && key(score[idx[j]]) == key(score[idx[i]]) {
			if y[idx[j]] != 0 {
				gp++
			} else {
				gn++
			}
			j++
		}
		u += gn * (posAbove + gp/2)
		posAbove += gp
		pos += gp
		neg += gn
		i = j
	}
	if pos == 0 || neg == 0 {
		return math.NaN()
	}
	return u / (pos * neg)
}

// PRAUC is the average precision, sum over thresholds of
// (R_t - R_{t-1}) * P_t, where a threshold is each distinct score from the
// highest down (tied scores enter together), as
// sklearn.metrics.average_precision_score. NaN when y has no positive.
func PRAUC(y []int, score []float64) float64 {
	checkLen("PRAUC", y, score)
	idx := order(score)
	var pos float64
	for _, v := range y {
		if v != 0 {
			pos++
		}
	}
	if pos == 0 {
		return math.NaN()
	}
	var ap, tp, seen, prevRecall float64
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && key(score[idx[j]]) == key(score[idx[i]]) {
			if y[idx[j]] != 0 {
				tp++
			}
			seen++
			j++
		}
		recall := tp / pos
		ap += (recall - prevRecall) * (tp / seen)
		prevRecall = recall
		i = j
	}
	return ap
}

// Brier is the mean squared difference between the predicted probability
// and the outcome: (1/n) sum (p_i - y_i)^2. NaN for empty input.
func Brier(y []int, p []float64) float64 {
	checkLen("Brier", y, p)
	if len(y) == 0 {
		return math.NaN()
	}
	var s float64
	for i, v := range y {
		t := 0.0
		if v != 0 {
			t = 1
		}
		d := p[i] - t
		s += d * d
	}
	return s / float64(len(y))
}

// TopK is the number of rows in the top share of n rows: ceil(share*n),
// at least 1 when n > 0 and share > 0, at most n. A share*n within 1e-9 of
// an integer counts as that integer (0.1*30 is 3, not 4).
func TopK(n int, share float64) int {
	if n <= 0 || share <= 0 {
		return 0
	}
	k := int(math.Ceil(share*float64(n) - 1e-9))
	if k < 1 {
		k = 1
	}
	if k > n {
		k = n
	}
	return k
}

// hitsAt counts positives among the k highest scores (ties by index).
func hitsAt(y []int, score []float64, k int) int {
	idx := order(score)
	h := 0
	for _, i := range idx[:k] {
		if y[i] != 0 {
			h++
		}
	}
	return h
}

// PrecisionAtShare is the share of positives among the top k = TopK(n, share)
// rows by score (ties broken by index). NaN for empty input.
func PrecisionAtShare(y []int, score []float64, share float64) float64 {
	checkLen("PrecisionAtShare", y, score)
	k := TopK(len(y), share)
	if k == 0 {
		return math.NaN()
	}
	return float64(hitsAt(y, score, k)) / float64(k)
}

// RecallAtShare is the share of all positives found among the top
// k = TopK(n, share) rows by score. NaN when y has no positive.
func RecallAtShare(y []int, score []float64, share float64) float64 {
	checkLen("RecallAtShare", y, score)
	pos := 0
	for _, v := range y {
		if v != 0 {
			pos++
		}
	}
	k := TopK(len(y), share)
	if pos == 0 || k == 0 {
		return math.NaN()
	}
	return float64(hitsAt(y, score, k)) / float64(pos)
}

// GroupPrecision is precision at k within one group.
type GroupPrecision struct {
	Group     string  `json:"group"`
	N         int     `json:"n"`         // rows in the group
	K         int     `json:"k"`         // TopK(N, share)
	Positives int     `json:"positives"` // positives in the group
	Hits      int     `json:"hits"`      // positives among its top K
	Precision float64 `json:"precision"` // Hits / K
	Recall    float64 `json:"recall"`    // Hits / Positives (0 when none)
}

// PrecisionByGroup ranks the rows of each group separately (a county ranks
// its own households) and reports precision at k = TopK(group size, share)
// in each, sorted by group name. The pooled precision over all groups is
// sum(Hits)/sum(K), returned second.
func PrecisionByGroup(y []int, score []float64, group []string, share float64) ([]GroupPrecision, float64) {
	checkLen("PrecisionByGroup", y, score)
	if len(group) != len(y) {
		panic("eval: PrecisionByGroup: " + strconv.Itoa(len(group)) + " groups for " + strconv.Itoa(len(y)) + " labels")
	}
	rows, names := groupRows(group)
	out := make([]GroupPrecision, 0, len(names))
	var hits, ks int
	for _, g := range names {
		idx := rows[g]
		gy := make([]int, len(idx))
		gs := make([]float64, len(idx))
		pos := 0
		for k, i := range idx {
			gy[k], gs[k] = y[i], score[i]
			if y[i] != 0 {
				pos++
			}
		}
		k := TopK(len(idx), share)
		h := hitsAt(gy, gs, k)
		gp := GroupPrecision{Group: g, N: len(idx), K: k, Positives: pos, Hits: h}
		if k > 0 {
			gp.Precision = float64(h) / float64(k)
		}
		if pos > 0 {
			gp.Recall = float64(h) / float64(pos)
		}
		hits += h
		ks += k
		out = append(out, gp)
	}
	pooled := math.NaN()
	if ks > 0 {
		pooled = float64(hits) / float64(ks)
	}
	return out, pooled
}
