package run

import (
	"math"
	"strconv"
	"strings"

	"github.com/povrisk/povrisk/models/kmeans"
)

// unit says how a feature's value is written in a reason.
type unit int

const (
	uCount unit = iota // a whole number
	uYuan              // yuan: "1.2万元" / "12,345 yuan"
	uRatio             // one decimal: "4.2"
	uShare             // a percentage: "35%"
	uFlag              // no figure: the reason is ReasonZh when 1, NotZh when 0
)

// featureText is what the night knows of a model feature: a short label,
// the official risk type it points to, its unit and the reason templates
// (%s takes the formatted value).
type featureText struct {
	Zh, En             string
	Risk               string
	Unit               unit
	ReasonZh, ReasonEn string // when the value is present (for flags: when 1)
	NotZh, NotEn       string // flags only: when 0
	// Profile labels the k-means cluster this feature leads (high value =
	// the risk); "" when the feature does not name a profile.
	Profile, ProfileZh string
}

// featureTexts maps every model feature of the catalog to its texts.
// TestFeatureTextsCoverCatalog fails when the catalog gains a feature
// without an entry here.
var featureTexts = map[string]featureText{
	"assist_dibao":               {"享受低保", "receives dibao", "other", uFlag, "正在享受低保", "receives dibao (minimum living allowance)", "未享受低保", "no dibao", "", ""},
	"assist_tekun":               {"特困供养", "tekun support", "labor_shortage", uFlag, "正在享受特困供养", "receives tekun support", "未享受特困供养", "no tekun support", "", ""},
	"assist_temporary":           {"临时救助", "temporary assistance", "accident", uFlag, "正在享受临时救助", "receives temporary assistance", "未享受临时救助", "no temporary assistance", "", ""},
	"assist_medical_aid":         {"医疗救助", "medical aid", "illness", uFlag, "正在享受医疗救助", "receives medical aid", "未享受医疗救助", "no medical aid", "", ""},
	"assist_employment_aid":      {"就业帮扶", "employment aid", "unemployment", uFlag, "正在享受就业帮扶", "receives employment aid", "未享受就业帮扶", "no employment aid", "", ""},
	"assist_industry_aid":        {"产业帮扶", "industry aid", "industry", uFlag, "正在享受产业帮扶", "receives industry aid", "未享受产业帮扶", "no industry aid", "", ""},
	"assist_education_aid":       {"教育资助", "education aid", "education", uFlag, "正在享受教育资助", "receives education aid", "未享受教育资助", "no education aid", "", ""},
	"assist_housing_aid":         {"危房改造", "housing aid", "housing", uFlag, "正在享受危房改造帮扶", "receives housing-renovation aid", "未享受危房改造帮扶", "no housing aid", "", ""},
	"assist_programs":            {"在享帮扶项目数", "assistance programmes", "other", uCount, "正在享受%s项救助帮扶", "receives %s assistance programmes", "", "", "assisted", "多项帮扶"},
	"assist_amount":              {"年救助帮扶金额", "yearly assistance", "other", uYuan, "年救助帮扶金额%s", "assistance of %s a year", "", "", "", ""},
	"household_size":             {"家庭人口", "household size", "other", uCount, "家庭人口%s人", "%s household members", "", "", "", ""},
	"members_0_15":               {"0-15岁人数", "members aged 0-15", "education", uCount, "有%s名15岁以下儿童", "%s children under 16", "", "", "", ""},
	"members_16_59":              {"16-59岁人数", "members aged 16-59", "labor_shortage", uCount, "劳动年龄人口%s人", "%s members of working age", "", "", "", ""},
	"members_60_plus":            {"60岁以上人数", "members aged 60+", "labor_shortage", uCount, "有%s名60岁以上老人", "%s members aged 60 or more", "", "", "elderly", "老龄家庭"},
	"labor_full":                 {"普通劳动力人数", "full labour", "labor_shortage", uCount, "普通劳动力%s人", "%s members with full labour capacity", "", "", "", ""},
	"labor_weak":                 {"弱劳动力人数", "weak labour", "labor_shortage", uCount, "弱劳动力%s人", "%s members with weak labour capacity", "", "", "", ""},
	"dependency_ratio":           {"抚养比", "dependency ratio", "labor_shortage", uRatio, "抚养比为%s", "dependency ratio %s", "", "", "high_dependency", "抚养负担重"},
	"disabled_grade_1_2":         {"一二级残疾人数", "severely disabled", "disability", uCount, "有%s名一、二级残疾成员", "%s members with disability grade 1-2", "", "", "disability", "重度残疾"},
	"disabled_grade_3_4":         {"三四级残疾人数", "disabled grade 3-4", "disability", uCount, "有%s名三、四级残疾成员", "%s members with disability grade 3-4", "", "", "", ""},
	"chronic_members":            {"慢病人数", "chronic-disease members", "illness", uCount, "有%s名慢病登记成员", "%s members on the chronic-disease register", "", "", "chronic_illness", "慢病负担"},
	"major_disease_members":      {"大病人数", "major-disease members", "illness", uCount, "有%s名大病登记成员", "%s members on the major-disease register", "", "", "major_illness", "大病负担"},
	"disaster_events_12m":        {"近12个月受灾次数", "disasters, 12 months", "disaster", uCount, "近12个月受灾%s次", "exposed to %s disasters in 12 months", "", "", "disaster_exposure", "自然灾害影响"},
	"disaster_sev12_12m":         {"近12个月重大灾害次数", "severe disasters, 12 months", "disaster", uCount, "近12个月遭受%s次重大(一、二级)灾害", "%s severe (grade 1-2) disasters in 12 months", "", "", "disaster_exposure", "自然灾害影响"},
	"disaster_sev34_12m":         {"近12个月一般灾害次数", "minor disasters, 12 months", "disaster", uCount, "近12个月遭受%s次一般灾害", "%s minor disasters in 12 months", "", "", "", ""},
	"disaster_county_12m":        {"本县近12个月灾害次数", "county disasters, 12 months", "disaster", uCount, "所在县近12个月发生灾害%s次", "%s disasters in the county in 12 months", "", "", "", ""},
	"disaster_township_12m":      {"本乡镇近12个月灾害次数", "township disasters, 12 months", "disaster", uCount, "所在乡镇近12个月发生灾害%s次", "%s disasters in the township in 12 months", "", "", "", ""},
	"disaster_village_12m":       {"本村近12个月灾害次数", "village disasters, 12 months", "disaster", uCount, "所在村近12个月发生灾害%s次", "%s disasters in the village in 12 months", "", "", "", ""},
	"months_since_disaster":      {"距最近受灾月数", "months since disaster", "disaster", uCount, "%s个月前受灾", "hit by a disaster %s months ago", "", "", "", ""},
	"disaster_loss_12m":          {"近12个月灾害损失", "disaster losses, 12 months", "disaster", uYuan, "近12个月灾害损失%s", "disaster losses of %s in 12 months", "", "", "disaster_loss", "灾害损失"},
	"disaster_loss_share_income": {"灾害损失占纯收入比例", "disaster loss / income", "disaster", uShare, "灾害损失相当于年纯收入的%s", "disaster losses %s of the yearly net income", "", "", "disaster_loss", "灾害损失"},
	"job_loss":                   {"务工中断", "job loss", "unemployment", uFlag, "有劳动年龄成员近期断缴社保或新登记失业", "a working-age member stopped paying social insurance or registered as unemployed", "无务工中断", "no job loss", "job_loss", "务工就业不稳"},
	"job_loss_members":           {"务工中断人数", "members who lost a job", "unemployment", uCount, "%s名劳动年龄成员务工中断", "%s working-age members lost a job", "", "", "job_loss", "务工就业不稳"},
	"months_since_job_loss":      {"距务工中断月数", "months since job loss", "unemployment", uCount, "%s个月前务工中断", "lost a job %s months ago", "", "", "", ""},
	"contributing_members_now":   {"当月参保缴费人数", "members paying social insurance", "unemployment", uCount, "当月参保缴费%s人", "%s members paying social insurance this month", "", "", "", ""},
	"members_stopped_contrib":    {"近12个月停缴人数", "members who stopped paying", "unemployment", uCount, "%s名成员近12个月缴过社保、当月已停缴", "%s members paid social insurance in the last 12 months but not this month", "", "", "job_loss", "务工就业不稳"},
	"unemployment_open":          {"失业登记中人数", "open unemployment registrations", "unemployment", uCount, "%s人处于失业登记状态", "%s members registered as unemployed", "", "", "unemployed", "失业"},
	"unemployment_new":           {"近3个月新增失业登记", "new unemployment registrations", "unemployment", uCount, "近3个月新增失业登记%s人", "%s new unemployment registrations in 3 months", "", "", "unemployed", "失业"},
	"income_months_12m":          {"有收入记录月数", "months with income records", "other", uCount, "近12个月仅%s个月有收入记录", "income records for only %s of 12 months", "", "", "", ""},
	"net_income_12m":             {"近12个月家庭纯收入", "household net income, 12 months", "other", uYuan, "近12个月家庭纯收入%s", "household net income %s over 12 months", "", "", "", ""},
	"net_income_pc_12m":          {"近12个月人均纯收入", "net income per person, 12 months", "other", uYuan, "近12个月人均纯收入%s", "net income per person %s over 12 months", "", "", "", ""},
	"net_income_prev_12m":        {"上一年度家庭纯收入", "net income, previous 12 months", "other", uYuan, "上一个12个月家庭纯收入%s", "net income %s in the 12 months before", "", "", "", ""},
	"income_change_ratio":        {"纯收入同比", "income vs a year before", "other", uRatio, "近12个月纯收入为上一年度的%s倍", "net income %sx that of the 12 months before", "", "", "", ""},
	"wage_share_12m":             {"工资性收入占比", "wage share of income", "unemployment", uShare, "工资性收入占比%s", "wages %s of gross income", "", "", "", ""},
	"transfer_share_12m":         {"转移性收入占比", "transfer share of income", "other", uShare, "转移性收入占比%s", "transfers %s of gross income", "", "", "transfer_dependent", "依赖转移性收入"},
	"zero_wage_months_12m":       {"无工资收入月数", "months without wages", "unemployment", uCount, "近12个月有%s个月无工资收入", "no wage income in %s of the last 12 months", "", "", "no_wage", "缺少工资收入"},
	"earner_deaths_12m":          {"近12个月劳动力死亡人数", "earner deaths, 12 months", "labor_shortage", uCount, "近12个月有%s名劳动力成员去世", "%s members with labour capacity died in 12 months", "", "", "labor_loss", "劳动力丧失"},
	"working_age_lost_capacity":  {"劳动年龄丧失劳动力人数", "working-age lost capacity", "labor_shortage", uCount, "%s名劳动年龄成员丧失劳动能力或重度残疾", "%s working-age members lost labour capacity or are severely disabled", "", "", "labor_loss", "劳动力丧失"},
	"no_labor":                   {"无劳动力", "no labour", "labor_shortage", uFlag, "家庭无劳动力", "no member able to work", "家庭有劳动力", "has a member able to work", "labor_shortage", "缺劳动力"},
	"oop_medical_3m":             {"近3个月自付医疗费", "out-of-pocket medical, 3 months", "illness", uYuan, "近3个月自付医疗费%s", "out-of-pocket medical spending %s in 3 months", "", "", "medical_burden", "医疗支出负担"},
	"oop_medical_6m":             {"近6个月自付医疗费", "out-of-pocket medical, 6 months", "illness", uYuan, "近6个月自付医疗费%s", "out-of-pocket medical spending %s in 6 months", "", "", "medical_burden", "医疗支出负担"},
	"oop_medical_12m":            {"近12个月自付医疗费", "out-of-pocket medical, 12 months", "illness", uYuan, "近12个月自付医疗费%s", "out-of-pocket medical spending %s in 12 months", "", "", "medical_burden", "医疗支出负担"},
	"medical_total_12m":          {"近12个月医疗总费用", "medical cost, 12 months", "illness", uYuan, "近12个月医疗总费用%s", "total medical cost %s in 12 months", "", "", "medical_burden", "医疗支出负担"},
	"inpatient_stays_12m":        {"近12个月住院次数", "inpatient stays, 12 months", "illness", uCount, "近12个月住院%s次", "%s inpatient stays in 12 months", "", "", "inpatient", "住院治疗"},
	"claims_12m":                 {"近12个月就医结算次数", "medical claims, 12 months", "illness", uCount, "近12个月就医结算%s次", "%s medical claims in 12 months", "", "", "", ""},
	"members_with_claims_12m":    {"近12个月就医人数", "members with claims, 12 months", "illness", uCount, "近12个月%s名成员就医", "%s members with medical claims in 12 months", "", "", "", ""},
	"oop_spike_ratio":            {"近3个月自付医疗费倍数", "recent medical spike", "illness", uRatio, "近3个月自付医疗费为平常月份的%s倍", "out-of-pocket medical spending in the last 3 months %sx the usual month", "", "", "medical_spike", "医疗支出骤增"},
	"oop_share_income_12m":       {"自付医疗费占纯收入比例", "medical spending / income", "illness", uShare, "自付医疗费相当于年纯收入的%s", "out-of-pocket medical spending %s of the yearly net income", "", "", "medical_burden", "医疗支出负担"},
	"students_preschool":         {"学前教育人数", "preschool pupils", "education", uCount, "有%s名学前儿童", "%s preschool pupils", "", "", "", ""},
	"students_compulsory":        {"义务教育人数", "compulsory-school pupils", "education", uCount, "有%s名义务教育阶段学生", "%s pupils in compulsory schooling", "", "", "", ""},
	"students_high_school":       {"高中在读人数", "high-school students", "education", uCount, "有%s名高中生", "%s high-school students", "", "", "education_cost", "教育支出负担"},
	"students_vocational":        {"职业教育在读人数", "vocational students", "education", uCount, "有%s名职业教育在读学生", "%s vocational students", "", "", "education_cost", "教育支出负担"},
	"students_tertiary":          {"大学在读人数", "university students", "education", uCount, "有%s名大学生", "%s university students", "", "", "education_cost", "教育支出负担"},
	"edu_fees_net_12m":           {"近12个月净教育支出", "net schooling fees, 12 months", "education", uYuan, "近12个月扣除资助后教育支出%s", "schooling fees net of aid %s in 12 months", "", "", "education_cost", "教育支出负担"},
	"edu_noncompulsory_net_12m":  {"非义务教育净支出", "non-compulsory fees, 12 months", "education", uYuan, "近12个月非义务教育支出(扣除资助)%s", "non-compulsory schooling fees net of aid %s in 12 months", "", "", "education_cost", "教育支出负担"},
	"edu_share_income_12m":       {"教育支出占纯收入比例", "schooling fees / income", "education", uShare, "非义务教育支出相当于年纯收入的%s", "non-compulsory schooling fees %s of the yearly net income", "", "", "education_cost", "教育支出负担"},
	"escaped_household":          {"脱贫户", "escaped household", "other", uFlag, "脱贫户", "household lifted out of poverty", "非脱贫户", "not a formerly poor household", "", ""},
	"years_since_escape":         {"脱贫年数", "years since escape", "other", uCount, "脱贫%s年", "lifted out of poverty %s years ago", "", "", "", ""},
	"past_monitoring_events":     {"历史监测识别次数", "past monitoring", "other", uCount, "曾%s次被识别为监测对象", "identified as a monitoring object %s times before", "", "", "past_monitoring", "曾被监测"},
	"months_since_elimination":   {"风险消除后月数", "months since risk elimination", "other", uCount, "风险消除仅%s个月", "risk eliminated only %s months ago", "", "", "", ""},
	"housing_safe":               {"住房安全", "safe housing", "housing", uFlag, "住房安全有保障", "safe housing", "住房安全鉴定未通过", "the house failed the safety appraisal", "", ""},
	"water_safe":                 {"饮水安全", "safe water", "water", uFlag, "饮水安全有保障", "safe drinking water", "饮水安全未保障", "drinking water not secured", "", ""},
}

