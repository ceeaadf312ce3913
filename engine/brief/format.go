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
	return code
}

// program names an assistance programme: the names of package rules,
// their one owner.
func (l lang) program(code string) string {
	if s := l.t(rules.ProgramZh(code), rules.ProgramEn(code)); s != "" {
		return s
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

// driver labels a model feature named as top driver: its label in the
// feature catalog. A feature derived from a health condition is never
// named in a brief (POLICY.md, Privacy).
func (l lang) driver(code string) string {
	c, ok := features.Lookup(code)
	switch {
	case !ok:
		return code
	case c.Health:
		return l.t("健康相关因素", "a health-related factor")
	}
	return l.t(c.Label.Zh, c.Label.En)
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
