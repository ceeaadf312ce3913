package run

import (
	"errors"
	"fmt"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/povrisk/povrisk/engine/rundir"
)

// canonicalTable returns t with every column cut into chunks of
// rundir.BatchRows rows (values are the features package's, already
// rounded where they are computed, so that training and scoring see the
// same numbers). DuckDB hands the
// table over in batches whose sizes vary with its threads, and Parquet
// pages follow the chunks: fixed chunks make features.parquet
// byte-identical from run to run. The caller releases the result.
func canonicalTable(t arrow.Table) (arrow.Table, error) {
	schema := t.Schema()
	n := int(t.NumRows())
	cols := make([]arrow.Column, schema.NumFields())
	errs := make([]error, len(cols))
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
			var err error
			if parts := t.Column(j).Data().Chunks(); len(parts) > 0 {
				whole, err = array.Concatenate(parts, memory.DefaultAllocator)
			} else { // no household (a shard with no county: more shards than counties)
				whole = array.MakeArrayOfNull(memory.DefaultAllocator, f.Type, 0)
			}
			if err != nil {
				errs[j] = fmt.Errorf("concatenate feature column %s: %w", f.Name, err)
				return
			}
			var chunks []arrow.Array
			for lo := 0; lo < n; lo += rundir.BatchRows {
				chunks = append(chunks, array.NewSlice(whole, int64(lo), int64(min(lo+rundir.BatchRows, n))))
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
	if err := errors.Join(errs...); err != nil {
		for j := range cols {
			if errs[j] == nil {
				cols[j].Release()
			}
		}
		return nil, err
	}
	out := array.NewTable(schema, cols, int64(n))
	for j := range cols {
		cols[j].Release()
	}
	return out, nil
}
