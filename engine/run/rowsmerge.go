package run

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"

	"github.com/povrisk/povrisk/engine/fault"
	"github.com/povrisk/povrisk/engine/rundir"
)

// The merge streams the night's ranked rows (docs/scale.md): every part's
// rows file holds the part's rows in the night's rank order (score
// descending, ties by household_id), so a k-way merge of the parts by
// that key gives the province's order row by row. The merge assigns each
// row its global rank as it comes (county and township ranks, tiers and
// the top k are county-local, final in the parts), counts it for
// summary.json, and hands it, in chunks, to the writers of ranked.parquet
// and ranked.csv and to the outputs gathered in rank order (the
// contributions). It holds a batch of rows per part and a few chunks in
// flight: its memory is set by the number of parts, not by the province.

// rowsBatch is the number of rows per batch of a part's rows file,
// and so the rows the merge holds per part; mergeChunkRows the rows per chunk
// handed to the writers. Variables so that a test can make them small.
var (
	rowsBatch      = 4096
	mergeChunkRows = 4096
)

// heldRows counts the rows the merge holds at once: decoded from a
// part's rows file and not yet written by every writer (the test of
// boundedness reads its peak).
type heldRows struct{ n, peak atomic.Int64 }

func (h *heldRows) add(n int) {
	v := h.n.Add(int64(n))
	for {
		p := h.peak.Load()
		if v <= p || h.peak.CompareAndSwap(p, v) {
			return
		}
	}
}

// mergeHook, when set (by a test), is called with the peak of the rows
// the rows merge held and the rows it merged.
var mergeHook func(peak, rows int64)

// rowChunk is a run of consecutive rows of the night's order, shared by
// the writers (read-only); parts[i] is the part of rows[i].
type rowChunk struct {
	rows  []rundir.Row
	parts []int32
	refs  atomic.Int32
	held  *heldRows
}

// done is called by each writer once it has written the chunk.
func (c *rowChunk) done() {
	if c.refs.Add(-1) == 0 {
		c.held.add(-len(c.rows))
	}
}

// rowsReader reads one part's rows file a batch at a time.
type rowsReader struct {
	path  string
	part  int32
	f     *os.File
	dec   *rowDecoder
	batch []rundir.Row
	pos   int
	held  *heldRows
	// The previous row's key (the order is checked).
	lastScore float64
	lastID    string
}

func openRows(path string, part int32, held *heldRows) (*rowsReader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fault.Wrap(fault.BadInput, fmt.Errorf("read part rows: %w", err))
	}
	r := &rowsReader{path: path, part: part, f: f, dec: newRowDecoder(f), held: held}
	if err := r.load(); err != nil {
		f.Close()
		return nil, err
	}
	return r, nil
}

// load reads the next batch (r.batch empty at the end of the file).
func (r *rowsReader) load() error {
	r.batch, r.pos = nil, 0
	for len(r.batch) == 0 {
		b, err := r.dec.next()
		if errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return fault.Wrap(fault.BadInput, fmt.Errorf("read part rows %s: %w", r.path, err))
		}
		r.batch = b
	}
	r.held.add(len(r.batch))
	return nil
}

// cur is the part's next row (nil at the end).
func (r *rowsReader) cur() *rundir.Row {
	if r.pos < len(r.batch) {
		return &r.batch[r.pos]
	}
	return nil
}

// next moves past the current row, checking the part's order.
func (r *rowsReader) next() error {
	c := &r.batch[r.pos]
	if r.lastID != "" && !rankBefore(&rundir.Row{Score: r.lastScore, HouseholdID: r.lastID}, c) {
		return fault.Wrap(fault.BadInput, fmt.Errorf("part rows %s: household %s comes after %s out of the rank order: the part is not povrisk's; run its shard again",
			r.path, c.HouseholdID, r.lastID))
	}
	r.lastScore, r.lastID = c.Score, c.HouseholdID
	if r.pos++; r.pos == len(r.batch) {
		return r.load()
	}
	return nil
}

func (r *rowsReader) close() { r.f.Close() }

// rankBefore: a comes before b in the night's order (score descending,
// ties by household_id), rankRows's order.
func rankBefore(a, b *rundir.Row) bool {
	if a.Score != b.Score {
		return a.Score > b.Score
	}
	return strings.Compare(a.HouseholdID, b.HouseholdID) < 0
}

// rowsHeap is a binary min-heap of the part readers by their current row.
type rowsHeap []*rowsReader

func (h rowsHeap) less(i, j int) bool {
	a, b := h[i].cur(), h[j].cur()
	if a.Score == b.Score && a.HouseholdID == b.HouseholdID {
		return h[i].part < h[j].part
	}
	return rankBefore(a, b)
}

func (h rowsHeap) down(i int) {
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		m := l
		if r := l + 1; r < len(h) && h.less(r, l) {
			m = r
		}
		if !h.less(m, i) {
			return
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}

func (h rowsHeap) init() {
	for i := len(h)/2 - 1; i >= 0; i-- {
		h.down(i)
	}
}

// rowsMerged is what the rows merge counted: summary.json's counts, the
// counties' top-k sizes and the first household of the night.
type rowsMerged struct {
	counts rundir.Counts
	topK   map[string]int
	top    string
}

// streamRows merges the rows files of every part (paths, in part order)
// in the night's order, gives each row its global rank and calls emit
// with chunks of mergeChunkRows rows (the last shorter); emit's writers call
// done on each chunk. households is the night's households (for the
// counts), meta its top-k settings.
func streamRows(ctx context.Context, paths []string, households int, meta *nightMeta, held *heldRows, emit func(*rowChunk) error) (*rowsMerged, error) {
	var h rowsHeap
	defer func() {
		for _, r := range h {
			r.close()
		}
	}()
	for i, p := range paths {
		r, err := openRows(p, int32(i), held)
		if err != nil {
			return nil, err
		}
		if r.cur() == nil {
			r.close()
			continue
		}
		h = append(h, r)
	}
	h.init()
	cnt := newRowCounter()
	out := &rowsMerged{}
	var rank int32
	for len(h) > 0 {
		c := &rowChunk{rows: make([]rundir.Row, 0, mergeChunkRows), parts: make([]int32, 0, mergeChunkRows), held: held}
		for len(h) > 0 && len(c.rows) < mergeChunkRows {
			r := h[0]
			row := *r.cur()
			rank++
			row.Rank, row.Index = rank, int(r.part)
			if rank == 1 {
				out.top = row.HouseholdID
			}
			cnt.add(&row)
			c.rows = append(c.rows, row)
			c.parts = append(c.parts, r.part)
			if err := r.next(); err != nil {
				return nil, err
			}
			if r.cur() == nil {
				r.close()
				h[0] = h[len(h)-1]
				h = h[:len(h)-1]
			}
			h.down(0)
		}
		// The chunk's rows are counted in held by their batches; from
		// here the chunk holds them (its batches may be dropped).
		if err := emit(c); err != nil {
			return nil, err
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	out.counts = cnt.counts(households)
	out.topK = countyTopK(cnt.county, meta.TopShare, meta.TopK)
	if mergeHook != nil {
		mergeHook(held.peak.Load(), int64(rank))
	}
	return out, nil
}
