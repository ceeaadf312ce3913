package rules

// programs are the assistance programmes (帮扶措施) of assistance.program,
// in the order of the data standard (datasets.Programs), with their
// official Chinese wording and an English one: the one table of programme
// names.
var programs = codeNames{
	{"dibao", "低保", "Minimum living allowance (dibao)"},
	{"tekun", "特困供养", "Support for the extremely poor (tekun)"},
	{"temporary", "临时救助", "Temporary assistance"},
	{"medical_aid", "医疗救助", "Medical assistance"},
	{"employment_aid", "就业帮扶", "Employment support"},
	{"industry_aid", "产业帮扶", "Industry support"},
	{"education_aid", "教育资助", "Education aid"},
	{"housing_aid", "危房改造", "Dangerous-house renovation"},
}

// ProgramCodes lists the programme codes in the standard's order; a fresh
// copy.
func ProgramCodes() []string { return programs.codes() }

// ProgramZh is the official Chinese name of a programme code ("" for a
// code that is not one).
func ProgramZh(code string) string { return programs.lookup(code).zh }

// ProgramEn is the English name of a programme code ("" for a code that is
// not one).
func ProgramEn(code string) string { return programs.lookup(code).en }

// riskMeasures suggests programmes per official risk type, most fitting
// first: the one table (the night's suggested measures, whatif's costs).
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

// MeasuresFor suggests at most three programme codes for the risk types,
// in their order, each once (the primary type's when types is empty).
func MeasuresFor(types []string, primary string) []string {
	if len(types) == 0 && primary != "" {
		types = []string{primary}
	}
	var out []string
	for _, t := range types {
		for _, m := range riskMeasures[t] {
			if !contains(out, m) && len(out) < 3 {
				out = append(out, m)
			}
		}
	}
	return out
}
