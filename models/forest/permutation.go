package forest

import (
	"context"
	"fmt"

	"github.com/povrisk/povrisk/models"
	"github.com/povrisk/povrisk/models/eval"
)

// PermutationImportances returns, for each feature, the mean drop in ROC AUC
// on (X, y) when that feature's column is shuffled, over repeats shuffles
// (0 means 5). Shuffle r of feature j draws from PCG(seed, j<<32|r), so the
// result depends only on the forest, the data and seed. X is not modified.
func (f *Forest) PermutationImportances(ctx context.Context, X models.Matrix, y []int, repeats int, seed uint64) ([]float64, error) {
	f.check(X)
	if len(y) != X.Rows {
		return nil, fmt.Errorf("permutation importances: %d labels for %d rows", len(y), X.Rows)
	}
	if repeats <= 0 {
		repeats = 5
	}
	return eval.PermutationImportance(ctx, f.PredictProba, X, y, repeats, seed)
}