// profileLabels is the feature → (profile name, Chinese, risk type) table
// that names k-means clusters (kmeans.Model.Profile).
func profileLabels() map[string]kmeans.Label {
	out := map[string]kmeans.Label{}
	for f, t := range featureTexts {
		if t.Profile != "" {
			out[f] = kmeans.Label{Name: t.Profile, NameZh: t.ProfileZh, RiskType: t.Risk}
		}
	}
	return out
}

// programZh gives the Chinese name of each assistance programme (datasets.Programs).
var programZh = map[string]string{
	"dibao": "低保", "tekun": "特困供养", "temporary": "临时救助", "medical_aid": "医疗救助",
	"employment_aid": "就业帮扶", "industry_aid": "产业帮扶", "education_aid": "教育资助", "housing_aid": "危房改造",
}

// riskMeasures suggests assistance programmes per official risk type, most
// fitting first (codes of datasets.Programs).
var riskMeasures = map[string][]string{
	"illness":        {"medical_aid", "temporary"},
	"disability":     {"dibao", "employment_aid"},
	"education":      {"education_aid"},
	"disaster":       {"temporary", "housing_aid"},
	"accident":       {"temporary", "medical_aid"},
	"unemployment":   {"employment_aid"},
	"industry":       {"industry_aid", "employment_aid"},
	"labor_shortage": {"dibao", "tekun"},
	"housing":        {"housing_aid"},
	"water":          {"temporary"},
	"other":          {"dibao", "temporary"},
}

