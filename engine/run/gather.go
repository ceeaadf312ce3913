package run

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/povrisk/povrisk/engine/rundir"
)

// A part's table is, in a shard, a Parquet file with the run directory's
// settings (deterministic bytes: a retried shard rewrites the same file)
// and, in a single run's own parts, an uncompressed Arrow IPC stream
// (ipc.NewWriter; cheaper, but the bytes of null slots are whatever
// DuckDB left there, so only for files no checksum compares). Either is
// read partBatch rows at a time: a merge holds one batch per part. Part
// bytes never reach the run directory: the merge re-encodes every row
// with the run directory's Parquet settings.
const partBatch = 8 << 10

// writePartTable writes the table t as an IPC part table.
func writePartTable(w io.Writer, t arrow.Table) error {
	iw := ipc.NewWriter(w, ipc.WithSchema(t.Schema()))
	tr := array.NewTableReader(t, partBatch)
	defer tr.Release()
	for tr.Next() {
		if err := iw.Write(tr.RecordBatch()); err != nil {
			return fmt.Errorf("write part table: %w", err)
		}
	}
	if err := tr.Err(); err != nil {
		return fmt.Errorf("read table: %w", err)
	}
	return iw.Close()
}

// partReader reads one part's table a record batch at a time.
type partReader struct {
	path  string
	close func()
	rr    array.RecordReader
	rec   arrow.RecordBatch // current batch (retained), nil before the first
	off   int               // next row of rec
}

// openPart opens a part table: an IPC stream (.arrow) or Parquet.
func openPart(ctx context.Context, path string) (*partReader, error) {
	if strings.HasSuffix(path, ".arrow") {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("open part: %w", err)
		}
		rr, err := ipc.NewReader(bufio.NewReaderSize(f, 1<<20), ipc.WithAllocator(memory.DefaultAllocator))
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("open part %s: %w", path, err)
		}
		return &partReader{path: path, rr: rr, close: func() { rr.Release(); f.Close() }}, nil
	}
	f, err := file.OpenParquetFile(path, false)
	if err != nil {
		return nil, fmt.Errorf("open part %s: %w", path, err)
	}
	fr, err := pqarrow.NewFileReader(f, pqarrow.ArrowReadProperties{BatchSize: partBatch}, memory.DefaultAllocator)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open part %s: %w", path, err)
	}
	rr, err := fr.GetRecordReader(ctx, nil, nil)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open part %s: %w", path, err)
	}
	return &partReader{path: path, rr: rr, close: func() { rr.Release(); f.Close() }}, nil
}

func (p *partReader) done() {
	if p.rec != nil {
		p.rec.Release()
		p.rec = nil
	}
	p.close()
}

// take appends slices holding the next n rows to out.
func (p *partReader) take(n int, out []arrow.RecordBatch) ([]arrow.RecordBatch, error) {
	for n > 0 {
		if p.rec == nil || p.off == int(p.rec.NumRows()) {
			if p.rec != nil {
				p.rec.Release()
				p.rec = nil
			}
			if !p.rr.Next() {
				if err := p.rr.Err(); err != nil && err != io.EOF {
					return out, fmt.Errorf("read part %s: %w", p.path, err)
				}
				return out, fmt.Errorf("read part %s: fewer rows than its rows file lists", p.path)
			}
			p.rec = p.rr.RecordBatch()
			p.rec.Retain()
			p.off = 0
		}
		k := min(n, int(p.rec.NumRows())-p.off)
		out = append(out, p.rec.NewSlice(int64(p.off), int64(p.off+k)))
		p.off += k
		n -= k
	}
	return out, nil
}

