package forest

import (
	"errors"
	"fmt"
	"math"
	"runtime"
)

// MaxBins is the largest number of value bins per feature: bin code 255 is
// reserved for missing values.
const MaxBins = 255

// ErrOptions is wrapped by errors about invalid Options.
var ErrOptions = errors.New("invalid forest options")

// Options control training. The zero value of every field means its default
// (see DefaultOptions), except Bootstrap, which DefaultOptions turns on.
type Options struct {
	Trees       int    `json:"trees"`        // number of trees; 0 means 100
	MaxDepth    int    `json:"max_depth"`    // deepest node depth (root = 0); 0 means unlimited
	MinLeaf     int    `json:"min_leaf"`     // fewest training rows in a leaf (bootstrap repeats count, as in ranger); 0 means 1
	MinSplit    int    `json:"min_split"`    // fewest training rows (bootstrap repeats count) in a node that may be split; 0 means 2
	MaxFeatures int    `json:"max_features"` // features tried per split; 0 means max(1, floor(sqrt(p))), p means all
	Bins        int    `json:"bins"`         // value bins per feature, 2..255; 0 means 255
	Workers     int    `json:"workers"`      // goroutines for training and prediction; 0 means GOMAXPROCS (not stored in the model)
	Bootstrap   bool   `json:"bootstrap"`    // draw each tree's rows with replacement (n of n)
	ClassWeight string `json:"class_weight"` // "" (every row weighs 1) or "balanced" (class c weighs n/(2*n_c))
	Seed        uint64 `json:"seed"`         // seed of every tree's random stream
}

// DefaultOptions returns the options for a production forest: 100 trees on
// bootstrap samples, sqrt(p) features per split, grown until leaves are pure
// or hold 5 rows. MinLeaf 5 (scikit-learn's default is 1, ranger's for
// probability forests 10) gives better-ranked, better-calibrated
// probabilities and trees several times smaller, hence faster training,
// scoring and loading; set MinLeaf 1 to reproduce scikit-learn's default
// forest.
func DefaultOptions() Options {
	return Options{Trees: 100, MinLeaf: 5, MinSplit: 2, Bins: MaxBins, Bootstrap: true}
}

// resolved fills defaults and checks o against p features.
func (o Options) resolved(p int) (Options, error) {
	if o.Trees == 0 {
		o.Trees = 100
	}
	if o.MinLeaf == 0 {
		o.MinLeaf = 1
	}
	if o.MinSplit == 0 {
		o.MinSplit = 2
	}
	if o.Bins == 0 {
		o.Bins = MaxBins
	}
	if o.MaxFeatures == 0 {
		o.MaxFeatures = max(1, int(math.Sqrt(float64(p))))
	}
	switch {
	case o.Trees < 0:
		return o, fmt.Errorf("%w: Trees %d < 0", ErrOptions, o.Trees)
	case o.MaxDepth < 0:
		return o, fmt.Errorf("%w: MaxDepth %d < 0", ErrOptions, o.MaxDepth)
	case o.MinLeaf < 0:
		return o, fmt.Errorf("%w: MinLeaf %d < 0", ErrOptions, o.MinLeaf)
	case o.MinSplit < 0:
		return o, fmt.Errorf("%w: MinSplit %d < 0", ErrOptions, o.MinSplit)
	case o.MaxFeatures < 0 || o.MaxFeatures > p:
		return o, fmt.Errorf("%w: MaxFeatures %d not in 1..%d (number of features)", ErrOptions, o.MaxFeatures, p)
	case o.Bins < 2 || o.Bins > MaxBins:
		return o, fmt.Errorf("%w: Bins %d not in 2..%d", ErrOptions, o.Bins, MaxBins)
	case o.Workers < 0:
		return o, fmt.Errorf("%w: Workers %d < 0", ErrOptions, o.Workers)
	case o.ClassWeight != "" && o.ClassWeight != "balanced":
		return o, fmt.Errorf("%w: ClassWeight %q (want \"\" or \"balanced\")", ErrOptions, o.ClassWeight)
	}
	return o, nil
}

func workers(n int) int {
	if n <= 0 {
		return runtime.GOMAXPROCS(0)
	}
	return n
}
