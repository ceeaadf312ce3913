package forest

import (
	"math"
	"slices"
)

// rocAUC is the area under the ROC curve of score for labels y (0/1), with
// tied scores counted half (Mann-Whitney U / (n0*n1)); NaN when a class is
// absent.
func rocAUC(y []int, score []float64) float64 {
	idx := make([]int, len(y))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		switch {
		case score[a] < score[b]:
			return -1
		case score[a] > score[b]:
			return 1
		}
		return 0
	})
	var n1, rankSum float64
	for k := 0; k < len(idx); {
		e := k
		for e < len(idx) && score[idx[e]] == score[idx[k]] {
			e++
		}
		rank := float64(k+e+1) / 2 // mean of ranks k+1..e
		for _, i := range idx[k:e] {
			if y[i] == 1 {
				n1++
				rankSum += rank
			}
		}
		k = e
	}
	n0 := float64(len(y)) - n1
	if n0 == 0 || n1 == 0 {
		return math.NaN()
	}
	return (rankSum - n1*(n1+1)/2) / (n0 * n1)
}
