package rules

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Rule is one named check of the screen.
type Rule struct {
	Name     string // the rule column is "rule_" + Name
	RiskType string // official risk type code (datasets.RiskTypes)
	Meaning  string
}

// Rules is the screen of POLICY.md, in output order.
var Rules = []Rule{
	{"income_below_line", "other", "12-month per-capita net income below the monitoring line"},
	{"income_near_line", "other", "12-month per-capita net income at or above the line but below factor x line"},
	{"income_drop", "other", "12-month net income fell by more than a share against the 12 months before"},
	{"medical_burden", "illness", "12-month out-of-pocket medical spending above a share of the previous-year rural per-capita disposable income"},
	{"medical_large", "illness", "12-month out-of-pocket medical spending above an absolute amount"},
	{"rigid_over_income", "illness", "out-of-pocket medical plus education fees net of subsidy above the 12-month net income"},
	{"job_loss", "unemployment", "a working-age member stopped contributing after a run of contributions, or registered as unemployed"},
	{"labor_loss", "labor_shortage", "a member with labour capacity died, or a working-age member has lost labour capacity or is disabled grade 1-2"},
	{"no_labor", "labor_shortage", "no member with full or weak labour capacity"},
	{"education_cost", "education", "non-compulsory schooling fees net of subsidy above a share of net income"},
	{"disaster", "disaster", "a severe disaster in the village, township or county, or a recorded loss above a share of net income"},
	{"housing_unsafe", "housing", "the house failed the safety appraisal"},
	{"water_unsafe", "water", "drinking water not secured"},
}

// Household holds the features the screen reads. A float64 that is NaN is
// unknown: a rule that needs it does not trip.
type Household struct {
	RegionCode string
	// Escaped or monitored households get the lower medical share;
	// LowIncome households (dibao, tekun, monitoring objects) the lower
	// absolute medical amount.
	Escaped, Monitored, LowIncome bool

	HouseholdSize      int
	NetIncome12        float64 // household net income, 12 months, yuan
	NetIncomePC12      float64 // per capita
	IncomeChangeRatio  float64 // NetIncome12 / the 12 months before
	OOPMedical12       float64
	EduFeesNet12       float64 // all levels
	EduNoncompNet12    float64 // non-compulsory levels
	JobLoss            bool
	MonthsSinceJobLoss int // valid when JobLoss
	UnemploymentNew    int
	EarnerDeaths12     int
	WorkingAgeLost     int
	NoLabor            bool
	DisasterSevere12   int // exposed events at or above the severity threshold, 12 months
	DisasterLoss12     float64
	HousingUnsafe      bool // housing_safe is false (unknown is not unsafe)
	WaterUnsafe        bool
}

// Result is the screen's verdict on one household.
type Result struct {
	Tripped   []bool // one per Rules entry
	Line      Entry  // monitoring line used (of the as-of year)
	Rural     Entry  // rural income used (of the year before)
	Names     []string
	RiskTypes []string
	Facts     []string // zh
	FactsEn   []string
}

