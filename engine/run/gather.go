package run

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/povrisk/povrisk/engine/pqfile"
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

// partSettings are the Parquet settings of a shard's part tables: row
// groups of partBatch rows, and no statistics (parts are read whole, and
// a merge opens every part of the province: pqfile.Settings.NoStatistics).
var partSettings = pqfile.Settings{RowGroup: partBatch, NoDict: []string{"household_id"}, NoStatistics: true}

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

// writePartParquet writes the table t as a shard's part table: Parquet
// with the run directory's codec but row groups of partBatch rows. The
// merge reads every part at once, column by column, and a Parquet
// reader holds a page of every column it reads: with row groups of
// partBatch rows a page is at most partBatch values, whatever the size
// of the part (with the run directory's row groups it is up to a
// megabyte per column and part).
func writePartParquet(w io.Writer, t arrow.Table) error {
	props := pqfile.Props(t.Schema(), partSettings)
	if err := pqarrow.WriteTable(t, w, partBatch, props, pqarrow.DefaultWriterProps()); err != nil {
		return fmt.Errorf("write part table: %w", err)
	}
	return nil
}

// partSink writes record batches of schema to w: an IPC stream, or
// Parquet with a row group per batch (batches of at most partBatch rows).
func partSink(w io.Writer, schema *arrow.Schema, asParquet bool) (write func(arrow.RecordBatch) error, closeW func() error, err error) {
	if !asParquet {
		iw := ipc.NewWriter(w, ipc.WithSchema(schema))
		return iw.Write, iw.Close, nil
	}
	props := pqfile.Props(schema, partSettings)
	fw, err := pqarrow.NewFileWriter(schema, w, props, pqarrow.DefaultWriterProps())
	if err != nil {
		return nil, nil, fmt.Errorf("part parquet writer: %w", err)
	}
	return fw.Write, fw.Close, nil
}

// partReader reads one part's table a record batch at a time.
type partReader struct {
	path  string
	close func()
	rr    array.RecordReader
	rec   arrow.RecordBatch // current batch (retained), nil before the first
	off   int               // next row of rec
}

// partReadBuffer is the read buffer of each column of a Parquet part:
// its column chunks are streamed, not read whole (a part of 250,000
// households would otherwise put every column of it in memory at once).
const partReadBuffer = 64 << 10

// openPart opens a part table: an IPC stream (.arrow) or Parquet.
func openPart(ctx context.Context, path string) (*partReader, error) {
	return openPartColumn(ctx, path, "")
}

// openPartColumn opens a part table reading the column col only (""
// every column); an IPC stream is read whole all the same.
func openPartColumn(ctx context.Context, path, col string) (*partReader, error) {
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
	props := parquet.NewReaderProperties(memory.DefaultAllocator)
	props.BufferedStreamEnabled, props.BufferSize = true, partReadBuffer
	f, err := file.OpenParquetFile(path, false, file.WithReadProps(props))
	if err != nil {
		return nil, fmt.Errorf("open part %s: %w", path, err)
	}
	fr, err := pqarrow.NewFileReader(f, pqarrow.ArrowReadProperties{BatchSize: partBatch}, memory.DefaultAllocator)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open part %s: %w", path, err)
	}
	var cols []int
	if col != "" {
		sc, err := fr.Schema()
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("open part %s: %w", path, err)
		}
		idx := sc.FieldIndices(col)
		if len(idx) == 0 {
			f.Close()
			return nil, fmt.Errorf("part %s has no column %s", path, col)
		}
		cols = []int{idx[0]}
	}
	rr, err := fr.GetRecordReader(ctx, cols, nil)
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

// orderSource gives the order in which gather writes rows, as it goes:
// fill fills buf with the parts of the next rows (each part's rows taken
// in their file order) and returns how many; fewer than len(buf) only
// at the end of the order.
type orderSource interface {
	fill(ctx context.Context, buf []int32) (int, error)
}

// gather writes the rows of the part tables paths (one per part, all of
// the same schema) to w in the order src gives; rundir.BatchRows rows per
// row group, with the run directory's settings. It holds one batch of
// rows at a time.
func gather(ctx context.Context, w io.Writer, paths []string, src orderSource) error {
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
	return gatherFrom(ctx, w, paths, rd, src)
}

