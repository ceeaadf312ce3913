package forest

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// weights are the rows' sample weights and, for bootstrap draws, Vose's
// alias table: a draw is one uniform row k and one uniform u, row k when
// u < prob[k], else alias[k], so each draw costs O(1).
type weights struct {
	w     []float64
	prob  []float64
	alias []int32
}

// of is row i's weight (1 without weights).
func (wt *weights) of(i int) float64 {
	if wt == nil {
		return 1
	}
	return wt.w[i]
}

func (wt *weights) draw(rng *rand.Rand) int {
	k := rng.IntN(len(wt.prob))
	if rng.Float64() < wt.prob[k] {
		return k
	}
	return int(wt.alias[k])
}

// makeWeights checks w and returns nil when it changes nothing (nil, or
// all equal and, without bootstrap, all 1).
func makeWeights(w []float64, n int, bootstrap bool) (*weights, error) {
	if w == nil {
		return nil, nil
	}
	if len(w) != n {
		return nil, fmt.Errorf("%w: %d weights for %d rows", ErrOptions, len(w), n)
	}
	var sum float64
	equal := true
	for i, v := range w {
		if !(v >= 0) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("%w: weight at row %d is %v (want a finite number >= 0)", ErrOptions, i, v)
		}
		if !bootstrap && (v != math.Trunc(v) || v > math.MaxInt32/2) {
			return nil, fmt.Errorf("%w: weight at row %d is %v: without bootstrap a weight counts the row that many times and must be a whole number", ErrOptions, i, v)
		}
		sum += v
		equal = equal && v == w[0]
	}
	if !(sum > 0) {
		return nil, fmt.Errorf("%w: the weights sum to %v", ErrOptions, sum)
	}
	if equal && (bootstrap || w[0] == 1) {
		return nil, nil
	}
	wt := &weights{w: w}
	if bootstrap {
		wt.prob, wt.alias = aliasTable(w, sum)
	}
	return wt, nil
}

// aliasTable is Vose's alias method for drawing i with probability w[i]/sum.
func aliasTable(w []float64, sum float64) ([]float64, []int32) {
	n := len(w)
	prob := make([]float64, n)
	alias := make([]int32, n)
	small, large := make([]int32, 0, n), make([]int32, 0, n)
	for i, v := range w {
		prob[i] = v * float64(n) / sum
		alias[i] = int32(i)
		if prob[i] < 1 {
			small = append(small, int32(i))
		} else {
			large = append(large, int32(i))
		}
	}
	for len(small) > 0 && len(large) > 0 {
		s, l := small[len(small)-1], large[len(large)-1]
		small = small[:len(small)-1]
		alias[s] = l
		prob[l] -= 1 - prob[s]
		if prob[l] < 1 {
			large = large[:len(large)-1]
			small = append(small, l)
		}
	}
	for _, i := range large {
		prob[i] = 1
	}
	for _, i := range small { // rounding leftovers
		prob[i] = 1
	}
	return prob, alias
}
