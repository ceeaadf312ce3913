package ingest

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/povrisk/povrisk/datasets"
)

// colBuf is one column of a batch held as Arrow's own buffers: the
// validity bitmap and the values (offsets and bytes for strings), appended
// to directly and reused from batch to batch. Arrow's builders cost a
// reservation, a bounds check and an interface call per value, and fresh
// zeroed buffers (page faults, garbage) for every batch; this costs an
// append. A null slot holds a zero value, so that the buffers depend on
// the rows only.
type colBuf struct {
	typ   arrow.Type // the column's Arrow type: STRING, DATE32, INT32, FLOAT64 or BOOL
	valid []byte     // bit i set: row i is not null
	nulls int
	i32   []int32   // Date, Month (days since 1970), Int
	f64   []float64 // Money
	bits  []byte    // Bool: the values as a bitmap
	offs  []int32   // String, Region, Enum: len(offs) = rows+1
	data  []byte    // String, Region, Enum: the bytes of the values
}

// batch is the rows of one Arrow record batch (one Parquet row group)
// being filled, or being written by the writer goroutine.
type batch struct {
	n    int
	cols []colBuf
}

func newBatch(t datasets.Table) *batch {
	b := &batch{cols: make([]colBuf, len(t.Columns))}
	for j, c := range t.Columns {
		b.cols[j].typ = c.ArrowType().ID()
	}
	b.reset()
	return b
}

// reset empties the batch, keeping its buffers.
func (b *batch) reset() {
	b.n = 0
	for j := range b.cols {
		c := &b.cols[j]
		c.valid, c.nulls = c.valid[:0], 0
		c.i32, c.f64, c.bits, c.data = c.i32[:0], c.f64[:0], c.bits[:0], c.data[:0]
		c.offs = append(c.offs[:0], 0)
	}
}

// begin opens row b.n in every column's bitmaps (all bits clear); the
// row's values are appended with the methods below, then end.
func (b *batch) begin() {
	if b.n&7 != 0 {
		return
	}
	for j := range b.cols {
		c := &b.cols[j]
		c.valid = append(c.valid, 0)
		if c.typ == arrow.BOOL {
			c.bits = append(c.bits, 0)
		}
	}
}

func (b *batch) end() { b.n++ }

func (c *colBuf) setValid(n int) { c.valid[n>>3] |= 1 << uint(n&7) }

// null appends a null to column c at row n.
func (c *colBuf) null() {
	c.nulls++
	switch c.typ {
	case arrow.STRING:
		c.offs = append(c.offs, int32(len(c.data)))
	case arrow.DATE32, arrow.INT32:
		c.i32 = append(c.i32, 0)
	case arrow.FLOAT64:
		c.f64 = append(c.f64, 0)
	}
}

func (c *colBuf) str(n int, s []byte) {
	c.setValid(n)
	c.data = append(c.data, s...)
	c.offs = append(c.offs, int32(len(c.data)))
}

func (c *colBuf) int32(n int, v int32) {
	c.setValid(n)
	c.i32 = append(c.i32, v)
}

func (c *colBuf) float64(n int, v float64) {
	c.setValid(n)
	c.f64 = append(c.f64, v)
}

func (c *colBuf) bool(n int, v bool) {
	c.setValid(n)
	if v {
		c.bits[n>>3] |= 1 << uint(n&7)
	}
}

// record wraps the batch's buffers (not copied: the batch must not change
// until the record is released) as a record batch of schema.
func (b *batch) record(schema *arrow.Schema) arrow.RecordBatch {
	arrs := make([]arrow.Array, len(b.cols))
	for j, f := range schema.Fields() {
		c := &b.cols[j]
		var valid *memory.Buffer
		if c.nulls > 0 {
			valid = memory.NewBufferBytes(c.valid)
		}
		var bufs []*memory.Buffer
		switch c.typ {
		case arrow.STRING:
			bufs = []*memory.Buffer{valid, memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(c.offs)), memory.NewBufferBytes(c.data)}
		case arrow.DATE32, arrow.INT32:
			bufs = []*memory.Buffer{valid, memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(c.i32))}
		case arrow.FLOAT64:
			bufs = []*memory.Buffer{valid, memory.NewBufferBytes(arrow.Float64Traits.CastToBytes(c.f64))}
		case arrow.BOOL:
			bufs = []*memory.Buffer{valid, memory.NewBufferBytes(c.bits)}
		}
		d := array.NewData(f.Type, b.n, bufs, nil, c.nulls, 0)
		arrs[j] = array.MakeFromData(d)
		d.Release()
	}
	rec := array.NewRecordBatch(schema, arrs, int64(b.n))
	for _, a := range arrs {
		a.Release()
	}
	return rec
}
