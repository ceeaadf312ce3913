package rules

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Rule is one named check of the screen. It carries its own check, so
// that a rule's facts can only ever be filed under its own name.
type Rule struct {
	Name     string // the rule column is "rule_" + Name
	RiskType string // official risk type code (RiskTypeCodes)
	Meaning  string
	check    func(h *Household, e *Env) (Fact, bool)
}

// Check applies the rule to h: its fact and whether it trips.
func (r Rule) Check(h Household, e Env) (Fact, bool) { return r.check(&h, &e) }

// Fact is what a tripped rule says, with its figures, in both languages.
type Fact struct{ Zh, En string }

// Env is what a check knows besides the household: the thresholds and the
// policy entries that apply to it in the as-of year.
type Env struct {
	T     Thresholds
	Year  int   // the as-of year
	Line  Entry // monitoring line of the as-of year
	Rural Entry // rural income of the year before
}

// Rules returns the screen of POLICY.md, in output order; a fresh copy.
func Rules() []Rule {
	return []Rule{
		{"income_below_line", "other", "12-month per-capita net income below the monitoring line", checkIncomeBelowLine},
		{"income_near_line", "other", "12-month per-capita net income at or above the line but below factor x line", checkIncomeNearLine},
		{"income_drop", "other", "12-month net income fell by more than a share against the 12 months before", checkIncomeDrop},
		{"medical_burden", "illness", "12-month out-of-pocket medical spending above a share of the previous-year rural per-capita disposable income", checkMedicalBurden},
		{"medical_large", "illness", "12-month out-of-pocket medical spending above an absolute amount", checkMedicalLarge},
		{"rigid_over_income", "illness", "out-of-pocket medical plus education fees net of subsidy above the 12-month net income", checkRigidOverIncome},
		{"job_loss", "unemployment", "a working-age member stopped contributing after a run of contributions, or registered as unemployed", checkJobLoss},
		{"labor_loss", "labor_shortage", "a member with labour capacity died, or a working-age member has lost labour capacity or is disabled grade 1-2", checkLaborLoss},
		{"no_labor", "labor_shortage", "no member with full or weak labour capacity", checkNoLabor},
		{"education_cost", "education", "non-compulsory schooling fees net of subsidy above a share of net income", checkEducationCost},
		{"disaster", "disaster", "a severe disaster in the village, township or county, or a recorded loss above a share of net income", checkDisaster},
		{"housing_unsafe", "housing", "the house failed the safety appraisal", checkHousing},
		{"water_unsafe", "water", "drinking water not secured", checkWater},
	}
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
	Tripped []bool // one per rule, in the order of the rules screened (Rules())
	Line    Entry  // monitoring line used (of the as-of year)
	Rural   Entry  // rural income used (of the year before)
	Names   []string
	// RiskTypes of the tripped rules, each once, an income rule's "other"
	// attributed to its cause (AttributedRiskTypes).
	RiskTypes []string
	// Primary is the primary risk type (PrimaryRiskType; "" none tripped).
	Primary string
	Facts   []string // zh
	FactsEn []string
}

// Screen applies every rule of Rules() to h for the as-of date asOf.
func (p *Policy) Screen(h Household, asOf time.Time) (Result, error) {
	return p.ScreenWith(Rules(), h, asOf)
}

// ScreenWith applies the rules rs to h, in their order.
func (p *Policy) ScreenWith(rs []Rule, h Household, asOf time.Time) (Result, error) {
	e, err := p.Env(h.RegionCode, asOf)
	if err != nil {
		return Result{}, err
	}
	r := Result{Tripped: make([]bool, len(rs)), Line: e.Line, Rural: e.Rural}
	var own []string // the tripped rules' own risk types
	for i, rule := range rs {
		f, ok := rule.check(&h, &e)
		if !ok {
			continue
		}
		r.Tripped[i] = true
		r.Names = append(r.Names, rule.Name)
		own = append(own, rule.RiskType)
		r.Facts = append(r.Facts, f.Zh)
		r.FactsEn = append(r.FactsEn, f.En)
	}
	r.RiskTypes = attribute(r.Names, own, h, p.Thresholds)
	r.Primary = primary(r.Names, r.RiskTypes, h, p.Thresholds)
	return r, nil
}

