package boost

import (
	"context"
	"fmt"
	"testing"
)

// Benchmarks on synth (20 features). Run:
//
//	go test -tags duckdb_arrow -run '^$' -bench . -benchmem ./models/boost/
func BenchmarkFit(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("rows=%d/trees=100", n), func(b *testing.B) {
			X, y := synth(n, 20, 1)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Fit(context.Background(), X, y, Options{Workers: 2}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkFitAdult(b *testing.B) {
	t := &testing.T{}
	X, _, y, _ := readAdult(t)
	if X.Rows == 0 {
		b.Skip("no adult")
	}
	for b.Loop() {
		if _, err := Fit(context.Background(), X, y, Options{Workers: 2}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFitWide: the engine table's shape, 200,000 rows x 60 features.
func BenchmarkFitWide(b *testing.B) {
	X, y := synth(200_000, 60, 2)
	for b.Loop() {
		if _, err := Fit(context.Background(), X, y, Options{Workers: 2}); err != nil {
			b.Fatal(err)
		}
	}
}
