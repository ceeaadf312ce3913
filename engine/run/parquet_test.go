package run

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/povrisk/povrisk/engine/rundir"
)

// TestParquetByteStable writes a table whose string column has a
// dictionary larger than arrow-go's default page limit (64K distinct
// 100-byte values): with a dictionary fallback, arrow-go lists page
// encodings in map order and two writes differ in their footers.
func TestParquetByteStable(t *testing.T) {
	const n = rundir.BatchRows
	schema := arrow.NewSchema([]arrow.Field{{Name: "village_note", Type: arrow.BinaryTypes.String}, {Name: "x", Type: arrow.PrimitiveTypes.Float64}}, nil)
	b := array.NewRecordBuilder(memory.NewGoAllocator(), schema)
	defer b.Release()
	pad := strings.Repeat("村", 30)
	for i := range n {
		b.Field(0).(*array.StringBuilder).Append(fmt.Sprintf("%s%08d", pad, i))
		b.Field(1).(*array.Float64Builder).Append(float64(i % 7))
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	tbl := array.NewTableFromRecords(schema, []arrow.RecordBatch{rec})
	defer tbl.Release()
	var first []byte
	for k := range 6 {
		var buf bytes.Buffer
		if err := rundir.WriteFeaturesParquet(&buf, tbl); err != nil {
			t.Fatal(err)
		}
		if k == 0 {
			first = buf.Bytes()
		} else if !bytes.Equal(buf.Bytes(), first) {
			t.Fatalf("write %d differs from the first", k+1)
		}
	}
}
