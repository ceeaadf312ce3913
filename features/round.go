package features

import (
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Rounding happens once, here, as the features are computed: the feature
// table itself carries the rounded values, so that a model is trained on
// exactly the numbers it later scores, and a rerun gives the same bytes.
// DuckDB sums doubles in parallel in no fixed order (ratios of sums differ
// in the last bits from run to run: 0.30000000000000004 or 0.3); rounding
// to Column.Digits decimals (money to the fen, ratios and shares to 1e-6)
// removes that noise and changes no figure a person reads.

// roundValue rounds v to d decimals, half away from zero; d < 0 leaves v
// as it is. -0, and residues under half the last decimal, become +0 (their
// sign depends on the order of addition); NaN and infinities are kept, and
// so is a value too large to scale.
func roundValue(v float64, d int) float64 {
	if d < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return v
	}
	p := math.Pow10(d)
	r := math.Round(v*p) / p
	if math.IsInf(r, 0) || math.IsNaN(r) {
		return v
	}
	if r == 0 {
		return 0
	}
	return r
}

// roundingDigits maps every DOUBLE feature column to its Digits.
func roundingDigits() map[string]int {
	out := map[string]int{}
	for _, c := range featureColumns() {
		if c.Type == "DOUBLE" && c.Digits >= 0 {
			out[c.Name] = c.Digits
		}
	}
	return out
}

// roundBatch returns rec with each float64 column named in digits rounded
// to its digits; other columns are shared. The caller releases the result.
func roundBatch(rec arrow.RecordBatch, digits map[string]int) arrow.RecordBatch {
	cols := make([]arrow.Array, rec.NumCols())
	for j, f := range rec.Schema().Fields() {
		a, isFloat := rec.Column(j).(*array.Float64)
		d, ok := digits[f.Name]
		if !ok || !isFloat {
			cols[j] = rec.Column(j)
			cols[j].Retain()
			continue
		}
		b := array.NewFloat64Builder(memory.DefaultAllocator)
		b.Reserve(a.Len())
		for i := 0; i < a.Len(); i++ {
			if a.IsNull(i) {
				b.AppendNull()
			} else {
				b.UnsafeAppend(roundValue(a.Value(i), d))
			}
		}
		cols[j] = b.NewArray()
		b.Release()
	}
	out := array.NewRecordBatch(rec.Schema(), cols, rec.NumRows())
	for _, c := range cols {
		c.Release()
	}
	return out
}
