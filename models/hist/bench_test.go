package hist

import (
	"math/rand/v2"
	"testing"

	"github.com/povrisk/povrisk/models"
)

// BenchmarkQuantise: 200,000 rows of 60 continuous columns (the engine
// table's shape), one goroutine.
func BenchmarkQuantise(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	names := make([]string, 60)
	X := models.NewMatrix(200_000, names)
	for _, c := range X.Cols {
		for i := range c {
			c[i] = rng.NormFloat64()
		}
	}
	for b.Loop() {
		Quantise(X, MaxBins, 1, true)
	}
}
