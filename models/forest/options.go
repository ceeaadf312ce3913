package forest

import (
	"errors"
	"fmt"
	"math"
	"runtime"

	"github.com/povrisk/povrisk/engine/progress"
	"github.com/povrisk/povrisk/models/hist"
)

// MaxBins is the largest number of value bins per feature: bin code 255 is
// reserved for missing values.
const MaxBins = hist.MaxBins

// ErrOptions is wrapped by errors about invalid Options.
var ErrOptions = errors.New("invalid forest options")

// Options say how to train a forest. The zero value of every field means
// its default, so Options{} is the production forest of DefaultOptions
// (100 trees on bootstrap samples, leaves of at least 20 rows, sqrt(p)
// features per split); set a field to change only that. What a forest was
// trained with, defaults filled in, is its Params.
type Options struct {
	Trees       int    `json:"trees,omitempty"`        // number of trees; 0 means 100
	MaxDepth    int    `json:"max_depth,omitempty"`    // deepest node depth (root = 0); 0 means unlimited
	MinLeaf     int    `json:"min_leaf,omitempty"`     // fewest training rows in a leaf (bootstrap repeats count, as in ranger); 0 means 20 (1 is scikit-learn's tree)
	MinSplit    int    `json:"min_split,omitempty"`    // fewest training rows (bootstrap repeats count) in a node that may be split; 0 means 2
	MaxFeatures int    `json:"max_features,omitempty"` // features tried per split; 0 means max(1, floor(sqrt(p))), p means all
	Bins        int    `json:"bins,omitempty"`         // value bins per feature, 2..255; 0 means 255
	Workers     int    `json:"workers,omitempty"`      // goroutines for training and prediction; 0 means GOMAXPROCS (not stored in the model)
	NoBootstrap bool   `json:"no_bootstrap,omitempty"` // grow every tree on all rows once; false (the default) draws each tree's rows with replacement (n of n)
	ClassWeight string `json:"class_weight,omitempty"` // "" (every row weighs 1) or "balanced" (class c weighs n/(2*n_c))
	Seed        uint64 `json:"seed,omitempty"`         // seed of every tree's random stream
	// Weights, when set, weighs row i by Weights[i] (finite, >= 0; nil
	// means every row weighs 1). With bootstrap (the default) they are
	// ranger's case weights: each tree draws its n rows with replacement,
	// row i with probability Weights[i]/sum(Weights), so counts stay whole
	// and a row of weight 0 is never drawn (always out of bag). Without
	// bootstrap a weight must be a whole number: the row counts that many
	// times, as if repeated. Weights that are all equal (and, without
	// bootstrap, 1) train the forest of nil weights, byte for byte. With
	// ClassWeight "balanced", n and n_c are sums of weights. MinLeaf and
	// MinSplit count drawn rows. Not part of the model (Params.Weighted
	// records that there were weights).
	Weights []float64 `json:"-"`
	// Binned, when set, is X already quantised by hist.Quantise(X, Bins, _,
	// true) (with row-major codes), shared by several fits on the same rows
	// (a grid of options): Fit then skips its own quantisation. Fit checks
	// its shape, not its values: it must come from this X and Bins.
	Binned *hist.Binned `json:"-"`
	// Reporter, when set, is told of every tree grown (stage "trees",
	// total Trees). It is not part of the model.
	Reporter progress.Reporter `json:"-"`
}

// Params are the parameters a forest was trained with, every default
// filled in: what the model file and the model card record. Workers is
// always 0 there (it is not part of the model).
type Params struct {
	Trees       int    `json:"trees"`
	MaxDepth    int    `json:"max_depth"`
	MinLeaf     int    `json:"min_leaf"`
	MinSplit    int    `json:"min_split"`
	MaxFeatures int    `json:"max_features"`
	Bins        int    `json:"bins"`
	Workers     int    `json:"workers"`
	Bootstrap   bool   `json:"bootstrap"`
	ClassWeight string `json:"class_weight"`
	Seed        uint64 `json:"seed"`
	Weighted    bool   `json:"weighted,omitempty"` // trained with (unequal) Options.Weights
}

