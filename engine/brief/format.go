package brief

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/povrisk/povrisk/datasets"
)

// fmtInt writes n with thousands separators.
func fmtInt(n int) string { return groupDigits(strconv.Itoa(n)) }

// fmtWhole writes x rounded to a whole number with thousands separators,
// for any float: no conversion to int, so nothing can overflow; NaN and the
// infinities print as a dash.
func fmtWhole(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "—"
	}
	return groupDigits(strconv.FormatFloat(math.Round(x), 'f', 0, 64))
}

// groupDigits puts thousands separators into a decimal integer.
func groupDigits(s string) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// small is the text of a suppressed count.
const small = "<5"

// withheld marks a count hidden so that a small one cannot be derived.
const withheld = "*"

// count prints n, or "<5" when it is under the threshold.
func count(n int) string {
	if n < minCell {
		return small
	}
	return fmtInt(n)
}

// protect returns which cells of a group that sums to a shown total must be
// hidden: every cell under the threshold, and, when exactly one is, the
// smallest other cell too (so that the total cannot reveal it). second
// marks the cells hidden only for that reason.
func protect(ns []int) (hidden, second []bool) {
	hidden = make([]bool, len(ns))
	second = make([]bool, len(ns))
	nh := 0
	for i, n := range ns {
		if n < minCell {
			hidden[i] = true
			nh++
		}
	}
	if nh == 1 && len(ns) > 1 {
		j := -1
		for i, n := range ns {
			if !hidden[i] && (j < 0 || n < ns[j]) {
				j = i
			}
		}
		if j >= 0 {
			hidden[j], second[j] = true, true
		}
	}
	return hidden, second
}

// cellText prints a protected cell.
func cellText(n int, hidden, second bool) string {
	switch {
	case second:
		return withheld
	case hidden:
		return small
	}
	return fmtInt(n)
}

func pct(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "—"
	}
	return fmt.Sprintf("%.0f%%", 100*x)
}

func fixed1(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "—"
	}
	return strconv.FormatFloat(math.Round(x*10)/10, 'f', 1, 64)
}

func signed(n int) string {
	if n > 0 {
		return "+" + fmtInt(n)
	}
	return fmtInt(n)
}

// lang holds the language of a brief.
type lang string

// t picks the Chinese or the English text.
func (l lang) t(zh, en string) string {
	if l == "en" {
		return en
	}
	return zh
}

// yuan prints a unit amount in yuan in both languages.
func (l lang) yuan(y float64) string {
	return fmtWhole(y) + l.t(" 元", " yuan")
}

// money prints yuan: 万元 in Chinese, yuan in English.
func (l lang) money(y float64) string {
	if l == "en" {
		return fmtWhole(y) + " yuan"
	}
	return fixed1(y/10000) + " 万元"
}

var riskTypeEn = map[string]string{
	"illness": "Illness", "disability": "Disability", "education": "Schooling costs",
	"disaster": "Natural disaster", "accident": "Accident", "unemployment": "Unstable employment",
	"industry": "Failed industry project", "labor_shortage": "Labour shortage",
	"housing": "Unsafe housing", "water": "Unsafe drinking water", "other": "Other",
}

// riskType names an official risk type in the official wording (zh) or in English.
func (l lang) riskType(code string) string {
	if l == "en" {
		if s, ok := riskTypeEn[code]; ok {
			return s
		}
	} else if s, ok := datasets.RiskTypeNames[code]; ok {
		return s
	}
	if code == "" {
		return l.t("未标注", "unlabelled")
	}
	return code
}

var programNames = map[string][2]string{
	"dibao":          {"低保", "Minimum living allowance (dibao)"},
	"tekun":          {"特困供养", "Support for the extremely poor (tekun)"},
	"temporary":      {"临时救助", "Temporary assistance"},
	"medical_aid":    {"医疗救助", "Medical assistance"},
	"employment_aid": {"就业帮扶", "Employment support"},
	"industry_aid":   {"产业帮扶", "Industry support"},
	"education_aid":  {"教育资助", "Education aid"},
	"housing_aid":    {"危房改造", "Dangerous-house renovation"},
}

func (l lang) program(code string) string {
	if n, ok := programNames[code]; ok {
		return l.t(n[0], n[1])
	}
	return code
}

// profile names a risk profile: its Chinese name from the run, or the code
// written out in English.
func (l lang) profile(c catRow) string {
	if c.Code == "unassigned" {
		return l.t("未分型", "no profile")
	}
	if l == "zh" && c.Label != "" {
		return c.Label
	}
	return strings.ReplaceAll(c.Code, "_", " ")
}

