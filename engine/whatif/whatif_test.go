package whatif

import (
	"context"
	"database/sql"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/povrisk/povrisk/engine"
	"github.com/povrisk/povrisk/engine/atomicfile"
	"github.com/povrisk/povrisk/engine/ingest"
	"github.com/povrisk/povrisk/engine/rundir"
	"github.com/povrisk/povrisk/engine/warehouse"
	"github.com/povrisk/povrisk/features"
	"github.com/povrisk/povrisk/features/rules"
)

var asOf = time.Date(2025, 6, 30, 0, 0, 0, 0, time.UTC)

func openDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := engine.OpenDB("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func ingestDrop(t *testing.T, db *sql.DB, drop string) *warehouse.Warehouse {
	t.Helper()
	wdir := t.TempDir()
	rep, err := ingest.Run(context.Background(), db, ingest.Options{Drop: drop, Warehouse: wdir, Key: []byte("povrisk whatif test key, 32 byte")})
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range rep.Tables {
		if tr.Rejected > 0 {
			t.Fatalf("%d rows of %s rejected", tr.Rejected, tr.Table)
		}
	}
	w, err := warehouse.Open(wdir)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// policyWithLine is the sample policy with the 2025 line of province 53
// (8,700) replaced.
func policyWithLine(t *testing.T, line string) *rules.Policy {
	t.Helper()
	b, err := os.ReadFile("../../features/rules/policy.sample.toml")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(b), "year = 2025\nvalue = 8700.0", "year = 2025\nvalue = "+line, 1)
	if text == string(b) {
		t.Fatal("the sample policy's 2025 line of 53 was not found")
	}
	p, err := rules.ParsePolicy([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// fixture: the night of testdata/drop under the sample policy (line 8,700,
// near-line factor 1.5: up to 13,050). One member each, 12-month income
// per head: A1 8,000 (below), A2 9,000 (near), A3 14,000, A4 12,000 (near)
// in county 530102; B1 13,500, B2 8,600 (below), B3 monitored (not
// eligible), B4 20,000 with an unsafe house in county 530103.
func fixture(t *testing.T) arrow.Table {
	t.Helper()
	db := openDB(t)
	w := ingestDrop(t, db, "testdata/drop")
	tab, err := features.Compute(context.Background(), db, w, asOf, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tab.Release)
	return tab
}

func rule(res *Result, name string) RuleChange {
	for _, r := range res.Rules {
		if r.Rule == name {
			return r
		}
	}
	return RuleChange{}
}

// TestRaisedLine: line 9,500 (near up to 14,250). Recounted by hand:
// before A1 A2 A4 B2 B4 (5), after also A3 and B1 (7); below the line
// A1 B2 -> A1 A2 B2; near A2 A4 -> A3 A4 B1. Costs at the default unit
// costs: an income rule without a cause is "other" (dibao 4,800 +
// temporary 1,500 = 6,300), the unsafe house housing_aid 20,000.
func TestRaisedLine(t *testing.T) {
	tab := fixture(t)
	costs := map[string]float64{"dibao": 4800, "temporary": 1500, "housing_aid": 20000}
	res, err := Evaluate(tab, asOf, policyWithLine(t, "9500.0"), costs, map[string]string{"530102": "甲县"})
	if err != nil {
		t.Fatal(err)
	}
	if res.FlaggedBefore != 5 || res.FlaggedAfter != 7 || res.Entered != 2 || res.Left != 0 {
		t.Errorf("totals %d -> %d, +%d -%d; want 5 -> 7, +2 -0", res.FlaggedBefore, res.FlaggedAfter, res.Entered, res.Left)
	}
	for name, want := range map[string]RuleChange{
		"income_below_line": {"income_below_line", 2, 3, 1, 0},
		"income_near_line":  {"income_near_line", 2, 3, 2, 1},
		"housing_unsafe":    {"housing_unsafe", 1, 1, 0, 0},
		"medical_burden":    {"medical_burden", 0, 0, 0, 0},
	} {
		if got := rule(res, name); got != want {
			t.Errorf("rule %s: %+v, want %+v", name, got, want)
		}
	}
	want := []CountyChange{
		{Code: "530102", Name: "甲县", FlaggedBefore: 3, FlaggedAfter: 4, Entered: 1, CostBefore: 18900, CostAfter: 25200},
		{Code: "530103", FlaggedBefore: 2, FlaggedAfter: 3, Entered: 1, CostBefore: 26300, CostAfter: 32600},
	}
	if !reflect.DeepEqual(res.Counties, want) {
		t.Errorf("counties\n got %+v\nwant %+v", res.Counties, want)
	}
	if res.CostBefore != 45200 || res.CostAfter != 57800 {
		t.Errorf("cost %v -> %v, want 45200 -> 57800", res.CostBefore, res.CostAfter)
	}
	if want := []string{"云南省2025年监测线 8,700元 → 9,500元"}; !reflect.DeepEqual(res.Changes, want) {
		t.Errorf("changes %q, want %q", res.Changes, want)
	}
}

// TestLoweredLine: line 8,000 (near up to 12,000): A1 8,000 is now near,
// A4 12,000 leaves; before 5, after A1 A2 B2 B4 (4).
func TestLoweredLine(t *testing.T) {
	tab := fixture(t)
	res, err := Evaluate(tab, asOf, policyWithLine(t, "8000.0"), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.FlaggedBefore != 5 || res.FlaggedAfter != 4 || res.Entered != 0 || res.Left != 1 {
		t.Errorf("totals %d -> %d, +%d -%d; want 5 -> 4, +0 -1", res.FlaggedBefore, res.FlaggedAfter, res.Entered, res.Left)
	}
	if got, want := rule(res, "income_below_line"), (RuleChange{"income_below_line", 2, 0, 0, 2}); got != want {
		t.Errorf("below: %+v, want %+v", got, want)
	}
	if got, want := rule(res, "income_near_line"), (RuleChange{"income_near_line", 2, 3, 2, 1}); got != want {
		t.Errorf("near: %+v, want %+v", got, want)
	}
}

// TestMonotoneInTheLine: over a range of lines, a higher line never flags
// fewer households and a lower one never more, against the night (8,700)
// and against each other.
func TestMonotoneInTheLine(t *testing.T) {
	tab := fixture(t)
	prev := -1
	for _, line := range []float64{5000, 7000, 8000, 8600, 8650, 9000, 9500, 12000, 20000} {
		res, err := Evaluate(tab, asOf, policyWithLine(t, strconv.FormatFloat(line, 'f', 1, 64)), nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.FlaggedAfter < prev {
			t.Errorf("line %v flags %d, fewer than the lower line before it (%d)", line, res.FlaggedAfter, prev)
		}
		prev = res.FlaggedAfter
		if line > 8700 && (res.Left != 0 || res.FlaggedAfter < res.FlaggedBefore) {
			t.Errorf("line %v above the night's 8,700: %d left, %d -> %d", line, res.Left, res.FlaggedBefore, res.FlaggedAfter)
		}
		if line < 8700 && (res.Entered != 0 || res.FlaggedAfter > res.FlaggedBefore) {
			t.Errorf("line %v below the night's 8,700: %d entered, %d -> %d", line, res.Entered, res.FlaggedBefore, res.FlaggedAfter)
		}
	}
	// the night's own policy changes nothing
	res, err := Evaluate(tab, asOf, rules.SamplePolicy(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.FlaggedBefore != res.FlaggedAfter || res.Entered != 0 || res.Left != 0 || len(res.Changes) != 0 {
		t.Errorf("same policy: %+v", res)
	}
}

// TestEliminationUnderANewLine reassesses the elimination case of package
// features (see its TestAssessElimination) under a 9,500 line: E1 (9,000)
// and E3 (9,000, deferred) fall short; E6 (12,000, 9,600 without
// assistance) stays ready.
func TestEliminationUnderANewLine(t *testing.T) {
	db := openDB(t)
	w := ingestDrop(t, db, "../../features/testdata/elimination/drop")
	as, err := features.AssessElimination(context.Background(), db, w, asOf, nil)
	if err != nil {
		t.Fatal(err)
	}
	res := &Result{}
	if err := EvaluateElimination(res, as, policyWithLine(t, "9500.0")); err != nil {
		t.Fatal(err)
	}
	if want := map[string]int{"ready": 2, "defer": 1, "not_met": 6}; !reflect.DeepEqual(res.EliminationBefore, want) {
		t.Errorf("before %v, want %v", res.EliminationBefore, want)
	}
	if want := map[string]int{"ready": 1, "not_met": 8}; !reflect.DeepEqual(res.EliminationAfter, want) {
		t.Errorf("after %v, want %v", res.EliminationAfter, want)
	}
	if len(res.Counties) != 1 || res.Counties[0].Code != "530102" || res.Counties[0].EliminationAfter["ready"] != 1 {
		t.Errorf("counties %+v", res.Counties)
	}

	// the same through elimination.parquet, columns in snake_case
	path := filepath.Join(t.TempDir(), "elimination.parquet")
	if _, err := db.Exec(`COPY (SELECT * FROM (VALUES
	    ('E1', '530102001001', '2025-06-30', 8, 2, CAST(9000 AS DOUBLE), 9000.0, 9000.0, 400.0, 400.0, 9000.0, true, true, true, false, 9000.0, 0.0, CAST(NULL AS DOUBLE), 'ready'),
	    ('E6', '530102001001', '2025-06-30', 13, 1, 12000.0, 12000.0, 9600.0, 0.0, 0.0, 6000.0, true, true, true, true, 9600.0, 2400.0, 0.4, 'defer'))
	    t(household_id, region_code, as_of, months_since_identified, household_size, income_pc6m, income_pc12m, income_pc_no_assist12m,
	      rigid_expenditure, rigid_medical, rigid_income, education, medical, housing, no_labour, line, assistance_amount, relapse, verdict))
	    TO '` + path + `' (FORMAT parquet)`); err != nil {
		t.Fatal(err)
	}
	back, err := ReadAssessments(path, "2025-06-30")
	if err != nil {
		t.Fatal(err)
	}
	res = &Result{}
	if err := EvaluateElimination(res, back, policyWithLine(t, "9500.0")); err != nil {
		t.Fatal(err)
	}
	// water is not in the file: not secured, so both are not_met; with it
	// E6's relapse 0.4 >= 0.3 defers it
	if want := map[string]int{"not_met": 2}; !reflect.DeepEqual(res.EliminationAfter, want) {
		t.Errorf("from parquet without water: %v, want %v", res.EliminationAfter, want)
	}
	for i := range back {
		back[i].Water = true
	}
	res = &Result{}
	if err := EvaluateElimination(res, back, policyWithLine(t, "9500.0")); err != nil {
		t.Fatal(err)
	}
	if want := map[string]int{"not_met": 1, "defer": 1}; !reflect.DeepEqual(res.EliminationAfter, want) {
		t.Errorf("from parquet: %v, want %v", res.EliminationAfter, want)
	}
	if _, err := ReadAssessments("testdata/drop/households.csv", "2025-06-30"); err == nil {
		t.Error("ReadAssessments read a CSV file")
	}
}

// FuzzReadAssessments: any bytes as elimination.parquet give assessments
// or an error, never a panic.
func FuzzReadAssessments(f *testing.F) {
	dir := f.TempDir()
	seed := filepath.Join(dir, "seed.parquet")
	db, err := engine.OpenDB("")
	if err != nil {
		f.Fatal(err)
	}
	if _, err := db.Exec(`COPY (SELECT 'E1' AS household_id, '530102001001' AS region_code, 8 AS months_since_identified,
	    9000.0::DOUBLE AS income_pc6m, true AS water, 'ready' AS verdict, DATE '2025-06-30' AS as_of) TO '` + seed + `' (FORMAT parquet)`); err != nil {
		f.Fatal(err)
	}
	db.Close()
	b, err := os.ReadFile(seed)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add(b[:len(b)/2])
	f.Add([]byte("PAR1"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(t.TempDir(), "e.parquet")
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		as, err := ReadAssessments(p, "2025-06-30")
		if err == nil && len(data) == len(b) && string(data) == string(b) && (len(as) != 1 || as[0].AsOf != "2025-06-30" || as[0].IncomePC6m != 9000) {
			t.Errorf("seed read back as %+v", as)
		}
	})
}

// TestAssessmentsRoundTrip: AssessElimination's assessments written as
// the night writes elimination.parquet (rundir) read back equal, fact for
// fact, and give the same verdicts under the same policy.
func TestAssessmentsRoundTrip(t *testing.T) {
	db := openDB(t)
	w := ingestDrop(t, db, "../../features/testdata/elimination/drop")
	as, err := features.AssessElimination(context.Background(), db, w, asOf, nil)
	if err != nil {
		t.Fatal(err)
	}
	rows := make([]rundir.ElimRow, len(as))
	for i := range as {
		rows[i] = rundir.ElimRowOf(&as[i], "", "", "")
	}
	path := filepath.Join(t.TempDir(), "elimination.parquet")
	if err := atomicfile.Write(path, 0o600, func(w io.Writer) error { return rundir.WriteEliminationParquet(w, rows) }); err != nil {
		t.Fatal(err)
	}
	tab, err := features.ReadParquet(path)
	if err != nil {
		t.Fatal(err)
	}
	defer tab.Release()
	back, err := ReadAssessments(path, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(back) != len(as) {
		t.Fatalf("%d read back, %d written", len(back), len(as))
	}
	pol := rules.SamplePolicy()
	for i := range as {
		b := back[i]
		if err := features.EliminationConditions(&b, pol); err != nil {
			t.Fatal(err)
		}
		features.EliminationVerdict(&b, pol)
		a := as[i]
		if a.Verdict != b.Verdict || !reflect.DeepEqual(a.Conditions, b.Conditions) || !reflect.DeepEqual(a.Unmet, b.Unmet) {
			t.Errorf("%s: written %s %v, read back %s %v", a.HouseholdID, a.Verdict, a.Unmet, b.Verdict, b.Unmet)
		}
		a.Relapse, b.Relapse = 0, 0 // NaN != NaN
		ai, bi := a.IncomePC6m, b.IncomePC6m
		if ai == ai || bi == bi {
			if ai != bi {
				t.Errorf("%s: income %v -> %v", a.HouseholdID, ai, bi)
			}
		}
		a.IncomePC6m, b.IncomePC6m, a.IncomePC12m, b.IncomePC12m, a.IncomePCNoAssist12m, b.IncomePCNoAssist12m = 0, 0, 0, 0, 0, 0
		if !reflect.DeepEqual(a, b) {
			t.Errorf("round trip of %s:\n %+v\n %+v", a.HouseholdID, a, b)
		}
	}
	names := map[string]bool{}
	for _, f := range tab.Schema().Fields() {
		names[f.Name] = true
	}
	for _, n := range []string{"household_id", "income_pc_6m", "income_pc_no_assist_12m", "months_since_identified", "verdict", "unmet", "cond_income_stable_met", "cond_water_fact"} {
		if !names[n] {
			t.Errorf("elimination table has no column %s", n)
		}
	}
}

// TestSettingChanges: a run on the sample policy compared with a file
// that changes one threshold and one elimination setting.
func TestSettingChanges(t *testing.T) {
	sample := rules.SamplePolicy()
	b, err := os.ReadFile("../../features/rules/policy.sample.toml")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(b), "near_line_factor = 1.5", "near_line_factor = 2.0", 1)
	text = strings.Replace(text, "relapse_defer = 0.3", "relapse_defer = 0.5", 1)
	pol, err := rules.ParsePolicy([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	got := settingChanges(rundir.PolicyInfo{File: "sample", SHA256: sample.SHA256()}, pol)
	if want := []string{"规则阈值：临近监测线倍数 1.5 → 2", "风险消除：返贫风险暂缓阈值 0.3 → 0.5"}; !reflect.DeepEqual(got, want) {
		t.Errorf("changes %q, want %q", got, want)
	}
	if got := settingChanges(rundir.PolicyInfo{File: "sample", SHA256: sample.SHA256()}, sample); got != nil {
		t.Errorf("same policy: %q", got)
	}
	if got := settingChanges(rundir.PolicyInfo{File: "gone.toml", SHA256: "00"}, pol); len(got) != 1 || !strings.Contains(got[0], "gone.toml") {
		t.Errorf("unknown run policy: %q", got)
	}
}

// TestRuralIncomeChange: a policy that changes the previous year's rural
// income (the medical-burden rule's base), not the line, lists that
// change in the office's words and no line change.
func TestRuralIncomeChange(t *testing.T) {
	tab := fixture(t)
	b, err := os.ReadFile("../../features/rules/policy.sample.toml")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(b), "year = 2024\nvalue = 23119.0", "year = 2024\nvalue = 25000.0", 1)
	if text == string(b) {
		t.Fatal("the sample policy's 2024 rural income was not found")
	}
	pol, err := rules.ParsePolicy([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Evaluate(tab, asOf, pol, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"全国2024年农村居民人均可支配收入 23,119元 → 25,000元"}; !reflect.DeepEqual(res.Changes, want) {
		t.Errorf("changes %q, want %q", res.Changes, want)
	}
}
