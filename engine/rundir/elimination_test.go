package rundir

import (
	"bytes"
	"encoding/csv"
	"math"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/parquet/file"
)

func elimRows() []ElimRow {
	return []ElimRow{
		{HouseholdID: "M1", RegionCode: "520123101001", VillageName: "红岩村", IdentifiedDate: "2025-01-31", MonthsSinceIdentified: 11,
			IncomePC6m: 4500.5, IncomePC12m: 9000, Line: 7000, RigidExpenditure: 0, RigidResolved: true, Education: true, Medical: true,
			Housing: true, Water: true, Relapse: 0.25, Verdict: "ready",
			AsOf: "2025-12-31", HouseholdSize: 3, RigidMedical: 1200.5, RigidIncome: 13500, AssistanceAmount: 2400, IncomePCNoAssist12m: 8200,
			Conditions: []ElimCondition{{Name: "income", Met: true, Fact: "近12个月人均9000元"}, {Name: "housing", Met: true, Fact: "住房安全"}}},
		{HouseholdID: "M2", RegionCode: "520123101002", IdentifiedDate: "2025-09-30", MonthsSinceIdentified: 3, IncomePC6m: math.NaN(),
			IncomePC12m: math.NaN(), Line: 7000, Relapse: math.NaN(), Verdict: "not_met", Unmet: []string{"income", "months"},
			AsOf: "2025-12-31", HouseholdSize: 2, DropoutChildren: 1, UninsuredClaims: 2, RigidMedical: math.NaN(), RigidIncome: math.NaN(),
			AssistanceAmount: 0, IncomePCNoAssist12m: math.NaN(),
			Conditions: []ElimCondition{{Name: "income", Met: false, Fact: "=收入不明"}, {Name: "months", Met: false, Fact: "识别3个月"}}},
	}
}

// TestEliminationCSV: one line per household, every condition's status and
// fact in its own columns (a condition a household lacks left empty),
// unknown figures empty, verdicts in both words, formula starts neutralised.
func TestEliminationCSV(t *testing.T) {
	var b bytes.Buffer
	if err := WriteEliminationCSV(&b, elimRows()); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(b.String(), utf8BOM))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	wantHeader := strings.Join(elimFixed, ",") + ",cond_income_met,cond_income_fact,cond_housing_met,cond_housing_fact,cond_months_met,cond_months_fact"
	if got := strings.Join(recs[0], ","); got != wantHeader {
		t.Fatalf("header\n got %s\nwant %s", got, wantHeader)
	}
	want := []string{
		"M1,520123101001,520123,520123101,,,红岩村,2025-01-31,11,4500.5,9000,7000,0,true,true,true,true,true,false,0.25,ready,可消除,,2025-12-31,3,0,0,1200.5,13500,2400,8200,true,近12个月人均9000元,true,住房安全,,",
		"M2,520123101002,520123,520123101,,,,2025-09-30,3,,,7000,0,false,false,false,false,false,false,,not_met,不满足,income;months,2025-12-31,2,1,2,,,0,,false,'=收入不明,,,false,识别3个月",
	}
	for i, w := range want {
		if got := strings.Join(recs[i+1], ","); got != w {
			t.Errorf("row %d\n got %s\nwant %s", i+1, got, w)
		}
	}
}

func TestEliminationParquet(t *testing.T) {
	var b bytes.Buffer
	if err := WriteEliminationParquet(&b, elimRows()); err != nil {
		t.Fatal(err)
	}
	var c bytes.Buffer
	if err := WriteEliminationParquet(&c, elimRows()); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b.Bytes(), c.Bytes()) {
		t.Error("two writes differ")
	}
	r, err := file.NewParquetReader(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if r.NumRows() != 2 || r.MetaData().Schema.NumColumns() != len(elimFixed)+6 {
		t.Errorf("%d rows, %d columns", r.NumRows(), r.MetaData().Schema.NumColumns())
	}
}
