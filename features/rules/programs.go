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
