package train

import (
	"context"
	"errors"
	"fmt"

	"github.com/povrisk/povrisk/engine/fault"
	"github.com/povrisk/povrisk/models"
	"github.com/povrisk/povrisk/models/forest"
)

// fitBoost fits a boosted configuration; family_boost.go sets it when
// models/boost is in the tree (nil: this build has no boosted trees).
var fitBoost func(ctx context.Context, c Config, X models.Matrix, y []int, w []float64, seed uint64) (models.Classifier, error)

// checkBoost decodes a boost configuration's options (refusing unknown
// keys and invalid values) so that a grid file's mistake is found when it
// is read, not hours into training; set with fitBoost.
var checkBoost func(c Config) error

// errNoBoost is the error of a boost configuration in a build without it.
var errNoBoost = errors.New("this build of povrisk has no boosted trees: remove the boost configurations from the grid")

// fitConfig fits configuration c on (X, y) with row weights w (nil: 1),
// trees trees for a forest (0: Options.Forest's), reporting as stage.
func fitConfig(ctx context.Context, c Config, X models.Matrix, y []int, w []float64, trees int, o Options, stage string) (models.Classifier, error) {
	switch c.family() {
	case familyBoost:
		if fitBoost == nil {
			return nil, fault.Wrap(fault.Usage, errNoBoost)
		}
		return fitBoost(ctx, c, X, y, w, o.Forest.Seed)
	case familyForest:
		fo, err := c.forestOptions(o.forestOptions(stage), X.NumCols())
		if err != nil {
			return nil, fault.Wrap(fault.Usage, err)
		}
		if trees > 0 {
			fo.Trees = trees
		}
		if w != nil {
			setForestWeights(&fo, w) // false: unweighted, noted in the card (weights.go)
		}
		f, err := forest.Fit(ctx, X, y, fo)
		if err != nil {
			return nil, fmt.Errorf("train %s: %w", c.label(), err)
		}
		return f, nil
	}
	return nil, fault.Wrap(fault.Usage, fmt.Errorf("configuration %q: family %q: want forest or boost", c.label(), c.Family))
}

// forestParams are the parameters of m when it is a forest.
func forestParams(m models.Classifier) (forest.Params, bool) {
	if f, ok := m.(*forest.Forest); ok {
		return f.Params(), true
	}
	return forest.Params{}, false
}
