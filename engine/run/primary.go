package run

import "github.com/povrisk/povrisk/datasets"

// primaryRiskType is a household's primary risk type: the first of its
// types (the rules tripped and the reason features, ordered by the model's
// positive contribution, "other" last). An income shortfall alone (the
// income rules are of type "other") is attributed to its cause where the
// data shows one: the specific risk type to which the model's positive
// contributions add up most (medical spending: illness; a disaster;
// schooling costs; a lost job or labour...). With no specific type at
// all, the profile's type when specific, else "other".
//
// This is the night's own attribution, behind one function: when the
// features/rules package gains rules.PrimaryRiskType (FEAT), its body
// becomes a call to it.
func primaryRiskType(types []string, weight riskWeights, profileType string) string {
	if len(types) > 0 && types[0] != "other" {
		return types[0]
	}
	best, bw := "", 0.0
	for i, t := range datasets.RiskTypes() {
		if t != "other" && weight[i] > bw {
			best, bw = t, weight[i]
		}
	}
	switch {
	case best != "":
		return best
	case len(types) == 0 && profileType != "":
		return profileType
	}
	return "other"
}
