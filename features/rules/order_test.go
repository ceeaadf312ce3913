package rules

import (
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/povrisk/povrisk/datasets"
)

// busy trips every rule of the screen under the sample policy (province 53,
// 2025: line 8,700, rural income 23,119).
func busy() Household {
	h := base()
	h.NetIncomePC12, h.NetIncome12, h.IncomeChangeRatio = 5000, 10000, 0.5
	h.OOPMedical12, h.EduFeesNet12, h.EduNoncompNet12 = 30000, 4000, 4000
	h.JobLoss, h.MonthsSinceJobLoss, h.UnemploymentNew = true, 3, 1
	h.EarnerDeaths12, h.NoLabor, h.DisasterSevere12, h.DisasterLoss12 = 1, true, 1, 5000
	h.HousingUnsafe, h.WaterUnsafe = true, true
	return h
}

// TestShuffledRulesKeepTheirFacts: screening with the rules in any order
// files each fact under the same rule name, and each flag under its rule.
func TestShuffledRulesKeepTheirFacts(t *testing.T) {
	p := SamplePolicy()
	facts := func(rs []Rule, h Household) map[string]Fact {
		r, err := p.ScreenWith(rs, h, asOf2025)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]Fact{}
		for i, n := range r.Names {
			out[n] = Fact{r.Facts[i], r.FactsEn[i]}
		}
		for i, tripped := range r.Tripped {
			if _, ok := out[rs[i].Name]; ok != tripped {
				t.Errorf("Tripped[%d] = %v for rule %s, whose fact is present: %v", i, tripped, rs[i].Name, ok)
			}
		}
		return out
	}
	// the 13 - 1 rules: income_near_line cannot trip with income_below_line
	h := busy()
	want := facts(Rules(), h)
	if len(want) != len(Rules())-1 {
		t.Fatalf("busy household tripped %d rules, want %d: %v", len(want), len(Rules())-1, want)
	}
	if f := want["housing_unsafe"]; f.En != "the house failed the safety appraisal" {
		t.Errorf("housing_unsafe fact %q", f.En)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	for k := 0; k < 20; k++ {
		rs := Rules()
		rng.Shuffle(len(rs), func(i, j int) { rs[i], rs[j] = rs[j], rs[i] })
		if got := facts(rs, h); !reflect.DeepEqual(got, want) {
			t.Fatalf("order %v: facts %v, want %v", names(rs), got, want)
		}
	}
}

func names(rs []Rule) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Name)
	}
	return out
}

func TestRulesIsAFreshCopy(t *testing.T) {
	rs := Rules()
	rs[0].Name = "changed"
	if Rules()[0].Name != "income_below_line" {
		t.Error("Rules returned a shared slice")
	}
	seen := map[string]bool{}
	for _, r := range Rules() {
		if seen[r.Name] || r.check == nil || r.Meaning == "" || RiskTypeZh(r.RiskType) == "" {
			t.Errorf("rule %+v: duplicate, without a check, a meaning or an official risk type", r.Name)
		}
		seen[r.Name] = true
	}
}

// The risk types are the data standard's, in its order; the wordings are
// those of POLICY.md (因病, 缺劳动力, ...).
func TestRiskTypeNames(t *testing.T) {
	if got := RiskTypeCodes(); !slices.Equal(got, datasets.RiskTypes()) {
		t.Errorf("RiskTypeCodes() = %v, want the standard's %v", got, datasets.RiskTypes())
	}
	for code, want := range map[string][2]string{
		"illness": {"因病", "Illness"}, "labor_shortage": {"缺劳动力", "Labour shortage"},
		"unemployment": {"因务工就业不稳", "Unstable employment"}, "nonsense": {"", ""},
	} {
		if zh, en := RiskTypeZh(code), RiskTypeEn(code); zh != want[0] || en != want[1] {
			t.Errorf("%s: %q, %q; want %q, %q", code, zh, en, want[0], want[1])
		}
	}
	c := RiskTypeCodes()
	c[0] = "x"
	if RiskTypeCodes()[0] != "illness" {
		t.Error("RiskTypeCodes returned a shared slice")
	}
}

// The programmes are the data standard's, in its order; the wordings are
// those the run's suggested measures and the brief printed before they
// shared this table.
func TestProgramNames(t *testing.T) {
	if got := ProgramCodes(); !slices.Equal(got, datasets.Programs()) {
		t.Errorf("ProgramCodes() = %v, want the standard's %v", got, datasets.Programs())
	}
	for code, want := range map[string][2]string{
		"dibao": {"低保", "Minimum living allowance (dibao)"}, "housing_aid": {"危房改造", "Dangerous-house renovation"},
		"medical_aid": {"医疗救助", "Medical assistance"}, "nonsense": {"", ""},
	} {
		if zh, en := ProgramZh(code), ProgramEn(code); zh != want[0] || en != want[1] {
			t.Errorf("%s: %q, %q; want %q, %q", code, zh, en, want[0], want[1])
		}
	}
	c := ProgramCodes()
	c[0] = "x"
	if ProgramCodes()[0] != "dibao" {
		t.Error("ProgramCodes returned a shared slice")
	}
}

func TestThousands(t *testing.T) {
	for in, want := range map[float64]string{
		0: "0", -0.4: "0", 999.5: "1,000", -999.5: "-1,000", 31200: "31,200", 1234567.4: "1,234,567",
		-2500: "-2,500", 1e19: "10,000,000,000,000,000,000", 100: "100", 1000: "1,000",
	} {
		if got := Thousands(in); got != want {
			t.Errorf("Thousands(%v) = %q, want %q", in, got, want)
		}
	}
}