// driverNames label the model features most often named as top driver.
var driverNames = map[string][2]string{
	"oop_medical_12m":           {"近12个月医疗自付支出", "out-of-pocket medical spending (12 months)"},
	"oop_medical_6m":            {"近6个月医疗自付支出", "out-of-pocket medical spending (6 months)"},
	"oop_medical_3m":            {"近3个月医疗自付支出", "out-of-pocket medical spending (3 months)"},
	"oop_share_income_12m":      {"医疗自付占收入比重", "out-of-pocket medical spending as a share of income"},
	"oop_spike_ratio":           {"医疗自付支出骤增", "a spike in out-of-pocket medical spending"},
	"medical_total_12m":         {"近12个月医疗总费用", "total medical costs (12 months)"},
	"inpatient_stays_12m":       {"住院次数", "inpatient stays"},
	"major_disease_members":     {"大病登记人数", "members on the major-disease register"},
	"chronic_members":           {"慢病登记人数", "members on the chronic-disease register"},
	"net_income_pc_12m":         {"近12个月人均纯收入", "net income per person (12 months)"},
	"net_income_12m":            {"近12个月家庭纯收入", "household net income (12 months)"},
	"income_change_ratio":       {"收入同比变化", "year-on-year income change"},
	"zero_wage_months_12m":      {"无工资收入月数", "months without wage income"},
	"wage_share_12m":            {"工资性收入占比", "share of wage income"},
	"job_loss":                  {"务工中断", "loss of employment"},
	"job_loss_members":          {"失去工作的成员数", "members who lost their job"},
	"months_since_job_loss":     {"务工中断以来月数", "months since the job loss"},
	"months_since_contribution": {"停缴社保以来月数", "months since the last social-insurance contribution"},
	"members_stopped_contrib":   {"停缴社保人数", "members who stopped contributing"},
	"unemployment_new":          {"新增失业登记", "new unemployment registration"},
	"labor_full":                {"普通劳动力人数", "members with full labour capacity"},
	"labor_members":             {"劳动力人数", "working members"},
	"no_labor":                  {"无劳动力", "no working member"},
	"dependency_ratio":          {"抚养比", "dependency ratio"},
	"working_age_lost_capacity": {"劳动年龄人口丧失劳动力", "working-age members who lost labour capacity"},
	"earner_deaths_12m":         {"劳动力成员死亡", "death of an earning member"},
	"edu_noncompulsory_net_12m": {"非义务教育净支出", "non-compulsory schooling costs net of aid"},
	"edu_fees_net_12m":          {"教育净支出", "schooling costs net of aid"},
	"education_net_fees_12m":    {"教育净支出", "schooling costs net of aid"},
	"edu_share_income_12m":      {"教育支出占收入比重", "schooling costs as a share of income"},
	"disaster_loss_12m":         {"灾害损失", "disaster losses"},
	"disaster_sev12_12m":        {"重大灾害次数", "severe disasters"},
	"housing_safe":              {"住房安全", "housing safety"},
	"housing_unsafe":            {"住房不安全", "unsafe housing"},
	"water_safe":                {"饮水安全", "drinking-water safety"},
}

func (l lang) driver(code string) string {
	if n, ok := driverNames[code]; ok {
		return l.t(n[0], n[1])
	}
	return code
}

// regionName describes the brief's region by its code.
func (l lang) regionName(prefix string) string {
	switch len(prefix) {
	case 0:
		return l.t("全部地区", "all regions")
	case 2:
		return l.t("省级 "+prefix, "province "+prefix)
	case 4:
		return l.t("市级 "+prefix, "city "+prefix)
	default:
		return l.t("县级 "+prefix, "county "+prefix)
	}
}

func (l lang) level(level string) string {
	if level == "county" {
		return l.t("县（市、区）", "county")
	}
	return l.t("乡镇", "township")
}

var tableNames = map[string]string{
	"households": "户籍家庭", "persons": "家庭成员", "income_records": "收入", "social_insurance": "社保缴费",
	"unemployment": "失业登记", "medical_claims": "医保结算", "education": "教育", "disasters": "灾情",
	"assets": "资产与身份核对", "assistance": "救助与帮扶", "monitoring_events": "防返贫监测记录",
}

func (l lang) table(name string) string {
	if l == "zh" {
		if s, ok := tableNames[name]; ok {
			return s + " " + name
		}
	}
	return name
}
