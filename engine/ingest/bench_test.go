package ingest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/povrisk/povrisk/datasets"
)

// incomeCSV makes n rows of income_records for households H0..H(n/24).
func incomeCSV(n int) []byte {
	var b bytes.Buffer
	b.WriteString("household_id,period,wage_income,business_income,property_income,transfer_income,production_cost\n")
	for i := 0; i < n; i++ {
		// 24 distinct months per household: 2024-01 .. 2025-12.
		fmt.Fprintf(&b, "H%08d,%d-%02d,%d.50,%d,0,%d.25,%d\n", i/24, 2024+i%24/12, i%12+1, 1000+i%5000, i%300, i%900, i%77)
	}
	return b.Bytes()
}

// BenchmarkRowReader measures the RFC 4180 splitter alone (graded sizes).
func BenchmarkRowReader(b *testing.B) {
	for _, n := range []int{1000, 10000, 100000} {
		data := incomeCSV(n)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				rr := newRowReader(bytes.NewReader(data))
				for rr.next() != io.EOF {
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// BenchmarkLoadTable measures checking rows into Arrow batches, without
// (validate) and with Parquet output, at graded sizes.
func BenchmarkLoadTable(b *testing.B) {
	t, _ := datasets.Lookup("income_records")
	for _, n := range []int{10000, 100000, 1000000} {
		data := incomeCSV(n)
		r := &refs{households: newKeySet(), persons: newKeySet()}
		for i := 0; i <= n/24; i++ {
			r.households.add([]byte(fmt.Sprintf("H%08d", i)), true)
		}
		for _, parquetOut := range []bool{false, true} {
			b.Run(fmt.Sprintf("%d/parquet=%v", n, parquetOut), func(b *testing.B) {
				b.SetBytes(int64(len(data)))
				b.ReportAllocs()
				out := ""
				if parquetOut {
					out = filepath.Join(b.TempDir(), "t.parquet")
				}
				for i := 0; i < b.N; i++ {
					rr := newRowReader(bytes.NewReader(data))
					rr.next()
					header := make([]string, rr.numFields())
					for j := range header {
						header[j] = string(rr.field(j))
					}
					l, err := newTableLoader(t, "income_records.csv", header, r, testKey, false)
					if err != nil {
						b.Fatal(err)
					}
					if err := l.open(out, io.Discard); err != nil {
						b.Fatal(err)
					}
					if err := l.loadCSV(context.Background(), rr); err != nil {
						b.Fatal(err)
					}
					if err := l.close(); err != nil {
						b.Fatal(err)
					}
					if l.rejected != 0 {
						b.Fatalf("%d rejected", l.rejected)
					}
				}
				b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
			})
		}
	}
}

// TestProfileDrop ingests the drop named by POVRISK_PROFILE_DROP (skipped
// otherwise); run with -cpuprofile to see where an ingest spends its time.
func TestProfileDrop(t *testing.T) {
	drop := os.Getenv("POVRISK_PROFILE_DROP")
	if drop == "" {
		t.Skip("set POVRISK_PROFILE_DROP to a drop directory")
	}
	rep := ingestT(t, drop, t.TempDir())
	for _, tr := range rep.Tables {
		t.Logf("%s: %d rows in %.1fs", tr.Table, tr.Read, tr.Seconds)
	}
}

// BenchmarkStrTable measures interning distinct keys and looking them up
// again, in strTable and, for comparison, in a map[string]int32 (graded
// sizes; the GC cost of the map shows at the larger sizes).
func BenchmarkStrTable(b *testing.B) {
	for _, n := range []int{10000, 100000, 1000000} {
		keys := make([][]byte, n)
		for i := range keys {
			keys[i] = []byte(fmt.Sprintf("C%011d", i*7919%n))
		}
		b.Run(fmt.Sprintf("%d/strTable", n), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				t := newStrTable()
				for _, k := range keys {
					t.insert(k)
				}
				for _, k := range keys {
					if _, ok := t.get(k); !ok {
						b.Fatal("lost key")
					}
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "keys/s")
		})
		b.Run(fmt.Sprintf("%d/map", n), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				m := map[string]int32{}
				for _, k := range keys {
					if _, ok := m[string(k)]; !ok {
						m[string(k)] = int32(len(m))
					}
				}
				for _, k := range keys {
					if _, ok := m[string(k)]; !ok {
						b.Fatal("lost key")
					}
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "keys/s")
		})
	}
}

// BenchmarkRun measures a whole first ingest (checksums, all tables in
// parallel, Parquet, manifests) of generated drops at graded sizes; it
// reports rows/s and CPU-seconds are best read from bench/ingest.sh.
func BenchmarkRun(b *testing.B) {
	for _, hh := range []int{1000, 10000, 50000} {
		drop := filepath.Join(b.TempDir(), "drop")
		if _, err := datasets.Generate(context.Background(), datasets.GenerateOptions{
			Households: hh, Months: 24, Seed: 1, Out: drop, Truth: filepath.Join(b.TempDir(), "truth.csv"),
		}); err != nil {
			b.Fatal(err)
		}
		db := openDB(b)
		b.Run(fmt.Sprint(hh), func(b *testing.B) {
			var rows int64
			for i := 0; i < b.N; i++ {
				rep, err := Run(context.Background(), db, Options{Drop: drop, Warehouse: filepath.Join(b.TempDir(), "wh"), Key: testKey})
				if err != nil {
					b.Fatal(err)
				}
				for _, t := range rep.Tables {
					rows += t.Read
				}
			}
			b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
