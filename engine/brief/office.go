package brief

import (
	"strings"

	"github.com/povrisk/povrisk/engine/rundir"
)

// The office loop's figures (issues 13, 14, 16): names of places, the
// households by primary risk type, what the home visits found, the
// risk-elimination assessment, the watch after elimination and the
// fairness audit. All of them are read from summary.json (engine/rundir),
// filled by the night; the brief only selects the region's part, sums and
// presents them.

// placeNames maps the county and township codes of the summary to their
// names (codes without a name are left out: the brief shows the code).
func placeNames(s *Summary) map[string]string {
	out := make(map[string]string, len(s.Places))
	for _, p := range s.Places {
		if p.Name != "" {
			out[p.Code] = p.Name
		}
	}
	return out
}

// place is the name of a county or township, its code when none is known.
func (f *facts) place(code string) string {
	if n := f.Places[code]; n != "" {
		return n
	}
	return code
}

// placeOr names a place of the summary: by the summary's places, else by
// the name it carries, else by its code.
func (f *facts) placeOr(p rundir.Place) string {
	if n := f.Places[p.Code]; n != "" {
		return n
	}
	if p.Name != "" {
		return p.Name
	}
	return p.Code
}

// primaryCounts counts the high-risk households once each, by their
// primary risk type (ranked.parquet's primary_risk_type, which the night
// sets: an income shortfall attributed to its cause where the data shows
// one). ok is false when no high-risk household carries one (a run
// directory of an earlier povrisk): the caller then counts every risk type
// a household carries, and says so.
func primaryCounts(rows []household) (out []catRow, ok bool) {
	by := map[string]int{}
	for _, h := range rows {
		if h.tier != "high" {
			continue
		}
		if h.primary != "" {
			ok = true
		}
		by[h.primary]++
	}
	if !ok {
		return nil, false
	}
	return ranked(by, nil), true
}

// inRegion reports whether a county (or township) code lies in the
// brief's region prefix.
func inRegion(code, region string) bool { return strings.HasPrefix(code, region) }

// visitPoint is what the visits of one run found, for the trend.
type visitPoint struct {
	AsOf      string
	Visited   int
	Confirmed int
	// Model and Rule are the visits of the model's list and of rule-only
	// visits (their confirmed and no_risk counts).
	Model, Rule rundir.SourceVisits
}

// regionVisits sums the visits of the region's counties (the totals when
// the region is everything). nil when the summary has no visits.
func regionVisits(v *rundir.Visits, region string) *rundir.CountyVisits {
	if v == nil {
		return nil
	}
	out := &rundir.CountyVisits{}
	if region == "" {
		out.Visited, out.Confirmed, out.NoRisk, out.NotReached, out.Moved, out.Other = v.Visited, v.Confirmed, v.NoRisk, v.NotReached, v.Moved, v.Other
		out.BySource = v.BySource
		return out
	}
	src := map[string]*rundir.SourceVisits{}
	var order []string
	for _, c := range v.Counties {
		if !inRegion(c.Code, region) {
			continue
		}
		out.Visited += c.Visited
		out.Confirmed += c.Confirmed
		out.NoRisk += c.NoRisk
		out.NotReached += c.NotReached
		out.Moved += c.Moved
		out.Other += c.Other
		for _, s := range c.BySource {
			t := src[s.Source]
			if t == nil {
				t = &rundir.SourceVisits{Source: s.Source}
				src[s.Source] = t
				order = append(order, s.Source)
			}
			t.Visited += s.Visited
			t.Confirmed += s.Confirmed
			t.NoRisk += s.NoRisk
		}
	}
	for _, k := range order {
		out.BySource = append(out.BySource, *src[k])
	}
	return out
}

// source returns the visits of one source ("model", "rule", "other").
func source(ss []rundir.SourceVisits, name string) rundir.SourceVisits {
	for _, s := range ss {
		if s.Source == name {
			return s
		}
	}
	return rundir.SourceVisits{Source: name}
}

// visitPointOf is the trend point of a run's visits in the region (nil
// when the run recorded none).
func visitPointOf(asOf string, v *rundir.Visits, region string) *visitPoint {
	r := regionVisits(v, region)
	if r == nil {
		return nil
	}
	return &visitPoint{AsOf: asOf, Visited: r.Visited, Confirmed: r.Confirmed, Model: source(r.BySource, "model"), Rule: source(r.BySource, "rule")}
}

// regionElimination sums the elimination assessment of the region's
// counties; nil when the summary has none.
func regionElimination(e *rundir.Elimination, region string) (*rundir.Elimination, []rundir.CountyElimination) {
	if e == nil {
		return nil, nil
	}
	var cs []rundir.CountyElimination
	tot := &rundir.Elimination{RelapseModel: e.RelapseModel}
	for _, c := range e.Counties {
		if !inRegion(c.Code, region) {
			continue
		}
		cs = append(cs, c)
		tot.Monitored += c.Monitored
		tot.Ready += c.Ready
		tot.Defer += c.Defer
		tot.NotMet += c.NotMet
		tot.Relapses12m += c.Relapses12m
	}
	if region == "" {
		tot.Monitored, tot.Ready, tot.Defer, tot.NotMet, tot.Relapses12m = e.Monitored, e.Ready, e.Defer, e.NotMet, e.Relapses12m
	}
	return tot, cs
}

// regionWatch sums the watch after elimination of the region's counties.
func regionWatch(w *rundir.Watch, region string) *rundir.Watch {
	if w == nil {
		return nil
	}
	if region == "" {
		return w
	}
	out := &rundir.Watch{}
	for _, c := range w.Counties {
		if inRegion(c.Code, region) {
			out.Eliminated12m += c.Eliminated12m
			out.InTopK += c.InTopK
			out.High += c.High
			out.Counties = append(out.Counties, c)
		}
	}
	return out
}

// precisionOf is confirmed / (confirmed + no_risk), and whether it may be
// shown: the judged visits must be at least minCell.
func precisionOf(s rundir.SourceVisits) (float64, bool) {
	n := s.Confirmed + s.NoRisk
	if n < minCell {
		return 0, false
	}
	return float64(s.Confirmed) / float64(n), true
}
