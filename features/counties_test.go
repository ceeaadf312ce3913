package features

import (
	"context"
	"encoding/csv"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/povrisk/povrisk/datasets"
)

// TestCountiesFilter: the tables of each county (Options.Counties) hold
// exactly that county's households, with the same values as the table of
// the whole province; an empty, non-nil list keeps none.
func TestCountiesFilter(t *testing.T) {
	if testing.Short() {
		t.Skip("generates and ingests 1,500 households")
	}
	ctx := context.Background()
	drop := filepath.Join(t.TempDir(), "drop")
	if _, err := datasets.Generate(ctx, datasets.GenerateOptions{Households: 1500, Months: 24, Seed: 3, Out: drop, Format: "parquet"}); err != nil {
		t.Fatal(err)
	}
	db := openDB(t)
	w := ingestDropAllowRejects(t, ctx, db, drop)
	asOf := time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC)
	rows := func(o Options) (header []string, body [][]string) {
		tab, err := ComputeWith(ctx, db, w, asOf, nil, o)
		if err != nil {
			t.Fatal(err)
		}
		defer tab.Release()
		path := filepath.Join(t.TempDir(), "f.csv")
		if err := WriteCSV(tab, path); err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(readTestFile(t, path)), "\ufeff"))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		return recs[0], recs[1:]
	}
	header, whole := rows(Options{})
	reg := slices.Index(header, "region_code")
	if reg < 0 {
		t.Fatalf("no region_code in %v", header)
	}
	byCounty := map[string][]string{}
	for _, r := range whole {
		c := r[reg][:min(6, len(r[reg]))]
		byCounty[c] = append(byCounty[c], strings.Join(r, ","))
	}
	if len(byCounty) < 2 {
		t.Fatalf("the drop has %d counties: cannot test the filter", len(byCounty))
	}
	for c, want := range byCounty {
		_, got := rows(Options{Counties: []string{c}})
		lines := make([]string, len(got))
		for i, r := range got {
			lines[i] = strings.Join(r, ",")
		}
		if !slices.Equal(lines, want) {
			t.Errorf("county %s: %d rows, want the %d rows of the whole table (same values, same order)", c, len(lines), len(want))
		}
	}
	if _, none := rows(Options{Counties: []string{}}); len(none) != 0 {
		t.Errorf("an empty county list kept %d households", len(none))
	}
}
