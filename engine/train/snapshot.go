package train

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/povrisk/povrisk/engine/civil"
	"github.com/povrisk/povrisk/engine/warehouse"
	"github.com/povrisk/povrisk/features"
	"github.com/povrisk/povrisk/features/rules"
	"github.com/povrisk/povrisk/models"
)

// Snapshot is the labelled feature table of one as-of date: the households
// that are not monitoring objects on that date, sorted by household id,
// with their model inputs, rule screen and later outcome. Every slice has
// one entry per household.
type Snapshot struct {
	AsOf      time.Time
	IDs       []string      // household ids, ascending
	County    []string      // first 6 digits of region_code
	Status    []string      // status_on_as_of (escaped, general)
	X         models.Matrix // the columns asked of BuildSnapshot, in that order
	Rules     models.Matrix // the rule flags, RuleColumns(), 0/1
	RuleScore []float64     // number of rules tripped: the rule screen's own ranking
	RuleTypes []string      // rule_risk_types: official risk types of the rules tripped, ';'-separated
	Y         []int         // 1: identified within the horizon
	RiskType  []string      // risk type recorded at that identification ("" when Y is 0)
	Excluded  int           // households left out: monitored on AsOf
	// Groups are the attributes of the fairness audit (AuditGroups), by
	// attribute, one value per household.
	Groups map[string][]string
	// VisitLabels: labels that came from a visit outcome
	// (features.Label.FromVisit); -1 when this build cannot tell.
	VisitLabels int
	// W: the weight of each row when the snapshot keeps a sample of its
	// negatives (a training snapshot of a large province); nil: all 1.
	W []float64
}

// subset is the snapshot of rows idx (ascending), its weights unset.
func (s *Snapshot) subset(idx []int) *Snapshot {
	out := &Snapshot{AsOf: s.AsOf, X: s.X.Subset(idx), Rules: s.Rules.Subset(idx), Excluded: s.Excluded, VisitLabels: s.VisitLabels, Groups: map[string][]string{}}
	for _, i := range idx {
		out.IDs = append(out.IDs, s.IDs[i])
		out.County = append(out.County, s.County[i])
		out.Status = append(out.Status, s.Status[i])
		out.RuleScore = append(out.RuleScore, s.RuleScore[i])
		out.RuleTypes = append(out.RuleTypes, s.RuleTypes[i])
		out.Y = append(out.Y, s.Y[i])
		out.RiskType = append(out.RiskType, s.RiskType[i])
		for a, g := range s.Groups {
			out.Groups[a] = append(out.Groups[a], g[i])
		}
	}
	return out
}

// AuditGroups are the attributes of the fairness audit besides county, in
// the card's order, and the feature-table columns they are made from:
// poverty_status (status_on_as_of: escaped or general), disability_1_2
// (disabled_grade_1_2 > 0), elderly_only (members_60_plus ==
// household_size > 0), no_labour (no_labor).
func AuditGroups() []string {
	return []string{"poverty_status", "disability_1_2", "elderly_only", "no_labour"}
}

