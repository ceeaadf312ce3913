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
// written partBatch rows at a time (a Parquet part's row groups, an IPC
// part's batches); a merge reads a Parquet part in batches sized from the
// number of parts it reads at once (partReadFor). Part bytes never reach
// the run directory: the merge re-encodes every row with the run
// directory's Parquet settings.
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

// partRead is how a Parquet part is read: at most Batch rows at a time
// (a record reader holds a batch of every column it reads, a column
// reader buffers as large as its largest read), through a read buffer
// of Buffer bytes per column (its column chunks are streamed, not read
// whole: a part of 250,000 households would otherwise put every column
// of it in memory at once). Neither changes what is read.
type partRead struct{ Batch, Buffer int }

// A merge reads every part of a table at once, each column of each part
// through a reader of its own: partReadFor divides a fixed budget over
// the parts, down to a floor. With the budgets below, 4 parts or fewer
// are read in batches of partBatch rows and 64 KB buffers; 16 parts in
// batches of 2,048 rows and 16 KB buffers. The floor of the buffer is
// arrow-go's: it peeks 16 KB for each page header and grows a smaller
// buffer to that. What a reader holds besides, the page it decodes
// (compressed and not), is set by the part's pages: at most partBatch
// values (writePartParquet).
const (
	partReadRows, partReadMinRows     = 32 << 10, 1 << 10
	partReadBytes, partReadMinBuffer  = 256 << 10, 16 << 10
	partReadMaxRows, partReadMaxBytes = partBatch, 64 << 10
)

// partReadFor is the reading of each of n parts read at once.
func partReadFor(n int) partRead {
	n = max(n, 1)
	return partRead{
		Batch:  min(max(partReadRows/n, partReadMinRows), partReadMaxRows),
		Buffer: min(max(partReadBytes/n, partReadMinBuffer), partReadMaxBytes),
	}
}

// openPart opens a part table: an IPC stream (.arrow) or Parquet.
func openPart(ctx context.Context, path string, how partRead) (*partReader, error) {
	return openPartColumn(ctx, path, "", how)
}

