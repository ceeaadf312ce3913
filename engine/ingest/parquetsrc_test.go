package ingest

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/povrisk/povrisk/engine/fault"
)

// pqCol is one column of a test Parquet file: its type and a function
// appending row i (nil value: null).
type pqCol struct {
	name string
	typ  arrow.DataType
	vals []any
}

// writeParquet writes the columns with arrow-go (snappy, small pages, so
// that a file of a few hundred rows has several compressed pages) and
// returns the file's bytes.
func writeParquet(t testing.TB, path string, cols []pqCol, rowGroup int64) []byte {
	t.Helper()
	fields := make([]arrow.Field, len(cols))
	for i, c := range cols {
		fields[i] = arrow.Field{Name: c.name, Type: c.typ, Nullable: true}
	}
	schema := arrow.NewSchema(fields, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for i, c := range cols {
		fb := b.Field(i)
		for _, v := range c.vals {
			if v == nil {
				fb.AppendNull()
				continue
			}
			switch fb := fb.(type) {
			case *array.StringBuilder:
				fb.Append(v.(string))
			case *array.Int32Builder:
				fb.Append(int32(v.(int)))
			case *array.Int64Builder:
				fb.Append(int64(v.(int)))
			case *array.Float64Builder:
				fb.Append(v.(float64))
			case *array.BooleanBuilder:
				fb.Append(v.(bool))
			case *array.Date32Builder:
				fb.Append(arrow.Date32(v.(int)))
			case *array.Date64Builder:
				fb.Append(arrow.Date64(v.(int64)))
			case *array.TimestampBuilder:
				fb.Append(arrow.Timestamp(v.(int64)))
			case *array.Decimal128Builder:
				fb.Append(decimal128.FromI64(int64(v.(int))))
			default:
				t.Fatalf("no builder for %T", fb)
			}
		}
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	var buf bytes.Buffer
	props := parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Snappy), parquet.WithMaxRowGroupLength(rowGroup),
		parquet.WithDataPageSize(512), parquet.WithDictionaryDefault(false))
	w, err := pqarrow.NewFileWriter(schema, &buf, props, pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if path != "" {
		writeFile(t, path, buf.Bytes())
	}
	return buf.Bytes()
}

func strs(s ...string) []any {
	v := make([]any, len(s))
	for i, x := range s {
		if x != "" {
			v[i] = x
		}
	}
	return v
}

func repeat(v any, n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// days is the day number of a date, computed with package time.
func days(s string) int {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return int(t.Unix() / 86400)
}

// TestParquetTypes: dates, timestamps (with and without a zone), decimals
// and string dates in Parquet files written by arrow-go are read exactly.
func TestParquetTypes(t *testing.T) {
	drop := t.TempDir()
	sh, _ := time.LoadLocation("Asia/Shanghai")
	midnightSH := time.Date(2015, 3, 1, 0, 0, 0, 0, sh).UnixMilli() // 2015-02-28T16:00Z
	lateSH := time.Date(2015, 3, 1, 23, 30, 0, 0, sh).UnixMilli()   // 2015-03-01T15:30Z
	writeParquet(t, filepath.Join(drop, "households.parquet"), []pqCol{
		{"household_id", arrow.BinaryTypes.String, strs("H1", "H2", "H3")},
		{"region_code", arrow.BinaryTypes.String, strs("520123102201", "520123102201", "520123102201")},
		{"poverty_status", arrow.BinaryTypes.String, strs("escaped", "general", "general")},
		{"escape_year", arrow.PrimitiveTypes.Int32, []any{2019, nil, nil}},
		{"monitor_type", arrow.BinaryTypes.String, strs("", "", "")},
		{"registered_date", &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "Asia/Shanghai"}, []any{midnightSH, lateSH, midnightSH}},
		{"housing_safe", arrow.FixedWidthTypes.Boolean, []any{true, false, nil}},
		{"water_safe", arrow.FixedWidthTypes.Boolean, []any{true, true, nil}},
	}, 2)
	wall := time.Date(2024, 5, 6, 23, 59, 59, 0, time.UTC).UnixMicro()
	writeParquet(t, filepath.Join(drop, "persons.parquet"), []pqCol{
		{"person_id", arrow.BinaryTypes.String, strs("P1", "P2", "P3")},
		{"household_id", arrow.BinaryTypes.String, strs("H1", "H2", "H3")},
		{"birth_date", arrow.FixedWidthTypes.Date32, []any{days("1980-01-01"), days("1996-02-29"), int(civilDays(11996, 2, 29))}},
		{"sex", arrow.BinaryTypes.String, strs("M", "F", "F")},
		{"relation", arrow.BinaryTypes.String, strs("head", "head", "head")},
		{"labor_capacity", arrow.BinaryTypes.String, strs("full", "full", "full")},
		{"disability_grade", arrow.PrimitiveTypes.Int64, []any{0, 1, 0}},
		{"chronic_disease", arrow.FixedWidthTypes.Boolean, []any{false, true, false}},
		{"major_disease", arrow.FixedWidthTypes.Boolean, []any{false, false, false}},
		{"schooling", arrow.BinaryTypes.String, strs("none", "none", "none")},
		{"deceased_date", &arrow.TimestampType{Unit: arrow.Microsecond}, []any{wall, nil, nil}},
	}, 64)
	writeParquet(t, filepath.Join(drop, "income_records.parquet"), []pqCol{
		{"household_id", arrow.BinaryTypes.String, strs("H1", "H1", "H2")},
		{"period", arrow.BinaryTypes.String, strs("2024-01", "202402", "2024-01")},
		{"wage_income", &arrow.Decimal128Type{Precision: 20, Scale: 2}, []any{150050, 1, 12345678901234567}},
		{"business_income", arrow.PrimitiveTypes.Float64, []any{0.1, 0.0, 1e300}},
		{"property_income", arrow.PrimitiveTypes.Int64, []any{0, 0, 0}},
		{"transfer_income", arrow.PrimitiveTypes.Int32, []any{100, 0, 0}},
		{"production_cost", arrow.BinaryTypes.String, strs("12.5", "0", "0")},
	}, 64)
	writeParquet(t, filepath.Join(drop, "monitoring_events.parquet"), []pqCol{
		{"household_id", arrow.BinaryTypes.String, strs("H1", "H2")},
		{"identified_date", arrow.FixedWidthTypes.Date64, []any{int64(days("2023-06-01")) * 86400000, int64(days("1899-12-31")) * 86400000}},
		{"risk_type", arrow.BinaryTypes.String, strs("illness", "other")},
		{"eliminated_date", arrow.BinaryTypes.String, strs("2023/07/01", "")},
	}, 64)
	wh := filepath.Join(t.TempDir(), "w")
	rep := ingestShare(t, drop, wh, 1) // one bad row of a few: more than 5% on purpose
	want := map[string]string{
		"households": "household_id,region_code,poverty_status,escape_year,monitor_type,registered_date,housing_safe,water_safe\n" +
			"H1,520123102201,escaped,2019,,2015-03-01,true,true\nH2,520123102201,general,,,2015-03-01,false,true\nH3,520123102201,general,,,2015-03-01,,\n",
		"persons": "person_id,household_id,id_number_hash,birth_date,sex,relation,labor_capacity,disability_grade,chronic_disease,major_disease,schooling,deceased_date\n" +
			"P1,H1,,1980-01-01,M,head,full,0,false,false,none,2024-05-06\nP2,H2,,1996-02-29,F,head,full,1,true,false,none,\n",
		"income_records": "household_id,period,wage_income,business_income,property_income,transfer_income,production_cost\n" +
			"H1,2024-01-01,1500.5,0.1,0,100,12.5\nH1,2024-02-01,0.01,0,0,0,0\n",
		"monitoring_events": "household_id,identified_date,risk_type,eliminated_date\nH1,2023-06-01,illness,2023-07-01\n",
	}
	for tb, w := range want {
		if got := dumpTable(t, wh, tb); got != w {
			t.Errorf("%s:\n%s\nwant\n%s", tb, got, w)
		}
	}
	reasons := map[string]string{}
	for _, tr := range rep.Tables {
		if tr.Read != tr.Accepted+tr.Rejected {
			t.Errorf("%s: read %d accepted %d rejected %d", tr.Table, tr.Read, tr.Accepted, tr.Rejected)
		}
		if tr.RejectFile != "" {
			b, err := os.ReadFile(filepath.Join(wh, strings.Replace(tr.RejectFile, "DROPID", rep.DropID, 1)))
			if err != nil {
				t.Fatal(err)
			}
			reasons[tr.Table] = string(b)
		}
	}
	for tb, w := range map[string][]string{
		"persons":           {"persons.parquet,4,birth_date,", `"11996-02-29"`},
		"income_records":    {"income_records.parquet,4,wage_income,", "beyond the bound"},
		"monitoring_events": {"monitoring_events.parquet,3,identified_date,", "between 1900 and 2100"},
	} {
		for _, s := range w {
			if !strings.Contains(reasons[tb], s) {
				t.Errorf("%s rejects lack %q:\n%s", tb, s, reasons[tb])
			}
		}
	}
}

func civilDays(y, m, d int) int32 { return daysFromCivil(y, m, d) }

// smallHouseholds is a valid households Parquet file of n rows.
func smallHouseholds(t testing.TB, n int, rowGroup int64) []byte {
	ids := make([]any, n)
	for i := range ids {
		ids[i] = "H" + strings.Repeat("x", i%7) + string(rune('A'+i%26)) + strconv.Itoa(i)
	}
	return writeParquet(t, "", []pqCol{
		{"household_id", arrow.BinaryTypes.String, ids},
		{"region_code", arrow.BinaryTypes.String, repeat("520123102201", n)},
		{"poverty_status", arrow.BinaryTypes.String, repeat("escaped", n)},
		{"escape_year", arrow.PrimitiveTypes.Int32, repeat(2019, n)},
		{"monitor_type", arrow.BinaryTypes.String, repeat(nil, n)},
		{"registered_date", arrow.FixedWidthTypes.Date32, repeat(days("2015-03-01"), n)},
		{"housing_safe", arrow.FixedWidthTypes.Boolean, repeat(true, n)},
		{"water_safe", arrow.FixedWidthTypes.Boolean, repeat(false, n)},
	}, rowGroup)
}

// TestParquetCorrupt: single-byte corruptions of a small Parquet file
// (pages, page headers, footer) ends in rows or an error, never a panic;
// corrupt pages that make the reader panic are reported as bad input
// naming the file and the row group.
func TestParquetCorrupt(t *testing.T) {
	good := smallHouseholds(t, 40, 20)
	dir := t.TempDir()
	if r := loadOne(t, "households", writeFile(t, filepath.Join(dir, "households.parquet"), good), "", nil, nil); r.err != nil || r.accepted != 40 {
		t.Fatalf("valid file: accepted %d, %v", r.accepted, r.err)
	}
	var errs, panics int
	// Every third byte (pages, page headers, footer): about a thousand files.
	for i := 4; i < len(good)-8; i += 3 {
		for _, x := range []byte{0xff} {
			bad := append([]byte(nil), good...)
			bad[i] ^= x
			p := writeFile(t, filepath.Join(dir, "households.parquet"), bad)
			r := loadOne(t, "households", p, "", nil, nil)
			if r.err == nil {
				continue
			}
			errs++
			if strings.Contains(r.err.Error(), "corrupt Parquet data") {
				panics++
				var fe *FileError
				if !errors.As(r.err, &fe) || fe.File != "households.parquet" || fault.Of(r.err) != fault.BadInput ||
					!strings.Contains(r.err.Error(), "row group") && !strings.Contains(r.err.Error(), "footer") {
					t.Fatalf("byte %d: %v, want a bad-input file error naming the file and the row group", i, r.err)
				}
			}
		}
	}
	t.Logf("%d corruptions, %d errors, %d recovered panics", (len(good)-12)/3, errs, panics)
	if errs == 0 || panics == 0 {
		t.Errorf("%d errors, %d recovered panics: the corruptions did not reach the reader's failure paths", errs, panics)
	}
}

// TestCappedAllocator: a buffer over maxAlloc panics (recovered by the
// readers into a file error) instead of being allocated.
func TestCappedAllocator(t *testing.T) {
	c := capped{memory.DefaultAllocator}
	if b := c.Allocate(1024); len(b) != 1024 {
		t.Fatalf("Allocate(1024) gave %d bytes", len(b))
	}
	for _, n := range []int{maxAlloc + 1, -1} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Allocate(%d) did not panic", n)
				}
			}()
			c.Allocate(n)
		}()
	}
}