// Env returns what the checks need for a household of regionCode on asOf:
// the thresholds, the monitoring line of the as-of year and the rural
// income of the year before.
func (p *Policy) Env(regionCode string, asOf time.Time) (Env, error) {
	year := asOf.Year()
	line, err := p.Line(regionCode, year)
	if err != nil {
		return Env{}, err
	}
	rural, err := p.RuralIncome(regionCode, year-1)
	if err != nil {
		return Env{}, err
	}
	return Env{T: p.Thresholds, Year: year, Line: line, Rural: rural}, nil
}

func known(v float64) bool { return !math.IsNaN(v) }

// lineNote names the monitoring line used, in both languages.
func (e *Env) lineNote() (string, string) {
	return fmt.Sprintf("%d年监测线%s元（%s%s）", e.Year, yuan(e.Line.Value), e.Line.Key(), fallbackZh(e.Line.Fallback)),
		fmt.Sprintf("the %d monitoring line %s yuan (entry %s%s)", e.Year, yuan(e.Line.Value), e.Line.Key(), fallbackEn(e.Line.Fallback))
}

func checkIncomeBelowLine(h *Household, e *Env) (Fact, bool) {
	pc := h.NetIncomePC12
	if !known(pc) || pc >= e.Line.Value {
		return Fact{}, false
	}
	zh, en := e.lineNote()
	return Fact{fmt.Sprintf("近12个月人均纯收入%s元，低于%s", yuan(pc), zh),
		fmt.Sprintf("12-month net income per person %s yuan, below %s", yuan(pc), en)}, true
}

func checkIncomeNearLine(h *Household, e *Env) (Fact, bool) {
	pc, f := h.NetIncomePC12, e.T.NearLineFactor
	if !known(pc) || pc < e.Line.Value || pc >= f*e.Line.Value {
		return Fact{}, false
	}
	zh, en := e.lineNote()
	return Fact{fmt.Sprintf("近12个月人均纯收入%s元 = %s的%s倍，低于%s倍", yuan(pc), zh, ratio(pc/e.Line.Value), num(f)),
		fmt.Sprintf("12-month net income per person %s yuan = %s x %s, below %s x", yuan(pc), ratio(pc/e.Line.Value), en, num(f))}, true
}

func checkIncomeDrop(h *Household, e *Env) (Fact, bool) {
	if !known(h.IncomeChangeRatio) || h.IncomeChangeRatio >= 1-e.T.IncomeDropShare {
		return Fact{}, false
	}
	drop := (1 - h.IncomeChangeRatio) * 100
	return Fact{fmt.Sprintf("近12个月家庭纯收入%s元，比前12个月下降%s%%", yuan(h.NetIncome12), pct(drop)),
		fmt.Sprintf("12-month net income %s yuan, down %s%% on the 12 months before", yuan(h.NetIncome12), pct(drop))}, true
}

func checkMedicalBurden(h *Household, e *Env) (Fact, bool) {
	share, who, whoEn := e.T.MedicalShareGeneral, "一般农户", "a general household"
	if h.Escaped || h.Monitored {
		share, who, whoEn = e.T.MedicalShareEscaped, "脱贫户或监测户", "an escaped or monitored household"
	}
	oop, rural := h.OOPMedical12, e.Rural
	if !known(oop) || oop <= share*rural.Value {
		return Fact{}, false
	}
	return Fact{fmt.Sprintf("近12个月医疗自付%s元 = %d年农村居民人均可支配收入%s元（%s%s）的%s倍，超过%s标准%s倍",
		yuan(oop), rural.Year, yuan(rural.Value), rural.Key(), fallbackZh(rural.Fallback), ratio(oop/rural.Value), who, num(share)),
		fmt.Sprintf("12-month out-of-pocket medical %s yuan = %s x the %d rural per-capita disposable income %s yuan (entry %s%s), above %s x for %s",
			yuan(oop), ratio(oop/rural.Value), rural.Year, yuan(rural.Value), rural.Key(), fallbackEn(rural.Fallback), num(share), whoEn)}, true
}

