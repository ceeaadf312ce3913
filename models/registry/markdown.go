package registry

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/povrisk/povrisk/models/eval"
)

// Markdown renders a card for people: the same facts as card.json, in a
// fixed order (metric keys sorted), so equal cards give equal text.
func Markdown(c Card) string {
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	p("# Model %s\n\n", c.ID)
	fam := "Random forest"
	if c.Family == FamilyBoost {
		fam = "Gradient-boosted trees"
	}
	if c.Kind == KindRelapse {
		p("%s predicting that a household whose risk is eliminated on the as-of date is identified again within %d months.\n\n", fam, c.HorizonMonths)
	} else {
		p("%s predicting that a household is identified as a monitoring object within %d months of the as-of date.\n\n", fam, c.HorizonMonths)
	}
	p("| | |\n|---|---|\n")
	p("| created by | %s |\n", c.CreatedBy)
	p("| as-of (latest training snapshot) | %s |\n", c.AsOf)
	p("| training snapshots | %s |\n", strings.Join(c.AsOfDates, ", "))
	if c.DataFrom != "" || c.DataTo != "" {
		p("| data window | %s to %s |\n", c.DataFrom, c.DataTo)
	}
	p("| horizon | %d months |\n", c.HorizonMonths)
	p("| training rows | %d (%d positive) |\n", c.TrainRows, c.TrainPositive)
	p("| features | %d, catalog hash `%s` |\n", len(c.Features), c.CatalogHash)
	if c.PolicySHA256 != "" {
		p("| policy sha256 | `%s` |\n", c.PolicySHA256)
	}
	if len(c.Drops) > 0 {
		p("| drops | %s |\n", strings.Join(c.Drops, ", "))
	}
	p("| trees / max depth / min leaf / max features / bins | %d / %d / %d / %d / %d |\n",
		c.Params.Trees, c.Params.MaxDepth, c.Params.MinLeaf, c.Params.MaxFeatures, c.Params.Bins)
	p("| bootstrap / class weight | %v / %q |\n", c.Params.Bootstrap, c.Params.ClassWeight)
	p("| seed | %d |\n", c.Seed)
	if c.OOBAUC != 0 {
		p("| out-of-bag AUC | %.4f |\n", c.OOBAUC)
	}
	p("| training time | %.1f s |\n", c.TrainSeconds)
	p("| model sha256 | `%s` |\n", c.ModelSHA256)

	if mm := c.Metrics.fields(); len(mm) > 0 {
		p("\n## Validation metrics\n\n| metric | value |\n|---|---|\n")
		keys := make([]string, 0, len(mm))
		for k := range mm {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if k == "calibration" || k == "counties" || k == "origins" || k == "origins_mean" || k == "origins_sd" {
				continue
			}
			p("| %s | %s |\n", k, metricText(mm[k]))
		}
		if rows, ok := mm["calibration"].([]any); ok && len(rows) > 0 {
			p("\n### Calibration (test snapshot, equal-width bins)\n\n| predicted | households | mean predicted | observed rate |\n|---|---|---|---|\n")
			for _, r := range rows {
				m, _ := r.(map[string]any)
				if n, _ := m["n"].(float64); n == 0 {
					continue
				}
				p("| %s–%s | %s | %s | %s |\n", metricText(m["lo"]), metricText(m["hi"]), metricText(m["n"]), metricText(m["mean_predicted"]), metricText(m["observed_rate"]))
			}
		}
		if rows, ok := mm["counties"].([]any); ok && len(rows) > 0 {
			p("\n### Counties (each ranks its own households)\n\n| county | households | identified | k | found in top k | precision |\n|---|---|---|---|---|---|\n")
			for _, r := range rows {
				m, _ := r.(map[string]any)
				p("| %s | %s | %s | %s | %s | %s |\n", metricText(m["group"]), metricText(m["n"]), metricText(m["positives"]), metricText(m["k"]), metricText(m["hits"]), metricText(m["precision"]))
			}
		}
	}
	if len(c.TopFeatures) > 0 {
		p("\n## Top features\n\n| feature | importance |\n|---|---|\n")
		for _, f := range c.TopFeatures {
			p("| %s | %.4f |\n", f.Feature, f.Importance)
		}
	}
	markdownRound2(p, c)
	if len(c.Profiles) > 0 {
		p("\n## Risk profiles (k-means on the highest-scored households)\n\n| cluster | households | distinguishing features (z) |\n|---|---|---|\n")
		for _, pr := range c.Profiles {
			var t []string
			for _, tr := range pr.Traits {
				t = append(t, fmt.Sprintf("%s %+.2f", tr.Feature, tr.Z))
			}
			p("| %d | %d | %s |\n", pr.Cluster, pr.Size, strings.Join(t, ", "))
		}
	}
	p("\n## Features\n\n")
	for i, f := range c.Features {
		p("%d. %s\n", i+1, f)
	}
	if len(c.Notes) > 0 {
		p("\n## Notes\n\n")
		for _, n := range c.Notes {
			p("- %s\n", n)
		}
	}
	return b.String()
}

