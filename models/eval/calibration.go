package eval

import (
	"math"
	"sort"
)

// CalibrationBin is one row of a calibration table.
type CalibrationBin struct {
	Lo            float64 `json:"lo"` // the bin's range of predicted probability
	Hi            float64 `json:"hi"`
	N             int     `json:"n"`              // rows in the bin
	Positives     int     `json:"positives"`      // positives among them
	MeanPredicted float64 `json:"mean_predicted"` // mean predicted probability (0 when N is 0)
	ObservedRate  float64 `json:"observed_rate"`  // Positives / N (0 when N is 0)
}

// Calibration is the reliability table with bins equal-width bins over
// [0, 1]: bin i covers (i/bins, (i+1)/bins], the first bin also holds 0, as
// sklearn.calibration.calibration_curve(strategy="uniform"). Probabilities
// outside [0, 1] are clamped; NaN predictions are skipped. Every bin is
// returned, empty ones with N 0 (sklearn drops them).
func Calibration(y []int, p []float64, bins int) []CalibrationBin {
	checkLen("Calibration", y, p)
	if bins < 1 {
		panic("eval: Calibration: bins < 1")
	}
	out := make([]CalibrationBin, bins)
	sums := make([]float64, bins)
	for b := range out {
		out[b].Lo = float64(b) / float64(bins)
		out[b].Hi = float64(b+1) / float64(bins)
	}
	for i, v := range p {
		if math.IsNaN(v) {
			continue
		}
		v = math.Min(1, math.Max(0, v))
		b := int(math.Ceil(v*float64(bins))) - 1
		// v exactly on an edge i/bins belongs to the lower bin; guard the
		// rounding of v*bins against the stored edges.
		if b >= 0 && b+1 < bins && v > out[b].Hi {
			b++
		}
		if b > 0 && v <= out[b-1].Hi {
			b--
		}
		if b < 0 {
			b = 0
		}
		out[b].N++
		sums[b] += v
		if y[i] != 0 {
			out[b].Positives++
		}
	}
	finish(out, sums)
	return out
}

// CalibrationQuantile is the reliability table with bins of (nearly) equal
// count: the rows are sorted by p (ties by index) and cut into bins
// consecutive runs, the first n%bins runs one row longer. Lo and Hi are the
// smallest and largest prediction in each bin. NaN predictions are skipped.
func CalibrationQuantile(y []int, p []float64, bins int) []CalibrationBin {
	checkLen("CalibrationQuantile", y, p)
	if bins < 1 {
		panic("eval: CalibrationQuantile: bins < 1")
	}
	idx := make([]int, 0, len(p))
	for i, v := range p {
		if !math.IsNaN(v) {
			idx = append(idx, i)
		}
	}
	sort.SliceStable(idx, func(a, b int) bool { return p[idx[a]] < p[idx[b]] })
	n := len(idx)
	if bins > n {
		bins = n
	}
	out := make([]CalibrationBin, bins)
	sums := make([]float64, bins)
	start := 0
	for b := 0; b < bins; b++ {
		size := n / bins
		if b < n%bins {
			size++
		}
		part := idx[start : start+size]
		start += size
		out[b].Lo, out[b].Hi = p[part[0]], p[part[len(part)-1]]
		for _, i := range part {
			out[b].N++
			sums[b] += p[i]
			if y[i] != 0 {
				out[b].Positives++
			}
		}
	}
	finish(out, sums)
	return out
}

func finish(out []CalibrationBin, sums []float64) {
	for b := range out {
		if out[b].N > 0 {
			out[b].MeanPredicted = sums[b] / float64(out[b].N)
			out[b].ObservedRate = float64(out[b].Positives) / float64(out[b].N)
		}
	}
}
