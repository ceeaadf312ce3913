package features

// profileNames are the risk profiles a feature can lead (Column.Profile),
// with their Chinese wording: the one table of profile names.
var profileNames = map[string]string{
	"assisted":           "多项帮扶",
	"chronic_illness":    "慢病负担",
	"disability":         "重度残疾",
	"disaster_exposure":  "自然灾害影响",
	"disaster_loss":      "灾害损失",
	"education_cost":     "教育支出负担",
	"elderly":            "老龄家庭",
	"high_dependency":    "抚养负担重",
	"inpatient":          "住院治疗",
	"job_loss":           "务工就业不稳",
	"labor_loss":         "劳动力丧失",
	"labor_shortage":     "缺劳动力",
	"major_illness":      "大病负担",
	"medical_burden":     "医疗支出负担",
	"medical_spike":      "医疗支出骤增",
	"no_wage":            "缺少工资收入",
	"past_monitoring":    "曾被监测",
	"transfer_dependent": "依赖转移性收入",
	"unemployed":         "失业",
}

// ProfileName returns the Chinese name of the risk profile code, and
// whether the code is a profile.
func ProfileName(code string) (zh string, ok bool) {
	zh, ok = profileNames[code]
	return zh, ok
}

// ProfileLabel names the risk profile a feature can lead: the profile's
// code, its Chinese wording and the official risk type of the feature. It
// has the fields of kmeans.Label, so kmeans.Label(l) converts it (the
// models packages are above this one).
type ProfileLabel struct {
	Name, NameZh, RiskType string
}

// ProfileLabels returns the table that names risk profiles: for each model
// feature that can lead a k-means cluster, its ProfileLabel. Converted to
// kmeans.Label and passed to kmeans.Model.Profile, it names clusters
// exactly as the nightly run does (the notebooks use it). The map is a
// fresh copy.
func ProfileLabels() map[string]ProfileLabel {
	out := map[string]ProfileLabel{}
	for _, c := range Catalog() {
		if c.Profile != "" {
			out[c.Name] = ProfileLabel{Name: c.Profile, NameZh: profileNames[c.Profile], RiskType: c.RiskType}
		}
	}
	return out
}