// gather writes the rows of the part tables paths (one per part, all of
// the same schema) to w in the order given: order[i] is the part of the
// i-th row written, each part's rows taken in their file order;
// rundir.BatchRows rows per row group, with the run directory's settings.
func gather(ctx context.Context, w io.Writer, paths []string, order []int32) error {
	rd := make([]*partReader, len(paths))
	defer func() {
		for _, r := range rd {
			if r != nil {
				r.done()
			}
		}
	}()
	for i, p := range paths {
		var err error
		if rd[i], err = openPart(ctx, p); err != nil {
			return err
		}
	}
	if len(rd) == 0 {
		return fmt.Errorf("gather: no parts")
	}
	schema := rd[0].rr.Schema()
	for i, r := range rd[1:] {
		if !r.rr.Schema().Equal(schema) {
			return fmt.Errorf("part %s has another schema than %s", paths[i+1], paths[0])
		}
	}
	// The run directory's tables carry no schema metadata: a Parquet part
	// (a shard's) does not keep it, an Arrow part (a single run's) does,
	// and the bytes must not depend on which the night used.
	schema = arrow.NewSchema(schema.Fields(), nil)
	fw, err := rundir.NewParquetWriter(schema, w)
	if err != nil {
		return err
	}
	cols := make([][]arrow.Array, schema.NumFields())
	var parts []arrow.RecordBatch
	base, used := make([]int32, len(rd)), make([]int32, len(rd))
	idx := make([]int32, 0, rundir.BatchRows)
	for lo := 0; lo < len(order); lo += rundir.BatchRows {
		hi := min(lo+rundir.BatchRows, len(order))
		// Each part's rows of this batch are its next ones: take them in
		// one slice per part, join them, then put the rows in order.
		clear(used)
		for _, p := range order[lo:hi] {
			used[p]++
		}
		parts = parts[:0]
		var off int32
		for p, n := range used {
			base[p] = off
			off += n
			if n > 0 {
				if parts, err = rd[p].take(int(n), parts); err != nil {
					release(parts)
					return err
				}
			}
		}
		clear(used)
		idx = idx[:0]
		identity := true
		for i, p := range order[lo:hi] {
			k := base[p] + used[p]
			used[p]++
			idx = append(idx, k)
			identity = identity && int(k) == i
		}
		rec, err := concatBatches(schema, parts, cols, hi-lo)
		release(parts)
		if err == nil && !identity {
			rec, err = takeRows(ctx, rec, idx)
		}
		if err != nil {
			return err
		}
		err = fw.Write(rec)
		rec.Release()
		if err != nil {
			return fmt.Errorf("write parquet batch: %w", err)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	if err := fw.Close(); err != nil {
		return fmt.Errorf("close parquet writer: %w", err)
	}
	return nil
}

// takeRows returns the rows idx of rec, in that order (rec is released).
func takeRows(ctx context.Context, rec arrow.RecordBatch, idx []int32) (arrow.RecordBatch, error) {
	defer rec.Release()
	ib := array.NewInt32Builder(memory.DefaultAllocator)
	ib.AppendValues(idx, nil)
	ia := ib.NewArray()
	ib.Release()
	defer ia.Release()
	out := make([]arrow.Array, rec.NumCols())
	for j := range out {
		a, err := compute.TakeArray(ctx, rec.Column(j), ia)
		if err != nil {
			for _, x := range out[:j] {
				x.Release()
			}
			return nil, fmt.Errorf("reorder column %s: %w", rec.Schema().Field(j).Name, err)
		}
		out[j] = a
	}
	r := array.NewRecordBatch(rec.Schema(), out, int64(len(idx)))
	for _, a := range out {
		a.Release()
	}
	return r, nil
}

func release(rs []arrow.RecordBatch) {
	for _, r := range rs {
		r.Release()
	}
}

// concatBatches joins record slices into one record batch of n rows.
func concatBatches(schema *arrow.Schema, parts []arrow.RecordBatch, cols [][]arrow.Array, n int) (arrow.RecordBatch, error) {
	out := make([]arrow.Array, schema.NumFields())
	for j := range out {
		cols[j] = cols[j][:0]
		for _, p := range parts {
			cols[j] = append(cols[j], p.Column(j))
		}
		a, err := array.Concatenate(cols[j], memory.DefaultAllocator)
		if err != nil {
			for _, x := range out[:j] {
				x.Release()
			}
			return nil, fmt.Errorf("concatenate column %s: %w", schema.Field(j).Name, err)
		}
		out[j] = a
	}
	rec := array.NewRecordBatch(schema, out, int64(n))
	for _, a := range out {
		a.Release()
	}
	return rec, nil
}

// sortedOrder reads the string column key of every part's file (each
// sorted by it) and returns the order of a k-way merge by key: the part of
// each row of the merged file. Equal keys come part by part.
func sortedOrder(ctx context.Context, paths []string, key string) ([]int32, error) {
	type rowKey struct {
		key  string
		part int32
	}
	var all []rowKey
	for i, p := range paths {
		r, err := openPart(ctx, p)
		if err != nil {
			return nil, err
		}
		col := r.rr.Schema().FieldIndices(key)
		if len(col) == 0 {
			r.done()
			return nil, fmt.Errorf("part %s has no column %s", p, key)
		}
		for r.rr.Next() {
			a, ok := r.rr.RecordBatch().Column(col[0]).(*array.String)
			if !ok {
				r.done()
				return nil, fmt.Errorf("part %s: column %s is not text", p, key)
			}
			for k := 0; k < a.Len(); k++ {
				all = append(all, rowKey{strings.Clone(a.Value(k)), int32(i)})
			}
		}
		err = r.rr.Err()
		r.done()
		if err != nil && err != io.EOF {
			return nil, fmt.Errorf("read part %s: %w", p, err)
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	slices.SortStableFunc(all, func(a, b rowKey) int { return strings.Compare(a.key, b.key) })
	order := make([]int32, len(all))
	for i, k := range all {
		order[i] = k.part
	}
	return order, nil
}
