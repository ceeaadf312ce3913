package run

import (
	"testing"

	"github.com/povrisk/povrisk/models/kmeans"
)

// The expected labels are read off the policy wording (因病 / 因务工就业不稳 /
// 缺劳动力), not from featureTexts.
func TestProfileLabels(t *testing.T) {
	got := ProfileLabels()
	for _, c := range []struct {
		feature string
		want    kmeans.Label
		named   bool
	}{
		{"oop_medical_12m", kmeans.Label{Name: "medical_burden", NameZh: "医疗支出负担", RiskType: "illness"}, true},
		{"job_loss", kmeans.Label{Name: "job_loss", NameZh: "务工就业不稳", RiskType: "unemployment"}, true},
		{"no_labor", kmeans.Label{Name: "labor_shortage", NameZh: "缺劳动力", RiskType: "labor_shortage"}, true},
		{"household_size", kmeans.Label{}, false}, // a feature that names no profile
	} {
		l, ok := got[c.feature]
		if ok != c.named || l != c.want {
			t.Errorf("ProfileLabels()[%q] = %+v, %v; want %+v, %v", c.feature, l, ok, c.want, c.named)
		}
	}
	got["oop_medical_12m"] = kmeans.Label{}
	if ProfileLabels()["oop_medical_12m"].Name != "medical_burden" {
		t.Error("ProfileLabels returned a shared map: a caller's change leaked into the next call")
	}
}
