package rules

import (
	"reflect"
	"testing"
)

// TestPrimaryRiskType screens hand-made households under the sample policy
// (2025 line of province 53: 8,700 yuan; 2024 rural income: 23,119 yuan) and
// checks the rules tripped, the attributed risk types and the primary type,
// each worked out by hand from IncomeCause's order.
func TestPrimaryRiskType(t *testing.T) {
	low := func(h *Household) { h.NetIncome12, h.NetIncomePC12 = 10000, 5000 } // below the line
	tests := []struct {
		name    string
		mod     func(h *Household)
		rules   []string
		types   []string
		primary string
	}{
		{"income alone: no cause in the data", low,
			[]string{"income_below_line"}, []string{"other"}, "other"},
		{"earner death", func(h *Household) { low(h); h.EarnerDeaths12 = 1 },
			[]string{"income_below_line", "labor_loss"}, []string{"labor_shortage"}, "labor_shortage"},
		{"job loss", func(h *Household) { low(h); h.JobLoss, h.MonthsSinceJobLoss = true, 3 },
			[]string{"income_below_line", "job_loss"}, []string{"unemployment"}, "unemployment"},
		{"labour before a job loss", func(h *Household) { low(h); h.NoLabor = true; h.UnemploymentNew = 1 },
			[]string{"income_below_line", "job_loss", "no_labor"}, []string{"labor_shortage", "unemployment"}, "labor_shortage"},
		// 9,000 in [8,700, 13,050): near the line; 27,000 > 26,000 (large),
		// > 23,119 (burden, general household), > 18,000 (rigid over income)
		{"illness", func(h *Household) { h.NetIncome12, h.NetIncomePC12, h.OOPMedical12 = 18000, 9000, 27000 },
			[]string{"income_near_line", "medical_burden", "medical_large", "rigid_over_income"}, []string{"illness"}, "illness"},
		// loss 5,000 > 20% of 10,000; fees 4,000 > 30% of 10,000 and 4,000 <= 10,000
		{"disaster loss larger than fees", func(h *Household) {
			low(h)
			h.DisasterLoss12, h.EduNoncompNet12, h.EduFeesNet12 = 5000, 4000, 4000
		}, []string{"income_below_line", "education_cost", "disaster"}, []string{"disaster", "education"}, "disaster"},
		{"exposure alone weighs 0 against fees", func(h *Household) {
			low(h)
			h.DisasterSevere12, h.EduNoncompNet12, h.EduFeesNet12 = 1, 4000, 4000
		}, []string{"income_below_line", "education_cost", "disaster"}, []string{"education", "disaster"}, "education"},
		// below every rule's threshold, but >= 10% (attribution_share) of 10,000
		{"medical spending of 20% of income", func(h *Household) { low(h); h.OOPMedical12 = 2000 },
			[]string{"income_below_line"}, []string{"illness"}, "illness"},
		{"medical spending of 5% of income", func(h *Household) { low(h); h.OOPMedical12 = 500 },
			[]string{"income_below_line"}, []string{"other"}, "other"},
		{"fees of 15% beside medical of 9%", func(h *Household) { low(h); h.OOPMedical12, h.EduNoncompNet12 = 900, 1500 },
			[]string{"income_below_line"}, []string{"education"}, "education"},
		{"income drop without cause beside unsafe housing", func(h *Household) { h.IncomeChangeRatio = 0.5; h.HousingUnsafe = true },
			[]string{"income_drop", "housing_unsafe"}, []string{"other", "housing"}, "housing"},
		{"housing alone", func(h *Household) { h.HousingUnsafe = true },
			[]string{"housing_unsafe"}, []string{"housing"}, "housing"},
		{"nothing", func(h *Household) {}, nil, nil, ""},
	}
	p := SamplePolicy()
	for _, tt := range tests {
		h := base()
		tt.mod(&h)
		r, err := p.Screen(h, asOf2025)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(r.Names, tt.rules) {
			t.Errorf("%s: rules %v, want %v", tt.name, r.Names, tt.rules)
		}
		if !reflect.DeepEqual(r.RiskTypes, tt.types) {
			t.Errorf("%s: risk types %v, want %v", tt.name, r.RiskTypes, tt.types)
		}
		if r.Primary != tt.primary {
			t.Errorf("%s: primary %q, want %q", tt.name, r.Primary, tt.primary)
		}
		if got := PrimaryRiskType(r.Names, h, p.Thresholds); got != tt.primary {
			t.Errorf("%s: PrimaryRiskType = %q, want %q", tt.name, got, tt.primary)
		}
		if got := AttributedRiskTypes(r.Names, h, p.Thresholds); !reflect.DeepEqual(got, tt.types) {
			t.Errorf("%s: AttributedRiskTypes = %v, want %v", tt.name, got, tt.types)
		}
	}
}

func TestMeasuresFor(t *testing.T) {
	for _, c := range []struct {
		types   []string
		primary string
		want    []string
	}{
		{[]string{"illness", "disaster"}, "illness", []string{"medical_aid", "temporary", "housing_aid"}},
		{[]string{"labor_shortage", "disability", "unemployment"}, "", []string{"dibao", "tekun", "employment_aid"}},
		{nil, "education", []string{"education_aid"}},
		{nil, "", nil},
	} {
		if got := MeasuresFor(c.types, c.primary); !reflect.DeepEqual(got, c.want) {
			t.Errorf("MeasuresFor(%v, %q) = %v, want %v", c.types, c.primary, got, c.want)
		}
	}
}
