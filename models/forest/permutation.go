package forest

import (
	"context"
	"fmt"
	"math/rand/v2"

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
	pred := make([]float64, X.Rows)
	f.PredictProba(X, pred)
	ref := eval.ROCAUC(y, pred)
	perm := X
	perm.Cols = append([][]float64(nil), X.Cols...)
	col := make([]float64, X.Rows)
	out := make([]float64, len(X.Cols))
	for j := range X.Cols {
		var drop float64
		for r := range repeats {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("permutation importances: %w", err)
			}
			copy(col, X.Cols[j][:X.Rows])
			rng := rand.New(rand.NewPCG(seed, uint64(j)<<32|uint64(r)))
			rng.Shuffle(len(col), func(a, b int) { col[a], col[b] = col[b], col[a] })
			perm.Cols[j] = col
			f.PredictProba(perm, pred)
			drop += ref - eval.ROCAUC(y, pred)
		}
		perm.Cols[j] = X.Cols[j]
		out[j] = drop / float64(repeats)
	}
	return out, nil
}