func metricText(v any) string {
	switch x := v.(type) {
	case float64:
		if x == float64(int64(x)) && (x >= 1 || x == 0) && x < 1e15 {
			return fmt.Sprintf("%d", int64(x))
		}
		return fmt.Sprintf("%.4f", x)
	case map[string]any:
		// shares and the like: key=value, keys sorted
		keys := slices.Sorted(maps.Keys(x))
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + ": " + metricText(x[k])
		}
		return strings.Join(parts, ", ")
	case string:
		return x
	default:
		// Objects and lists as compact JSON; encoding/json sorts map keys.
		j, err := json.Marshal(x)
		if err != nil {
			return fmt.Sprint(x)
		}
		if len(j) > 400 {
			return string(j[:400]) + "…"
		}
		return string(j)
	}
}

// markdownRound2 renders the rolling origins, the selection, the
// calibration, the permutation importances, the sampling and the fairness
// audit.
func markdownRound2(p func(string, ...any), c Card) {
	m := c.Metrics
	if len(m.Origins) > 0 {
		p("\n## Rolling origins\n\n| test as-of | train rows | test rows | positives | AUC | PR AUC | P@5%% (ties lo–hi) | county precision | rules AUC | rules county precision |\n|---|---|---|---|---|---|---|---|---|---|\n")
		for _, o := range m.Origins {
			k := ShareKey(0.05)
			p("| %s | %d | %d | %d | %.4f | %.4f | %.4f (%.4f–%.4f) | %.4f | %.4f | %.4f |\n", o.TestAsOf, o.TrainRows, o.TestRows, o.TestPositive, o.AUC, o.PRAUC,
				o.PrecisionAt[k], o.PrecisionAtLo[k], o.PrecisionAtHi[k], o.CountyPrecision, o.RulesAUC, o.RulesCountyPrecision)
		}
		keys := slices.Sorted(maps.Keys(m.OriginsMean))
		p("\n| figure | mean | sd |\n|---|---|---|\n")
		for _, k := range keys {
			p("| %s | %.4f | %.4f |\n", k, m.OriginsMean[k], m.OriginsSD[k])
		}
	}
	if s := c.Selection; s != nil {
		p("\n## Selection\n\nRule: %s (tolerance %.4f). Chosen: **%s**; best mean AUC: %s; regret %.4f. Best family: %s (margin %.4f).\n\n", s.Rule, s.Tolerance, s.Chosen, s.BestAUC, s.Regret, s.BestFamily, s.FamilyMargin)
		p("| configuration | family | snapshots | mean AUC | sd | mean county precision | sd | within tolerance |\n|---|---|---|---|---|---|---|---|\n")
		for _, g := range s.Configs {
			p("| %s | %s | %d | %.4f | %.4f | %.4f | %.4f | %v |\n", g.Name, g.Family, g.Snapshots, g.MeanAUC, g.SDAUC, g.MeanCountyPrecision, g.SDCountyPrecision, g.WithinTolerance)
		}
	}
	if cr := c.Calibration; cr != nil {
		p("\n## Calibration\n\nMethod %s, fitted on the origin %s (%d households). ECE %.4f (held out: %v; uncalibrated %.4f), in sample %.4f.\n\n", cr.Method, cr.FittedOn, cr.Rows, cr.ECE, cr.HeldOut, cr.ECERaw, cr.ECEInSample)
		for _, cd := range cr.Candidates {
			p("- %s: log loss %.5f, Brier %.5f over %d held-out origins\n", cd.Method, cd.LogLoss, cd.Brier, cd.Evaluations)
		}
		p("\n| predicted | households | mean predicted | observed rate |\n|---|---|---|---|\n")
		for _, b := range cr.Bins {
			p("| %.4f–%.4f | %d | %.4f | %.4f |\n", b.Lo, b.Hi, b.N, b.MeanPredicted, b.ObservedRate)
		}
	}
	if len(c.PermutationImportance) > 0 {
		p("\n## Permutation importance (latest origin, drop in AUC)\n\n| feature | AUC drop |\n|---|---|\n")
		for _, f := range c.PermutationImportance {
			p("| %s | %.4f |\n", f.Feature, f.Importance)
		}
	}
	if c.LabelsFromVisits != nil {
		p("\nTraining labels from visit outcomes: %d.\n", *c.LabelsFromVisits)
	}
	if s := c.Sampling; s != nil && s.Applied {
		p("\n## Sampling\n\n%d training rows above the bound %d: kept %d (all %d positives; negatives at rate %.4f per county, weighted).\n", s.Rows, s.MaxRows, s.Kept, s.Positives, s.Rate)
	}
	if f := c.Fairness; f != nil {
		p("\n## Fairness of the county top %.0f%% list (origin %s)\n\n| attribute | group | size | prevalence | precision | TPR | FPR | flagged |\n|---|---|---|---|---|---|---|---|\n", f.Share*100, f.AsOf)
		iv := func(v *eval.Interval) string {
			if v == nil {
				return "–"
			}
			return fmt.Sprintf("%.3f [%.3f, %.3f]", v.Value, v.Lo, v.Hi)
		}
		for _, g := range f.Groups {
			if g.Suppressed {
				p("| %s | %s | %d | suppressed | | | | |\n", g.Attribute, g.Group, g.Size)
				continue
			}
			ref := ""
			if g.Reference {
				ref = " (ref)"
			}
			p("| %s | %s%s | %d | %s | %s | %s | %s | %s |\n", g.Attribute, g.Group, ref, g.Size, iv(g.Prevalence), iv(g.Precision), iv(g.TPR), iv(g.FPR), strings.Join(g.Flagged, ", "))
		}
	}
}
