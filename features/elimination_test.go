package features

import (
	"context"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/povrisk/povrisk/features/rules"
)

// The elimination case (testdata/elimination/drop), D = 2025-06-30, sample
// policy: 2025 line of province 53 = 8,700; [elimination] defaults (6
// months since identification, income and rigid windows 2025-01..2025-06,
// medical out of pocket at most 10,000 and rigid spending at most 50% of the
// window's income, compulsory ages 7-15). Worked by hand:
//
//	E1  2 adults, wage 1,500 every month: 6-month 9,000 x 2 / 2 = 9,000 and
//	    12-month 18,000 / 2 = 9,000 per head >= 8,700; one insured claim of
//	    400 out of pocket; identified 2024-10-15 (8 months)       -> ready
//	E11 monitored by the snapshot, no event, no income           -> not_met (income, months unknown)
//	E2  wage 2,000 in 2024-07..12 and 1,000 in 2025: 6-month 6,000 x 2 / 2
//	    = 6,000 < 8,700, 12-month 9,000                           -> not_met (income)
//	E3  as E1, identified 2025-03-01 (3 months)                   -> defer
//	E4  3 members, wage 3,000: 12,000 per head; an uninsured claim of
//	    12,000 out of pocket (> 10,000) plus high-school fees 3,000 - 500 =
//	    2,500: rigid 14,500 > 50% of 18,000; a child of 11 out of school;
//	    unsafe house                                               -> not_met (rigid, education, medical, housing)
//	E5  no labour, transfers 800 a month: 9,600 per head, but 9,600 - 3,600
//	    dibao = 6,000 < 8,700                                      -> not_met (labour)
//	E6  no labour, transfers 1,000: 12,000 - 2,400 dibao = 9,600  -> ready
//	E12 water not secured; identified 2024-12-30: 6 whole months, enough
//	E13 water unknown (not secured), identified 2024-12-30        -> both not_met (water only)
//	E7 never monitored, E8 E9 E10 eliminated on or before D: not assessed.
func TestAssessElimination(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	w := ingestDrop(t, ctx, db, "testdata/elimination/drop")
	asOf := time.Date(2025, 6, 30, 0, 0, 0, 0, time.UTC)
	as, err := AssessElimination(ctx, db, w, asOf, nil)
	if err != nil {
		t.Fatal(err)
	}
	nan := math.NaN()
	type want struct {
		months, size              int
		pc6, pc12, noAssist       float64
		rigid, rigidMed, rigidInc float64
		dropouts, uninsured       int
		unmet                     []string
		verdict                   string
	}
	wants := map[string]want{
		"E1":  {8, 2, 9000, 9000, 9000, 400, 400, 9000, 0, 0, nil, VerdictReady},
		"E11": {-1, 1, nan, nan, nan, 0, 0, 0, 0, 0, []string{CondIncome, CondMonths}, VerdictNotMet},
		"E2":  {17, 2, 6000, 9000, 9000, 0, 0, 6000, 0, 0, []string{CondIncome}, VerdictNotMet},
		"E3":  {3, 2, 9000, 9000, 9000, 0, 0, 9000, 0, 0, []string{CondMonths}, VerdictDefer},
		"E4":  {12, 3, 12000, 12000, 12000, 14500, 12000, 18000, 1, 1, []string{CondRigid, CondEdu, CondMedical, CondHousing}, VerdictNotMet},
		"E5":  {13, 1, 9600, 9600, 6000, 0, 0, 4800, 0, 0, []string{CondLabour}, VerdictNotMet},
		"E6":  {13, 1, 12000, 12000, 9600, 0, 0, 6000, 0, 0, nil, VerdictReady},
		"E12": {6, 1, 12000, 12000, 12000, 0, 0, 6000, 0, 0, []string{CondWater}, VerdictNotMet},
		"E13": {6, 1, 12000, 12000, 12000, 0, 0, 6000, 0, 0, []string{CondWater}, VerdictNotMet},
	}
	var ids []string
	for _, a := range as {
		ids = append(ids, a.HouseholdID)
	}
	if want := []string{"E1", "E11", "E12", "E13", "E2", "E3", "E4", "E5", "E6"}; !reflect.DeepEqual(ids, want) {
		t.Fatalf("assessed %v, want %v", ids, want)
	}
	same := func(g, w float64) bool { return g == w || math.IsNaN(g) && math.IsNaN(w) }
	for _, a := range as {
		wt := wants[a.HouseholdID]
		got := want{a.MonthsSinceIdentified, a.HouseholdSize, a.IncomePC6m, a.IncomePC12m, a.IncomePCNoAssist12m,
			a.RigidExpenditure, a.RigidMedical, a.RigidIncome, a.DropoutChildren, a.UninsuredClaims, a.Unmet, a.Verdict}
		if got.months != wt.months || got.size != wt.size || !same(got.pc6, wt.pc6) || !same(got.pc12, wt.pc12) || !same(got.noAssist, wt.noAssist) ||
			got.rigid != wt.rigid || got.rigidMed != wt.rigidMed || got.rigidInc != wt.rigidInc || got.dropouts != wt.dropouts ||
			got.uninsured != wt.uninsured || !reflect.DeepEqual(got.unmet, wt.unmet) || got.verdict != wt.verdict {
			t.Errorf("%s:\n got %+v\nwant %+v", a.HouseholdID, got, wt)
		}
		if a.Line != 8700 || !math.IsNaN(a.Relapse) || len(a.Conditions) != 8 || a.AsOf != "2025-06-30" {
			t.Errorf("%s: line %v relapse %v, %d conditions, as of %s", a.HouseholdID, a.Line, a.Relapse, len(a.Conditions), a.AsOf)
		}
	}
	byID := map[string]*Assessment{}
	for i := range as {
		byID[as[i].HouseholdID] = &as[i]
	}
	if f := byID["E1"].Conditions[0].Fact; f != "近6个月人均纯收入（折年）9,000元，近12个月人均纯收入9,000元，2025年监测线8,700元，均不低于监测线" {
		t.Errorf("E1 income fact %q", f)
	}
	if f := byID["E4"].Conditions[1].Fact; f != "近6个月医疗自付12,000元、非义务教育净支出2,500元，合计14,500元；同期家庭纯收入18,000元（上限：医疗自付10,000元、合计不超过纯收入的50%）" {
		t.Errorf("E4 rigid fact %q", f)
	}
	if f := byID["E5"].Conditions[6].Fact; !strings.Contains(f, "扣除年救助帮扶3,600元后近12个月人均纯收入6,000元，低于2025年监测线8,700元") {
		t.Errorf("E5 labour fact %q", f)
	}

	// relapse: at or above relapse_defer (0.3) defers a ready household
	pol := rules.SamplePolicy()
	e6 := *byID["E6"]
	for _, c := range []struct {
		p    float64
		want string
	}{{0.5, VerdictDefer}, {0.3, VerdictDefer}, {0.29, VerdictReady}, {nan, VerdictReady}} {
		e6.Relapse = c.p
		EliminationVerdict(&e6, pol)
		if e6.Verdict != c.want {
			t.Errorf("E6 relapse %v: %s, want %s", c.p, e6.Verdict, c.want)
		}
	}
	// a relapse risk never rescues an unmet condition
	e2 := *byID["E2"]
	e2.Relapse = 0
	EliminationVerdict(&e2, pol)
	if e2.Verdict != VerdictNotMet {
		t.Errorf("E2 with relapse 0: %s", e2.Verdict)
	}

	// another policy: 2 months since identification suffice (E3 ready), the
	// 2025 line of 53 raised to 9,500 (E1's 9,000 falls short), a looser
	// medical cap (E4's 12,000 under 20,000 but 14,500 still > 50%).
	text := strings.Replace(string(readTestFile(t, "rules/policy.sample.toml")), "min_months_since_identified = 6", "min_months_since_identified = 2", 1)
	text = strings.Replace(text, "rigid_medical_max = 10000.0", "rigid_medical_max = 20000.0", 1)
	text = strings.Replace(text, "year = 2025\nvalue = 8700.0", "year = 2025\nvalue = 9500.0", 1)
	pol2, err := rules.ParsePolicy([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	for id, wantV := range map[string]string{"E3": VerdictNotMet, "E1": VerdictNotMet, "E6": VerdictReady, "E4": VerdictNotMet} {
		a := *byID[id]
		if err := EliminationConditions(&a, pol2); err != nil {
			t.Fatal(err)
		}
		EliminationVerdict(&a, pol2)
		if a.Verdict != wantV || a.Line != 9500 {
			t.Errorf("%s under the second policy: %s (line %v, unmet %v), want %s", id, a.Verdict, a.Line, a.Unmet, wantV)
		}
	}
	e3 := *byID["E3"]
	e3.IncomePC6m, e3.IncomePC12m = 9600, 9600 // above 9,500: only the months rule was left
	if err := EliminationConditions(&e3, pol2); err != nil {
		t.Fatal(err)
	}
	EliminationVerdict(&e3, pol2)
	if e3.Verdict != VerdictReady {
		t.Errorf("E3 at 9,600 under the second policy: %s, unmet %v", e3.Verdict, e3.Unmet)
	}
}

// TestRelapseLabels: households eliminated in June 2025 (E8 on 06-15, E10
// on 06-30 = D); E9 (05-20) is not. E8 identified again 2025-09-01
// (illness): positive within 6 months, not within 2.
func TestRelapseLabels(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	w := ingestDrop(t, ctx, db, "testdata/elimination/drop")
	asOf := time.Date(2025, 6, 30, 0, 0, 0, 0, time.UTC)
	got, err := RelapseLabels(ctx, db, w, asOf, 6)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Label{"E8": {Positive: true, RiskType: "illness"}, "E10": {}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("6 months: %v, want %v", got, want)
	}
	got, err = RelapseLabels(ctx, db, w, asOf, 2)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]Label{"E8": {}, "E10": {}}; !reflect.DeepEqual(got, want) {
		t.Errorf("2 months: %v, want %v", got, want)
	}
	// their feature rows: Compute gives them (not monitored on D)
	tab, err := Compute(ctx, db, w, asOf, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tab.Release()
	rows, _ := tableRows(tab)
	for _, id := range []string{"E8", "E10"} {
		r, ok := rows[id]
		if !ok {
			t.Fatalf("no feature row for %s", id)
		}
		if c := r["monitored_at_as_of"]; cell(c.a, c.i) != "false" {
			t.Errorf("%s monitored_at_as_of = %s", id, cell(c.a, c.i))
		}
		if c := r["months_since_elimination"]; cell(c.a, c.i) != "0" {
			t.Errorf("%s months_since_elimination = %s", id, cell(c.a, c.i))
		}
	}
}
