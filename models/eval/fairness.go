package eval

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
)

// Fairness is an audit of a top-k list by group, in the manner of
// aequitas: for each group of each attribute, the confusion figures of the
// list with bootstrap intervals, and disparity ratios against the
// attribute's reference group. engine/train computes it on the latest
// rolling origin; the model card holds it, summary.json copies it, the
// brief's annex and notebook 04 show it.
type Fairness struct {
	Share      float64         `json:"share"`      // the list: the county top share (e.g. 0.05)
	AsOf       string          `json:"as_of"`      // the origin audited
	Level      float64         `json:"level"`      // interval level (0.9)
	Replicates int             `json:"replicates"` // bootstrap replicates
	MinCell    int             `json:"min_cell"`   // groups smaller than this are suppressed
	Groups     []GroupFairness `json:"groups"`
	Notes      []string        `json:"notes"`
}

// Interval is a figure with its bootstrap interval (all NaN-free: a figure
// that cannot be computed is nil in its parent).
type Interval struct {
	Value float64 `json:"value"`
	Lo    float64 `json:"lo"`
	Hi    float64 `json:"hi"`
}

// GroupFairness is one group of one attribute. Attributes: county,
// poverty_status, disability_1_2 (a member of disability grade 1-2),
// elderly_only, no_labour. Metrics are nil when undefined (no positives
// for TPR, ...) or when the group is suppressed.
type GroupFairness struct {
	Attribute  string `json:"attribute"`
	Group      string `json:"group"`
	Reference  bool   `json:"reference"` // the attribute's reference group (the largest)
	Size       int    `json:"size"`
	Suppressed bool   `json:"suppressed"` // fewer than MinCell households (or positives): figures withheld

	Prevalence          *Interval `json:"prevalence"`
	PredictedPrevalence *Interval `json:"predicted_prevalence"`
	Precision           *Interval `json:"precision"`
	TPR                 *Interval `json:"tpr"`
	FPR                 *Interval `json:"fpr"`
	FDR                 *Interval `json:"fdr"`
	FOR                 *Interval `json:"for"`
	// Disparity: metric name (tpr, fpr, fdr, for, precision,
	// predicted_prevalence) -> ratio to the reference group's value.
	Disparity map[string]float64 `json:"disparity"`
	// Flagged: the metrics whose disparity lies outside [0.8, 1.25].
	Flagged []string `json:"flagged"`
}

// AuditOptions say how AuditTopK audits a list. Zero fields mean their
// defaults.
type AuditOptions struct {
	AsOf       string   // the origin audited, copied to Fairness.AsOf
	Level      float64  // interval level; 0: 0.9
	Replicates int      // bootstrap replicates; 0: 200
	MinCell    int      // groups with fewer households are suppressed; 0: DefaultMinCell
	Seed       uint64   // seed of the bootstrap
	Attributes []string // order of the attributes of groups after county; nil: sorted by name
}

// DefaultMinCell is the smallest group whose figures the audit shows.
const DefaultMinCell = 10

// disparityMetrics are the metrics compared with the reference group.
func disparityMetrics() []string {
	return []string{"tpr", "fpr", "fdr", "for", "precision", "predicted_prevalence"}
}

// cells are the confusion counts of one group at the list.
type cells struct{ tp, fp, fn, tn int }

func (c cells) n() int { return c.tp + c.fp + c.fn + c.tn }

// figures are the group's metrics by name; NaN when undefined.
func (c cells) figures() map[string]float64 {
	n, pos, flagged := c.n(), c.tp+c.fn, c.tp+c.fp
	return map[string]float64{
		"prevalence":           rate(pos, n),
		"predicted_prevalence": rate(flagged, n),
		"precision":            rate(c.tp, flagged),
		"tpr":                  rate(c.tp, pos),
		"fpr":                  rate(c.fp, n-pos),
		"fdr":                  rate(c.fp, flagged),
		"for":                  rate(c.fn, n-flagged),
	}
}

// AuditTopK audits the county top-k list (each county's top share of its
// rows by score, as TopKByGroup) by group: for county and for every
// attribute of groups (attribute -> the group of each row), each group's
// size and, with a bootstrap interval, prevalence, predicted prevalence
// (share listed), precision, TPR, FPR, FDR and FOR, and the ratio of each
// of tpr, fpr, fdr, for, precision and predicted prevalence to the
// attribute's reference group (the largest shown group, ties by name),
// flagged outside [0.8, 1.25]. Groups are sorted by name within an
// attribute; a group of fewer than MinCell rows is suppressed (size only).
//
// The interval is a percentile bootstrap within the group: Replicates
// resamples of the group's rows with replacement (the list held fixed),
// drawn from PCG(Seed, replicate), so the audit depends only on its inputs.
func AuditTopK(y []int, score []float64, county []string, groups map[string][]string, share float64, o AuditOptions) Fairness {
	checkLen("AuditTopK", y, score)
	if o.Level <= 0 || o.Level >= 1 {
		o.Level = 0.9
	}
	if o.Replicates <= 0 {
		o.Replicates = 200
	}
	if o.MinCell <= 0 {
		o.MinCell = DefaultMinCell
	}
	attrs := o.Attributes
	if attrs == nil {
		for a := range groups {
			attrs = append(attrs, a)
		}
		sort.Strings(attrs)
	}
	listed := TopKByGroup(score, county, share)
	out := Fairness{Share: share, AsOf: o.AsOf, Level: o.Level, Replicates: o.Replicates, MinCell: o.MinCell, Groups: []GroupFairness{}, Notes: []string{}}
	for ai, a := range append([]string{"county"}, attrs...) {
		g := county
		if ai > 0 {
			g = groups[a]
			if len(g) != len(y) {
				out.Notes = append(out.Notes, fmt.Sprintf("attribute %s: %d values for %d households: left out", a, len(g), len(y)))
				continue
			}
		}
		out.Groups = append(out.Groups, auditAttribute(a, y, listed, g, o)...)
	}
	out.Notes = append(out.Notes, fmt.Sprintf("groups of fewer than %d households are suppressed; intervals: %d bootstrap resamples within each group, %.0f%% percentile", o.MinCell, o.Replicates, o.Level*100))
	return out
}

