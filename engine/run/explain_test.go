package run

import (
	"context"
	"math"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/povrisk/povrisk/engine"
	"github.com/povrisk/povrisk/engine/fault"
	"github.com/povrisk/povrisk/engine/rundir"
)

// TestExplain checks an explanation against values read here from the
// run's Parquet files: the contributions add up to the score with the
// base, and each percentile is the share of the county's values at most
// the household's, counted in Go.
func TestExplain(t *testing.T) {
	f := setupE2E(t)
	ctx := context.Background()
	db, err := engine.OpenDB("")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var id, region string
	var score float64
	// The household ranked 10th, and one monitoring object (not ranked).
	if err := db.QueryRow("SELECT household_id, region_code, score FROM read_parquet(?) WHERE rank = 10", filepath.Join(f.runDir(), "ranked.parquet")).Scan(&id, &region, &score); err != nil {
		t.Fatal(err)
	}
	e, err := Explain(ctx, db, f.runDir(), id)
	if err != nil {
		t.Fatal(err)
	}
	if !e.Eligible || e.RegionCode != region || e.AsOf != f.asOf.Format("2006-01-02") {
		t.Fatalf("explanation header %+v", e)
	}
	sum := e.Base
	for _, l := range e.Features {
		sum += l.Contribution
	}
	if math.Abs(sum-score) > 1e-9 {
		t.Errorf("base + contributions = %v, score %v", sum, score)
	}
	if !sort.SliceIsSorted(e.Features, func(a, b int) bool { return e.Features[a].Contribution > e.Features[b].Contribution }) {
		t.Error("features not sorted by contribution")
	}
	// Percentiles, counted here for three features.
	checked := 0
	for _, l := range e.Features {
		if l.Value == nil || checked == 3 {
			continue
		}
		checked++
		rows, err := db.Query(`SELECT CAST("`+l.Feature+`" AS DOUBLE) FROM read_parquet(?) WHERE region_code LIKE ? AND "`+l.Feature+`" IS NOT NULL`,
			filepath.Join(f.runDir(), "features.parquet"), region[:6]+"%")
		if err != nil {
			t.Fatal(err)
		}
		n, le := 0, 0
		for rows.Next() {
			var v float64
			rows.Scan(&v)
			n++
			if v <= *l.Value {
				le++
			}
		}
		rows.Close()
		want := math.Round(1000*float64(le)/float64(n)) / 10
		if l.Percentile == nil || *l.Percentile != want {
			t.Errorf("%s = %v: percentile %v, want %v (%d of %d)", l.Feature, *l.Value, l.Percentile, want, le, n)
		}
	}
	if checked == 0 {
		t.Fatal("no feature with a value")
	}
	var monitored string
	if err := db.QueryRow("SELECT household_id FROM read_parquet(?) WHERE monitored_at_as_of ORDER BY household_id LIMIT 1", filepath.Join(f.runDir(), "features.parquet")).Scan(&monitored); err != nil {
		t.Fatal(err)
	}
	if e, err := Explain(ctx, db, f.runDir(), monitored); err != nil || e.Eligible || e.Ranked != nil {
		t.Errorf("monitored household %s: eligible %v, err %v", monitored, e != nil && e.Eligible, err)
	}
	if _, err := Explain(ctx, db, f.runDir(), "NO-SUCH"); err == nil {
		t.Error("unknown household explained")
	}
}

// TestExplainRefusesIDNumbers: an ID number given as the household id is a
// usage error whose message does not repeat it (18 digits with a valid
// check character, and a 15-digit legacy number).
func TestExplainRefusesIDNumbers(t *testing.T) {
	for _, id := range []string{"11010519491231002X", "110105491231002"} {
		_, err := Explain(context.Background(), nil, t.TempDir(), id)
		if fault.Of(err) != fault.Usage {
			t.Fatalf("%s: kind %v (%v), want usage", id, fault.Of(err), err)
		}
		if strings.Contains(err.Error(), id) || strings.Contains(err.Error(), id[6:14]) {
			t.Errorf("the error repeats the ID number or its birth date: %v", err)
		}
	}
}

// TestExplainPlaceNames: names with codes, the code alone where no name is
// known; a monitoring object (no ranked row) named from summary places.
func TestExplainPlaceNames(t *testing.T) {
	e := &Explanation{RegionCode: "520123101001", Ranked: map[string]any{"village_name": "红岩村", "township_name": "", "county_name": "修文县"}}
	e.placeNames(nil)
	if got, want := e.PlaceLine(), "红岩村 (520123101001), 520123101, 修文县 (520123)"; got != want {
		t.Errorf("ranked: %q, want %q", got, want)
	}
	m := &Explanation{RegionCode: "520123101001"}
	m.placeNames([]rundir.Place{{Code: "520121", Name: "开阳县"}, {Code: "520123", Name: "修文县"}, {Code: "520123101", Name: "龙场镇"}})
	if got, want := m.PlaceLine(), "520123101001, 龙场镇 (520123101), 修文县 (520123)"; got != want {
		t.Errorf("monitored: %q, want %q", got, want)
	}
}
