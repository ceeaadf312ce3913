package forest

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/povrisk/povrisk/models"
)

// Benchmarks at graded sizes on synth (20 features). Run:
//
//	go test -tags duckdb_arrow -run '^$' -bench . -benchmem ./models/forest/
var benchSizes = []int{1_000, 10_000, 100_000}

func benchForest(b *testing.B, n int) (*Forest, models.Matrix) {
	X, y := synth(n, 20, 1)
	o := DefaultOptions()
	o.Trees, o.Seed = 100, 1
	f, err := Fit(context.Background(), X, y, o)
	if err != nil {
		b.Fatal(err)
	}
	return f, X
}

func BenchmarkFit(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("rows=%d/trees=100", n), func(b *testing.B) {
			X, y := synth(n, 20, 1)
			o := DefaultOptions()
			o.Trees = 100
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Fit(context.Background(), X, y, o); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkPredictProba(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("rows=%d", n), func(b *testing.B) {
			f, X := benchForest(b, n)
			out := make([]float64, X.Rows)
			b.ReportAllocs()
			for b.Loop() {
				f.PredictProba(X, out)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/row")
		})
	}
}

func BenchmarkExplainAll(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("rows=%d", n), func(b *testing.B) {
			f, X := benchForest(b, n)
			contrib := models.NewMatrix(X.Rows, f.FeatureNames())
			b.ReportAllocs()
			for b.Loop() {
				f.ExplainAll(X, contrib)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/row")
		})
	}
}

func BenchmarkRead(b *testing.B) {
	for _, n := range benchSizes {
		f, _ := benchForest(b, n)
		var buf bytes.Buffer
		f.WriteTo(&buf)
		b.Run(fmt.Sprintf("train_rows=%d/bytes=%d", n, buf.Len()), func(b *testing.B) {
			b.SetBytes(int64(buf.Len()))
			for b.Loop() {
				if _, err := Read(bytes.NewReader(buf.Bytes())); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