// auditAttribute is the audit of the groups of one attribute.
func auditAttribute(attr string, y []int, listed []bool, group []string, o AuditOptions) []GroupFairness {
	rows, names := groupRows(group)
	out := make([]GroupFairness, 0, len(names))
	ref, refSize := -1, -1
	for gi, name := range names {
		idx := rows[name]
		gf := GroupFairness{Attribute: attr, Group: name, Size: len(idx), Disparity: map[string]float64{}, Flagged: []string{}}
		if len(idx) < o.MinCell {
			gf.Suppressed = true
			out = append(out, gf)
			continue
		}
		kinds := make([]uint8, len(idx)) // 0 tp, 1 fp, 2 fn, 3 tn
		var c cells
		for k, i := range idx {
			switch pos := y[i] != 0; {
			case listed[i] && pos:
				c.tp++
			case listed[i]:
				c.fp++
				kinds[k] = 1
			case pos:
				c.fn++
				kinds[k] = 2
			default:
				c.tn++
				kinds[k] = 3
			}
		}
		iv := bootstrap(c, kinds, o, uint64(gi))
		gf.Prevalence, gf.PredictedPrevalence, gf.Precision = iv["prevalence"], iv["predicted_prevalence"], iv["precision"]
		gf.TPR, gf.FPR, gf.FDR, gf.FOR = iv["tpr"], iv["fpr"], iv["fdr"], iv["for"]
		if len(idx) > refSize {
			ref, refSize = len(out), len(idx)
		}
		out = append(out, gf)
	}
	if ref < 0 {
		return out
	}
	out[ref].Reference = true
	rv := intervals(out[ref])
	for g := range out {
		if out[g].Suppressed {
			continue
		}
		gv := intervals(out[g])
		for _, m := range disparityMetrics() {
			a, b := gv[m], rv[m]
			if a == nil || b == nil || b.Value == 0 {
				continue
			}
			d := a.Value / b.Value
			out[g].Disparity[m] = d
			if d < 0.8 || d > 1.25 {
				out[g].Flagged = append(out[g].Flagged, m)
			}
		}
	}
	return out
}

func intervals(g GroupFairness) map[string]*Interval {
	return map[string]*Interval{"tpr": g.TPR, "fpr": g.FPR, "fdr": g.FDR, "for": g.FOR, "precision": g.Precision, "predicted_prevalence": g.PredictedPrevalence}
}

// bootstrap returns each defined figure of c with its percentile interval
// over o.Replicates resamples of the group's rows (kinds: the cell of each
// row); nil for a figure undefined on the group itself.
func bootstrap(c cells, kinds []uint8, o AuditOptions, stream uint64) map[string]*Interval {
	point := c.figures()
	reps := map[string][]float64{}
	n := len(kinds)
	for r := 0; r < o.Replicates; r++ {
		rng := rand.New(rand.NewPCG(o.Seed, stream<<32|uint64(r)))
		var b cells
		for range n {
			switch kinds[rng.IntN(n)] {
			case 0:
				b.tp++
			case 1:
				b.fp++
			case 2:
				b.fn++
			default:
				b.tn++
			}
		}
		for m, v := range b.figures() {
			if !math.IsNaN(v) {
				reps[m] = append(reps[m], v)
			}
		}
	}
	out := map[string]*Interval{}
	alpha := (1 - o.Level) / 2
	for m, v := range point {
		if math.IsNaN(v) {
			continue
		}
		iv := &Interval{Value: v, Lo: v, Hi: v}
		if rs := reps[m]; len(rs) > 0 {
			sort.Float64s(rs)
			iv.Lo, iv.Hi = quantile(rs, alpha), quantile(rs, 1-alpha)
		}
		out[m] = iv
	}
	return out
}

// quantile is the q-quantile of sorted s by linear interpolation between
// order statistics (numpy's default).
func quantile(s []float64, q float64) float64 {
	h := q * float64(len(s)-1)
	lo := int(math.Floor(h))
	if lo >= len(s)-1 {
		return s[len(s)-1]
	}
	return s[lo] + (h-float64(lo))*(s[lo+1]-s[lo])
}
