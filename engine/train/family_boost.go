// The boosted-trees family of the selection grid.

package train

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/povrisk/povrisk/models"
	"github.com/povrisk/povrisk/models/boost"
)

// boostOptions decodes configuration c's boost options, refusing keys
// models/boost does not know.
func boostOptions(c Config) (boost.Options, error) {
	var o boost.Options
	if len(c.Boost) > 0 {
		dec := json.NewDecoder(bytes.NewReader(c.Boost))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&o); err != nil {
			return o, fmt.Errorf("configuration %q: boost options: %w", c.label(), err)
		}
	}
	return o, nil
}

func init() {
	checkBoost = func(c Config) error {
		_, err := boostOptions(c)
		return err
	}
	fitBoost = func(ctx context.Context, c Config, X models.Matrix, y []int, w []float64, seed uint64) (models.Classifier, error) {
		o, err := boostOptions(c)
		if err != nil {
			return nil, err
		}
		o.Weights = w
		_ = seed // boost.Options' seed, if it has one, comes from the grid's "boost" table
		m, err := boost.Fit(ctx, X, y, o)
		if err != nil {
			return nil, fmt.Errorf("train %s: %w", c.label(), err)
		}
		return m, nil
	}
}
