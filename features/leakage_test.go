package features

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/povrisk/povrisk/features/rules"
)

// copyDrop copies the CSV files of the dirs into dst, appending the rows
// (header excluded) of a file to an existing file of the same name.
func copyDrop(t *testing.T, dst string, dirs ...string) {
	t.Helper()
	for _, dir := range dirs {
		files, err := filepath.Glob(filepath.Join(dir, "*.csv"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			target := filepath.Join(dst, filepath.Base(f))
			old, err := os.ReadFile(target)
			if err == nil {
				if !bytes.HasSuffix(old, []byte("\n")) {
					old = append(old, '\n')
				}
				if filepath.Base(dir) != "future" {
					// a second file with a header: drop its header line
					_, b, _ = bytes.Cut(b, []byte("\n"))
				}
				b = append(old, b...)
			}
			if err := os.WriteFile(target, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestNoLeakage: rows dated after the as-of date, added to every dated
// table, change nothing in the feature table (all columns, rule facts
// included, compared as CSV text).
func TestNoLeakage(t *testing.T) {
	ctx := context.Background()
	asOf := time.Date(2025, 6, 30, 0, 0, 0, 0, time.UTC)
	base := t.TempDir()
	copyDrop(t, base, "testdata/cases/schooling_status_assets/drop", "testdata/leakage/extra")
	future := t.TempDir()
	copyDrop(t, future, base, "testdata/leakage/future")
	futureFiles, _ := filepath.Glob("testdata/leakage/future/*.csv")
	if len(futureFiles) < 11 {
		t.Fatalf("testdata/leakage/future has %d files; want one per dated table (11)", len(futureFiles))
	}
	var out [2]string
	for i, drop := range []string{base, future} {
		db := openDB(t)
		out[i] = computeCSV(t, ctx, db, ingestDrop(t, ctx, db, drop), asOf, rules.SamplePolicy())
	}
	if out[0] != out[1] {
		a, b := strings.Split(out[0], "\n"), strings.Split(out[1], "\n")
		for i := 0; i < len(a) || i < len(b); i++ {
			var x, y string
			if i < len(a) {
				x = a[i]
			}
			if i < len(b) {
				y = b[i]
			}
			if x != y {
				t.Errorf("line %d differs:\n-base   %s\n+future %s", i+1, x, y)
			}
		}
	}
	for _, diag := range []string{"I10", "C34"} {
		if strings.Contains(out[0]+out[1], diag) {
			t.Errorf("a diagnosis code (%s) appears in the feature table", diag)
		}
	}
	if !strings.Contains(out[0], "\nH1,") || strings.Count(out[0], "\n") != 6 {
		t.Errorf("base feature table should hold H1..H5 (header + 5 rows), got:\n%s", out[0])
	}
}