// formatValue writes v in unit u; zh selects Chinese or English.
func formatValue(v float64, u unit, zh bool) string {
	switch u {
	case uYuan:
		if zh {
			if math.Abs(v) >= 10000 {
				return strconv.FormatFloat(v/10000, 'f', 1, 64) + "万元"
			}
			return strconv.FormatFloat(math.Round(v), 'f', 0, 64) + "元"
		}
		return groupThousands(math.Round(v)) + " yuan"
	case uRatio:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case uShare:
		return strconv.FormatFloat(math.Round(v*100), 'f', 0, 64) + "%"
	default:
		return strconv.FormatFloat(math.Round(v), 'f', 0, 64)
	}
}

// groupThousands writes an integral v with thousands separators.
func groupThousands(v float64) string {
	s := strconv.FormatFloat(math.Abs(v), 'f', 0, 64)
	var b strings.Builder
	if v < 0 {
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

// zeroTexts replace the template of a "months since" feature whose value is
// 0 (it happened in the month of the as-of date).
var zeroTexts = map[string][2]string{
	"months_since_elimination": {"本月刚消除风险", "risk eliminated this month"},
	"months_since_job_loss":    {"本月务工中断", "lost a job this month"},
	"months_since_disaster":    {"本月受灾", "hit by a disaster this month"},
}

// reason renders the reason for feature f with value v, in Chinese and
// English. A missing value reads "<label>：无记录".
func reason(f string, v float64) (zh, en string) {
	t, ok := featureTexts[f]
	if !ok {
		return f + "=" + formatValue(v, uRatio, true), f + "=" + formatValue(v, uRatio, false)
	}
	if math.IsNaN(v) {
		return t.Zh + "：无记录", t.En + ": no record"
	}
	if z, ok := zeroTexts[f]; ok && math.Round(v) == 0 {
		return z[0], z[1]
	}
	if t.Unit == uFlag {
		if v != 0 {
			return t.ReasonZh, t.ReasonEn
		}
		return t.NotZh, t.NotEn
	}
	return strings.Replace(t.ReasonZh, "%s", formatValue(v, t.Unit, true), 1),
		strings.Replace(t.ReasonEn, "%s", formatValue(v, t.Unit, false), 1)
}
