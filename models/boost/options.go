package boost

import (
	"errors"
	"fmt"
	"math"
	"runtime"

	"github.com/povrisk/povrisk/engine/progress"
	"github.com/povrisk/povrisk/models/hist"
)

// ErrOptions is wrapped by errors about invalid Options.
var ErrOptions = errors.New("invalid boosting options")

// Options say how to train boosted trees. The zero value of every field
// means its default (scikit-learn's HistGradientBoostingClassifier's,
// without early stopping): 100 rounds at learning rate 0.1 of trees of at
// most 31 leaves of at least 20 rows, no L2 penalty, 255 bins.
type Options struct {
	Trees        int     `json:"trees,omitempty"`         // boosting rounds; 0 means 100
	LearningRate float64 `json:"learning_rate,omitempty"` // shrinkage of every leaf value; 0 means 0.1
	MaxLeaves    int     `json:"max_leaves,omitempty"`    // leaves per tree, at least 2; 0 means 31
	MaxDepth     int     `json:"max_depth,omitempty"`     // deepest node depth (root = 0); 0 means unlimited
	MinLeaf      int     `json:"min_leaf,omitempty"`      // fewest training rows in a leaf; 0 means 20
	MinHessian   float64 `json:"min_hessian,omitempty"`   // smallest hessian sum in a leaf; 0 means 1e-3
	L2           float64 `json:"l2,omitempty"`            // L2 penalty on leaf values; 0 means none
	Bins         int     `json:"bins,omitempty"`          // value bins per feature, 2..255; 0 means 255
	// ValidationShare, in [0, 1), holds out that share of the rows (drawn
	// from Seed) to stop early; 0 means no early stopping: every round is kept.
	ValidationShare float64 `json:"validation_share,omitempty"`
	Patience        int     `json:"patience,omitempty"` // rounds without held-out improvement before stopping; 0 means 10
	Seed            uint64  `json:"seed,omitempty"`     // draws the held-out rows; nothing else is random
	// Weights, when set, weighs row i by Weights[i] (finite, >= 0) in the
	// loss: gradients, hessians and Init; nil means every row weighs 1.
	// MinLeaf still counts rows. Not part of the model.
	Weights []float64 `json:"-"`
	// Binned, when set, is X already quantised by hist.Quantise(X, Bins, _,
	// _), shared by several fits on the same rows: Fit skips its own
	// quantisation. Fit checks its shape, not its values.
	Binned   *hist.Binned      `json:"-"`
	Workers  int               `json:"-"` // goroutines for training and prediction; 0 means GOMAXPROCS (not part of the model)
	Reporter progress.Reporter `json:"-"` // told of every round (stage "boosting", total Trees)
}

// Params are the parameters a model was trained with, defaults filled in:
// what the model file and the model card record.
type Params struct {
	Trees           int     `json:"trees"`
	LearningRate    float64 `json:"learning_rate"`
	MaxLeaves       int     `json:"max_leaves"`
	MaxDepth        int     `json:"max_depth"`
	MinLeaf         int     `json:"min_leaf"`
	MinHessian      float64 `json:"min_hessian"`
	L2              float64 `json:"l2"`
	Bins            int     `json:"bins"`
	ValidationShare float64 `json:"validation_share"`
	Patience        int     `json:"patience"`
	Seed            uint64  `json:"seed"`
	Weighted        bool    `json:"weighted"` // trained with Options.Weights
}

// Default values of the fields of Options.
const (
	DefaultTrees        = 100
	DefaultLearningRate = 0.1
	DefaultMaxLeaves    = 31
	DefaultMinLeaf      = 20
	DefaultMinHessian   = 1e-3
	DefaultPatience     = 10
)

// DefaultOptions returns Options{} spelt out.
func DefaultOptions() Options {
	return Options{Trees: DefaultTrees, LearningRate: DefaultLearningRate, MaxLeaves: DefaultMaxLeaves,
		MinLeaf: DefaultMinLeaf, MinHessian: DefaultMinHessian, Bins: hist.MaxBins, Patience: DefaultPatience}
}

// Options are the options that train with exactly these parameters again
// (without weights).
func (p Params) Options() Options {
	return Options{Trees: p.Trees, LearningRate: p.LearningRate, MaxLeaves: p.MaxLeaves, MaxDepth: p.MaxDepth,
		MinLeaf: p.MinLeaf, MinHessian: p.MinHessian, L2: p.L2, Bins: p.Bins, ValidationShare: p.ValidationShare,
		Patience: p.Patience, Seed: p.Seed}
}

// resolved fills defaults and checks o.
func (o Options) resolved() (Params, error) {
	r := Params{Trees: o.Trees, LearningRate: o.LearningRate, MaxLeaves: o.MaxLeaves, MaxDepth: o.MaxDepth,
		MinLeaf: o.MinLeaf, MinHessian: o.MinHessian, L2: o.L2, Bins: o.Bins, ValidationShare: o.ValidationShare,
		Patience: o.Patience, Seed: o.Seed, Weighted: o.Weights != nil}
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&r.Trees, DefaultTrees)
	def(&r.MaxLeaves, DefaultMaxLeaves)
	def(&r.MinLeaf, DefaultMinLeaf)
	def(&r.Bins, hist.MaxBins)
	def(&r.Patience, DefaultPatience)
	if r.LearningRate == 0 {
		r.LearningRate = DefaultLearningRate
	}
	if r.MinHessian == 0 {
		r.MinHessian = DefaultMinHessian
	}
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	switch {
	case r.Trees < 0:
		return r, fmt.Errorf("%w: Trees %d < 0", ErrOptions, r.Trees)
	case !finite(r.LearningRate) || r.LearningRate <= 0:
		return r, fmt.Errorf("%w: LearningRate %v (want > 0)", ErrOptions, r.LearningRate)
	case r.MaxLeaves < 2:
		return r, fmt.Errorf("%w: MaxLeaves %d < 2", ErrOptions, r.MaxLeaves)
	case r.MaxDepth < 0:
		return r, fmt.Errorf("%w: MaxDepth %d < 0", ErrOptions, r.MaxDepth)
	case r.MinLeaf < 1:
		return r, fmt.Errorf("%w: MinLeaf %d < 1", ErrOptions, r.MinLeaf)
	case !finite(r.MinHessian) || r.MinHessian < 0:
		return r, fmt.Errorf("%w: MinHessian %v < 0", ErrOptions, r.MinHessian)
	case !finite(r.L2) || r.L2 < 0:
		return r, fmt.Errorf("%w: L2 %v < 0", ErrOptions, r.L2)
	case r.Bins < 2 || r.Bins > hist.MaxBins:
		return r, fmt.Errorf("%w: Bins %d not in 2..%d", ErrOptions, r.Bins, hist.MaxBins)
	case !(r.ValidationShare >= 0 && r.ValidationShare < 1):
		return r, fmt.Errorf("%w: ValidationShare %v not in [0, 1)", ErrOptions, r.ValidationShare)
	case r.Patience < 1:
		return r, fmt.Errorf("%w: Patience %d < 1", ErrOptions, r.Patience)
	case o.Workers < 0:
		return r, fmt.Errorf("%w: Workers %d < 0", ErrOptions, o.Workers)
	}
	return r, nil
}

func workers(n int) int {
	if n <= 0 {
		return runtime.GOMAXPROCS(0)
	}
	return n
}
