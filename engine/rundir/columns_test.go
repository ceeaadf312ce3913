package rundir

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// TestColumnsWriterBytes: the column-parallel writer writes the bytes of
// the serial one (NewParquetWriter), for every kind of column the merge
// gathers (text with and without a dictionary, nullable numbers with
// some, no and only nulls, flags), a batch of more rows than a row group
// holds, and a short one.
func TestColumnsWriterBytes(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "household_id", Type: arrow.BinaryTypes.String},
		{Name: "county_code", Type: arrow.BinaryTypes.String},
		{Name: "note", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "n", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "k", Type: arrow.PrimitiveTypes.Int64},
		{Name: "x", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "full", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "none", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "flag", Type: arrow.FixedWidthTypes.Boolean},
	}, nil)
	rng := rand.New(rand.NewPCG(1, 2))
	batch := func(n int) arrow.RecordBatch {
		b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
		defer b.Release()
		for i := range n {
			b.Field(0).(*array.StringBuilder).Append(fmt.Sprintf("52012310100%07d", rng.IntN(1e7)))
			b.Field(1).(*array.StringBuilder).Append(fmt.Sprintf("5201%02d", rng.IntN(20)))
			if rng.IntN(5) == 0 {
				b.Field(2).(*array.StringBuilder).AppendNull()
			} else {
				b.Field(2).(*array.StringBuilder).Append(fmt.Sprintf("因病致贫 %d", rng.IntN(50)))
			}
			if rng.IntN(3) == 0 {
				b.Field(3).(*array.Int32Builder).AppendNull()
			} else {
				b.Field(3).(*array.Int32Builder).Append(int32(rng.IntN(100)))
			}
			b.Field(4).(*array.Int64Builder).Append(int64(i))
			if rng.IntN(4) == 0 {
				b.Field(5).(*array.Float64Builder).AppendNull()
			} else {
				b.Field(5).(*array.Float64Builder).Append(rng.NormFloat64())
			}
			b.Field(6).(*array.Float64Builder).Append(rng.Float64())
			b.Field(7).(*array.Float64Builder).AppendNull()
			b.Field(8).(*array.BooleanBuilder).Append(rng.IntN(2) == 0)
		}
		return b.NewRecordBatch()
	}
	recs := []arrow.RecordBatch{batch(BatchRows + 1234), batch(5000), batch(1)}
	defer release(recs)
	var serial, parallel bytes.Buffer
	fw, err := NewParquetWriter(schema, &serial)
	if err != nil {
		t.Fatal(err)
	}
	cw, err := NewColumnsWriter(schema, &parallel, 3)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if err := fw.Write(r); err != nil {
			t.Fatal(err)
		}
		if err := cw.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := cw.Close(); err != nil {
		t.Fatal(err)
	}
	if serial.Len() < 100000 {
		t.Fatalf("serial file of %d bytes: the test wrote too little", serial.Len())
	}
	if !bytes.Equal(serial.Bytes(), parallel.Bytes()) {
		n := 0
		for n < min(serial.Len(), parallel.Len()) && serial.Bytes()[n] == parallel.Bytes()[n] {
			n++
		}
		t.Fatalf("column-parallel file (%d bytes) differs from the serial one (%d bytes) from byte %d", parallel.Len(), serial.Len(), n)
	}
}

// TestColumnsWriterNested: a list column is not flat: the file is
// pqarrow's serial writer's, byte for byte.
func TestColumnsWriterNested(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{{Name: "l", Type: arrow.ListOf(arrow.PrimitiveTypes.Int32), Nullable: true}}, nil)
	if flatSchema(schema) {
		t.Fatal("a list column counted as flat")
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	lb := b.Field(0).(*array.ListBuilder)
	for i := range 100 {
		if i%7 == 0 {
			lb.AppendNull()
			continue
		}
		lb.Append(true)
		for k := range i % 4 {
			lb.ValueBuilder().(*array.Int32Builder).Append(int32(i * k))
		}
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	var serial, cols bytes.Buffer
	fw, err := NewParquetWriter(schema, &serial)
	if err != nil {
		t.Fatal(err)
	}
	cw, err := NewColumnsWriter(schema, &cols, 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := errors.Join(fw.Write(rec), cw.Write(rec), fw.Close(), cw.Close()); err != nil {
		t.Fatal(err)
	}
	if serial.Len() == 0 || !bytes.Equal(serial.Bytes(), cols.Bytes()) {
		t.Fatalf("list column: %d bytes against the serial writer's %d", cols.Len(), serial.Len())
	}
}

func release(rs []arrow.RecordBatch) {
	for _, r := range rs {
		r.Release()
	}
}
