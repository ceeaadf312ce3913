package rundir

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Merging the office parts of the summaries of county shards (disjoint
// sets of counties) into one: places by a sorted merge, every count by a
// sum, precision recomputed from the sums, the counties' lines in code
// order. A nil part stays nil only when every shard's is nil.

// MergePlaces merges sorted place lists (a code in several: the first
// non-empty name).
func MergePlaces(parts ...[]Place) []Place {
	by := map[string]string{}
	for _, ps := range parts {
		for _, p := range ps {
			if n, ok := by[p.Code]; !ok || n == "" {
				by[p.Code] = p.Name
			}
		}
	}
	out := make([]Place, 0, len(by))
	for c, n := range by {
		out = append(out, Place{Code: c, Name: n})
	}
	slices.SortFunc(out, func(a, b Place) int { return strings.Compare(a.Code, b.Code) })
	return out
}

func addSources(dst []SourceVisits, src []SourceVisits) []SourceVisits {
	for _, s := range src {
		k := slices.IndexFunc(dst, func(d SourceVisits) bool { return d.Source == s.Source })
		if k < 0 {
			dst = append(dst, SourceVisits{Source: s.Source})
			k = len(dst) - 1
		}
		dst[k].Visited += s.Visited
		dst[k].Confirmed += s.Confirmed
		dst[k].NoRisk += s.NoRisk
	}
	for i := range dst {
		dst[i].Precision = nil
		if n := dst[i].Confirmed + dst[i].NoRisk; n > 0 {
			p := float64(dst[i].Confirmed) / float64(n)
			dst[i].Precision = &p
		}
	}
	return dst
}

// MergeVisits sums the visits of shards of the same night (the same Since).
func MergeVisits(parts ...*Visits) (*Visits, error) {
	var out *Visits
	for _, v := range parts {
		if v == nil {
			continue
		}
		if out == nil {
			out = &Visits{Present: true, Since: v.Since, Counties: []CountyVisits{}}
		}
		if v.Since != out.Since {
			return nil, fmt.Errorf("merge visits: shards count from %s and %s: not the same night", out.Since, v.Since)
		}
		out.Present = out.Present || v.Present
		out.Visited += v.Visited
		out.Confirmed += v.Confirmed
		out.NoRisk += v.NoRisk
		out.NotReached += v.NotReached
		out.Moved += v.Moved
		out.Other += v.Other
		out.BySource = addSources(out.BySource, v.BySource)
		for _, c := range v.Counties {
			c.BySource = addSources(nil, c.BySource)
			out.Counties = append(out.Counties, c)
		}
	}
	if out == nil {
		return nil, nil
	}
	return out, sortCounties(out.Counties, func(c CountyVisits) string { return c.Code })
}

// MergeElimination sums the elimination assessments of shards.
func MergeElimination(parts ...*Elimination) (*Elimination, error) {
	var out *Elimination
	for _, e := range parts {
		if e == nil {
			continue
		}
		if out == nil {
			out = &Elimination{RelapseModel: e.RelapseModel, Counties: []CountyElimination{}}
		}
		if e.RelapseModel != out.RelapseModel {
			return nil, fmt.Errorf("merge elimination: relapse models %q and %q", out.RelapseModel, e.RelapseModel)
		}
		out.Monitored += e.Monitored
		out.Ready += e.Ready
		out.Defer += e.Defer
		out.NotMet += e.NotMet
		out.Relapses12m += e.Relapses12m
		out.Counties = append(out.Counties, e.Counties...)
	}
	if out == nil {
		return nil, nil
	}
	return out, sortCounties(out.Counties, func(c CountyElimination) string { return c.Code })
}

// MergeWatch sums the watch after elimination of shards.
func MergeWatch(parts ...*Watch) (*Watch, error) {
	var out *Watch
	for _, w := range parts {
		if w == nil {
			continue
		}
		if out == nil {
			out = &Watch{Counties: []CountyWatch{}}
		}
		out.Eliminated12m += w.Eliminated12m
		out.InTopK += w.InTopK
		out.High += w.High
		out.Counties = append(out.Counties, w.Counties...)
	}
	if out == nil {
		return nil, nil
	}
	return out, sortCounties(out.Counties, func(c CountyWatch) string { return c.Code })
}

// sortCounties sorts county lines by code and refuses a county in two
// shards (its counts would be summed twice).
func sortCounties[T any](cs []T, code func(T) string) error {
	slices.SortFunc(cs, func(a, b T) int { return strings.Compare(code(a), code(b)) })
	for i := 1; i < len(cs); i++ {
		if code(cs[i]) == code(cs[i-1]) {
			return errors.New("merge: county " + code(cs[i]) + " is in two shards")
		}
	}
	return nil
}

// checkOffice checks the office parts of a decoded summary: counts not
// negative that add up.
func checkOffice(s *Summary) error {
	if v := s.Visits; v != nil {
		if v.Visited < 0 || v.Confirmed < 0 || v.NoRisk < 0 || v.NotReached < 0 || v.Moved < 0 || v.Other < 0 ||
			v.Visited != v.Confirmed+v.NoRisk+v.NotReached+v.Moved+v.Other {
			return fmt.Errorf("summary.json: visits do not add up (visited %d)", v.Visited)
		}
	}
	if e := s.Elimination; e != nil {
		if e.Ready < 0 || e.Defer < 0 || e.NotMet < 0 || e.Relapses12m < 0 || e.Monitored != e.Ready+e.Defer+e.NotMet {
			return fmt.Errorf("summary.json: elimination verdicts do not add up (monitored %d)", e.Monitored)
		}
	}
	if w := s.Watch; w != nil {
		if w.InTopK < 0 || w.High < 0 || w.InTopK > w.Eliminated12m || w.High > w.Eliminated12m {
			return fmt.Errorf("summary.json: watch counts do not add up (eliminated %d)", w.Eliminated12m)
		}
	}
	return nil
}