func checkMedicalLarge(h *Household, e *Env) (Fact, bool) {
	limit, who, whoEn := e.T.MedicalLargeOther, "", ""
	if h.LowIncome {
		limit, who, whoEn = e.T.MedicalLargeLowIncome, "（低收入户）", " (low-income household)"
	}
	if !known(h.OOPMedical12) || h.OOPMedical12 <= limit {
		return Fact{}, false
	}
	return Fact{fmt.Sprintf("近12个月医疗自付%s元，超过%s元%s", yuan(h.OOPMedical12), yuan(limit), who),
		fmt.Sprintf("12-month out-of-pocket medical %s yuan, above %s yuan%s", yuan(h.OOPMedical12), yuan(limit), whoEn)}, true
}

func checkRigidOverIncome(h *Household, _ *Env) (Fact, bool) {
	if !known(h.NetIncome12) || !known(h.OOPMedical12) {
		return Fact{}, false
	}
	edu := h.EduFeesNet12
	if !known(edu) {
		edu = 0
	}
	rigid := h.OOPMedical12 + edu
	if rigid <= h.NetIncome12 {
		return Fact{}, false
	}
	return Fact{fmt.Sprintf("近12个月医疗自付%s元加教育净支出%s元，共%s元，超过家庭纯收入%s元", yuan(h.OOPMedical12), yuan(edu), yuan(rigid), yuan(h.NetIncome12)),
		fmt.Sprintf("12-month out-of-pocket medical %s yuan plus net school fees %s yuan = %s yuan, above the net income of %s yuan", yuan(h.OOPMedical12), yuan(edu), yuan(rigid), yuan(h.NetIncome12))}, true
}

func checkJobLoss(h *Household, e *Env) (Fact, bool) {
	if !h.JobLoss && h.UnemploymentNew <= 0 {
		return Fact{}, false
	}
	var zh, en []string
	if h.JobLoss {
		zh = append(zh, fmt.Sprintf("劳动年龄成员连续缴纳社保%d个月以上后已停缴%d个月", e.T.JobLossMinRunMonths, h.MonthsSinceJobLoss))
		en = append(en, fmt.Sprintf("a working-age member stopped social-insurance contributions %d months ago after %d or more consecutive months", h.MonthsSinceJobLoss, e.T.JobLossMinRunMonths))
	}
	if h.UnemploymentNew > 0 {
		zh = append(zh, fmt.Sprintf("新增失业登记%d条", h.UnemploymentNew))
		en = append(en, fmt.Sprintf("%d new unemployment registration(s)", h.UnemploymentNew))
	}
	return Fact{strings.Join(zh, "，"), strings.Join(en, "; ")}, true
}

func checkLaborLoss(h *Household, _ *Env) (Fact, bool) {
	if h.EarnerDeaths12 <= 0 && h.WorkingAgeLost <= 0 {
		return Fact{}, false
	}
	var zh, en []string
	if h.EarnerDeaths12 > 0 {
		zh = append(zh, fmt.Sprintf("近12个月有劳动能力的成员去世%d人", h.EarnerDeaths12))
		en = append(en, fmt.Sprintf("%d member(s) with labour capacity died within 12 months", h.EarnerDeaths12))
	}
	if h.WorkingAgeLost > 0 {
		zh = append(zh, fmt.Sprintf("劳动年龄成员丧失劳动能力或一、二级残疾%d人", h.WorkingAgeLost))
		en = append(en, fmt.Sprintf("%d working-age member(s) without labour capacity or disabled grade 1-2", h.WorkingAgeLost))
	}
	return Fact{strings.Join(zh, "，"), strings.Join(en, "; ")}, true
}

