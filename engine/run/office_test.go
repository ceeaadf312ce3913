package run

import (
	"context"
	"encoding/json"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/povrisk/povrisk/engine"
	"github.com/povrisk/povrisk/engine/rundir"
)

// TestCountVisits recounts a hand-made visit_outcomes: visits dated in
// (since, as-of] only, per county of the household, by outcome and by
// source (null source: other), precision confirmed / (confirmed +
// no_risk), a county outside the night left out.
func TestCountVisits(t *testing.T) {
	db, err := engine.OpenDB("")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	dir := t.TempDir()
	hh, vo := filepath.Join(dir, "households.parquet"), filepath.Join(dir, "visit_outcomes.parquet")
	ctx := context.Background()
	for _, q := range []string{
		`COPY (SELECT * FROM (VALUES ('A1', '520123101001'), ('A2', '520123101002'), ('A3', '520123102001'), ('A4', '520123102002'),
			('B1', '520121101001'), ('C1', '530426101001')) t(household_id, region_code)) TO '` + hh + `' (FORMAT parquet)`,
		`COPY (SELECT household_id, CAST(visit_date AS DATE) AS visit_date, outcome, source FROM (VALUES
			('A1', '2025-12-05', 'confirmed', 'model'),
			('A2', '2025-12-06', 'no_risk', 'model'),
			('A3', '2025-12-31', 'confirmed', 'model'),   -- the as-of day: counted
			('A4', '2025-12-10', 'not_reached', 'model'),
			('A1', '2025-11-30', 'confirmed', 'model'),   -- the previous as-of: not counted
			('A2', '2026-01-01', 'confirmed', 'model'),   -- after the as-of: not counted
			('B1', '2025-12-20', 'confirmed', 'rule'),
			('B1', '2025-12-21', 'no_risk', NULL),        -- null source: other
			('B1', '2025-12-22', 'moved', 'other'),
			('A4', '2025-12-23', 'other', 'rule'),
			('C1', '2025-12-15', 'confirmed', 'model')    -- a county not in the night
		) t(household_id, visit_date, outcome, source)) TO '` + vo + `' (FORMAT parquet)`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	names := map[string]string{"520123": "修文县"}
	v, err := countVisits(ctx, db, vo, hh, "2025-11-30", "2025-12-31", map[string]bool{"520123": true, "520121": true}, names)
	if err != nil {
		t.Fatal(err)
	}
	p := func(x float64) *float64 { return &x }
	// By hand: 520121 (B1): confirmed rule, no_risk other, moved other.
	// 520123: A1 confirmed model, A2 no_risk model, A3 confirmed model,
	// A4 not_reached model, A4 other rule.
	want := rundir.Visits{Present: true, Since: "2025-11-30", Visited: 8, Confirmed: 3, NoRisk: 2, NotReached: 1, Moved: 1, Other: 1,
		BySource: []rundir.SourceVisits{{Source: "model", Visited: 4, Confirmed: 2, NoRisk: 1, Precision: p(2.0 / 3)},
			{Source: "rule", Visited: 2, Confirmed: 1, Precision: p(1)}, {Source: "other", Visited: 2, NoRisk: 1, Precision: p(0)}},
		Counties: []rundir.CountyVisits{
			{Place: rundir.Place{Code: "520121"}, Visited: 3, Confirmed: 1, NoRisk: 1, Moved: 1,
				BySource: []rundir.SourceVisits{{Source: "model"}, {Source: "rule", Visited: 1, Confirmed: 1, Precision: p(1)},
					{Source: "other", Visited: 2, NoRisk: 1, Precision: p(0)}}},
			{Place: rundir.Place{Code: "520123", Name: "修文县"}, Visited: 5, Confirmed: 2, NoRisk: 1, NotReached: 1, Other: 1,
				BySource: []rundir.SourceVisits{{Source: "model", Visited: 4, Confirmed: 2, NoRisk: 1, Precision: p(2.0 / 3)},
					{Source: "rule", Visited: 1}, {Source: "other"}}},
		}}
	got, _ := json.Marshal(v)
	exp, _ := json.Marshal(want)
	if string(got) != string(exp) {
		t.Errorf("visits\n got %s\nwant %s", got, exp)
	}
}

// TestWatchAndPlaces: the watch counts the rows eliminated in 12 months,
// with those in the top k and of high tier, per county; places list
// every county and township by code with their names.
func TestWatchAndPlaces(t *testing.T) {
	rows := []rundir.Row{
		{HouseholdID: "1", RegionCode: "520123101001", CountyCode: "520123", TownshipCode: "520123101", Tier: "high", InTopK: true},
		{HouseholdID: "2", RegionCode: "520123101002", CountyCode: "520123", TownshipCode: "520123101", Tier: "low"},
		{HouseholdID: "3", RegionCode: "520121102001", CountyCode: "520121", TownshipCode: "520121102", Tier: "medium", InTopK: true},
		{HouseholdID: "4", RegionCode: "520121102001", CountyCode: "520121", TownshipCode: "520121102", Tier: "low", InTopK: true},
	}
	names := map[string]string{"520123": "修文县", "520123101": "龙场镇", "520123101001": "红岩村"}
	markRows(rows, names, map[string]string{"1": "2025-06-30", "2": "2025-01-31", "3": "2025-12-31"}, map[string]bool{"1": true, "2": true})
	if rows[0].VillageName != "红岩村" || rows[0].TownshipName != "龙场镇" || rows[0].CountyName != "修文县" || rows[2].CountyName != "" {
		t.Errorf("names %+v", rows[0])
	}
	if !rows[0].Entered || rows[1].Entered || !rows[1].Watch || rows[1].EliminatedDate != "2025-01-31" || rows[3].Watch {
		t.Errorf("marks %+v %+v %+v", rows[0], rows[1], rows[3])
	}
	w := watchOf(rows, names)
	want := rundir.Watch{Eliminated12m: 3, InTopK: 2, High: 1, Counties: []rundir.CountyWatch{
		{Place: rundir.Place{Code: "520121"}, Eliminated12m: 1, InTopK: 1},
		{Place: rundir.Place{Code: "520123", Name: "修文县"}, Eliminated12m: 2, InTopK: 1, High: 1}}}
	got, _ := json.Marshal(w)
	exp, _ := json.Marshal(want)
	if string(got) != string(exp) {
		t.Errorf("watch\n got %s\nwant %s", got, exp)
	}
	places := placesOf(rows, names)
	wantP := []rundir.Place{{Code: "520121"}, {Code: "520121102"}, {Code: "520123", Name: "修文县"}, {Code: "520123101", Name: "龙场镇"}}
	got, _ = json.Marshal(places)
	exp, _ = json.Marshal(wantP)
	if string(got) != string(exp) {
		t.Errorf("places\n got %s\nwant %s", got, exp)
	}
	if watchOf(rows[3:], names) != nil {
		t.Error("a watch without any household eliminated")
	}
}

// TestEliminationSummary: verdicts per county, the condition most often
// unmet (ties by name), relapses from monitoring_events' counts.
func TestEliminationSummary(t *testing.T) {
	as := []assessment{
		{HouseholdID: "m3", RegionCode: "520123101001", Verdict: "not_met", Unmet: []string{"收入", "住房"}},
		{HouseholdID: "m1", RegionCode: "520123101001", Verdict: "ready", Relapse: 0.1},
		{HouseholdID: "m2", RegionCode: "520123102001", Verdict: "defer", Relapse: math.NaN()},
		{HouseholdID: "m4", RegionCode: "520123102001", Verdict: "not_met", Unmet: []string{"住房"}},
		{HouseholdID: "m5", RegionCode: "520121102001", Verdict: "not_met", Unmet: []string{"饮水", "收入"}},
	}
	names := map[string]string{"520123": "修文县", "520123101001": "红岩村"}
	rows := fromAssessments(as, names)
	if rows[0].HouseholdID != "m1" || rows[2].VillageName != "红岩村" || rows[2].CountyName != "修文县" {
		t.Errorf("rows not sorted or named: %+v", rows)
	}
	e := eliminationSummary(rows, map[string]int{"520123": 2, "530426": 1}, names, "")
	want := rundir.Elimination{Monitored: 5, Ready: 1, Defer: 1, NotMet: 3, Relapses12m: 3, Counties: []rundir.CountyElimination{
		{Place: rundir.Place{Code: "520121"}, Monitored: 1, NotMet: 1, TopUnmet: "收入"},
		{Place: rundir.Place{Code: "520123", Name: "修文县"}, Monitored: 4, Ready: 1, Defer: 1, NotMet: 2, TopUnmet: "住房", Relapses12m: 2},
		{Place: rundir.Place{Code: "530426"}, Relapses12m: 1}}}
	got, _ := json.Marshal(e)
	exp, _ := json.Marshal(want)
	if string(got) != string(exp) {
		t.Errorf("elimination\n got %s\nwant %s", got, exp)
	}
	if eliminationSummary(nil, nil, nil, "") != nil {
		t.Error("a summary without an assessment")
	}
}

// TestPrimaryRiskType: the first specific type; an income shortfall alone
// attributed to the type the model's contributions point at most; the
// profile's type without any; other last.
func TestPrimaryRiskType(t *testing.T) {
	w := func(kv map[string]float64) riskWeights {
		out := make(riskWeights, len(riskOrder))
		for k, v := range kv {
			out[riskOrder[k]] = v
		}
		return out
	}
	cases := []struct {
		types   []string
		weight  map[string]float64
		profile string
		want    string
	}{
		{[]string{"education", "other"}, map[string]float64{"illness": 0.5}, "", "education"},
		{[]string{"other"}, map[string]float64{"illness": 0.02, "disaster": 0.05, "other": 0.3}, "", "disaster"},
		{[]string{"other"}, map[string]float64{"other": 0.3}, "illness", "other"},
		{nil, nil, "labor_shortage", "labor_shortage"},
		{nil, map[string]float64{"education": 0.01}, "labor_shortage", "education"},
		{nil, nil, "", "other"},
	}
	for _, c := range cases {
		if got := primaryRiskType(c.types, w(c.weight), c.profile); got != c.want {
			t.Errorf("primaryRiskType(%v, %v, %q) = %q, want %q", c.types, c.weight, c.profile, got, c.want)
		}
	}
}

// TestEliminationsFrom: the latest elimination in the 12 months to the
// as-of date per household, and the relapses: eliminated in the window and
// identified again after it, by the as-of date.
func TestEliminationsFrom(t *testing.T) {
	db, err := engine.OpenDB("")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	dir := t.TempDir()
	hh, me := filepath.Join(dir, "households.parquet"), filepath.Join(dir, "monitoring_events.parquet")
	ctx := context.Background()
	for _, q := range []string{
		`COPY (SELECT * FROM (VALUES ('A', '520123101001'), ('B', '520123101002'), ('C', '520121101001'), ('D', '520121101002'), ('E', '520121101003'))
			t(household_id, region_code)) TO '` + hh + `' (FORMAT parquet)`,
		`COPY (SELECT household_id, CAST(i AS DATE) AS identified_date, 'illness' AS risk_type, CAST(e AS DATE) AS eliminated_date FROM (VALUES
			('A', '2023-01-31', '2025-03-31'), ('A', '2025-06-30', NULL),          -- eliminated, identified again: a relapse
			('B', '2023-01-31', '2024-12-31'),                                     -- exactly 12 months before: outside
			('C', '2023-01-31', '2025-01-31'), ('C', '2025-02-28', '2025-10-31'),   -- twice: the latest, no relapse
			('D', '2024-01-31', '2026-01-31'),                                     -- after the as-of date
			('E', '2024-01-31', '2025-12-31'), ('E', '2026-01-31', NULL)           -- identified again after the as-of: not yet
		) t(household_id, i, e)) TO '` + me + `' (FORMAT parquet)`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	elim, relapses, err := eliminationsFrom(ctx, db, me, hh, time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC), nil)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal([]any{elim, relapses})
	if want := `[{"A":"2025-03-31","C":"2025-10-31","E":"2025-12-31"},{"520123":1}]`; string(got) != want {
		t.Errorf("got %s, want %s", got, want)
	}
}
