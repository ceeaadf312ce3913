package run

import (
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/povrisk/povrisk/engine"
	"github.com/povrisk/povrisk/engine/civil"
	"github.com/povrisk/povrisk/engine/ingest"
	"github.com/povrisk/povrisk/engine/rundir"
)

// TestNightWithRegionsAndVisits ingests the fixture's drop with a regions
// table and visit outcomes added (v1.1), runs the night and checks what
// they give: the names in ranked.csv and the work lists' sheets, the
// places, and summary.json visits recounted from the rows written here.
func TestNightWithRegionsAndVisits(t *testing.T) {
	f := setupE2E(t)
	ctx := context.Background()
	dir := t.TempDir()
	drop := filepath.Join(dir, "drop")
	if err := os.MkdirAll(drop, 0o700); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(f.drop, "*.csv"))
	for _, src := range files {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(drop, filepath.Base(src)), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	h, hh := readCSV(t, filepath.Join(f.drop, "households.csv"))
	// Names: every township and county named, villages from the drop's
	// village column, one township left unnamed.
	names := map[string]string{}
	for _, r := range hh {
		code := r[h["region_code"]]
		names[code] = r[h["village"]]
		names[code[:9]] = "镇" + code[6:9]
		names[code[:6]] = "县" + code[:6]
	}
	var unnamed string
	for c := range names {
		if len(c) == 9 && (unnamed == "" || c < unnamed) {
			unnamed = c
		}
	}
	delete(names, unnamed)
	var regions [][]string
	for c, n := range names {
		regions = append(regions, []string{c, n})
	}
	slices.SortFunc(regions, func(a, b []string) int { return strings.Compare(a[0], b[0]) })
	writeDropCSV(t, filepath.Join(drop, "regions.csv"), []string{"region_code", "name"}, regions)
	// Visits: 30 households, outcomes and sources in turn, dated inside the
	// window (prev as-of, as-of], plus 5 before it.
	outcomes, sources := []string{"confirmed", "no_risk", "not_reached", "moved", "other"}, []string{"model", "rule", ""}
	var visits [][]string
	wantOutcome, wantSource := map[string]int{}, map[string][2]int{}
	for i := 0; i < 35; i++ {
		day := civil.Format(f.asOf.AddDate(0, 0, -(i % 20)))
		if i >= 30 {
			day = civil.Format(f.prevAsOf) // the previous as-of: not counted
		}
		o, s := outcomes[i%5], sources[i%3]
		visits = append(visits, []string{hh[i*7][h["household_id"]], day, o, s, "V01", "备注不出现"})
		if i < 30 {
			wantOutcome[o]++
			src := s
			if src == "" {
				src = "other"
			}
			c := wantSource[src]
			if o == "confirmed" {
				c[0]++
			}
			if o == "no_risk" {
				c[1]++
			}
			wantSource[src] = c
		}
	}
	writeDropCSV(t, filepath.Join(drop, "visit_outcomes.csv"), []string{"household_id", "visit_date", "outcome", "source", "visitor_code", "note"}, visits)
	db, err := engine.OpenDB("")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	key, err := ingest.LoadKey(f.key)
	if err != nil {
		t.Fatal(err)
	}
	wh := filepath.Join(dir, "warehouse")
	rep, err := ingest.Run(ctx, db, ingest.Options{Drop: drop, Warehouse: wh, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range rep.Tables {
		if (tr.Table == "regions" || tr.Table == "visit_outcomes") && tr.Error != "" {
			t.Fatalf("ingest %s: %s", tr.Table, tr.Error)
		}
	}
	runs := filepath.Join(dir, "runs")
	o := f.options(runs)
	o.Warehouse = wh
	o.AsOf = f.prevAsOf
	if _, err := Run(ctx, db, o); err != nil {
		t.Fatal(err)
	}
	o.AsOf = f.asOf
	res, err := Run(ctx, db, o)
	if err != nil {
		t.Fatal(err)
	}
	run, err := rundir.Read(res.Dir)
	if err != nil {
		t.Fatal(err)
	}
	s := run.Summary
	// Visits recounted from the rows written above.
	v := s.Visits
	if v == nil || !v.Present || v.Since != civil.Format(f.prevAsOf) {
		t.Fatalf("visits %+v", v)
	}
	got := map[string]int{"confirmed": v.Confirmed, "no_risk": v.NoRisk, "not_reached": v.NotReached, "moved": v.Moved, "other": v.Other}
	for _, o := range outcomes {
		if got[o] != wantOutcome[o] {
			t.Errorf("visits %s = %d, want %d", o, got[o], wantOutcome[o])
		}
	}
	if v.Visited != 30 {
		t.Errorf("visited %d, want 30", v.Visited)
	}
	sum := 0
	for _, c := range v.Counties {
		sum += c.Visited
	}
	if sum != 30 {
		t.Errorf("counties' visits add up to %d", sum)
	}
	for _, bs := range v.BySource {
		w := wantSource[bs.Source]
		if bs.Confirmed != w[0] || bs.NoRisk != w[1] {
			t.Errorf("source %s: confirmed %d no_risk %d, want %v", bs.Source, bs.Confirmed, bs.NoRisk, w)
		}
		if w[0]+w[1] > 0 && (bs.Precision == nil || *bs.Precision != float64(w[0])/float64(w[0]+w[1])) {
			t.Errorf("source %s: precision %v", bs.Source, bs.Precision)
		}
	}
	b, _ := os.ReadFile(filepath.Join(res.Dir, "summary.json"))
	if strings.Contains(string(b), "备注不出现") {
		t.Error("a visit note reached summary.json")
	}
	// Places and names.
	for _, p := range s.Places {
		if p.Name != names[p.Code] {
			t.Errorf("place %s named %q, want %q", p.Code, p.Name, names[p.Code])
		}
	}
	rh, ranked := readCSV(t, filepath.Join(res.Dir, "ranked.csv"))
	for _, r := range ranked {
		if r[rh["village_name"]] != names[r[rh["region_code"]]] || r[rh["township_name"]] != names[r[rh["township_code"]]] ||
			r[rh["county_name"]] != names[r[rh["county_code"]]] {
			t.Fatalf("ranked names %s/%s/%s for %s", r[rh["county_name"]], r[rh["township_name"]], r[rh["village_name"]], r[rh["region_code"]])
		}
	}
	x, err := excelize.OpenFile(filepath.Join(res.Dir, "worklists", "520123.xlsx"))
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	for _, sh := range x.GetSheetList() {
		if sh == sheetSummary || sh == sheetHelp || sh == sheetMeta || sh == sheetElim {
			continue
		}
		code := ""
		if strings.HasPrefix(sh, "镇") {
			code = "520123" + strings.TrimPrefix(sh, "镇")
		} else {
			code = sh
		}
		if sh != names[code] && !(code == unnamed && sh == unnamed) {
			t.Errorf("sheet %q is not a township's name", sh)
		}
	}
}

func writeDropCSV(t *testing.T, path string, header []string, rows [][]string) {
	t.Helper()
	fh, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := csv.NewWriter(fh)
	if err := w.Write(header); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteAll(rows); err != nil {
		t.Fatal(err)
	}
	if err := fh.Close(); err != nil {
		t.Fatal(fmt.Errorf("write %s: %w", path, err))
	}
}