func checkNoLabor(h *Household, _ *Env) (Fact, bool) {
	if !h.NoLabor || h.HouseholdSize <= 0 {
		return Fact{}, false
	}
	return Fact{fmt.Sprintf("家庭%d人均无劳动能力（无普通或弱劳动力）", h.HouseholdSize),
		fmt.Sprintf("none of the %d members has full or weak labour capacity", h.HouseholdSize)}, true
}

func checkEducationCost(h *Household, e *Env) (Fact, bool) {
	nc, net, share := h.EduNoncompNet12, h.NetIncome12, e.T.EducationShare
	if !known(nc) || !known(net) || nc <= 0 || nc <= share*net {
		return Fact{}, false
	}
	return Fact{fmt.Sprintf("近12个月非义务教育净支出%s元，超过家庭纯收入%s元的%s%%", yuan(nc), yuan(net), pct(share*100)),
		fmt.Sprintf("12-month non-compulsory school fees net of subsidy %s yuan, above %s%% of the net income of %s yuan", yuan(nc), pct(share*100), yuan(net))}, true
}

func checkDisaster(h *Household, e *Env) (Fact, bool) {
	t := e.T
	lossTrip := known(h.DisasterLoss12) && known(h.NetIncome12) && h.DisasterLoss12 > 0 && h.DisasterLoss12 > t.DisasterLossShare*h.NetIncome12
	if h.DisasterSevere12 <= 0 && !lossTrip {
		return Fact{}, false
	}
	var zh, en []string
	if h.DisasterSevere12 > 0 {
		zh = append(zh, fmt.Sprintf("近12个月所在村、乡镇或县发生%d级及以上灾害%d次", t.DisasterMaxSeverity, h.DisasterSevere12))
		en = append(en, fmt.Sprintf("%d disaster(s) of severity %d or worse in the village, township or county within 12 months", h.DisasterSevere12, t.DisasterMaxSeverity))
	}
	if lossTrip {
		zh = append(zh, fmt.Sprintf("登记灾害损失%s元，超过家庭纯收入%s元的%s%%", yuan(h.DisasterLoss12), yuan(h.NetIncome12), pct(t.DisasterLossShare*100)))
		en = append(en, fmt.Sprintf("recorded disaster loss %s yuan, above %s%% of the net income of %s yuan", yuan(h.DisasterLoss12), pct(t.DisasterLossShare*100), yuan(h.NetIncome12)))
	}
	return Fact{strings.Join(zh, "，"), strings.Join(en, "; ")}, true
}

func checkHousing(h *Household, _ *Env) (Fact, bool) {
	return Fact{"住房安全鉴定未通过", "the house failed the safety appraisal"}, h.HousingUnsafe
}

func checkWater(h *Household, _ *Env) (Fact, bool) {
	return Fact{"饮水安全未保障", "safe drinking water not secured"}, h.WaterUnsafe
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

// Thousands writes v rounded to a whole number (half away from zero) with
// thousands separators: 31,200; -2,500. It is the one thousands format of
// povrisk's texts (facts, reasons, briefs); it holds for any magnitude.
func Thousands(v float64) string {
	r := math.Round(v)
	s := strconv.FormatFloat(math.Abs(r), 'f', 0, 64)
	var b strings.Builder
	if r < 0 {
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

// yuan formats an amount rounded to the yuan with thousands separators: 31,200.
func yuan(v float64) string { return Thousands(v) }

// ratio formats a multiple with two decimals: 1.35.
func ratio(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }

// pct formats a percentage without trailing zeros: 30, 12.5.
func pct(v float64) string { return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64) }

// num formats a setting without trailing zeros: 1.5, 0.5.
func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
