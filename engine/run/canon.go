package run

import (
	"math"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// SignificantDigits is the precision to which the night rounds every
// float64 column of the feature table before using it.
//
// DuckDB sums doubles in parallel in no fixed order, so the same data can
// give sums that differ in the last bit from one run to the next
// (25766.16 or 25766.160000000003). Rounding to 10 significant digits
// removes that noise, so that a rerun of the night gives the same bytes;
// it changes no figure a person reads.
const SignificantDigits = 10

// ZeroBelow is the magnitude under which a feature value is taken as 0:
// cancelling sums leave ±1e-13-sized residues whose sign depends on the
// order of addition.
const ZeroBelow = 1e-9

// roundSig rounds v to SignificantDigits significant digits; values of
// magnitude under ZeroBelow, and -0, become +0.
func roundSig(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return v
	}
	if math.Abs(v) < ZeroBelow {
		return 0 // also turns -0 into +0
	}
	e := SignificantDigits - 1 - int(math.Floor(math.Log10(math.Abs(v))))
	if e > 300 || e < -300 {
		return v
	}
	var r float64
	if e >= 0 {
		p := math.Pow10(e)
		r = math.Round(v*p) / p
	} else {
		p := math.Pow10(-e)
		r = math.Round(v/p) * p
	}
	if math.IsInf(r, 0) || math.IsNaN(r) {
		return v
	}
	if r == 0 {
		return 0
	}
	return r
}

// canonicalTable returns t with every float64 column rounded by roundSig
// and every column cut into chunks of batchRows rows. DuckDB hands the
// table over in batches whose sizes vary with its threads, and Parquet
// pages follow the chunks: fixed chunks make features.parquet
// byte-identical from run to run. The caller releases the result.
func canonicalTable(t arrow.Table) arrow.Table {
	schema := t.Schema()
	n := int(t.NumRows())
	cols := make([]arrow.Column, schema.NumFields())
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2)
	for j := range cols {
		wg.Add(1)
		sem <- struct{}{}
		go func(j int) {
			defer wg.Done()
			defer func() { <-sem }()
			f := schema.Field(j)
			var whole arrow.Array
			if f.Type.ID() == arrow.FLOAT64 {
				b := array.NewFloat64Builder(memory.DefaultAllocator)
				b.Reserve(n)
				for _, ch := range t.Column(j).Data().Chunks() {
					a := ch.(*array.Float64)
					for i := 0; i < a.Len(); i++ {
						if a.IsNull(i) {
							b.AppendNull()
						} else {
							b.UnsafeAppend(roundSig(a.Value(i)))
						}
					}
				}
				whole = b.NewArray()
				b.Release()
			} else {
				var err error
				whole, err = array.Concatenate(t.Column(j).Data().Chunks(), memory.DefaultAllocator)
				if err != nil {
					panic("run: concatenate feature column " + f.Name + ": " + err.Error())
				}
			}
			var chunks []arrow.Array
			for lo := 0; lo < n; lo += batchRows {
				chunks = append(chunks, array.NewSlice(whole, int64(lo), int64(min(lo+batchRows, n))))
			}
			whole.Release()
			chk := arrow.NewChunked(f.Type, chunks)
			for _, c := range chunks {
				c.Release()
			}
			cols[j] = *arrow.NewColumn(f, chk)
			chk.Release()
		}(j)
	}
	wg.Wait()
	out := array.NewTable(schema, cols, int64(n))
	for j := range cols {
		cols[j].Release()
	}
	return out
}
