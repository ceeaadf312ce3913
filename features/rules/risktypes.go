package rules

// riskTypes are the official risk types (风险类型) of the monitoring
// mechanism, in the order of the data standard (datasets.RiskTypes), with
// their official Chinese wording and an English one: the one table of
// risk-type names.
var riskTypes = codeNames{
	{"illness", "因病", "Illness"},
	{"disability", "因残", "Disability"},
	{"education", "因学", "Schooling costs"},
	{"disaster", "因自然灾害", "Natural disaster"},
	{"accident", "因意外事故", "Accident"},
	{"unemployment", "因务工就业不稳", "Unstable employment"},
	{"industry", "因产业项目失败", "Failed industry project"},
	{"labor_shortage", "缺劳动力", "Labour shortage"},
	{"housing", "因安全住房", "Unsafe housing"},
	{"water", "因安全饮水", "Unsafe drinking water"},
	{"other", "其他", "Other"},
}

// RiskTypeCodes lists the official risk type codes in the standard's
// order; a fresh copy.
func RiskTypeCodes() []string { return riskTypes.codes() }

// RiskTypeZh is the official Chinese wording of a risk type code ("" for
// a code that is not one).
func RiskTypeZh(code string) string { return riskTypes.lookup(code).zh }

// RiskTypeEn is the English name of a risk type code ("" for a code that
// is not one).
func RiskTypeEn(code string) string { return riskTypes.lookup(code).en }

// codeNames is a code list of the standard with the Chinese and English
// name of each code, in the standard's order.
type codeNames []codeName

type codeName struct{ code, zh, en string }

// codes lists the codes in order (a fresh slice).
func (t codeNames) codes() []string {
	out := make([]string, len(t))
	for i, c := range t {
		out[i] = c.code
	}
	return out
}

// lookup returns the entry of code (the zero entry for a code not listed).
func (t codeNames) lookup(code string) codeName {
	for _, c := range t {
		if c.code == code {
			return c
		}
	}
	return codeName{}
}
