package train

import "github.com/povrisk/povrisk/models/forest"

// setForestWeights gives the forest the row weights w and reports whether
// it takes them.
//
// TODO(lead, MODELS merge): forest.Options.Weights (R2.md) is not in this
// branch; once it is, replace the body by `fo.Weights = w; return true`.
// Until then sampled rows train unweighted (the card says so): the
// ranking of the trees barely depends on the negatives' weight, and the
// calibration, fitted on a whole test snapshot, restores the probability
// scale.
func setForestWeights(fo *forest.Options, w []float64) bool {
	_, _ = fo, w
	return false
}

// forestTakesWeights reports whether this build's forest applies weights.
func forestTakesWeights() bool { return setForestWeights(&forest.Options{}, []float64{1}) }
