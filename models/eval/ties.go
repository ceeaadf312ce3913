package eval

import "math"

// PrecisionAtShareTies bounds precision in the top k = TopK(n, share) rows
// when scores tie at the cut: rows scoring above the k-th score are all in
// the list; of the rows tied with it, only some fit, and lo (hi) is the
// precision when the tied negatives (positives) take the free places
// first. lo == hi when nothing ties at the cut. NaN, NaN for empty input.
// NaN scores rank last and tie with each other.
func PrecisionAtShareTies(y []int, score []float64, share float64) (lo, hi float64) {
	checkLen("PrecisionAtShareTies", y, score)
	k := TopK(len(y), share)
	if k == 0 {
		return math.NaN(), math.NaN()
	}
	idx := order(score)
	cut := key(score[idx[k-1]])
	above, tied, tiedPos := 0, 0, 0
	for i, s := range score {
		switch v := key(s); {
		case v > cut:
			above++
		case v == cut:
			tied++
			if y[i] != 0 {
				tiedPos++
			}
		}
	}
	hitsAbove := 0
	for i, s := range score {
		if key(s) > cut && y[i] != 0 {
			hitsAbove++
		}
	}
	free := k - above // places left for the tied rows, 1..tied
	best := hitsAbove + min(free, tiedPos)
	worst := hitsAbove + max(0, free-(tied-tiedPos))
	return float64(worst) / float64(k), float64(best) / float64(k)
}

// ECE is the expected calibration error of a reliability table: the mean
// over rows of |mean predicted - observed rate| of their bin,
// sum_b N_b/N |MeanPredicted_b - ObservedRate_b|. NaN when the table holds
// no rows.
func ECE(bins []CalibrationBin) float64 {
	var n int
	var s float64
	for _, b := range bins {
		n += b.N
		s += float64(b.N) * math.Abs(b.MeanPredicted-b.ObservedRate)
	}
	if n == 0 {
		return math.NaN()
	}
	return s / float64(n)
}

// LogLoss is the mean negative log-likelihood of the outcomes,
// -(1/n) sum y log p + (1-y) log(1-p), with p clipped to [1e-15, 1-1e-15]
// as scikit-learn's log_loss. NaN for empty input.
func LogLoss(y []int, p []float64) float64 {
	checkLen("LogLoss", y, p)
	if len(y) == 0 {
		return math.NaN()
	}
	const eps = 1e-15
	var s float64
	for i, v := range y {
		q := math.Min(1-eps, math.Max(eps, p[i]))
		if v != 0 {
			s -= math.Log(q)
		} else {
			s -= math.Log(1 - q)
		}
	}
	return s / float64(len(y))
}
