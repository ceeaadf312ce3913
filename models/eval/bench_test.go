package eval

import (
	"math/rand/v2"
	"testing"
)

func benchData(n int) ([]int, []float64) {
	rng := rand.New(rand.NewPCG(1, 1))
	y := make([]int, n)
	s := make([]float64, n)
	for i := range y {
		if rng.Float64() < 0.03 {
			y[i] = 1
		}
		s[i] = rng.Float64() + 0.3*float64(y[i])
	}
	return y, s
}

func benchMetrics(b *testing.B, n int) {
	y, s := benchData(n)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ROCAUC(y, s)
		PRAUC(y, s)
		PrecisionAtShare(y, s, 0.05)
	}
}

func BenchmarkMetrics10k(b *testing.B)  { benchMetrics(b, 10_000) }
func BenchmarkMetrics100k(b *testing.B) { benchMetrics(b, 100_000) }
func BenchmarkMetrics1M(b *testing.B)   { benchMetrics(b, 1_000_000) }