// gatherFrom is gather from the part readers rd (of paths), which the
// caller closes.
func gatherFrom(ctx context.Context, w io.Writer, paths []string, rd []*partReader, src orderSource) error {
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
	batch := make([]int32, rundir.BatchRows)
	for {
		n, err := src.fill(ctx, batch)
		if err != nil {
			return err
		}
		if n == 0 {
			break
		}
		order := batch[:n]
		// Each part's rows of this batch are its next ones: take them in
		// one slice per part, join them, then put the rows in order.
		clear(used)
		for _, p := range order {
			if p < 0 || int(p) >= len(rd) {
				return fmt.Errorf("gather: row of part %d of %d", p, len(rd))
			}
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
		for i, p := range order {
			k := base[p] + used[p]
			used[p]++
			idx = append(idx, k)
			identity = identity && int(k) == i
		}
		rec, err := concatBatches(schema, parts, cols, n)
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
		if n < len(batch) {
			break
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

// keyOrder is the order of a k-way merge of part tables, each sorted by
// the text column key: the part of each row of the merged table, made as
// gather asks for it. Equal keys come part by part. It reads each part a
// second time (beside gather's reader), a batch at a time.
type keyOrder struct {
	rd  []*partReader
	col []int
	arr []*array.String // current batch's key column per part (nil: done)
	pos []int
	h   []int32 // parts by their current key (a binary min-heap)
}

// keyOrderOf is the key order of the part readers rd (of paths), which
// it closes (keyOrder.close), also on an error.
func keyOrderOf(rd []*partReader, paths []string, key string) (*keyOrder, error) {
	k := &keyOrder{rd: rd, col: make([]int, len(paths)), arr: make([]*array.String, len(paths)), pos: make([]int, len(paths))}
	for i, p := range paths {
		r := rd[i]
		col := r.rr.Schema().FieldIndices(key)
		if len(col) == 0 {
			k.close()
			return nil, fmt.Errorf("part %s has no column %s", p, key)
		}
		k.col[i] = col[0]
		if err := k.load(i); err != nil {
			k.close()
			return nil, err
		}
		if k.arr[i] != nil {
			k.h = append(k.h, int32(i))
		}
	}
	for i := len(k.h)/2 - 1; i >= 0; i-- {
		k.down(i)
	}
	return k, nil
}

// load reads part i's next batch with rows (arr[i] nil at the end).
func (k *keyOrder) load(i int) error {
	r := k.rd[i]
	k.arr[i], k.pos[i] = nil, 0
	if r.rec != nil {
		r.rec.Release()
		r.rec = nil
	}
	for r.rr.Next() {
		rec := r.rr.RecordBatch()
		if rec.NumRows() == 0 {
			continue
		}
		a, ok := rec.Column(k.col[i]).(*array.String)
		if !ok {
			return fmt.Errorf("part %s: column %s is not text", r.path, rec.Schema().Field(k.col[i]).Name)
		}
		rec.Retain()
		r.rec, k.arr[i] = rec, a
		return nil
	}
	if err := r.rr.Err(); err != nil && err != io.EOF {
		return fmt.Errorf("read part %s: %w", r.path, err)
	}
	return nil
}

func (k *keyOrder) key(p int32) string { return k.arr[p].Value(k.pos[p]) }

func (k *keyOrder) less(a, b int) bool {
	pa, pb := k.h[a], k.h[b]
	if c := strings.Compare(k.key(pa), k.key(pb)); c != 0 {
		return c < 0
	}
	return pa < pb
}

func (k *keyOrder) down(i int) {
	for {
		l := 2*i + 1
		if l >= len(k.h) {
			return
		}
		m := l
		if r := l + 1; r < len(k.h) && k.less(r, l) {
			m = r
		}
		if !k.less(m, i) {
			return
		}
		k.h[i], k.h[m] = k.h[m], k.h[i]
		i = m
	}
}

func (k *keyOrder) fill(ctx context.Context, buf []int32) (int, error) {
	n := 0
	for n < len(buf) && len(k.h) > 0 {
		p := k.h[0]
		buf[n] = p
		n++
		if k.pos[p]++; k.pos[p] == k.arr[p].Len() {
			if err := k.load(int(p)); err != nil {
				return n, err
			}
		}
		if k.arr[p] == nil {
			k.h[0] = k.h[len(k.h)-1]
			k.h = k.h[:len(k.h)-1]
		}
		k.down(0)
	}
	return n, ctx.Err()
}

func (k *keyOrder) close() {
	for _, r := range k.rd {
		if r != nil {
			r.done()
		}
	}
}

// chanOrder is the night's rank order as the rows merge makes it: the
// parts of each chunk of rows, in order (streamRows).
type chanOrder struct {
	ch   <-chan []int32
	rest []int32
}

func (c *chanOrder) fill(ctx context.Context, buf []int32) (int, error) {
	n := 0
	for n < len(buf) {
		if len(c.rest) == 0 {
			p, ok := <-c.ch
			if !ok {
				break
			}
			c.rest = p
		}
		k := copy(buf[n:], c.rest)
		n += k
		c.rest = c.rest[k:]
	}
	return n, ctx.Err()
}

// gatherSortedParts writes to w the part tables paths merged by the text
// column key (merger.gatherSorted). An IPC part (a single run's own, read
// whole whatever the columns asked) is decoded once for both the key
// order and the rows (openPartTwice); a Parquet part's key column is read
// apart (a column of its own in the file).
func gatherSortedParts(ctx context.Context, w io.Writer, paths []string, key string) error {
	keys, rows := make([]*partReader, len(paths)), make([]*partReader, len(paths))
	closeAll := func() {
		for i := range paths {
			for _, r := range []*partReader{keys[i], rows[i]} {
				if r != nil {
					r.done()
				}
			}
		}
	}
	for i, p := range paths {
		var err error
		if strings.HasSuffix(p, ".arrow") {
			keys[i], rows[i], err = openPartTwice(p)
		} else if keys[i], err = openPartColumn(ctx, p, key); err == nil {
			rows[i], err = openPart(ctx, p)
		}
		if err != nil {
			closeAll()
			return err
		}
	}
	order, err := keyOrderOf(keys, paths, key)
	if err != nil {
		for _, r := range rows {
			r.done()
		}
		return err
	}
	defer order.close()
	defer func() {
		for _, r := range rows {
			r.done()
		}
	}()
	return gatherFrom(ctx, w, paths, rows, order)
}

// openPartTwice opens the IPC part path for two readers, each of which
// reads every batch of it, the stream decoded once: a batch is held
// until both have read past it (the key order reads at most a gathered
// batch ahead of the rows).
func openPartTwice(path string) (*partReader, *partReader, error) {
	r, err := openPart(context.Background(), path)
	if err != nil {
		return nil, nil, err
	}
	t := &teeSource{src: r, open: 2}
	a, b := &teeReader{s: t, i: 0}, &teeReader{s: t, i: 1}
	return &partReader{path: path, rr: a, close: a.Release}, &partReader{path: path, rr: b, close: b.Release}, nil
}

// teeSource is a record reader read by two teeReaders.
type teeSource struct {
	src  *partReader
	q    [2][]arrow.RecordBatch // batches read from src that reader i has not read yet
	open int
}

// teeReader is one reader of a teeSource (array.RecordReader).
type teeReader struct {
	s      *teeSource
	i      int
	cur    arrow.RecordBatch
	closed bool
}

func (t *teeReader) Retain()                        {}
func (t *teeReader) Schema() *arrow.Schema          { return t.s.src.rr.Schema() }
func (t *teeReader) RecordBatch() arrow.RecordBatch { return t.cur }
func (t *teeReader) Record() arrow.RecordBatch      { return t.cur }
func (t *teeReader) Err() error                     { return t.s.src.rr.Err() }

func (t *teeReader) Next() bool {
	if t.cur != nil {
		t.cur.Release()
		t.cur = nil
	}
	s := t.s
	if len(s.q[t.i]) == 0 {
		if !s.src.rr.Next() {
			return false
		}
		rec := s.src.rr.RecordBatch()
		for i := range s.q {
			rec.Retain()
			s.q[i] = append(s.q[i], rec)
		}
	}
	t.cur, s.q[t.i] = s.q[t.i][0], s.q[t.i][1:]
	return true
}

// Release ends this reader (its unread batches are released) and, with
// the other one ended, the source.
func (t *teeReader) Release() {
	if t.closed {
		return
	}
	t.closed = true
	if t.cur != nil {
		t.cur.Release()
		t.cur = nil
	}
	release(t.s.q[t.i])
	t.s.q[t.i] = nil
	if t.s.open--; t.s.open == 0 {
		t.s.src.done()
	}
}
