package rundir

import (
	"io"
	"math"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/povrisk/povrisk/features"
)

// ElimCondition is one condition of the policy's risk elimination with its
// status and the facts behind it (zh, with the figures).
type ElimCondition struct {
	Name string
	Met  bool
	Fact string
}

// ElimRow is the risk-elimination assessment (风险消除评估) of one
// household monitored on the as-of date, as written to elimination.*
// (docs/run-directory.md). It mirrors features.Assessment, with the
// place names of the night.
type ElimRow struct {
	HouseholdID, RegionCode, IdentifiedDate string
	CountyName, TownshipName, VillageName   string
	MonthsSinceIdentified                   int
	IncomePC6m, IncomePC12m, Line           float64 // NaN unknown
	RigidExpenditure                        float64
	RigidResolved                           bool
	Education, Medical, Housing, Water      bool
	NoLabour                                bool
	Conditions                              []ElimCondition
	Unmet                                   []string
	Relapse                                 float64 // NaN: no relapse model
	Verdict                                 string  // ready | defer | not_met

	// The further facts the conditions rest on (features.Assessment's
	// fields of the same names), so that whatif can judge the conditions
	// again under another policy from elimination.parquet alone.
	AsOf                                  string
	HouseholdSize, DropoutChildren        int
	UninsuredClaims                       int
	RigidMedical, RigidIncome             float64
	AssistanceAmount, IncomePCNoAssist12m float64
}

// ElimRowOf is the row of one assessment with its place names.
func ElimRowOf(a *features.Assessment, county, township, village string) ElimRow {
	r := ElimRow{HouseholdID: a.HouseholdID, RegionCode: a.RegionCode, IdentifiedDate: a.IdentifiedDate,
		CountyName: county, TownshipName: township, VillageName: village,
		MonthsSinceIdentified: a.MonthsSinceIdentified, IncomePC6m: a.IncomePC6m, IncomePC12m: a.IncomePC12m, Line: a.Line,
		RigidExpenditure: a.RigidExpenditure, RigidResolved: a.RigidResolved, Education: a.Education, Medical: a.Medical,
		Housing: a.Housing, Water: a.Water, NoLabour: a.NoLabour, Unmet: slices.Clone(a.Unmet), Relapse: a.Relapse, Verdict: a.Verdict,
		AsOf: a.AsOf, HouseholdSize: a.HouseholdSize, DropoutChildren: a.DropoutChildren, UninsuredClaims: a.UninsuredClaims,
		RigidMedical: a.RigidMedical, RigidIncome: a.RigidIncome, AssistanceAmount: a.AssistanceAmount, IncomePCNoAssist12m: a.IncomePCNoAssist12m}
	for _, c := range a.Conditions {
		r.Conditions = append(r.Conditions, ElimCondition{Name: c.Name, Met: c.Met, Fact: c.Fact})
	}
	return r
}

// VerdictZh is a verdict in the office's words.
func VerdictZh(v string) string {
	switch v {
	case "ready":
		return "可消除"
	case "defer":
		return "暂缓消除"
	case "not_met":
		return "不满足"
	}
	return v
}

// elimFixed are the columns of elimination.* before the per-condition ones.
var elimFixed = []string{"household_id", "region_code", "county_code", "township_code", "county_name", "township_name", "village_name",
	"identified_date", "months_since_identified", "income_pc_6m", "income_pc_12m", "line", "rigid_expenditure", "rigid_resolved",
	"education", "medical", "housing", "water", "no_labour", "relapse", "verdict", "verdict_zh", "unmet",
	"as_of", "household_size", "dropout_children", "uninsured_claims", "rigid_medical", "rigid_income", "assistance_amount", "income_pc_no_assist_12m"}

// ElimConditionNames are the condition names of rows, in the order they
// first appear (the per-condition columns cond_<name>_met / _fact).
func ElimConditionNames(rows []ElimRow) []string {
	var names []string
	seen := map[string]bool{}
	for i := range rows {
		for _, c := range rows[i].Conditions {
			if !seen[c.Name] {
				seen[c.Name] = true
				names = append(names, c.Name)
			}
		}
	}
	return names
}

