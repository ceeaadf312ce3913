package datasets

import (
	"math/rand/v2"

	"gonum.org/v1/gonum/stat/distuv"
)

// The simulator's random draws, named after their distributions. Each
// reads the stream r of the household (or of the world, or of the
// dirtier), so that a household's draws depend only on the seed and its
// index. distuv draws from the same stream with the same arithmetic as the
// inline expressions these replaced, so a drop is byte-identical to the
// one they gave (TestDigest).
//
// Two families stay our own, because distuv's version would move drawn
// values: uniform (distuv.Uniform computes Min+(Max-Min)·U, and Max-Min
// rounds: 1.1-0.9 = 0.20000000000000007), and pickIndex (distuv.Categorical
// walks a heap of the weights, so the same U selects another category).

// chance is a Bernoulli(p) trial: true with probability p.
func chance(r *rand.Rand, p float64) bool {
	return distuv.Bernoulli{P: p, Src: r}.Rand() == 1
}

// logNormal draws exp(μ + σZ), Z standard normal (median e^μ); callers
// scale it by a median amount: 20000·logNormal(r, 0, 0.5).
func logNormal(r *rand.Rand, mu, sigma float64) float64 {
	return distuv.LogNormal{Mu: mu, Sigma: sigma, Src: r}.Rand()
}

// normal draws μ + σZ, Z standard normal.
func normal(r *rand.Rand, mu, sigma float64) float64 {
	return distuv.Normal{Mu: mu, Sigma: sigma, Src: r}.Rand()
}

// uniform draws from [lo, lo+width).
func uniform(r *rand.Rand, lo, width float64) float64 {
	return lo + width*r.Float64()
}

// pickIndex draws a category from u in [0, Σw): the first i whose weight
// exceeds what is left of u after the weights before it, or len(w) when
// rounding leaves u above them all.
func pickIndex(u float64, w []float64) int {
	for i, x := range w {
		if u < x {
			return i
		}
		u -= x
	}
	return len(w)
}
