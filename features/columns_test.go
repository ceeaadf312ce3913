package features

import (
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// stringTable builds a table whose column s is given in chunks (nil entry:
// null), with a numeric column n beside it.
func stringTable(t *testing.T, typ arrow.DataType, chunks [][]*string) arrow.Table {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	t.Cleanup(func() { mem.AssertSize(t, 0) })
	schema := arrow.NewSchema([]arrow.Field{{Name: "s", Type: typ, Nullable: true}, {Name: "n", Type: arrow.PrimitiveTypes.Float64}}, nil)
	var recs []arrow.RecordBatch
	for _, c := range chunks {
		b := array.NewRecordBuilder(mem, schema)
		for _, v := range c {
			sb := b.Field(0).(array.StringLikeBuilder)
			if v == nil {
				sb.AppendNull()
			} else {
				sb.Append(*v)
			}
			b.Field(1).(*array.Float64Builder).Append(1)
		}
		recs = append(recs, b.NewRecordBatch())
		b.Release()
	}
	tab := array.NewTableFromRecords(schema, recs)
	for _, r := range recs {
		r.Release()
	}
	t.Cleanup(tab.Release)
	return tab
}

func sp(s string) *string { return &s }

func TestStringColumn(t *testing.T) {
	tests := []struct {
		name   string
		typ    arrow.DataType
		chunks [][]*string
		col    string
		want   []string
		err    string // substring of the error; "" none
	}{
		{"chunks and nulls", arrow.BinaryTypes.String, [][]*string{{sp("410101"), nil}, {}, {sp("escaped;monitored"), sp("")}}, "s",
			[]string{"410101", "", "escaped;monitored", ""}, ""},
		{"large string, zh", arrow.BinaryTypes.LargeString, [][]*string{{sp("大病"), sp("因病；因灾")}}, "s", []string{"大病", "因病；因灾"}, ""},
		{"string view", arrow.BinaryTypes.StringView, [][]*string{{nil, sp("a long enough string to leave the inline view")}}, "s",
			[]string{"", "a long enough string to leave the inline view"}, ""},
		{"no rows", arrow.BinaryTypes.String, nil, "s", []string{}, ""},
		{"missing column", arrow.BinaryTypes.String, [][]*string{{sp("x")}}, "region_code", nil, `no column "region_code"`},
		{"numeric column", arrow.BinaryTypes.String, [][]*string{{sp("x")}}, "n", nil, `column "n" is float64, not a string`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := StringColumn(stringTable(t, tc.typ, tc.chunks), tc.col)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) || fmt.Sprintf("%q", got) != fmt.Sprintf("%q", tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
