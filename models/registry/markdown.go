package registry

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
)

// Markdown renders a card for people: the same facts as card.json, in a
// fixed order (metric keys sorted), so equal cards give equal text.
func Markdown(c Card) string {
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	p("# Model %s\n\n", c.ID)
	p("Random forest predicting that a household is identified as a monitoring object within %d months of the as-of date.\n\n", c.HorizonMonths)
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
			if k == "calibration" || k == "counties" {
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
