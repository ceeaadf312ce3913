package rules

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

var asOf2025 = time.Date(2025, 6, 30, 0, 0, 0, 0, time.UTC)

func TestLineLookup(t *testing.T) {
	p := SamplePolicy()
	tests := []struct {
		region string
		year   int
		want   Entry
	}{
		{"530102001001", 2025, Entry{"53", 2025, 8700, FallbackNone}},
		{"530102001001", 2023, Entry{"53", 2023, 8050, FallbackNone}},
		{"530102001001", 2026, Entry{"53", 2025, 8700, FallbackEarlierYear}},
		{"410102001001", 2025, Entry{"41", 2023, 7500, FallbackEarlierYear}},
		{"520123102201", 2024, Entry{"52", 2024, 7500, FallbackNone}},
		{"110101001001", 2025, Entry{"national", 2021, 6000, FallbackNationalEarlier}},
		{"110101001001", 2021, Entry{"national", 2021, 6000, FallbackNational}},
		// Henan before its first entry: the national default
		{"410102001001", 2022, Entry{"national", 2021, 6000, FallbackNationalEarlier}},
	}
	for _, tt := range tests {
		got, err := p.Line(tt.region, tt.year)
		if err != nil || got != tt.want {
			t.Errorf("Line(%s, %d) = %+v, %v; want %+v", tt.region, tt.year, got, err, tt.want)
		}
	}
	if _, err := p.Line("530102001001", 2020); !errors.Is(err, ErrNoEntry) {
		t.Errorf("Line before any entry: err %v, want ErrNoEntry", err)
	}
	r, err := p.RuralIncome("530102001001", 2024)
	if err != nil || r != (Entry{"national", 2024, 23119, FallbackNational}) {
		t.Errorf("RuralIncome = %+v, %v", r, err)
	}
}

func TestParsePolicyErrors(t *testing.T) {
	tests := []struct{ name, toml, want string }{
		{"unknown key", "[thresholds]\nnear_line_facter = 2\n", "unknown key"},
		{"bad province", "[[line]]\nprovince = \"5\"\nyear = 2025\nvalue = 1.0\n", "neither a 2-digit"},
		{"zero value", "[[line]]\nprovince = \"53\"\nyear = 2025\nvalue = 0.0\n", "must be positive"},
		{"duplicate", "[[line]]\nprovince = \"53\"\nyear = 2025\nvalue = 1.0\n[[line]]\nprovince = \"53\"\nyear = 2025\nvalue = 2.0\n", "appears twice"},
		{"syntax", "[[line]\n", "parse toml"},
	}
	for _, tt := range tests {
		_, err := ParsePolicy([]byte(tt.toml))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err %v, want %q", tt.name, err, tt.want)
		}
	}
	p, err := ParsePolicy([]byte("[thresholds]\nincome_drop_share = 0.5\n"))
	if err != nil || p.Thresholds.IncomeDropShare != 0.5 || p.Thresholds.NearLineFactor != 1.5 {
		t.Errorf("thresholds %+v, %v: want drop 0.5 and the default factor 1.5", p.Thresholds, err)
	}
	if SamplePolicy().SHA256() == p.SHA256() || len(p.SHA256()) != 64 {
		t.Error("SHA256 does not tell policies apart")
	}
}

// base is a household that trips nothing under the sample policy in 2025,
// province 53 (line 8700, rural income 23119).
func base() Household {
	return Household{RegionCode: "530102001001", HouseholdSize: 2,
		NetIncome12: 40000, NetIncomePC12: 20000, IncomeChangeRatio: 1,
		OOPMedical12: 0, EduFeesNet12: 0, EduNoncompNet12: 0, DisasterLoss12: 0}
}

