package ingest

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/povrisk/povrisk/engine"
	"github.com/povrisk/povrisk/engine/fault"
	"github.com/povrisk/povrisk/engine/warehouse"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// testKey is the pseudonymisation key of the tests; testdata/idhash.py
// computes the expected hashes independently.
var testKey = []byte("povrisk-test-key-0123456789")

func openDB(t testing.TB) *sql.DB {
	t.Helper()
	db, err := engine.OpenDB("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// dumpParquet renders a Parquet file as CSV: a header of column names, then
// one line per row; dates as YYYY-MM-DD, money with the shortest exact
// decimal, booleans true/false, null as an empty field.
func dumpParquet(t testing.TB, path string) string {
	t.Helper()
	rdr, err := file.OpenParquetFile(path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer rdr.Close()
	fr, err := pqarrow.NewFileReader(rdr, pqarrow.ArrowReadProperties{BatchSize: 1 << 16}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()
	var b strings.Builder
	for i, f := range tbl.Schema().Fields() {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(f.Name)
	}
	b.WriteByte('\n')
	tr := array.NewTableReader(tbl, 1<<16)
	defer tr.Release()
	for tr.Next() {
		rec := tr.RecordBatch()
		for r := 0; r < int(rec.NumRows()); r++ {
			for c, col := range rec.Columns() {
				if c > 0 {
					b.WriteByte(',')
				}
				if col.IsNull(r) {
					continue
				}
				var s string
				switch a := col.(type) {
				case *array.String:
					s = a.Value(r)
				case *array.Date32:
					s = a.Value(r).ToTime().Format("2006-01-02")
				case *array.Float64:
					s = strconv.FormatFloat(a.Value(r), 'f', -1, 64)
				case *array.Int32:
					s = strconv.Itoa(int(a.Value(r)))
				case *array.Boolean:
					s = strconv.FormatBool(a.Value(r))
				default:
					t.Fatalf("%s: unexpected type %s", path, col.DataType())
				}
				if strings.ContainsAny(s, ",\"\n") {
					s = `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
				}
				b.WriteString(s)
			}
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// golden compares got with the file, or rewrites it with -update.
func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs:\n-want\n%s\n+got\n%s", path, want, got)
	}
}

func countsText(rep *Report) string {
	var b strings.Builder
	for _, t := range rep.Tables {
		fmt.Fprintf(&b, "%s read=%d accepted=%d rejected=%d error=%q extra=%v\n", t.Table, t.Read, t.Accepted, t.Rejected, t.Error, t.Extra)
	}
	fmt.Fprintf(&b, "missing=%v\n", rep.Missing)
	// The optional v1.1 tables absent from a drop are not missing: a v1
	// drop (clean) lacks all three and is still whole.
	fmt.Fprintf(&b, "absent_optional=%v\n", rep.Optional)
	return b.String()
}

// TestGolden ingests hand-written drops and compares the stored tables (as
// CSV), the reject files and the counts with reviewed golden files.
func TestGolden(t *testing.T) {
	for _, name := range []string{"clean", "dirty"} {
		t.Run(name, func(t *testing.T) {
			wh := t.TempDir()
			// MaxRejectShare 1: the dirty drop rejects most of its rows on purpose.
			o := Options{Drop: filepath.Join("testdata", name), Warehouse: wh, Key: testKey, MaxRejectShare: 1}
			rep, err := Run(context.Background(), openDB(t), o)
			if name == "dirty" {
				// social_insurance lacks a required column and education is
				// empty: the ingest fails and commits nothing, but reports
				// every count.
				if fault.Of(err) != fault.BadInput || !errors.Is(err, ErrUnhealthy) ||
					!strings.Contains(err.Error(), "table social_insurance not loaded") || !strings.Contains(err.Error(), "table education not loaded") {
					t.Fatalf("dirty drop: %v (kind %v), want bad input naming social_insurance and education", err, fault.Of(err))
				}
				if _, werr := warehouse.Open(wh); !errors.Is(werr, warehouse.ErrNoVersion) {
					t.Fatalf("dirty drop committed something: %v", werr)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			for _, tr := range rep.Tables {
				if tr.Read != tr.Accepted+tr.Rejected {
					t.Errorf("%s: read %d != accepted %d + rejected %d", tr.Table, tr.Read, tr.Accepted, tr.Rejected)
				}
			}
			gdir := filepath.Join("testdata", name+".golden")
			golden(t, filepath.Join(gdir, "counts.txt"), countsText(rep))
			if name == "dirty" {
				// The rest of the drop, without its two broken files, gives
				// the stored tables and reject files.
				o.Drop = copyDropWithout(t, o.Drop, "social_insurance.csv", "education.csv")
				if rep, err = Run(context.Background(), openDB(t), o); err != nil {
					t.Fatal(err)
				}
			}
			w, err := warehouse.Open(wh)
			if err != nil {
				t.Fatal(err)
			}
			for _, ts := range w.Manifest().Tables {
				p, ok := w.TablePath(ts.Name)
				if !ok {
					t.Fatalf("TablePath(%s) not found", ts.Name)
				}
				golden(t, filepath.Join(gdir, ts.Name+".csv"), dumpParquet(t, p))
			}
			rejs, _ := filepath.Glob(filepath.Join(wh, "drops", rep.DropID, "rejects", "*.csv"))
			var got []string
			for _, r := range rejs {
				b, err := os.ReadFile(r)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, filepath.Base(r))
				golden(t, filepath.Join(gdir, "rejects", filepath.Base(r)), string(b))
			}
			golden(t, filepath.Join(gdir, "reject-files.txt"), strings.Join(got, "\n")+"\n")
			// No ID number, name or phone in clear anywhere in the warehouse.
			assertNoClear(t, wh, []string{"52012319800101100X", "520123198203034322", "张三", "13800000001"})
		})
	}
}

// assertNoClear fails when any of the clear values occurs in a file under dir.
func assertNoClear(t *testing.T, dir string, clear []string) {
	t.Helper()
	files := 0
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files++
		for _, c := range clear {
			if bytes.Contains(b, []byte(c)) {
				t.Errorf("%s contains %q in clear", p, c)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files == 0 {
		t.Fatalf("%s holds no files to search", dir)
	}
}
