package run

import (
	"fmt"
	"maps"
	"slices"
	"sort"

	"github.com/povrisk/povrisk/engine/fault"
	"github.com/povrisk/povrisk/engine/rundir"
	"github.com/povrisk/povrisk/features"
	"github.com/povrisk/povrisk/models"
)

// condition and assessment are the features package's elimination
// assessment (features/elimination.go).
type (
	condition  = features.Condition
	assessment = features.Assessment
)

// assessRows scores the group's assessments for relapse and converts them to the run directory's
// rows, sorted by household_id; nil when no assessment is available.
func assessRows(in *inputs, feat *featureTable, as []assessment, names map[string]string) ([]rundir.ElimRow, error) {
	if err := relapseScores(in, feat, as); err != nil {
		return nil, err
	}
	rows := fromAssessments(as, names)
	if rows == nil {
		rows = []rundir.ElimRow{}
	}
	return rows, nil
}

// fromAssessments converts assessments to elimination rows with their
// place names, sorted by household_id.
func fromAssessments(as []assessment, names map[string]string) []rundir.ElimRow {
	out := make([]rundir.ElimRow, 0, len(as))
	for i := range as {
		a := &as[i]
		r := rundir.ElimRowOf(a, names[rundir.Prefix(a.RegionCode, 6)], names[rundir.Prefix(a.RegionCode, 9)], names[a.RegionCode])
		out = append(out, r)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].HouseholdID < out[b].HouseholdID })
	return out
}

// eliminationSummary is summary.json elimination: per county, the
// monitored households, the verdicts, the condition most often unmet
// (ties by name) and the relapses of the last 12 months. nil when rows is
// nil (no assessment).
func eliminationSummary(rows []rundir.ElimRow, relapses map[string]int, names map[string]string, relapseModel string) *rundir.Elimination {
	if rows == nil {
		return nil
	}
	e := &rundir.Elimination{RelapseModel: relapseModel, Counties: []rundir.CountyElimination{}}
	per := map[string]*rundir.CountyElimination{}
	unmet := map[string]map[string]int{}
	for i := range rows {
		r := &rows[i]
		cc := rundir.Prefix(r.RegionCode, 6)
		c, ok := per[cc]
		if !ok {
			c = &rundir.CountyElimination{Place: rundir.Place{Code: cc, Name: names[cc]}}
			per[cc], unmet[cc] = c, map[string]int{}
		}
		c.Monitored++
		e.Monitored++
		switch r.Verdict {
		case "ready":
			c.Ready++
			e.Ready++
		case "defer":
			c.Defer++
			e.Defer++
		default:
			c.NotMet++
			e.NotMet++
			for _, u := range r.Unmet {
				unmet[cc][u]++
			}
		}
	}
	for cc := range relapses {
		if _, ok := per[cc]; !ok && relapses[cc] > 0 {
			per[cc], unmet[cc] = &rundir.CountyElimination{Place: rundir.Place{Code: cc, Name: names[cc]}}, map[string]int{}
		}
	}
	for _, cc := range slices.Sorted(maps.Keys(per)) {
		c := per[cc]
		c.Relapses12m = relapses[cc]
		e.Relapses12m += c.Relapses12m
		best := 0
		for _, u := range slices.Sorted(maps.Keys(unmet[cc])) {
			if unmet[cc][u] > best {
				c.TopUnmet, best = u, unmet[cc][u]
			}
		}
		e.Counties = append(e.Counties, *c)
	}
	return e
}

// relapseScores sets each assessment's relapse probability from the
// night's relapse model (in.relapse: none, and Relapse stays NaN) and
// judges its verdict again (features.EliminationVerdict: a high relapse
// risk defers an elimination whose conditions are met). A household's
// features are its row of the group's feature table, with the months
// since elimination at 0: the model learned on households eliminated on
// the date, which is the question asked of each monitored household.
func relapseScores(in *inputs, feat *featureTable, as []assessment) error {
	if in.relapse == nil || len(as) == 0 {
		return nil
	}
	cols := in.relapseCard.Features
	vals, ids, err := features.Numeric(feat.t, cols)
	if err != nil {
		return fault.Wrap(fault.NoModel, fmt.Errorf("relapse model %s: %w", in.relapseCard.ID, err))
	}
	row := make(map[string]int, len(ids))
	for i, id := range ids {
		row[id] = i
	}
	var pick, at []int // feature-table row, assessment index
	for k := range as {
		if i, ok := row[as[k].HouseholdID]; ok {
			pick, at = append(pick, i), append(at, k)
		}
	}
	X := models.Matrix{Rows: len(pick), Cols: make([][]float64, len(cols)), Names: slices.Clone(cols)}
	for j, c := range vals {
		X.Cols[j] = make([]float64, len(pick))
		for r, i := range pick {
			if cols[j] == "months_since_elimination" {
				X.Cols[j][r] = 0
			} else {
				X.Cols[j][r] = c[i]
			}
		}
	}
	p := make([]float64, X.Rows)
	if X.Rows > 0 {
		in.relapse.PredictProba(X, p)
	}
	for r, k := range at {
		as[k].Relapse = p[r]
		features.EliminationVerdict(&as[k], in.cfg.policy)
	}
	return nil
}
