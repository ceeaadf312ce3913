package datasets

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
)

// BenchmarkGenerate writes 24-month drops of graded sizes and reports rows
// per second over all tables. Run: go test -tags duckdb_arrow -run ^$ -bench Generate ./datasets/
func BenchmarkGenerate(b *testing.B) {
	for _, n := range []int{1000, 10000, 50000} {
		for _, format := range []string{"csv", "parquet"} {
			b.Run(fmt.Sprintf("households=%d/%s", n, format), func(b *testing.B) {
				dir := b.TempDir()
				var rows int64
				for i := 0; i < b.N; i++ {
					rep, err := Generate(context.Background(), GenerateOptions{Households: n, Months: 24, Seed: 1, Format: format, Out: filepath.Join(dir, "drop")})
					if err != nil {
						b.Fatal(err)
					}
					rows = 0
					for _, t := range rep.Tables {
						rows += t.Rows
					}
				}
				b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
				b.ReportMetric(float64(rows), "rows")
			})
		}
	}
}
