package brief

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/povrisk/povrisk/features"
	"github.com/povrisk/povrisk/features/rules"
)

// fmtInt writes n with thousands separators (rules.Thousands, the one
// thousands format).
func fmtInt(n int) string { return rules.Thousands(float64(n)) }

// fmtWhole writes x rounded to a whole number with thousands separators,
// for any float: no conversion to int, so nothing can overflow; NaN and the
// infinities print as a dash.
func fmtWhole(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "—"
	}
	return rules.Thousands(x)
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

// riskType names an official risk type in the official wording (zh) or in
// English: the names of package rules, their one owner.
func (l lang) riskType(code string) string {
	if s := l.t(rules.RiskTypeZh(code), rules.RiskTypeEn(code)); s != "" {
		return s
	}
	if code == "" {
		return l.t("未标注", "unlabelled")
	}
	return l.t("其他风险类型", code) // a code no table names: never a Latin word in Chinese
}

// program names an assistance programme: the names of package rules,
// their one owner.
func (l lang) program(code string) string {
	if s := l.t(rules.ProgramZh(code), rules.ProgramEn(code)); s != "" {
		return s
	}
	return l.t("其他帮扶措施", code)
}

// profile names a risk profile: its Chinese name from the run, or the code
// written out in English.
func (l lang) profile(c catRow) string {
	if c.Code == "unassigned" {
		return l.t("未分型", "no profile")
	}
	if l == "zh" {
		if c.Label != "" {
			return c.Label
		}
		return "其他画像"
	}
	return strings.ReplaceAll(c.Code, "_", " ")
}

// driver labels a model feature named as top driver: its label in the
// feature catalog. A feature derived from a health condition is never
// named in a brief (POLICY.md, Privacy).
func (l lang) driver(code string) string {
	c, ok := features.Lookup(code)
	switch {
	case !ok:
		return l.t("其他因素", code)
	case c.Health:
		return l.t("健康相关因素", "a health-related factor")
	}
	return l.t(c.Label.Zh, c.Label.En)
}

// hasNonASCII reports whether s holds a character outside ASCII (a name
// already written in Chinese).
func hasNonASCII(s string) bool {
	for _, r := range s {
		if r > 127 {
			return true
		}
	}
	return false
}

// regionName describes the brief's region: its name from the run's places
// when it is a named county, else by level and code.
func (l lang) regionName(prefix string, places map[string]string) string {
	if n := places[prefix]; n != "" && prefix != "" {
		return n
	}
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

// tableNames are the Chinese names of the data standard's tables (the
// Chinese brief names no table by its code).
var tableNames = map[string]string{
	"households": "户籍家庭", "persons": "家庭成员", "income_records": "收入记录", "social_insurance": "社保缴费",
	"unemployment": "失业登记", "medical_claims": "医保结算", "education": "教育资助与在学", "disasters": "灾情",
	"assets": "资产与身份核对", "assistance": "救助与帮扶", "monitoring_events": "防返贫监测记录",
	"regions": "行政区划", "person_events": "家庭成员变动", "visit_outcomes": "入户核查结果",
}

func (l lang) table(name string) string {
	if l == "zh" {
		if s, ok := tableNames[name]; ok {
			return s
		}
		return "其他数据表"
	}
	return name
}

// ruleNames are the Chinese names of the rule screen's rules
// (features/rules.Rules), for the what-if annex.
var ruleNames = map[string]string{
	"income_below_line": "收入低于监测线", "income_near_line": "收入接近监测线", "income_drop": "收入大幅下降",
	"medical_burden": "医疗自付负担重", "medical_large": "医疗自付金额大", "rigid_over_income": "刚性支出超过收入",
	"job_loss": "务工就业中断", "labor_loss": "劳动力丧失", "no_labor": "无劳动能力", "education_cost": "教育支出负担重",
	"disaster": "遭受灾害", "housing_unsafe": "住房不安全", "water_unsafe": "饮水不安全",
}

// rule names a rule of the screen.
func (l lang) rule(name string) string {
	if l == "en" {
		return strings.ReplaceAll(name, "_", " ")
	}
	if s, ok := ruleNames[name]; ok {
		return s
	}
	return "其他规则"
}

// conditionNames are the Chinese names of the risk-elimination conditions
// (features.Condition.Name), for the most common unmet condition.
var conditionNames = map[string]string{
	"income": "收入稳定超过监测线", "income_6m": "近6个月收入超过监测线", "income_12m": "近12个月收入超过监测线",
	"income_stable": "收入稳定超过监测线", "rigid_expenditure": "刚性支出问题已解决", "rigid": "刚性支出问题已解决",
	"rigid_resolved": "刚性支出问题已解决", "education": "义务教育有保障", "medical": "基本医疗有保障",
	"housing": "住房安全有保障", "water": "饮水安全有保障", "guarantees": "“三保障”和饮水安全",
	"labour": "有劳动能力或稳定保障", "labor": "有劳动能力或稳定保障", "no_labour": "有劳动能力或稳定保障",
	"months_since_identified": "识别满6个月", "months": "识别满6个月", "relapse": "返贫风险低",
}

// condition names an elimination condition; a name that is already
// Chinese is shown as it is.
func (l lang) condition(name string) string {
	if l == "en" {
		return strings.ReplaceAll(name, "_", " ")
	}
	if s, ok := conditionNames[name]; ok {
		return s
	}
	if hasNonASCII(name) {
		return name
	}
	return "其他条件"
}