// Default values of the fields of Options.
const (
	DefaultTrees    = 100
	DefaultMinLeaf  = 20
	DefaultMinSplit = 2
)

// DefaultOptions returns the options for a production forest, spelt out:
// 100 trees on bootstrap samples, sqrt(p) features per split, grown until
// leaves are pure or hold 20 rows. It trains exactly what Options{} trains.
// MinLeaf 20 (scikit-learn's default is 1, ranger's for probability
// forests 10; the household forest of engine/train uses 20 too) gives
// better-ranked, better-calibrated probabilities and trees many times
// smaller, hence faster training, scoring and loading. Measured with
// bench/forestbench (100 trees, 2 workers; test AUC, fit CPU seconds
// relative to MinLeaf 5): UCI Adult 0.9128 at MinLeaf 5, 0.9161 at 20
// (1.4x less CPU), 0.9148 at 50; the 200,000-household engine table
// 0.8181, 0.8304, 0.8335. Set MinLeaf 1 and NoBootstrap to reproduce
// scikit-learn's trees.
func DefaultOptions() Options {
	return Options{Trees: DefaultTrees, MinLeaf: DefaultMinLeaf, MinSplit: DefaultMinSplit, Bins: MaxBins}
}

// Options are the options that train a forest with exactly these
// parameters again (a saved model's, to refit it on other data).
func (p Params) Options() Options {
	return Options{Trees: p.Trees, MaxDepth: p.MaxDepth, MinLeaf: p.MinLeaf, MinSplit: p.MinSplit, MaxFeatures: p.MaxFeatures,
		Bins: p.Bins, Workers: p.Workers, NoBootstrap: !p.Bootstrap, ClassWeight: p.ClassWeight, Seed: p.Seed}
}

// resolved fills defaults and checks o against p features.
func (o Options) resolved(p int) (Params, error) {
	r := Params{Trees: o.Trees, MaxDepth: o.MaxDepth, MinLeaf: o.MinLeaf, MinSplit: o.MinSplit, MaxFeatures: o.MaxFeatures,
		Bins: o.Bins, Workers: o.Workers, Bootstrap: !o.NoBootstrap, ClassWeight: o.ClassWeight, Seed: o.Seed}
	if r.Trees == 0 {
		r.Trees = DefaultTrees
	}
	if r.MinLeaf == 0 {
		r.MinLeaf = DefaultMinLeaf
	}
	if r.MinSplit == 0 {
		r.MinSplit = DefaultMinSplit
	}
	if r.Bins == 0 {
		r.Bins = MaxBins
	}
	if r.MaxFeatures == 0 {
		r.MaxFeatures = max(1, int(math.Sqrt(float64(p))))
	}
	switch {
	case r.Trees < 0:
		return r, fmt.Errorf("%w: Trees %d < 0", ErrOptions, r.Trees)
	case r.MaxDepth < 0:
		return r, fmt.Errorf("%w: MaxDepth %d < 0", ErrOptions, r.MaxDepth)
	case r.MinLeaf < 0:
		return r, fmt.Errorf("%w: MinLeaf %d < 0", ErrOptions, r.MinLeaf)
	case r.MinSplit < 0:
		return r, fmt.Errorf("%w: MinSplit %d < 0", ErrOptions, r.MinSplit)
	case r.MaxFeatures < 0 || r.MaxFeatures > p:
		return r, fmt.Errorf("%w: MaxFeatures %d not in 1..%d (number of features)", ErrOptions, r.MaxFeatures, p)
	case r.Bins < 2 || r.Bins > MaxBins:
		return r, fmt.Errorf("%w: Bins %d not in 2..%d", ErrOptions, r.Bins, MaxBins)
	case r.Workers < 0:
		return r, fmt.Errorf("%w: Workers %d < 0", ErrOptions, r.Workers)
	case r.ClassWeight != "" && r.ClassWeight != "balanced":
		return r, fmt.Errorf("%w: ClassWeight %q (want \"\" or \"balanced\")", ErrOptions, r.ClassWeight)
	}
	return r, nil
}

func workers(n int) int {
	if n <= 0 {
		return runtime.GOMAXPROCS(0)
	}
	return n
}