func TestScreen(t *testing.T) {
	p := SamplePolicy()
	nan := math.NaN()
	tests := []struct {
		name   string
		mod    func(h *Household)
		want   []string // rule names tripped
		fact   string   // a substring of the English facts
		factZh string
	}{
		{"nothing", func(h *Household) {}, nil, "", ""},
		{"below line", func(h *Household) { h.NetIncomePC12 = 8699.5 }, []string{"income_below_line"}, "below the 2025 monitoring line 8,700 yuan (entry 53/2025)", "低于2025年监测线8,700元（53/2025）"},
		{"at line is near", func(h *Household) { h.NetIncomePC12 = 8700 }, []string{"income_near_line"}, "= 1.00 x the 2025 monitoring line", ""},
		{"just under 1.5 line", func(h *Household) { h.NetIncomePC12 = 13049.99 }, []string{"income_near_line"}, "", ""},
		{"at 1.5 line", func(h *Household) { h.NetIncomePC12 = 13050 }, nil, "", ""},
		{"unknown income", func(h *Household) { h.NetIncomePC12 = nan; h.NetIncome12 = nan; h.IncomeChangeRatio = nan }, nil, "", ""},
		{"second province line", func(h *Household) { h.RegionCode = "410102001001"; h.NetIncomePC12 = 7499 }, []string{"income_below_line"}, "line 7,500 yuan (entry 41/2023, province's latest earlier year)", "，沿用本省上一年度"},
		{"second province above", func(h *Household) { h.RegionCode = "410102001001"; h.NetIncomePC12 = 11250 }, nil, "", ""},
		{"national fallback", func(h *Household) { h.RegionCode = "110101001001"; h.NetIncomePC12 = 5999 }, []string{"income_below_line"}, "entry national/2021, national default of an earlier year", "本省无数据"},
		{"drop 31%", func(h *Household) { h.IncomeChangeRatio = 0.69 }, []string{"income_drop"}, "down 31% on the 12 months before", ""},
		{"drop 30%", func(h *Household) { h.IncomeChangeRatio = 0.7 }, nil, "", ""},
		{"medical general above", func(h *Household) { h.OOPMedical12 = 23120 }, []string{"medical_burden"}, "23,120 yuan = 1.00 x the 2024 rural per-capita disposable income 23,119 yuan (entry national/2024, national default), above 1 x for a general household", ""},
		{"medical general at", func(h *Household) { h.OOPMedical12 = 23119 }, nil, "", ""},
		{"medical escaped above", func(h *Household) { h.Escaped = true; h.OOPMedical12 = 11560 }, []string{"medical_burden"}, "above 0.5 x for an escaped or monitored household", ""},
		{"medical escaped at", func(h *Household) { h.Escaped = true; h.OOPMedical12 = 11559.5 }, nil, "", ""},
		{"medical large other", func(h *Household) { h.OOPMedical12 = 26001; h.NetIncome12 = 100000 }, []string{"medical_burden", "medical_large"}, "above 26,000 yuan", ""},
		{"medical large low income", func(h *Household) { h.LowIncome = true; h.Monitored = true; h.OOPMedical12 = 10001 }, []string{"medical_large"}, "above 10,000 yuan (low-income household)", ""},
		{"medical low income at", func(h *Household) { h.LowIncome = true; h.OOPMedical12 = 10000 }, nil, "", ""},
		{"rigid over income", func(h *Household) { h.OOPMedical12 = 5000; h.EduFeesNet12 = 5001; h.NetIncome12 = 10000 }, []string{"rigid_over_income"}, "= 10,001 yuan, above the net income of 10,000 yuan", ""},
		{"rigid equal", func(h *Household) { h.OOPMedical12 = 5000; h.EduFeesNet12 = 5000; h.NetIncome12 = 10000 }, nil, "", ""},
		{"job loss", func(h *Household) { h.JobLoss = true; h.MonthsSinceJobLoss = 2 }, []string{"job_loss"}, "stopped social-insurance contributions 2 months ago after 6 or more", ""},
		{"new unemployment", func(h *Household) { h.UnemploymentNew = 1 }, []string{"job_loss"}, "1 new unemployment registration", ""},
		{"earner died", func(h *Household) { h.EarnerDeaths12 = 1 }, []string{"labor_loss"}, "1 member(s) with labour capacity died", ""},
		{"lost capacity", func(h *Household) { h.WorkingAgeLost = 1 }, []string{"labor_loss"}, "disabled grade 1-2", ""},
		{"no labor", func(h *Household) { h.NoLabor = true }, []string{"no_labor"}, "none of the 2 members", ""},
		{"no labor empty household", func(h *Household) { h.NoLabor = true; h.HouseholdSize = 0 }, nil, "", ""},
		{"education above", func(h *Household) { h.EduNoncompNet12 = 12001; h.EduFeesNet12 = 12001 }, []string{"education_cost"}, "above 30% of the net income of 40,000 yuan", ""},
		{"education at", func(h *Household) { h.EduNoncompNet12 = 12000; h.EduFeesNet12 = 12000 }, nil, "", ""},
		{"disaster severe", func(h *Household) { h.DisasterSevere12 = 1 }, []string{"disaster"}, "1 disaster(s) of severity 2 or worse", ""},
		{"disaster loss above", func(h *Household) { h.DisasterLoss12 = 8001 }, []string{"disaster"}, "recorded disaster loss 8,001 yuan, above 20%", ""},
		{"disaster loss at", func(h *Household) { h.DisasterLoss12 = 8000 }, nil, "", ""},
		{"housing", func(h *Household) { h.HousingUnsafe = true }, []string{"housing_unsafe"}, "failed the safety appraisal", ""},
		{"water", func(h *Household) { h.WaterUnsafe = true }, []string{"water_unsafe"}, "safe drinking water not secured", ""},
	}
	for _, tt := range tests {
		h := base()
		tt.mod(&h)
		r, err := p.Screen(h, asOf2025)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if !reflect.DeepEqual(r.Names, tt.want) {
			t.Errorf("%s: tripped %v, want %v", tt.name, r.Names, tt.want)
		}
		en, zh := strings.Join(r.FactsEn, "; "), strings.Join(r.Facts, "；")
		if tt.fact != "" && !strings.Contains(en, tt.fact) {
			t.Errorf("%s: facts %q, want them to contain %q", tt.name, en, tt.fact)
		}
		if tt.factZh != "" && !strings.Contains(zh, tt.factZh) {
			t.Errorf("%s: facts %q, want them to contain %q", tt.name, zh, tt.factZh)
		}
		for i, tr := range r.Tripped {
			if tr != contains(tt.want, Rules()[i].Name) {
				t.Errorf("%s: Tripped[%s] = %v", tt.name, Rules()[i].Name, tr)
			}
		}
	}
}

func TestRiskTypes(t *testing.T) {
	h := base()
	h.OOPMedical12, h.NetIncome12 = 30000, 100000 // medical_burden and medical_large: one illness
	h.UnemploymentNew = 1
	h.HousingUnsafe = true
	r, err := SamplePolicy().Screen(h, asOf2025)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"illness", "unemployment", "housing"}; !reflect.DeepEqual(r.RiskTypes, want) {
		t.Errorf("risk types %v, want %v", r.RiskTypes, want)
	}
}

func TestYuan(t *testing.T) {
	for in, want := range map[float64]string{0: "0", 999.5: "1,000", 31200: "31,200", 1234567.4: "1,234,567", -2500: "-2,500"} {
		if got := yuan(in); got != want {
			t.Errorf("yuan(%v) = %q, want %q", in, got, want)
		}
	}
}
