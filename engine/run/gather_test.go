package run

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/povrisk/povrisk/engine/rundir"
)

// gatherRow is one row of the test's part tables, as plain values.
type gatherRow struct {
	id    string
	score float64 // null when scoreNull
	n     int64
	flag  bool // null when flagNull
	text  string
	part  int // the part it is in (not a column)

	scoreNull, flagNull bool
}

var gatherSchema = arrow.NewSchema([]arrow.Field{
	{Name: "household_id", Type: arrow.BinaryTypes.String},
	{Name: "score", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "n", Type: arrow.PrimitiveTypes.Int64},
	{Name: "flag", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
	{Name: "text", Type: arrow.BinaryTypes.String, Nullable: true},
}, nil)

// gatherTable is rows as an Arrow record batch of gatherSchema.
func gatherTable(rows []gatherRow) arrow.RecordBatch {
	b := array.NewRecordBuilder(memory.DefaultAllocator, gatherSchema)
	defer b.Release()
	for _, r := range rows {
		b.Field(0).(*array.StringBuilder).Append(r.id)
		if r.scoreNull {
			b.Field(1).AppendNull()
		} else {
			b.Field(1).(*array.Float64Builder).Append(r.score)
		}
		b.Field(2).(*array.Int64Builder).Append(r.n)
		if r.flagNull {
			b.Field(3).AppendNull()
		} else {
			b.Field(3).(*array.BooleanBuilder).Append(r.flag)
		}
		if r.text == "" {
			b.Field(4).AppendNull()
		} else {
			b.Field(4).(*array.StringBuilder).Append(r.text)
		}
	}
	return b.NewRecordBatch()
}

// gatherParts makes part tables of the sizes given, each sorted by
// household_id (ids repeat, within and across parts), and writes them to
// dir as Parquet (a shard's parts) or IPC (a single run's).
func gatherParts(t *testing.T, dir string, sizes []int, ipcParts bool) ([]string, [][]gatherRow) {
	t.Helper()
	rng := rand.New(rand.NewPCG(15, 1))
	var paths []string
	var parts [][]gatherRow
	for p, n := range sizes {
		rows := make([]gatherRow, n)
		for i := range rows {
			rows[i] = gatherRow{
				id: fmt.Sprintf("h%06d", rng.IntN(150000)), score: rng.Float64(), n: rng.Int64(),
				flag: rng.IntN(2) == 0, part: p,
				scoreNull: rng.IntN(7) == 0, flagNull: rng.IntN(5) == 0,
			}
			if k := rng.IntN(12); k > 0 {
				rows[i].text = strings.Repeat(string(rune('a'+k)), k)
			}
		}
		slices.SortStableFunc(rows, func(a, b gatherRow) int { return strings.Compare(a.id, b.id) })
		rec := gatherTable(rows)
		tab := array.NewTableFromRecords(gatherSchema, []arrow.RecordBatch{rec})
		rec.Release()
		ext := ".parquet"
		if ipcParts {
			ext = ".arrow"
		}
		path := filepath.Join(dir, fmt.Sprintf("part%d%s", p, ext))
		var b bytes.Buffer
		var err error
		if ipcParts {
			err = writePartTable(&b, tab)
		} else {
			err = writePartParquet(&b, tab)
		}
		tab.Release()
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		paths, parts = append(paths, path), append(parts, rows)
	}
	return paths, parts
}

// wantGathered is the Parquet file of rows written directly, a record of
// rundir.BatchRows rows at a time (as gather writes them).
func wantGathered(t *testing.T, rows []gatherRow) []byte {
	t.Helper()
	return bytesOf(t, func(w io.Writer) error {
		fw, err := rundir.NewParquetWriter(gatherSchema, w)
		if err != nil {
			return err
		}
		for lo := 0; lo < len(rows); lo += rundir.BatchRows {
			rec := gatherTable(rows[lo:min(lo+rundir.BatchRows, len(rows))])
			err := fw.Write(rec)
			rec.Release()
			if err != nil {
				return err
			}
		}
		return fw.Close()
	})
}

// sliceOrder gives a fixed order (orderSource).
type sliceOrder struct{ order []int32 }

func (s *sliceOrder) fill(ctx context.Context, buf []int32) (int, error) {
	n := copy(buf, s.order)
	s.order = s.order[n:]
	return n, ctx.Err()
}

// TestGatherReadSizes gathers the same parts (more rows than a run
// directory's row group, so several batches; a part of one row, one of
// none), each read in batches and through read buffers of many sizes
// (7 rows and 1 byte, sizes that divide neither the parts' row groups
// nor the gathered batches, the sizes partReadFor gives, the largest),
// by key (gatherSortedRead) and in a given order (gatherRead), and
// checks each output is the bytes of the expected rows written directly:
// the rows of every part stably merged by household_id (equal ids part
// by part), or the order's rows.
func TestGatherReadSizes(t *testing.T) {
	ctx := context.Background()
	sizes := []int{41000, 1, 26500, 0, 9731}
	reads := []partRead{
		{Batch: 7, Buffer: 1},
		{Batch: 3000, Buffer: 5000},
		partReadFor(len(sizes)),
		partReadFor(64),
		{Batch: partBatch, Buffer: partReadMaxBytes},
		{Batch: 100000, Buffer: 1 << 20},
	}
	for _, ipcParts := range []bool{false, true} {
		paths, parts := gatherParts(t, t.TempDir(), sizes, ipcParts)
		all := slices.Concat(parts...)
		if len(all) <= rundir.BatchRows {
			t.Fatalf("%d rows: the test needs more than a row group", len(all))
		}
		sorted := slices.Clone(all) // parts in order, each sorted: a stable sort keeps equal ids part by part
		slices.SortStableFunc(sorted, func(a, b gatherRow) int { return strings.Compare(a.id, b.id) })
		wantSorted := wantGathered(t, sorted)

		// A random interleaving of the parts, each part's rows in file order.
		rng := rand.New(rand.NewPCG(15, 2))
		next := make([]int, len(parts))
		var order []int32
		var ordered []gatherRow
		for len(ordered) < len(all) {
			p := rng.IntN(len(parts))
			if next[p] == len(parts[p]) {
				continue
			}
			order, ordered = append(order, int32(p)), append(ordered, parts[p][next[p]])
			next[p]++
		}
		wantOrdered := wantGathered(t, ordered)

		for _, how := range reads {
			name := fmt.Sprintf("ipc=%v/batch=%d,buffer=%d", ipcParts, how.Batch, how.Buffer)
			t.Run(name, func(t *testing.T) {
				got := bytesOf(t, func(w io.Writer) error { return gatherSortedRead(ctx, w, paths, "household_id", how) })
				if !bytes.Equal(got, wantSorted) {
					t.Errorf("merged by key: %d bytes, not the %d bytes of the rows merged directly", len(got), len(wantSorted))
				}
				got = bytesOf(t, func(w io.Writer) error {
					return gatherRead(ctx, w, paths, &sliceOrder{order: slices.Clone(order)}, how)
				})
				if !bytes.Equal(got, wantOrdered) {
					t.Errorf("in order: %d bytes, not the %d bytes of the rows in that order", len(got), len(wantOrdered))
				}
			})
		}
	}
}

// TestPartReadFor: the budget is divided over the parts, within the
// floor and the ceiling, and a bad reading is refused, not used.
func TestPartReadFor(t *testing.T) {
	for _, c := range []struct {
		parts int
		want  partRead
	}{
		{0, partRead{partBatch, 64 << 10}},
		{1, partRead{partBatch, 64 << 10}},
		{4, partRead{partBatch, 64 << 10}},
		{8, partRead{4 << 10, 32 << 10}},
		{16, partRead{2 << 10, 16 << 10}},
		{32, partRead{1 << 10, 16 << 10}},
		{1000, partRead{1 << 10, 16 << 10}},
	} {
		if got := partReadFor(c.parts); got != c.want {
			t.Errorf("partReadFor(%d) = %+v, want %+v", c.parts, got, c.want)
		}
	}
	for _, how := range []partRead{{0, 1}, {1, 0}, {-1, -1}} {
		if _, err := openPart(context.Background(), "x.parquet", how); err == nil || !strings.Contains(err.Error(), "batch of") {
			t.Errorf("openPart with %+v: %v, want the reading refused", how, err)
		}
	}
}

// TestGatherNestedParts: Parquet parts with columns of nested type (a
// list, a struct of two leaves) are read column by column all the same,
// into the bytes of the rows merged directly.
func TestGatherNestedParts(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "household_id", Type: arrow.BinaryTypes.String},
		{Name: "months", Type: arrow.ListOf(arrow.PrimitiveTypes.Int64), Nullable: true},
		{Name: "score", Type: arrow.PrimitiveTypes.Float64},
		{Name: "place", Type: arrow.StructOf(arrow.Field{Name: "county", Type: arrow.BinaryTypes.String}, arrow.Field{Name: "n", Type: arrow.PrimitiveTypes.Int32})},
	}, nil)
	parts := []string{
		`[{"household_id": "a", "months": [1, 2], "score": 0.5, "place": {"county": "k05", "n": 0}}, {"household_id": "c", "months": null, "score": 1.5, "place": {"county": "k15", "n": 1}}]`,
		`[{"household_id": "b", "months": [], "score": 2.5, "place": {"county": "k25", "n": 2}}, {"household_id": "c", "months": [3], "score": 3.5, "place": {"county": "k35", "n": 3}}, {"household_id": "d", "months": [4, 5, 6], "score": 4.5, "place": {"county": "k45", "n": 4}}]`,
	}
	want := `[{"household_id": "a", "months": [1, 2], "score": 0.5, "place": {"county": "k05", "n": 0}}, {"household_id": "b", "months": [], "score": 2.5, "place": {"county": "k25", "n": 2}},
		{"household_id": "c", "months": null, "score": 1.5, "place": {"county": "k15", "n": 1}}, {"household_id": "c", "months": [3], "score": 3.5, "place": {"county": "k35", "n": 3}},
		{"household_id": "d", "months": [4, 5, 6], "score": 4.5, "place": {"county": "k45", "n": 4}}]`
	fromJSON := func(js string) arrow.RecordBatch {
		rec, _, err := array.RecordFromJSON(memory.DefaultAllocator, schema, strings.NewReader(js))
		if err != nil {
			t.Fatal(err)
		}
		return rec
	}
	dir := t.TempDir()
	var paths []string
	for i, js := range parts {
		rec := fromJSON(js)
		tab := array.NewTableFromRecords(schema, []arrow.RecordBatch{rec})
		rec.Release()
		var b bytes.Buffer
		err := writePartParquet(&b, tab)
		tab.Release()
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, fmt.Sprintf("part%d.parquet", i))
		if err := os.WriteFile(p, b.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	wantBytes := bytesOf(t, func(w io.Writer) error {
		fw, err := rundir.NewParquetWriter(schema, w)
		if err != nil {
			return err
		}
		rec := fromJSON(want)
		defer rec.Release()
		if err := fw.Write(rec); err != nil {
			return err
		}
		return fw.Close()
	})
	for _, how := range []partRead{{Batch: 1, Buffer: 1}, partReadFor(2)} {
		got := bytesOf(t, func(w io.Writer) error { return gatherSortedRead(context.Background(), w, paths, "household_id", how) })
		if !bytes.Equal(got, wantBytes) {
			t.Errorf("%+v: %d bytes, not the %d bytes of the rows merged directly", how, len(got), len(wantBytes))
		}
	}
}
