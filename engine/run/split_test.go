package run

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/povrisk/povrisk/datasets"
	"github.com/povrisk/povrisk/engine"
	"github.com/povrisk/povrisk/engine/warehouse"
	"github.com/povrisk/povrisk/features"
)

// TestSplitPays: the rule worked by hand from its weights (0.5 to read the
// province, 2 per household written, 1 per group's filtered read).
func TestSplitPays(t *testing.T) {
	for _, c := range []struct {
		groups        int
		own, province int64
		want          bool
	}{
		{1, 100, 100, false},
		{3, 100, 100, false}, // 2 > 2.5 fails
		{4, 100, 100, true},  // 3 > 2.5
		{2, 25, 100, false},  // 1 > 1 fails
		{3, 25, 100, true},   // 2 > 1
		{2, 0, 100, true},    // a shard of no households: 1 > 0.5
		{3, 0, 0, false},     // an empty province
	} {
		if got := splitPays(c.groups, c.own, c.province); got != c.want {
			t.Errorf("splitPays(%d, %d, %d) = %v, want %v", c.groups, c.own, c.province, got, c.want)
		}
	}
}

// TestSplitWarehouse: each split table holds, for each group, exactly the
// rows (as a multiset) of the warehouse's table that a per-group filter
// keeps: the household's county in the group, or the person's household's;
// a group with no row of a table reads as an empty table of its columns;
// tables without a household key are not split.
func TestSplitWarehouse(t *testing.T) {
	f := setupE2E(t)
	w, err := warehouse.Open(f.wh)
	if err != nil {
		t.Fatal(err)
	}
	db, err := engine.OpenDB("")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	in := &inputs{w: w}
	sizes, err := countySizes(ctx, db, in)
	if err != nil {
		t.Fatal(err)
	}
	if len(sizes) < 3 {
		t.Fatalf("the fixture has %d counties; the test wants at least 3", len(sizes))
	}
	// Two groups of the fixture's counties, and a third of a county with
	// no household.
	var codes []string
	for _, s := range sizes {
		codes = append(codes, s.code)
	}
	groups := [][]string{codes[:1], codes[1:], {"999999"}}
	dir := filepath.Join(t.TempDir(), "split")
	tables, err := splitWarehouse(ctx, db, w, groups, dir, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(tables) != len(groups) {
		t.Fatalf("%d group tables, want %d", len(tables), len(groups))
	}
	hh, _ := w.TablePath("households")
	pe, _ := w.TablePath("persons")
	splitSeen := 0
	for _, tb := range datasets.Tables() {
		orig, ok := w.TablePath(tb.Name)
		if !ok {
			continue
		}
		col, ref := features.GroupKey(tb)
		for g, counties := range groups {
			got, _ := tables[g].TablePath(tb.Name)
			if col == "" {
				if got != orig {
					t.Errorf("%s of group %d: %s, want the warehouse's %s (no household key)", tb.Name, g, got, orig)
				}
				continue
			}
			if !strings.HasPrefix(got, dir) {
				t.Fatalf("%s of group %d: %s, not under the split %s", tb.Name, g, got, dir)
			}
			splitSeen++
			inGroup := "substr(region_code, 1, 6) IN (" + quoteAll(counties) + ")"
			keys := "SELECT household_id FROM read_parquet(" + engine.QuoteString(hh) + ") WHERE " + inGroup
			if ref == "persons" {
				keys = "SELECT person_id FROM read_parquet(" + engine.QuoteString(pe) + ") WHERE household_id IN (" + keys + ")"
			}
			want := "SELECT * FROM read_parquet(" + engine.QuoteString(orig) + ") WHERE " + engine.QuoteIdent(col) + " IN (" + keys + ")"
			split := "SELECT * FROM read_parquet(" + engine.QuoteString(got) + ")"
			nWant, nGot := count(t, db, want), count(t, db, split)
			if nWant != nGot {
				t.Errorf("%s of group %d: %d rows, want %d", tb.Name, g, nGot, nWant)
			}
			if d := count(t, db, "("+want+") EXCEPT ALL ("+split+")"); d != 0 {
				t.Errorf("%s of group %d: %d of the rows the filter keeps are missing from the split", tb.Name, g, d)
			}
			if d := count(t, db, "("+split+") EXCEPT ALL ("+want+")"); d != 0 {
				t.Errorf("%s of group %d: %d rows of the split are not the filter's", tb.Name, g, d)
			}
			if g == 2 && nGot != 0 {
				t.Errorf("%s of the group without households: %d rows", tb.Name, nGot)
			}
		}
	}
	if splitSeen == 0 {
		t.Fatal("no table was split")
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatal(err)
	}
}

func quoteAll(s []string) string {
	q := make([]string, len(s))
	for i, v := range s {
		q[i] = engine.QuoteString(v)
	}
	return strings.Join(q, ", ")
}

func count(t *testing.T, db *sql.DB, q string) int64 {
	t.Helper()
	var n int64
	if err := db.QueryRow("SELECT count(*) FROM (" + q + ")").Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func TestParseSplit(t *testing.T) {
	for s, want := range map[string]SplitMode{"": SplitAuto, "auto": SplitAuto, "always": SplitAlways, "never": SplitNever} {
		if got, err := ParseSplit(s); err != nil || got != want {
			t.Errorf("ParseSplit(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	for _, s := range []string{"Always", "yes", "1"} {
		if _, err := ParseSplit(s); err == nil || !strings.Contains(err.Error(), "auto, always or never") {
			t.Errorf("ParseSplit(%q): error %v, want one naming the choices", s, err)
		}
	}
}
