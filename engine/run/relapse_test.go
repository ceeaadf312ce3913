package run

import (
	"math"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/povrisk/povrisk/features"
	"github.com/povrisk/povrisk/features/rules"
	"github.com/povrisk/povrisk/models"
	"github.com/povrisk/povrisk/models/registry"
)

// echoModel scores a household by its column x, and fails the test when
// it is shown a months_since_elimination other than 0.
type echoModel struct{ t *testing.T }

func (m echoModel) PredictProba(X models.Matrix, out []float64) {
	for r := range out {
		if X.Cols[0][r] != 0 {
			m.t.Errorf("row %d: months_since_elimination %v, want 0", r, X.Cols[0][r])
		}
		out[r] = X.Cols[1][r]
	}
}
func (echoModel) Explain(models.Matrix, int, []float64) float64 { return 0 }
func (echoModel) FeatureNames() []string                        { return []string{"months_since_elimination", "x"} }
func (echoModel) Importances() []float64                        { return []float64{0, 1} }

// TestRelapseScores: with a relapse model, each monitored household gets
// its probability and a high one defers an elimination whose conditions
// are met (the policy's relapse_defer, 0.3); a household not in the
// feature table keeps NaN; one whose conditions are not met stays not_met.
func TestRelapseScores(t *testing.T) {
	mem := memory.NewGoAllocator()
	ids, mse, x := array.NewStringBuilder(mem), array.NewInt32Builder(mem), array.NewFloat64Builder(mem)
	ids.AppendValues([]string{"A", "B", "C"}, nil)
	mse.AppendValues([]int32{7, 0, 3}, nil)
	x.AppendValues([]float64{0.9, 0.1, 0.8}, nil)
	schema := arrow.NewSchema([]arrow.Field{{Name: "household_id", Type: arrow.BinaryTypes.String},
		{Name: "months_since_elimination", Type: arrow.PrimitiveTypes.Int32}, {Name: "x", Type: arrow.PrimitiveTypes.Float64}}, nil)
	rec := array.NewRecordBatch(schema, []arrow.Array{ids.NewArray(), mse.NewArray(), x.NewArray()}, 3)
	tab := array.NewTableFromRecords(schema, []arrow.RecordBatch{rec})
	defer tab.Release()
	pol := rules.SamplePolicy()
	met := []features.Condition{{Name: "income_stable", Met: true}, {Name: features.CondMonths, Met: true}}
	as := []assessment{
		{HouseholdID: "A", MonthsSinceIdentified: 12, Conditions: met, Relapse: math.NaN()},
		{HouseholdID: "B", MonthsSinceIdentified: 12, Conditions: met, Relapse: math.NaN()},
		{HouseholdID: "C", MonthsSinceIdentified: 12, Conditions: []features.Condition{{Name: "income_stable", Met: false}}, Relapse: math.NaN()},
		{HouseholdID: "Z", MonthsSinceIdentified: 12, Conditions: met, Relapse: math.NaN(), Verdict: "ready"},
	}
	in := &inputs{cfg: &config{policy: pol}, relapse: echoModel{t}, relapseCard: registry.Card{ID: "relapse-x", Features: []string{"months_since_elimination", "x"}}}
	if err := relapseScores(in, &featureTable{t: tab}, as); err != nil {
		t.Fatal(err)
	}
	want := []struct {
		p       float64
		verdict string
	}{{0.9, "defer"}, {0.1, "ready"}, {0.8, "not_met"}, {math.NaN(), "ready"}}
	for i, w := range want {
		if got := as[i]; got.Verdict != w.verdict || !(got.Relapse == w.p || math.IsNaN(w.p) && math.IsNaN(got.Relapse)) {
			t.Errorf("%s: relapse %v, verdict %s; want %v, %s", got.HouseholdID, got.Relapse, got.Verdict, w.p, w.verdict)
		}
	}
	// Without a relapse model nothing changes.
	none := []assessment{{HouseholdID: "A", Relapse: math.NaN(), Verdict: "ready"}}
	if err := relapseScores(&inputs{cfg: &config{policy: pol}}, &featureTable{t: tab}, none); err != nil || !math.IsNaN(none[0].Relapse) || none[0].Verdict != "ready" {
		t.Errorf("no relapse model: %+v, %v", none[0], err)
	}
}
