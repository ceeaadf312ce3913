package features

import (
	"context"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/povrisk/povrisk/features/rules"
)

// TestEveryFeatureHasItsMetadata: every feature column of the SQL headers
// carries a label; every model feature a risk type and, unless it is
// health data, a reason; health data never has one.
func TestEveryFeatureHasItsMetadata(t *testing.T) {
	cols := featureColumns()
	if len(cols) < 80 {
		t.Fatalf("catalog has %d feature columns, want the 88 of the SQL files", len(cols))
	}
	nModel, nHealth := 0, 0
	for _, c := range cols {
		if c.Label.Zh == "" || c.Label.En == "" {
			t.Errorf("%s: no label", c.Name)
		}
		if !c.Model {
			continue
		}
		nModel++
		if rules.RiskTypeZh(c.RiskType) == "" {
			t.Errorf("%s: risk type %q not official", c.Name, c.RiskType)
		}
		if c.Health {
			nHealth++
			if c.Reason != (Text{}) {
				t.Errorf("%s: health data with a reason", c.Name)
			}
			continue
		}
		if c.Reason.Zh == "" || c.Reason.En == "" {
			t.Errorf("%s: no reason", c.Name)
		}
		if c.ReasonFormat() == FormatFlag && (c.ReasonNot.Zh == "" || c.ReasonNot.En == "") {
			t.Errorf("%s: flag without the wording for 0", c.Name)
		}
	}
	if nModel != len(ModelColumns()) || nHealth != 2 {
		t.Errorf("%d model features (ModelColumns %d), %d health; want equal and 2", nModel, len(ModelColumns()), nHealth)
	}
	// the wordings of three features, read off the SQL headers by hand
	for name, want := range map[string][3]string{
		"oop_medical_12m":       {"近12个月自付医疗费", "illness", "近12个月自付医疗费%s"},
		"no_labor":              {"无劳动力", "labor_shortage", "家庭无劳动力"},
		"months_since_disaster": {"距最近受灾月数", "disaster", "%s个月前受灾"},
	} {
		c, ok := Lookup(name)
		if !ok || c.Label.Zh != want[0] || c.RiskType != want[1] || c.Reason.Zh != want[2] {
			t.Errorf("Lookup(%s) = %+v, %v; want label %s, risk %s, reason %s", name, c, ok, want[0], want[1], want[2])
		}
	}
	if c, _ := Lookup("months_since_disaster"); c.ReasonZero != (Text{"本月受灾", "hit by a disaster this month"}) {
		t.Errorf("months_since_disaster zero wording %+v", c.ReasonZero)
	}
	if _, ok := Lookup("housing_unsafe"); ok {
		t.Error("Lookup found housing_unsafe, which is a rule, not a column")
	}
}

// TestReasonFormats pins the format of each kind of unit.
func TestReasonFormats(t *testing.T) {
	for name, want := range map[string]Format{
		"oop_medical_12m": FormatYuan, "net_income_pc_12m": FormatYuan, "assist_amount": FormatYuan,
		"dependency_ratio": FormatRatio, "oop_spike_ratio": FormatRatio, "wage_share_12m": FormatShare,
		"job_loss": FormatFlag, "household_size": FormatCount, "months_since_job_loss": FormatCount,
	} {
		if c, ok := Lookup(name); !ok || c.ReasonFormat() != want {
			t.Errorf("%s: format %v, want %v", name, c.ReasonFormat(), want)
		}
	}
}

// TestScreenInputsInCatalog: every column the rule screen reads is a
// feature of the catalog, of a type its reader accepts.
func TestScreenInputsInCatalog(t *testing.T) {
	seen := map[string]bool{}
	for _, in := range screenInputs() {
		c, ok := Lookup(in.col)
		if !ok {
			t.Errorf("the screen reads %s, which is not in the catalog", in.col)
			continue
		}
		if c.Family == "rules" || c.Type == "DATE" {
			t.Errorf("the screen reads %s (%s, family %s)", in.col, c.Type, c.Family)
		}
		if seen[in.col] {
			t.Errorf("the screen reads %s twice", in.col)
		}
		seen[in.col] = true
	}
}

func TestProfilesFromCatalog(t *testing.T) {
	got := ProfileLabels()
	want := map[string]ProfileLabel{
		"oop_medical_12m": {Name: "medical_burden", NameZh: "医疗支出负担", RiskType: "illness"},
		"job_loss":        {Name: "job_loss", NameZh: "务工就业不稳", RiskType: "unemployment"},
		"no_labor":        {Name: "labor_shortage", NameZh: "缺劳动力", RiskType: "labor_shortage"},
		"chronic_members": {Name: "chronic_illness", NameZh: "慢病负担", RiskType: "illness"},
	}
	for f, w := range want {
		if got[f] != w {
			t.Errorf("ProfileLabels()[%s] = %+v, want %+v", f, got[f], w)
		}
	}
	if _, ok := got["household_size"]; ok {
		t.Error("household_size names a profile")
	}
	used := map[string]bool{}
	for _, l := range got {
		used[l.Name] = true
	}
	for code := range profileNames {
		if !used[code] {
			t.Errorf("profile %s is led by no feature", code)
		}
	}
}

func TestRoundValue(t *testing.T) {
	for _, c := range []struct {
		v    float64
		d    int
		want float64
	}{
		{25766.160000000003, 2, 25766.16},
		{0.30000000000000004, 6, 0.3},
		{0.5392156862745098, 6, 0.539216},
		{-1e-13, 6, 0},
		{-0.0, 2, 0},
		{2.5e-7, 6, 0}, // 0.25 millionths: under half the last decimal
		{0.0000015, 6, 0.000002},
		{-12.345, 2, -12.35}, // half away from zero, as the float -12.345 lies
		{1e306, 2, 1e306},    // too large to scale: kept
		{7, -1, 7},
	} {
		got := roundValue(c.v, c.d)
		if got != c.want || math.Signbit(got) != math.Signbit(c.want) {
			t.Errorf("roundValue(%v, %d) = %v, want %v", c.v, c.d, got, c.want)
		}
	}
	if v := roundValue(math.NaN(), 2); !math.IsNaN(v) {
		t.Errorf("roundValue(NaN) = %v", v)
	}
}

// TestTableCarriesRoundedValues: every DOUBLE feature of a computed table
// already has the value of its rounding rule, so that a model trained on
// the table and one scoring it read the same numbers.
func TestTableCarriesRoundedValues(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	w := ingestDrop(t, ctx, db, filepath.Join("testdata/cases/demographics_income/drop"))
	tab, err := Compute(ctx, db, w, time.Date(2025, 6, 30, 0, 0, 0, 0, time.UTC), rules.SamplePolicy())
	if err != nil {
		t.Fatal(err)
	}
	defer tab.Release()
	digits := roundingDigits()
	checked := 0
	for j, f := range tab.Schema().Fields() {
		d, ok := digits[f.Name]
		if !ok {
			continue
		}
		for _, ch := range tab.Column(j).Data().Chunks() {
			a := ch.(*array.Float64)
			for i := 0; i < a.Len(); i++ {
				if a.IsValid(i) && a.Value(i) != roundValue(a.Value(i), d) {
					t.Errorf("%s row %d: %v is not rounded to %d decimals", f.Name, i, a.Value(i), d)
				}
				checked++
			}
		}
	}
	if checked == 0 {
		t.Fatal("no DOUBLE feature checked")
	}
}