// Screen applies every rule to h for the as-of date asOf.
func (p *Policy) Screen(h Household, asOf time.Time) (Result, error) {
	t := p.Thresholds
	year := asOf.Year()
	line, err := p.Line(h.RegionCode, year)
	if err != nil {
		return Result{}, err
	}
	rural, err := p.RuralIncome(h.RegionCode, year-1)
	if err != nil {
		return Result{}, err
	}
	r := Result{Tripped: make([]bool, len(Rules)), Line: line, Rural: rural}
	trip := func(i int, zh, en string) {
		r.Tripped[i] = true
		r.Names = append(r.Names, Rules[i].Name)
		if !contains(r.RiskTypes, Rules[i].RiskType) {
			r.RiskTypes = append(r.RiskTypes, Rules[i].RiskType)
		}
		r.Facts = append(r.Facts, zh)
		r.FactsEn = append(r.FactsEn, en)
	}
	known := func(v float64) bool { return !math.IsNaN(v) }
	lineNote := func() (string, string) {
		return fmt.Sprintf("%d年监测线%s元（%s%s）", year, yuan(line.Value), line.Key(), fallbackZh(line.Fallback)),
			fmt.Sprintf("the %d monitoring line %s yuan (entry %s%s)", year, yuan(line.Value), line.Key(), fallbackEn(line.Fallback))
	}

	pc := h.NetIncomePC12
	// 0 income_below_line
	if known(pc) && pc < line.Value {
		zh, en := lineNote()
		trip(0, fmt.Sprintf("近12个月人均纯收入%s元，低于%s", yuan(pc), zh),
			fmt.Sprintf("12-month net income per person %s yuan, below %s", yuan(pc), en))
	}
	// 1 income_near_line
	if known(pc) && pc >= line.Value && pc < t.NearLineFactor*line.Value {
		zh, en := lineNote()
		trip(1, fmt.Sprintf("近12个月人均纯收入%s元 = %s的%s倍，低于%s倍", yuan(pc), zh, ratio(pc/line.Value), num(t.NearLineFactor)),
			fmt.Sprintf("12-month net income per person %s yuan = %s x %s, below %s x", yuan(pc), ratio(pc/line.Value), en, num(t.NearLineFactor)))
	}
	// 2 income_drop
	if known(h.IncomeChangeRatio) && h.IncomeChangeRatio < 1-t.IncomeDropShare {
		drop := (1 - h.IncomeChangeRatio) * 100
		trip(2, fmt.Sprintf("近12个月家庭纯收入%s元，比前12个月下降%s%%", yuan(h.NetIncome12), pct(drop)),
			fmt.Sprintf("12-month net income %s yuan, down %s%% on the 12 months before", yuan(h.NetIncome12), pct(drop)))
	}
	// 3 medical_burden
	share, who, whoEn := t.MedicalShareGeneral, "一般农户", "a general household"
	if h.Escaped || h.Monitored {
		share, who, whoEn = t.MedicalShareEscaped, "脱贫户或监测户", "an escaped or monitored household"
	}
	if known(h.OOPMedical12) && h.OOPMedical12 > share*rural.Value {
		trip(3, fmt.Sprintf("近12个月医疗自付%s元 = %d年农村居民人均可支配收入%s元（%s%s）的%s倍，超过%s标准%s倍",
			yuan(h.OOPMedical12), rural.Year, yuan(rural.Value), rural.Key(), fallbackZh(rural.Fallback), ratio(h.OOPMedical12/rural.Value), who, num(share)),
			fmt.Sprintf("12-month out-of-pocket medical %s yuan = %s x the %d rural per-capita disposable income %s yuan (entry %s%s), above %s x for %s",
				yuan(h.OOPMedical12), ratio(h.OOPMedical12/rural.Value), rural.Year, yuan(rural.Value), rural.Key(), fallbackEn(rural.Fallback), num(share), whoEn))
	}
	// 4 medical_large
	limit, lwho, lwhoEn := t.MedicalLargeOther, "", ""
	if h.LowIncome {
		limit, lwho, lwhoEn = t.MedicalLargeLowIncome, "（低收入户）", " (low-income household)"
	}
	if known(h.OOPMedical12) && h.OOPMedical12 > limit {
		trip(4, fmt.Sprintf("近12个月医疗自付%s元，超过%s元%s", yuan(h.OOPMedical12), yuan(limit), lwho),
			fmt.Sprintf("12-month out-of-pocket medical %s yuan, above %s yuan%s", yuan(h.OOPMedical12), yuan(limit), lwhoEn))
	}
	// 5 rigid_over_income
	if known(h.NetIncome12) && known(h.OOPMedical12) {
		edu := h.EduFeesNet12
		if !known(edu) {
			edu = 0
		}
		if rigid := h.OOPMedical12 + edu; rigid > h.NetIncome12 {
			trip(5, fmt.Sprintf("近12个月医疗自付%s元加教育净支出%s元，共%s元，超过家庭纯收入%s元", yuan(h.OOPMedical12), yuan(edu), yuan(rigid), yuan(h.NetIncome12)),
				fmt.Sprintf("12-month out-of-pocket medical %s yuan plus net school fees %s yuan = %s yuan, above the net income of %s yuan", yuan(h.OOPMedical12), yuan(edu), yuan(rigid), yuan(h.NetIncome12)))
		}
	}
	// 6 job_loss
	if h.JobLoss || h.UnemploymentNew > 0 {
		var zh, en []string
		if h.JobLoss {
			zh = append(zh, fmt.Sprintf("劳动年龄成员连续缴纳社保%d个月以上后已停缴%d个月", t.JobLossMinRunMonths, h.MonthsSinceJobLoss))
			en = append(en, fmt.Sprintf("a working-age member stopped social-insurance contributions %d months ago after %d or more consecutive months", h.MonthsSinceJobLoss, t.JobLossMinRunMonths))
		}
		if h.UnemploymentNew > 0 {
			zh = append(zh, fmt.Sprintf("新增失业登记%d条", h.UnemploymentNew))
			en = append(en, fmt.Sprintf("%d new unemployment registration(s)", h.UnemploymentNew))
		}
		trip(6, strings.Join(zh, "，"), strings.Join(en, "; "))
	}
	// 7 labor_loss
	if h.EarnerDeaths12 > 0 || h.WorkingAgeLost > 0 {
		var zh, en []string
		if h.EarnerDeaths12 > 0 {
			zh = append(zh, fmt.Sprintf("近12个月有劳动能力的成员去世%d人", h.EarnerDeaths12))
			en = append(en, fmt.Sprintf("%d member(s) with labour capacity died within 12 months", h.EarnerDeaths12))
		}
		if h.WorkingAgeLost > 0 {
			zh = append(zh, fmt.Sprintf("劳动年龄成员丧失劳动能力或一、二级残疾%d人", h.WorkingAgeLost))
			en = append(en, fmt.Sprintf("%d working-age member(s) without labour capacity or disabled grade 1-2", h.WorkingAgeLost))
		}
		trip(7, strings.Join(zh, "，"), strings.Join(en, "; "))
	}
	// 8 no_labor
	if h.NoLabor && h.HouseholdSize > 0 {
		trip(8, fmt.Sprintf("家庭%d人均无劳动能力（无普通或弱劳动力）", h.HouseholdSize),
			fmt.Sprintf("none of the %d members has full or weak labour capacity", h.HouseholdSize))
	}
	// 9 education_cost
	if known(h.EduNoncompNet12) && known(h.NetIncome12) && h.EduNoncompNet12 > 0 && h.EduNoncompNet12 > t.EducationShare*h.NetIncome12 {
		zh := fmt.Sprintf("近12个月非义务教育净支出%s元，超过家庭纯收入%s元的%s%%", yuan(h.EduNoncompNet12), yuan(h.NetIncome12), pct(t.EducationShare*100))
		en := fmt.Sprintf("12-month non-compulsory school fees net of subsidy %s yuan, above %s%% of the net income of %s yuan", yuan(h.EduNoncompNet12), pct(t.EducationShare*100), yuan(h.NetIncome12))
		trip(9, zh, en)
	}
	// 10 disaster
	lossTrip := known(h.DisasterLoss12) && known(h.NetIncome12) && h.DisasterLoss12 > 0 && h.DisasterLoss12 > t.DisasterLossShare*h.NetIncome12
	if h.DisasterSevere12 > 0 || lossTrip {
		var zh, en []string
		if h.DisasterSevere12 > 0 {
			zh = append(zh, fmt.Sprintf("近12个月所在村、乡镇或县发生%d级及以上灾害%d次", t.DisasterMaxSeverity, h.DisasterSevere12))
			en = append(en, fmt.Sprintf("%d disaster(s) of severity %d or worse in the village, township or county within 12 months", h.DisasterSevere12, t.DisasterMaxSeverity))
		}
		if lossTrip {
			zh = append(zh, fmt.Sprintf("登记灾害损失%s元，超过家庭纯收入%s元的%s%%", yuan(h.DisasterLoss12), yuan(h.NetIncome12), pct(t.DisasterLossShare*100)))
			en = append(en, fmt.Sprintf("recorded disaster loss %s yuan, above %s%% of the net income of %s yuan", yuan(h.DisasterLoss12), pct(t.DisasterLossShare*100), yuan(h.NetIncome12)))
		}
		trip(10, strings.Join(zh, "，"), strings.Join(en, "; "))
	}
	// 11, 12
	if h.HousingUnsafe {
		trip(11, "住房安全鉴定未通过", "the house failed the safety appraisal")
	}
	if h.WaterUnsafe {
		trip(12, "饮水安全未保障", "safe drinking water not secured")
	}
	return r, nil
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func fallbackZh(f string) string {
	switch f {
	case FallbackEarlierYear:
		return "，沿用本省上一年度"
	case FallbackNational:
		return "，本省无数据，采用全国默认"
	case FallbackNationalEarlier:
		return "，本省无数据，采用全国默认上一年度"
	}
	return ""
}

func fallbackEn(f string) string {
	switch f {
	case FallbackEarlierYear:
		return ", province's latest earlier year"
	case FallbackNational:
		return ", national default"
	case FallbackNationalEarlier:
		return ", national default of an earlier year"
	}
	return ""
}

// yuan formats an amount rounded to the yuan with thousands separators: 31,200.
func yuan(v float64) string {
	n := int64(math.Round(v))
	neg := n < 0
	if neg {
		n = -n
	}
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// ratio formats a multiple with two decimals: 1.35.
func ratio(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }

// pct formats a percentage without trailing zeros: 30, 12.5.
func pct(v float64) string { return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64) }

// num formats a setting without trailing zeros: 1.5, 0.5.
func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
