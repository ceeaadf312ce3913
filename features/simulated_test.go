package features

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/povrisk/povrisk/datasets"
)

// TestDeterministicSimulated: two computations over a simulated, ingested
// warehouse give byte-identical CSV. Before money was summed as DECIMAL,
// DuckDB's parallel float sums differed in the last digits between runs on
// this data (e.g. oop_medical_6m 25766.16 vs 25766.160000000003).
// Set POVRISK_SLOW_TESTS=1 to run it (about 20 s on 2 cores).
func TestDeterministicSimulated(t *testing.T) {
	if os.Getenv("POVRISK_SLOW_TESTS") == "" {
		t.Skip("set POVRISK_SLOW_TESTS=1: generates and ingests 20,000 households")
	}
	ctx := context.Background()
	drop := filepath.Join(t.TempDir(), "drop")
	if _, err := datasets.Generate(ctx, datasets.GenerateOptions{Households: 20000, Months: 24, Seed: 1, Out: drop, Format: "parquet"}); err != nil {
		t.Fatal(err)
	}
	db := openDB(t)
	w := ingestDropAllowRejects(t, ctx, db, drop)
	asOf := time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC)
	var out [3]string
	for i := range out {
		out[i] = computeCSV(t, ctx, db, w, asOf, nil)
	}
	if out[0] != out[1] || out[0] != out[2] {
		t.Error("computations over the same warehouse differ")
	}
}
