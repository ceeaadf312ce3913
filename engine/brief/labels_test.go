package brief

import "testing"

// TestLabelsFromCatalog: the brief names drivers, risk types with the
// catalog's and the rules' wordings, never a health condition.
func TestLabelsFromCatalog(t *testing.T) {
	zh, en := lang("zh"), lang("en")
	for _, c := range []struct {
		l          lang
		code, want string
	}{
		{zh, "oop_medical_12m", "近12个月自付医疗费"},
		{en, "oop_medical_12m", "out-of-pocket medical, 12 months"},
		{zh, "edu_fees_net_12m", "近12个月净教育支出"},
		{zh, "chronic_members", "健康相关因素"},
		{en, "major_disease_members", "a health-related factor"},
		{en, "housing_unsafe", "housing_unsafe"}, // a rule, not a feature: its code
		{zh, "housing_unsafe", "其他因素"},           // ...but the Chinese brief writes no code (issue 13: no Latin word in Chinese)
		{en, "labor_members", "labor_members"},
	} {
		if got := c.l.driver(c.code); got != c.want {
			t.Errorf("%s driver(%s) = %q, want %q", c.l, c.code, got, c.want)
		}
	}
	for _, c := range []struct {
		l          lang
		code, want string
	}{
		{zh, "illness", "因病"}, {en, "illness", "Illness"}, {zh, "labor_shortage", "缺劳动力"},
		{en, "water", "Unsafe drinking water"}, {zh, "", "未标注"}, {en, "bad_luck", "bad_luck"}, {zh, "bad_luck", "其他风险类型"},
	} {
		if got := c.l.riskType(c.code); got != c.want {
			t.Errorf("%s riskType(%s) = %q, want %q", c.l, c.code, got, c.want)
		}
	}
}
