package features

import (
	"context"
	"encoding/csv"
	"fmt"
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

	// The elimination assessment of a county (a shard's) is the whole
	// province's, restricted to the county, value for value.
	all, err := AssessElimination(ctx, db, w, asOf, nil)
	if err != nil {
		t.Fatal(err)
	}
	wantAs := map[string][]string{}
	for _, a := range all {
		c := a.RegionCode[:min(6, len(a.RegionCode))]
		wantAs[c] = append(wantAs[c], fmt.Sprintf("%+v", a))
	}
	if len(all) == 0 {
		t.Fatal("no household assessed: cannot test the county filter of AssessEliminationIn")
	}
	for c := range byCounty {
		got, err := AssessEliminationIn(ctx, db, w, asOf, nil, []string{c})
		if err != nil {
			t.Fatal(err)
		}
		lines := make([]string, len(got))
		for i, a := range got {
			lines[i] = fmt.Sprintf("%+v", a)
		}
		if !slices.Equal(lines, wantAs[c]) {
			t.Errorf("county %s: %d assessments, want the province's %d of the county (same values, same order)", c, len(lines), len(wantAs[c]))
		}
	}
}