// auditColumns are the numeric columns the audit groups are made from.
func auditColumns() []string {
	return []string{"disabled_grade_1_2", "members_60_plus", "household_size", "no_labor"}
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// groupsOf makes the audit groups of the rows idx of the feature table
// (A: auditColumns(), status: status_on_as_of); nil when A is missing.
func groupsOf(A *models.Matrix, status []string, idx []int) map[string][]string {
	g := map[string][]string{}
	for _, i := range idx {
		g["poverty_status"] = append(g["poverty_status"], status[i])
		if A == nil {
			continue
		}
		d, old, size, nl := A.Cols[0][i], A.Cols[1][i], A.Cols[2][i], A.Cols[3][i]
		g["disability_1_2"] = append(g["disability_1_2"], yesNo(d > 0))
		g["elderly_only"] = append(g["elderly_only"], yesNo(size > 0 && old == size))
		g["no_labour"] = append(g["no_labour"], yesNo(nl == 1))
	}
	return g
}

// RuleColumns are the rule flag columns of the feature table,
// rule_<name> for every rule in rules.Rules(), in that order.
func RuleColumns() []string {
	out := make([]string, len(rules.Rules()))
	for i, r := range rules.Rules() {
		out[i] = "rule_" + r.Name
	}
	return out
}

// featureColumns checks a model input list: nil means the catalog's
// model columns; names must be distinct and not household_id.
func featureColumns(cols []string) ([]string, error) {
	if len(cols) == 0 {
		return features.ModelColumns(), nil
	}
	seen := map[string]bool{}
	for _, c := range cols {
		if c == "" || c == "household_id" || seen[c] {
			return nil, fmt.Errorf("feature list %v: %q is empty, an id or repeated: list each model input once", cols, c)
		}
		seen[c] = true
	}
	return slices.Clone(cols), nil
}

// matrix reads the columns cols of the feature table t into a model
// matrix, with the household ids of its rows.
func matrix(t arrow.Table, cols []string) (models.Matrix, []string, error) {
	vals, ids, err := features.Numeric(t, cols)
	if err != nil {
		return models.Matrix{}, nil, err
	}
	return models.Matrix{Rows: len(ids), Cols: vals, Names: slices.Clone(cols)}, ids, nil
}

// BuildSnapshot computes the features of asOf (policy pol; nil: the sample
// policy) and the labels over the next horizon months, keeps the
// households not monitored on asOf, and reads columns cols into X (nil:
// features.ModelColumns(); any numeric or boolean column of the feature
// table, rule flags included).
func BuildSnapshot(ctx context.Context, db *sql.DB, w *warehouse.Warehouse, asOf time.Time, horizon int, pol *rules.Policy, cols []string) (*Snapshot, error) {
	return buildSnapshot(ctx, db, w, asOf, horizon, pol, cols, features.Labels, func(l features.Label, _ bool) bool { return !l.MonitoredAtAsOf })
}

// labelFunc gives the labels of an as-of date (features.Labels, or the
// relapse labels).
type labelFunc func(ctx context.Context, db *sql.DB, w features.Tables, asOf time.Time, horizon int) (map[string]features.Label, error)

// buildSnapshot is BuildSnapshot with the labels of labels and the
// households for which keep(label, labelled) holds.
func buildSnapshot(ctx context.Context, db *sql.DB, w *warehouse.Warehouse, asOf time.Time, horizon int, pol *rules.Policy, cols []string,
	labels labelFunc, keep func(l features.Label, labelled bool) bool) (*Snapshot, error) {
	cols, err := featureColumns(cols)
	if err != nil {
		return nil, err
	}
	t, err := features.Compute(ctx, db, w, asOf, pol)
	if err != nil {
		return nil, fmt.Errorf("features at %s: %w", civil.Format(asOf), err)
	}
	defer t.Release()
	X, ids, err := matrix(t, cols)
	if err != nil {
		return nil, fmt.Errorf("feature matrix at %s: %w", civil.Format(asOf), err)
	}
	R, _, err := matrix(t, RuleColumns())
	if err != nil {
		return nil, fmt.Errorf("rule flags at %s: %w", civil.Format(asOf), err)
	}
	str := map[string][]string{}
	for _, c := range []string{"region_code", "status_on_as_of", "rule_risk_types"} {
		if str[c], err = features.StringColumn(t, c); err != nil {
			return nil, fmt.Errorf("features at %s: %w", civil.Format(asOf), err)
		}
	}
	var A *models.Matrix
	if a, _, err := matrix(t, auditColumns()); err == nil {
		A = &a
	}
	lab, err := labels(ctx, db, w, asOf, horizon)
	if err != nil {
		return nil, fmt.Errorf("labels at %s: %w", civil.Format(asOf), err)
	}
	s := &Snapshot{AsOf: asOf}
	idx := make([]int, 0, len(ids))
	for i, id := range ids {
		l, ok := lab[id]
		if !keep(l, ok) {
			s.Excluded++
			continue
		}
		idx = append(idx, i)
	}
	sort.SliceStable(idx, func(a, b int) bool { return ids[idx[a]] < ids[idx[b]] })
	s.X, s.Rules = X.Subset(idx), R.Subset(idx)
	s.RuleScore = make([]float64, len(idx))
	for _, c := range s.Rules.Cols {
		for k, v := range c {
			if v == 1 { // a null flag (NaN) is not tripped
				s.RuleScore[k]++
			}
		}
	}
	s.Groups = groupsOf(A, str["status_on_as_of"], idx)
	for _, i := range idx {
		id := ids[i]
		l := lab[id]
		s.IDs = append(s.IDs, id)
		c := str["region_code"][i]
		s.County = append(s.County, c[:min(6, len(c))])
		s.Status = append(s.Status, str["status_on_as_of"][i])
		s.RuleTypes = append(s.RuleTypes, str["rule_risk_types"][i])
		y := 0
		if l.Positive {
			y = 1
		}
		s.Y = append(s.Y, y)
		s.RiskType = append(s.RiskType, l.RiskType)
		if l.FromVisit {
			s.VisitLabels++
		}
	}
	return s, nil
}

// Columns returns the named columns of the snapshot, looked up in X and
// then in Rules. The columns share the snapshot's storage: do not modify.
func (s *Snapshot) Columns(cols []string) (models.Matrix, error) {
	out := models.Matrix{Rows: s.X.Rows, Names: slices.Clone(cols)}
	for _, c := range cols {
		j := slices.Index(s.X.Names, c)
		src := s.X
		if j < 0 {
			j, src = slices.Index(s.Rules.Names, c), s.Rules
		}
		if j < 0 {
			return models.Matrix{}, fmt.Errorf("snapshot %s has no column %q: build it with that column", civil.Format(s.AsOf), c)
		}
		out.Cols = append(out.Cols, src.Cols[j])
	}
	return out, nil
}

// Stack puts the rows of snaps one under the other (the first snapshot's
// rows, then the second's, ...), keeping the columns cols (nil: the first
// snapshot's X columns), and returns the matrix and the labels.
func Stack(snaps []*Snapshot, cols []string) (models.Matrix, []int, error) {
	if len(snaps) == 0 {
		return models.Matrix{}, nil, fmt.Errorf("stack snapshots: none given")
	}
	if cols == nil {
		cols = snaps[0].X.Names
	}
	n := 0
	for _, s := range snaps {
		n += s.X.Rows
	}
	X := models.NewMatrix(n, cols)
	y := make([]int, 0, n)
	off := 0
	for _, s := range snaps {
		sub, err := s.Columns(cols)
		if err != nil {
			return models.Matrix{}, nil, err
		}
		for j := range X.Cols {
			copy(X.Cols[j][off:], sub.Cols[j])
		}
		off += s.X.Rows
		y = append(y, s.Y...)
	}
	return X, y, nil
}
