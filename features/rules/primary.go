package rules

// The income rules say that income is short, not why: their risk type is
// "other" (其他). Counting every household's "other" hides the causes
// (issue 13, item 7). Attribution names the cause of an income shortfall
// where the household's data shows one, from the rules it trips and the
// facts the screen read.

// incomeRules are the rules whose risk type is attributed to a cause.
var incomeRules = map[string]bool{"income_below_line": true, "income_near_line": true, "income_drop": true}

// IsIncomeRule reports whether the rule named is an income rule, whose
// "other" risk type is attributed to its cause (IncomeCause).
func IsIncomeRule(name string) bool { return incomeRules[name] }

// IncomeCause names the cause of an income shortfall of h, given the names
// of the rules it trips (any order), as an official risk type code:
//
//  1. labor_shortage: labour lost (the labor_loss or no_labor rule, or
//     h.EarnerDeaths12 > 0, h.WorkingAgeLost > 0, h.NoLabor);
//  2. unemployment: a job lost (the job_loss rule, or h.JobLoss,
//     h.UnemploymentNew > 0);
//  3. the largest in yuan of the tripped expenditure rules' amounts:
//     illness (medical_burden, medical_large or rigid_over_income:
//     h.OOPMedical12), disaster (disaster: h.DisasterLoss12, 0 for a
//     disaster tripped by exposure alone) and education (education_cost:
//     h.EduNoncompNet12); ties in that order;
//  4. else the largest of the same three amounts that is at least
//     t.AttributionShare (policy [thresholds] attribution_share, default
//     0.1) of the household's 12-month net income (any amount when that
//     income is not positive), ties in the same order: a strain below the
//     rules' thresholds, but one the data shows;
//  5. else "other": the data shows no cause.
//
// Income losses come before expenditures: a lost earner or job explains
// the income itself, an expenditure the strain beside it.
func IncomeCause(tripped []string, h Household, t Thresholds) string {
	has := map[string]bool{}
	for _, n := range tripped {
		has[n] = true
	}
	switch {
	case has["labor_loss"] || has["no_labor"] || h.EarnerDeaths12 > 0 || h.WorkingAgeLost > 0 || (h.NoLabor && h.HouseholdSize > 0):
		return "labor_shortage"
	case has["job_loss"] || h.JobLoss || h.UnemploymentNew > 0:
		return "unemployment"
	}
	best, amount := "other", -1.0
	for _, c := range []struct {
		typ   string
		on    bool
		yuanV float64
	}{
		{"illness", has["medical_burden"] || has["medical_large"] || has["rigid_over_income"], h.OOPMedical12},
		{"disaster", has["disaster"], h.DisasterLoss12},
		{"education", has["education_cost"], h.EduNoncompNet12},
	} {
		v := c.yuanV
		if !known(v) {
			v = 0
		}
		if c.on && v > amount {
			best, amount = c.typ, v
		}
	}
	if best != "other" {
		return best
	}
	for _, c := range []struct {
		typ   string
		yuanV float64
	}{{"illness", h.OOPMedical12}, {"disaster", h.DisasterLoss12}, {"education", h.EduNoncompNet12}} {
		v := c.yuanV
		if !known(v) || v <= 0 {
			continue
		}
		if known(h.NetIncome12) && h.NetIncome12 > 0 && v < t.AttributionShare*h.NetIncome12 {
			continue
		}
		if v > amount {
			best, amount = c.typ, v
		}
	}
	return best
}

// AttributedRiskTypes returns the risk types of the tripped rules, in the
// order of the rules given, each once, with the income rules' "other"
// replaced by IncomeCause (a cause already listed is not repeated).
func AttributedRiskTypes(tripped []string, h Household, t Thresholds) []string {
	byName := map[string]string{}
	for _, r := range Rules() {
		byName[r.Name] = r.RiskType
	}
	types := make([]string, len(tripped))
	for i, n := range tripped {
		types[i] = byName[n]
	}
	return attribute(tripped, types, h, t)
}

// attribute is AttributedRiskTypes with each tripped rule's own type given.
func attribute(tripped, types []string, h Household, th Thresholds) []string {
	var out []string
	cause := ""
	for i, n := range tripped {
		t := types[i]
		if incomeRules[n] {
			if cause == "" {
				cause = IncomeCause(tripped, h, th)
			}
			t = cause
		}
		if t != "" && !contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// PrimaryRiskType is the household's one primary risk type given the names
// of the rules it trips and the facts the screen read ("" when no rule
// trips): with an income rule tripped, the cause of the shortfall
// (IncomeCause) unless that is "other" and another rule names a specific
// type; without one, the first specific type of the tripped rules in the
// order given (Rules() order in a screen's Result.Names); "other" only
// when nothing more specific is known.
func PrimaryRiskType(tripped []string, h Household, t Thresholds) string {
	return primary(tripped, AttributedRiskTypes(tripped, h, t), h, t)
}

// primary is PrimaryRiskType given the attributed types.
func primary(tripped, types []string, h Household, t Thresholds) string {
	for _, n := range tripped {
		if incomeRules[n] {
			if c := IncomeCause(tripped, h, t); c != "other" {
				return c
			}
			break
		}
	}
	for _, t := range types {
		if t != "other" {
			return t
		}
	}
	if len(types) > 0 {
		return types[0]
	}
	return ""
}