// openPartColumn opens a part table reading the column col only (""
// every column); an IPC stream is read whole all the same, in the
// batches it was written in.
func openPartColumn(ctx context.Context, path, col string, how partRead) (*partReader, error) {
	if how.Batch < 1 || how.Buffer < 1 {
		return nil, fmt.Errorf("open part %s: batch of %d rows, buffer of %d bytes", path, how.Batch, how.Buffer)
	}
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
	f, fr, err := openPartParquet(path, how)
	if err != nil {
		return nil, err
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

// openPartParquet opens a Parquet part with how's read buffer (column
// chunks streamed, not read whole) and batch size; the caller closes f.
func openPartParquet(path string, how partRead) (*file.Reader, *pqarrow.FileReader, error) {
	props := parquet.NewReaderProperties(memory.DefaultAllocator)
	props.BufferedStreamEnabled, props.BufferSize = true, int64(how.Buffer)
	f, err := file.OpenParquetFile(path, false, file.WithReadProps(props))
	if err != nil {
		return nil, nil, fmt.Errorf("open part %s: %w", path, err)
	}
	fr, err := pqarrow.NewFileReader(f, pqarrow.ArrowReadProperties{BatchSize: int64(how.Batch)}, memory.DefaultAllocator)
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("open part %s: %w", path, err)
	}
	return f, fr, nil
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

// partRows is a part's rows as gather takes them: the next n rows of
// the part, then each of their columns in turn, so that a gather holds
// one column of a row group at a time, not the row group.
type partRows interface {
	schema() *arrow.Schema
	// next makes the part's next n rows (n may be 0) the rows column
	// returns.
	next(n int) error
	// column appends column j of those rows to out (arrays the caller
	// releases).
	column(j int, out []arrow.Array) ([]arrow.Array, error)
	done()
}

// recordRows is partRows of a part read whole rows at a time.
type recordRows struct {
	r   *partReader
	cur []arrow.RecordBatch // slices of the current rows
}

func (s *recordRows) schema() *arrow.Schema { return s.r.rr.Schema() }

func (s *recordRows) next(n int) (err error) {
	release(s.cur)
	s.cur, err = s.r.take(n, s.cur[:0])
	return err
}

func (s *recordRows) column(j int, out []arrow.Array) ([]arrow.Array, error) {
	for _, rec := range s.cur {
		a := rec.Column(j)
		a.Retain()
		out = append(out, a)
	}
	return out, nil
}

func (s *recordRows) done() {
	release(s.cur)
	s.cur = nil
	s.r.done()
}

// columnRows is partRows of a Parquet part read column by column: a
// reader per column, each reading a column's rows only when gather
// writes that column, at most how.Batch rows at a time (a column
// reader keeps buffers as large as its largest read).
type columnRows struct {
	path  string
	sc    *arrow.Schema
	f     *file.Reader
	cols  []*pqarrow.ColumnReader
	batch int
	n     int
}

// openPartRows opens the part table path for gather: an IPC part whole
// rows at a time (recordRows: its batches are decoded whole), a Parquet
// part column by column (columnRows).
func openPartRows(ctx context.Context, path string, how partRead) (partRows, error) {
	if strings.HasSuffix(path, ".arrow") {
		r, err := openPart(ctx, path, how)
		if err != nil {
			return nil, err
		}
		return &recordRows{r: r}, nil
	}
	if how.Batch < 1 || how.Buffer < 1 {
		return nil, fmt.Errorf("open part %s: batch of %d rows, buffer of %d bytes", path, how.Batch, how.Buffer)
	}
	f, fr, err := openPartParquet(path, how)
	if err != nil {
		return nil, err
	}
	sc, err := fr.Schema()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open part %s: %w", path, err)
	}
	s := &columnRows{path: path, sc: sc, f: f, batch: how.Batch, cols: make([]*pqarrow.ColumnReader, sc.NumFields())}
	for j := range s.cols {
		// GetColumn's j is the field's (a nested field's leaves read together).
		if s.cols[j], err = fr.GetColumn(ctx, j); err != nil {
			s.done()
			return nil, fmt.Errorf("open part %s column %s: %w", path, sc.Field(j).Name, err)
		}
	}
	return s, nil
}

func (s *columnRows) schema() *arrow.Schema { return s.sc }

func (s *columnRows) next(n int) error {
	s.n = n
	return nil
}

func (s *columnRows) column(j int, out []arrow.Array) ([]arrow.Array, error) {
	for left := s.n; left > 0; {
		k := min(left, s.batch)
		ch, err := s.cols[j].NextBatch(int64(k))
		if err != nil {
			return out, fmt.Errorf("read part %s column %s: %w", s.path, s.sc.Field(j).Name, err)
		}
		got := ch.Len()
		for _, a := range ch.Chunks() {
			a.Retain()
			out = append(out, a)
		}
		ch.Release()
		if got < k {
			return out, fmt.Errorf("read part %s: fewer rows than its rows file lists", s.path)
		}
		left -= got
	}
	return out, nil
}

func (s *columnRows) done() {
	for _, c := range s.cols {
		if c != nil {
			c.Release()
		}
	}
	s.f.Close()
}

// gather writes the rows of the part tables paths (one per part, all of
// the same schema) to w in the order src gives; rundir.BatchRows rows per
// row group, with the run directory's settings. It holds a column of a
// row group at a time, and the buffers of each part's column readers
// (partReadFor).
func gather(ctx context.Context, w io.Writer, paths []string, src orderSource) error {
	return gatherRead(ctx, w, paths, src, partReadFor(len(paths)))
}

// gatherRead is gather reading each part as how says.
func gatherRead(ctx context.Context, w io.Writer, paths []string, src orderSource, how partRead) error {
	rd := make([]partRows, len(paths))
	defer func() {
		for _, r := range rd {
			if r != nil {
				r.done()
			}
		}
	}()
	for i, p := range paths {
		var err error
		if rd[i], err = openPartRows(ctx, p, how); err != nil {
			return err
		}
	}
	return gatherFrom(ctx, w, paths, rd, src)
}

// gatherFrom is gather from the parts' rows rd (of paths), which the
// caller ends (partRows.done). Each row group is written column by
// column (pqarrow.FileWriter.WriteColumnData: the bytes of Write of the
// whole record batch).
func gatherFrom(ctx context.Context, w io.Writer, paths []string, rd []partRows, src orderSource) error {
	if len(rd) == 0 {
		return fmt.Errorf("gather: no parts")
	}
	schema := rd[0].schema()
	for i, r := range rd[1:] {
		if !r.schema().Equal(schema) {
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
	var chunks []arrow.Array
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
		// Each part's rows of this batch are its next ones: take them
		// per part, join them, then put the rows in order.
		clear(used)
		for _, p := range order {
			if p < 0 || int(p) >= len(rd) {
				return fmt.Errorf("gather: row of part %d of %d", p, len(rd))
			}
			used[p]++
		}
		var off int32
		for p, n := range used {
			base[p] = off
			off += n
			if err := rd[p].next(int(n)); err != nil {
				return err
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
		var ia arrow.Array
		if !identity {
			ib := array.NewInt32Builder(memory.DefaultAllocator)
			ib.AppendValues(idx, nil)
			ia = ib.NewArray()
			ib.Release()
		}
		err = writeRowGroup(ctx, fw, schema, rd, used, ia, chunks)
		if ia != nil {
			ia.Release()
		}
		if err != nil {
			return err
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

// writeRowGroup writes a row group of fw, column by column: each column
// of the parts' current rows (used[p] of part p) joined in part order,
// then (ia not nil) its rows ia in that order.
func writeRowGroup(ctx context.Context, fw *pqarrow.FileWriter, schema *arrow.Schema, rd []partRows, used []int32, ia arrow.Array, chunks []arrow.Array) error {
	fw.NewRowGroup()
	for j := range schema.NumFields() {
		var err error
		chunks = chunks[:0]
		for p, r := range rd {
			if used[p] > 0 {
				if chunks, err = r.column(j, chunks); err != nil {
					break
				}
			}
		}
		var a arrow.Array
		if err == nil {
			if len(chunks) == 1 {
				a = chunks[0]
				a.Retain()
			} else if a, err = array.Concatenate(chunks, memory.DefaultAllocator); err != nil {
				err = fmt.Errorf("concatenate column %s: %w", schema.Field(j).Name, err)
			}
		}
		for _, c := range chunks {
			c.Release()
		}
		if err == nil && ia != nil {
			var t arrow.Array
			t, err = compute.TakeArray(ctx, a, ia)
			a.Release()
			a = t
			if err != nil {
				err = fmt.Errorf("reorder column %s: %w", schema.Field(j).Name, err)
			}
		}
		if err != nil {
			return err
		}
		err = fw.WriteColumnData(a)
		a.Release()
		if err != nil {
			return fmt.Errorf("write parquet column %s: %w", schema.Field(j).Name, err)
		}
	}
	return nil
}

func release(rs []arrow.RecordBatch) {
	for _, r := range rs {
		r.Release()
	}
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
	return gatherSortedRead(ctx, w, paths, key, partReadFor(len(paths)))
}

// gatherSortedRead is gatherSortedParts reading each part as how says.
func gatherSortedRead(ctx context.Context, w io.Writer, paths []string, key string, how partRead) error {
	keys, rows := make([]*partReader, len(paths)), make([]partRows, len(paths))
	closeRows := func() {
		for _, r := range rows {
			if r != nil {
				r.done()
			}
		}
	}
	for i, p := range paths {
		var err error
		if strings.HasSuffix(p, ".arrow") {
			var r *partReader
			if keys[i], r, err = openPartTwice(p); err == nil {
				rows[i] = &recordRows{r: r}
			}
		} else if keys[i], err = openPartColumn(ctx, p, key, how); err == nil {
			rows[i], err = openPartRows(ctx, p, how)
		}
		if err != nil {
			for _, r := range keys {
				if r != nil {
					r.done()
				}
			}
			closeRows()
			return err
		}
	}
	order, err := keyOrderOf(keys, paths, key)
	if err != nil {
		closeRows()
		return err
	}
	defer order.close()
	defer closeRows()
	return gatherFrom(ctx, w, paths, rows, order)
}

// openPartTwice opens the IPC part path for two readers, each of which
// reads every batch of it, the stream decoded once: a batch is held
// until both have read past it (the key order reads at most a gathered
// batch ahead of the rows).
func openPartTwice(path string) (*partReader, *partReader, error) {
	r, err := openPart(context.Background(), path, partReadFor(1))
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
