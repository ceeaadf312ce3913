package eval

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/povrisk/povrisk/models"
)

// PermutationImportance is, for each column of X, the mean drop of ROC
// AUC on (X, y) of the scores predict gives when that column is
// shuffled, over repeats shuffles (at least 1). Shuffle r of column j
// draws from PCG(seed, j<<32|r), so the result depends only on the
// model, the data and the seed; X is not modified. A drop that cannot be
// computed (y of one class) is 0. The one implementation: the forest's
// method and engine/train's card call it.
func PermutationImportance(ctx context.Context, predict func(models.Matrix, []float64), X models.Matrix, y []int, repeats int, seed uint64) ([]float64, error) {
	if len(y) != X.Rows {
		return nil, fmt.Errorf("permutation importance: %d labels for %d rows", len(y), X.Rows)
	}
	repeats = max(repeats, 1)
	pred := make([]float64, X.Rows)
	predict(X, pred)
	ref := ROCAUC(y, pred)
	perm := X
	perm.Cols = append([][]float64(nil), X.Cols...)
	col := make([]float64, X.Rows)
	out := make([]float64, len(X.Cols))
	for j := range X.Cols {
		var drop float64
		for r := range repeats {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("permutation importance: %w", err)
			}
			copy(col, X.Cols[j][:X.Rows])
			rng := rand.New(rand.NewPCG(seed, uint64(j)<<32|uint64(r)))
			rng.Shuffle(len(col), func(a, b int) { col[a], col[b] = col[b], col[a] })
			perm.Cols[j] = col
			predict(perm, pred)
			drop += ref - ROCAUC(y, pred)
		}
		perm.Cols[j] = X.Cols[j]
		if out[j] = drop / float64(repeats); math.IsNaN(out[j]) {
			out[j] = 0
		}
	}
	return out, nil
}