// EliminationSchema is the schema of elimination.parquet for the condition
// names given (a fresh value).
func EliminationSchema(conds []string) *arrow.Schema {
	str, f64, i32, bl := arrow.BinaryTypes.String, arrow.PrimitiveTypes.Float64, arrow.PrimitiveTypes.Int32, arrow.FixedWidthTypes.Boolean
	types := []arrow.DataType{str, str, str, str, str, str, str, str, i32, f64, f64, f64, f64, bl, bl, bl, bl, bl, bl, f64, str, str, str,
		str, i32, i32, i32, f64, f64, f64, f64}
	var fields []arrow.Field
	for i, n := range elimFixed {
		fields = append(fields, arrow.Field{Name: n, Type: types[i], Nullable: types[i] == f64})
	}
	for _, c := range conds {
		fields = append(fields, arrow.Field{Name: "cond_" + c + "_met", Type: bl, Nullable: true},
			arrow.Field{Name: "cond_" + c + "_fact", Type: str})
	}
	return arrow.NewSchema(fields, nil)
}

// condOf is row r's condition named n (nil when it has none).
func condOf(r *ElimRow, n string) *ElimCondition {
	for k := range r.Conditions {
		if r.Conditions[k].Name == n {
			return &r.Conditions[k]
		}
	}
	return nil
}

// WriteEliminationParquet writes rows, in order, as elimination.parquet.
func WriteEliminationParquet(w io.Writer, rows []ElimRow) error {
	ew, err := NewElimParquetWriter(w, ElimConditionNames(rows))
	if err != nil {
		return err
	}
	if err := ew.Write(rows); err != nil {
		ew.Close()
		return err
	}
	return ew.Close()
}

func appendElim(b *array.RecordBuilder, r *ElimRow, conds []string) {
	str := func(i int, s string) { b.Field(i).(*array.StringBuilder).Append(s) }
	bl := func(i int, v bool) { b.Field(i).(*array.BooleanBuilder).Append(v) }
	f64 := func(i int, v float64) {
		fb := b.Field(i).(*array.Float64Builder)
		if math.IsNaN(v) {
			fb.AppendNull()
		} else {
			fb.Append(v)
		}
	}
	for k, s := range []string{r.HouseholdID, r.RegionCode, Prefix(r.RegionCode, 6), Prefix(r.RegionCode, 9), r.CountyName, r.TownshipName,
		r.VillageName, r.IdentifiedDate} {
		str(k, s)
	}
	b.Field(8).(*array.Int32Builder).Append(int32(r.MonthsSinceIdentified))
	for k, v := range []float64{r.IncomePC6m, r.IncomePC12m, r.Line, r.RigidExpenditure} {
		f64(9+k, v)
	}
	for k, v := range []bool{r.RigidResolved, r.Education, r.Medical, r.Housing, r.Water, r.NoLabour} {
		bl(13+k, v)
	}
	f64(19, r.Relapse)
	str(20, r.Verdict)
	str(21, VerdictZh(r.Verdict))
	str(22, strings.Join(r.Unmet, ";"))
	str(23, r.AsOf)
	for k, v := range []int{r.HouseholdSize, r.DropoutChildren, r.UninsuredClaims} {
		b.Field(24 + k).(*array.Int32Builder).Append(int32(v))
	}
	for k, v := range []float64{r.RigidMedical, r.RigidIncome, r.AssistanceAmount, r.IncomePCNoAssist12m} {
		f64(27+k, v)
	}
	first := len(elimFixed)
	for k, n := range conds {
		c := condOf(r, n)
		if c == nil {
			b.Field(first + 2*k).(*array.BooleanBuilder).AppendNull()
			str(first+1+2*k, "")
			continue
		}
		bl(first+2*k, c.Met)
		str(first+1+2*k, c.Fact)
	}
}

// WriteEliminationCSV writes rows as elimination.csv: UTF-8 with BOM, the
// columns of elimination.parquet, null as an empty field, text cells
// neutralised (Cell).
func WriteEliminationCSV(w io.Writer, rows []ElimRow) error {
	ew, err := NewElimCSVWriter(w, ElimConditionNames(rows))
	if err != nil {
		return err
	}
	if err := ew.Write(rows); err != nil {
		return err
	}
	return ew.Close()
}
