package run

import (
	"math"
	"testing"

	"github.com/povrisk/povrisk/datasets"
	"github.com/povrisk/povrisk/features"
	"github.com/povrisk/povrisk/features/rules"
)

func TestFeatureTextsCoverCatalog(t *testing.T) {
	risk := map[string]bool{}
	for _, r := range datasets.RiskTypes() {
		risk[r] = true
	}
	for _, f := range features.ModelColumns() {
		tx, ok := featureTexts[f]
		if !ok {
			t.Errorf("model feature %s has no reason template in featureTexts", f)
			continue
		}
		if !risk[tx.Risk] {
			t.Errorf("%s: risk type %q is not official", f, tx.Risk)
		}
		if tx.Unit == uFlag && (tx.NotZh == "" || tx.NotEn == "") {
			t.Errorf("%s: flag without the text for 0", f)
		}
	}
	for f := range featureTexts {
		found := false
		for _, c := range features.ModelColumns() {
			found = found || c == f
		}
		if !found {
			t.Errorf("featureTexts has %s, which is not a model feature", f)
		}
	}
	for r := range risk {
		ms := rules.MeasuresFor([]string{r}, "")
		if len(ms) == 0 {
			t.Errorf("risk type %s has no measures", r)
		}
		for _, m := range ms {
			if rules.ProgramZh(m) == "" {
				t.Errorf("measure %s has no Chinese name", m)
			}
		}
	}
}

func TestReason(t *testing.T) {
	cases := []struct {
		feature string
		v       float64
		zh, en  string
	}{
		{"oop_spike_ratio", 4.2, "近3个月自付医疗费为平常月份的4.2倍", "out-of-pocket medical spending in the last 3 months 4.2x the usual month"},
		{"oop_spike_ratio", 4.249, "近3个月自付医疗费为平常月份的4.2倍", "out-of-pocket medical spending in the last 3 months 4.2x the usual month"},
		{"oop_medical_12m", 26500, "近12个月自付医疗费2.6万元", "out-of-pocket medical spending 26,500 yuan in 12 months"},
		{"net_income_pc_12m", 5200.4, "近12个月人均纯收入5200元", "net income per person 5,200 yuan over 12 months"},
		{"edu_share_income_12m", 0.354, "非义务教育支出相当于年纯收入的35%", "non-compulsory schooling fees 35% of the yearly net income"},
		{"no_labor", 1, "家庭无劳动力", "no member able to work"},
		{"housing_safe", 0, "住房安全鉴定未通过", "the house failed the safety appraisal"},
		{"job_loss_members", 2, "2名劳动年龄成员务工中断", "2 working-age members lost a job"},
		{"income_change_ratio", math.NaN(), "纯收入同比：无记录", "income vs a year before: no record"},
		{"months_since_elimination", 0, "本月刚消除风险", "risk eliminated this month"},
		{"months_since_elimination", 4, "风险消除仅4个月", "risk eliminated only 4 months ago"},
		{"net_income_12m", -1234567, "近12个月家庭纯收入-123.5万元", "household net income -1,234,567 yuan over 12 months"},
	}
	for _, c := range cases {
		zh, en := reason(c.feature, c.v)
		if zh != c.zh || en != c.en {
			t.Errorf("reason(%s, %v) = %q, %q\nwant %q, %q", c.feature, c.v, zh, en, c.zh, c.en)
		}
	}
}

func TestMeasuresAndRiskOrder(t *testing.T) {
	types := []string{"other", "unemployment", "illness"}
	w := make(riskWeights, len(datasets.RiskTypes()))
	w[riskOrder["illness"]], w[riskOrder["unemployment"]], w[riskOrder["other"]] = 0.1, 0.1, 0.3
	sortRiskTypes(types, w)
	if got := types[0] + "," + types[1] + "," + types[2]; got != "illness,unemployment,other" {
		t.Errorf("order %s, want illness,unemployment,other (weight, then official order, other last)", got)
	}
	types = []string{"unemployment", "illness"}
	w[riskOrder["unemployment"]] = 0.2
	sortRiskTypes(types, w)
	if got := types[0] + "," + types[1]; got != "unemployment,illness" {
		t.Errorf("order %s, want unemployment,illness (by weight)", got)
	}
	codes, zh := measuresFor([]string{"illness", "unemployment", "education"}, "")
	if codes != "medical_aid;temporary;employment_aid" || zh != "医疗救助;临时救助;就业帮扶" {
		t.Errorf("measures %q %q", codes, zh)
	}
	if codes, _ := measuresFor(nil, "disaster"); codes != "temporary;housing_aid" {
		t.Errorf("measures from the profile's type: %q", codes)
	}
}

// TestHealthIsNeverAReason: a feature of a disease register has no reason
// template in the catalog, and its reason names no health condition.
func TestHealthIsNeverAReason(t *testing.T) {
	for _, f := range []string{"chronic_members", "major_disease_members"} {
		tx, ok := featureTexts[f]
		if !ok || !tx.Health || tx.ReasonZh != "" || tx.ReasonEn != "" {
			t.Errorf("%s: %+v, %v; want health data without a reason", f, tx, ok)
		}
		for _, v := range []float64{2, math.NaN()} {
			if zh, en := reason(f, v); zh != "其他因素" || en != "another factor" {
				t.Errorf("reason(%s, %v) = %q, %q", f, v, zh, en)
			}
		}
	}
	if got := riskTypeZh("disaster"); got != "因自然灾害" {
		t.Errorf("riskTypeZh(disaster) = %q", got)
	}
}
