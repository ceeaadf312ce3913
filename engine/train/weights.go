package train

import "github.com/povrisk/povrisk/models/forest"

// setForestWeights gives the forest the row weights w and reports whether
// it takes them.
//
// TODO(lead, MODELS merge): forest.Options.Weights (R2.md) is not in this
// branch; once it is, replace the body by `fo.Weights = w; return true`.
// Until then a training whose rows exceed Options.MaxRows fails with a
// clear error instead of training on unweighted samples.
func setForestWeights(fo *forest.Options, w []float64) bool {
	_ = fo
	_ = w
	return false
}
