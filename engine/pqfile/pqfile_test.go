package pqfile

import (
	"bytes"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// TestStatistics: by default every column has min/max statistics; NoStats
// drops them for the columns named, NoStatistics for every column; row
// groups follow RowGroup.
func TestStatistics(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.BinaryTypes.String}, {Name: "x", Type: arrow.PrimitiveTypes.Float64}}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for i := range 10 {
		b.Field(0).(*array.StringBuilder).Append(string(rune('a' + i)))
		b.Field(1).(*array.Float64Builder).Append(float64(i))
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	cases := []struct {
		name string
		s    Settings
		want [2]bool // statistics of id, x
	}{
		{"default", Settings{RowGroup: 4}, [2]bool{true, true}},
		{"no stats for id", Settings{RowGroup: 4, NoStats: []string{"id"}}, [2]bool{false, true}},
		{"no statistics", Settings{RowGroup: 4, NoStatistics: true}, [2]bool{false, false}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			w, err := pqarrow.NewFileWriter(schema, &buf, Props(schema, c.s), ArrowProps())
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Write(rec); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			r, err := file.NewParquetReader(bytes.NewReader(buf.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			if n := r.NumRowGroups(); n != 3 {
				t.Errorf("%d row groups of 10 rows at 4 a group, want 3", n)
			}
			for g := range r.NumRowGroups() {
				for col, want := range c.want {
					cc, err := r.MetaData().RowGroup(g).ColumnChunk(col)
					if err != nil {
						t.Fatal(err)
					}
					if got, _ := cc.StatsSet(); got != want {
						t.Errorf("row group %d column %d: statistics %v, want %v", g, col, got, want)
					}
				}
			}
		})
	}
}
