package train

import "github.com/povrisk/povrisk/models/forest"

// setForestWeights gives the forest the row weights w (forest.Options.Weights:
// bootstrap draws by weight) and reports whether it takes them.
func setForestWeights(fo *forest.Options, w []float64) bool {
	fo.Weights = w
	return true
}

// forestTakesWeights reports whether this build's forest applies weights.
func forestTakesWeights() bool { return setForestWeights(&forest.Options{}, []float64{1}) }
