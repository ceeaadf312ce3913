package features

import (
	"context"
	"database/sql"
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/povrisk/povrisk/engine"
	"github.com/povrisk/povrisk/engine/ingest"
	"github.com/povrisk/povrisk/engine/warehouse"
	"github.com/povrisk/povrisk/features/rules"
)

// The script tests: each directory under testdata/cases holds
//
//	drop/          a hand-written drop (CSV files, a few households)
//	as_of          the as-of date, YYYY-MM-DD
//	policy.toml    optional: the policy (default: rules/policy.sample.toml)
//	expected.csv   household_id and the columns the case asserts, every
//	               value computed by hand (empty = NULL); the set of
//	               households must equal the output's exactly
//
// The drop goes through the real ingest into a warehouse in a temp
// directory and Compute runs on a real in-memory DuckDB.

var testKey = []byte("povrisk features test key, 32 b")

// ingestDrop ingests drop into a fresh warehouse and fails on any rejected row.
func ingestDrop(t testing.TB, ctx context.Context, db *sql.DB, drop string) *warehouse.Warehouse {
	t.Helper()
	return ingestInto(t, ctx, db, drop, false)
}

// ingestDropAllowRejects ingests a simulated drop, whose dirty rows may be rejected.
func ingestDropAllowRejects(t testing.TB, ctx context.Context, db *sql.DB, drop string) *warehouse.Warehouse {
	t.Helper()
	return ingestInto(t, ctx, db, drop, true)
}

func ingestInto(t testing.TB, ctx context.Context, db *sql.DB, drop string, allowRejects bool) *warehouse.Warehouse {
	t.Helper()
	wdir := t.TempDir()
	rep, err := ingest.Run(ctx, db, ingest.Options{Drop: drop, Warehouse: wdir, Key: testKey})
	if err != nil {
		t.Fatalf("ingest %s: %v", drop, err)
	}
	for _, tr := range rep.Tables {
		if tr.Rejected > 0 && !allowRejects {
			b, _ := os.ReadFile(filepath.Join(wdir, tr.RejectFile))
			t.Fatalf("ingest %s: %d rows of %s rejected:\n%s", drop, tr.Rejected, tr.Table, b)
		}
	}
	w, err := warehouse.Open(wdir)
	if err != nil {
		t.Fatalf("open warehouse: %v", err)
	}
	return w
}

func openDB(t testing.TB) *sql.DB {
	t.Helper()
	db, err := engine.OpenDB("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// readTestFile returns the contents of path or fails the test, so that a
// comparison of two reads can never pass on two missing files.
func readTestFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// computeCSV computes the feature table of w at asOf and returns it as
// WriteCSV writes it: the text that determinism and leakage tests compare.
func computeCSV(t testing.TB, ctx context.Context, db *sql.DB, w Tables, asOf time.Time, pol *rules.Policy) string {
	t.Helper()
	tab, err := Compute(ctx, db, w, asOf, pol)
	if err != nil {
		t.Fatal(err)
	}
	defer tab.Release()
	path := filepath.Join(t.TempDir(), "f.csv")
	if err := WriteCSV(tab, path); err != nil {
		t.Fatal(err)
	}
	return string(readTestFile(t, path))
}

func readAsOf(t testing.TB, path string) time.Time {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	d, err := time.Parse("2006-01-02", strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return d
}

func TestCases(t *testing.T) {
	dirs, err := filepath.Glob("testdata/cases/*")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no cases under testdata/cases (%v)", err)
	}
	for _, dir := range dirs {
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			continue // README
		}
		t.Run(filepath.Base(dir), func(t *testing.T) {
			ctx := context.Background()
			db := openDB(t)
			w := ingestDrop(t, ctx, db, filepath.Join(dir, "drop"))
			asOf := readAsOf(t, filepath.Join(dir, "as_of"))
			pol := rules.SamplePolicy()
			if _, err := os.Stat(filepath.Join(dir, "policy.toml")); err == nil {
				if pol, err = rules.LoadPolicy(filepath.Join(dir, "policy.toml")); err != nil {
					t.Fatal(err)
				}
			}
			tab, err := Compute(ctx, db, w, asOf, pol)
			if err != nil {
				t.Fatalf("Compute: %v", err)
			}
			defer tab.Release()
			compareExpected(t, tab, filepath.Join(dir, "expected.csv"))
		})
	}
}

// tableRows reads t into rows keyed by household_id: column name -> arrow array and row index.
type cellRef struct {
	a arrow.Array
	i int
}

func tableRows(t arrow.Table) (map[string]map[string]cellRef, []string) {
	rows := map[string]map[string]cellRef{}
	var order []string
	tr := array.NewTableReader(t, 1<<20)
	defer tr.Release()
	for tr.Next() {
		rec := tr.RecordBatch()
		rec.Retain()
		for i := 0; i < int(rec.NumRows()); i++ {
			r := map[string]cellRef{}
			for j, f := range rec.Schema().Fields() {
				r[f.Name] = cellRef{rec.Column(j), i}
			}
			id := str(r["household_id"].a, i)
			rows[id] = r
			order = append(order, id)
		}
	}
	return rows, order
}

func compareExpected(t *testing.T, tab arrow.Table, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	head := recs[0]
	got, _ := tableRows(tab)
	want := map[string]bool{}
	for ln, r := range recs[1:] {
		id := r[0]
		want[id] = true
		row, ok := got[id]
		if !ok {
			t.Errorf("%s line %d: household %s missing from the output", path, ln+2, id)
			continue
		}
		for j := 1; j < len(head); j++ {
			c, ok := row[head[j]]
			if !ok {
				t.Fatalf("%s: output has no column %s", path, head[j])
			}
			if msg := cellDiff(c, r[j]); msg != "" {
				t.Errorf("%s line %d: %s %s: %s", path, ln+2, id, head[j], msg)
			}
		}
	}
	for id := range got {
		if !want[id] {
			t.Errorf("%s: household %s in the output but not expected", path, id)
		}
	}
}

// cellDiff compares an output cell with an expected text ("" = NULL);
// floats within 1e-9 relative.
func cellDiff(c cellRef, want string) string {
	got := cell(c.a, c.i)
	if c.a.IsNull(c.i) {
		got = ""
	}
	if want == "" || got == "" {
		if want != got {
			return fmt.Sprintf("-want %q +got %q", want, got)
		}
		return ""
	}
	if c.a.DataType().ID() == arrow.FLOAT64 {
		w, err := strconv.ParseFloat(want, 64)
		if err != nil {
			return "expected value not a number: " + want
		}
		g := c.a.(*array.Float64).Value(c.i)
		if math.Abs(g-w) > 1e-9*math.Max(1, math.Abs(w)) {
			return fmt.Sprintf("-want %v +got %v", w, g)
		}
		return ""
	}
	if want != got {
		return fmt.Sprintf("-want %q +got %q", want, got)
	}
	return ""
}
