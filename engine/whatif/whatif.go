package whatif

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/povrisk/povrisk/engine/civil"
	"github.com/povrisk/povrisk/engine/fault"
	"github.com/povrisk/povrisk/engine/rundir"
	"github.com/povrisk/povrisk/features"
	"github.com/povrisk/povrisk/features/rules"
)

// The files of a run directory whatif reads.
const (
	FeaturesFile    = "features.parquet"
	EliminationFile = "elimination.parquet"
)

// Options say which run to replay under which policy.
type Options struct {
	Run       string        // run directory, verified against its checksums
	Policy    *rules.Policy // the new policy file, loaded
	UnitCosts map[string]float64
}

// Compute replays the night of the run directory o.Run under o.Policy:
// the run is verified (rundir.Read: an altered directory is
// fault.Tampered), its features.parquet rescreened (Evaluate) and, when
// it has one, its elimination.parquet reassessed (EvaluateElimination).
func Compute(ctx context.Context, o Options) (*Result, error) {
	if o.Policy == nil {
		return nil, errors.New("whatif: no policy given")
	}
	run, err := rundir.Read(o.Run)
	if err != nil {
		return nil, err
	}
	asOf, err := civil.Parse(run.Summary.AsOf)
	if err != nil {
		return nil, fault.Wrap(fault.Tampered, fmt.Errorf("whatif: %s: as-of date %q: %w", o.Run, run.Summary.AsOf, err))
	}
	if _, ok := run.Sums[FeaturesFile]; !ok {
		return nil, fault.Wrap(fault.BadInput, fmt.Errorf("whatif: %s has no %s: rerun the night with this povrisk", o.Run, FeaturesFile))
	}
	tab, err := features.ReadParquet(filepath.Join(o.Run, FeaturesFile))
	if err != nil {
		return nil, fault.Wrap(fault.Tampered, err)
	}
	defer tab.Release()
	names := map[string]string{}
	for _, p := range run.Summary.Places {
		names[p.Code] = p.Name
	}
	res, err := Evaluate(tab, asOf, o.Policy, o.UnitCosts, names)
	if err != nil {
		return nil, err
	}
	res.Run = run.Summary.AsOf
	res.PolicyBefore = run.Summary.Policy.SHA256
	res.Changes = append(settingChanges(run.Summary.Policy, o.Policy), res.Changes...)
	if _, ok := run.Sums[EliminationFile]; ok {
		as, err := ReadAssessments(filepath.Join(o.Run, EliminationFile), run.Summary.AsOf)
		if err != nil {
			return nil, fault.Wrap(fault.Tampered, err)
		}
		if err := EvaluateElimination(res, as, o.Policy); err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return res, nil
}

// household is one eligible household's screen before and after.
type household struct {
	id, county            string
	before, after         map[string]bool // rules tripped
	costBefore, costAfter float64
}

// Evaluate compares the rule screen recorded in a feature table (its
// rule_* columns: the night) with the screen recomputed under pol, for
// the households eligible on the as-of date (monitored_at_as_of false),
// and fills a Result: totals, per rule, per county (sorted by code; names
// from places, code -> name), the lines changed, and the yearly cost of
// the measures suggested for the flagged households (rules.MeasuresFor of
// their risk types, at unitCosts; a measure without a cost counts 0).
func Evaluate(tab arrow.Table, asOf time.Time, pol *rules.Policy, unitCosts map[string]float64, places map[string]string) (*Result, error) {
	rec, err := recorded(tab)
	if err != nil {
		return nil, err
	}
	after, err := features.ScreenTable(tab, asOf, pol)
	if err != nil {
		return nil, err
	}
	if len(after) != len(rec) {
		return nil, fmt.Errorf("whatif: %d rows rescreened, %d recorded", len(after), len(rec))
	}
	res := &Result{PolicyAfter: pol.SHA256(), UnitCosts: unitCosts}
	ruleIdx := map[string]*RuleChange{}
	for _, r := range rules.Rules() {
		res.Rules = append(res.Rules, RuleChange{Rule: r.Name})
	}
	for i := range res.Rules {
		ruleIdx[res.Rules[i].Rule] = &res.Rules[i]
	}
	counties := map[string]*CountyChange{}
	lines := map[string]string{}
	for i, a := range after {
		if a.Monitored {
			continue
		}
		b := rec[i]
		if b.id != a.HouseholdID {
			return nil, fmt.Errorf("whatif: row %d: household %s recorded, %s rescreened", i, b.id, a.HouseholdID)
		}
		h := household{id: a.HouseholdID, county: rundir.Prefix(a.RegionCode, 6), before: b.tripped, after: map[string]bool{}}
		for _, n := range a.Result.Names {
			h.after[n] = true
		}
		h.costBefore = cost(rules.MeasuresFor(b.types, b.primary), unitCosts)
		h.costAfter = cost(rules.MeasuresFor(a.Result.RiskTypes, a.Result.Primary), unitCosts)
		if b.lineEntry != "" {
			k := fmt.Sprintf("%s监测线 %s元 → %s%s元", rules.KeyZh(b.lineEntry), rules.Thousands(b.line), lineFrom(b.lineEntry, a.Result.Line.Key()), rules.Thousands(a.Result.Line.Value))
			if b.lineEntry != a.Result.Line.Key() || b.line != a.Result.Line.Value {
				lines[k] = k
			}
		}
		if b.ruralEntry != "" && (b.ruralEntry != a.Result.Rural.Key() || b.rural != a.Result.Rural.Value) {
			k := fmt.Sprintf("%s农村居民人均可支配收入 %s元 → %s%s元", rules.KeyZh(b.ruralEntry), rules.Thousands(b.rural),
				lineFrom(b.ruralEntry, a.Result.Rural.Key()), rules.Thousands(a.Result.Rural.Value))
			lines[k] = k
		}
		c := counties[h.county]
		if c == nil {
			c = &CountyChange{Code: h.county, Name: places[h.county]}
			counties[h.county] = c
		}
		fb, fa := len(h.before) > 0, len(h.after) > 0
		res.FlaggedBefore += one(fb)
		res.FlaggedAfter += one(fa)
		res.Entered += one(fa && !fb)
		res.Left += one(fb && !fa)
		c.FlaggedBefore += one(fb)
		c.FlaggedAfter += one(fa)
		c.Entered += one(fa && !fb)
		c.Left += one(fb && !fa)
		if fb {
			res.CostBefore += h.costBefore
			c.CostBefore += h.costBefore
		}
		if fa {
			res.CostAfter += h.costAfter
			c.CostAfter += h.costAfter
		}
		for name, rc := range ruleIdx {
			rb, ra := h.before[name], h.after[name]
			rc.FlaggedBefore += one(rb)
			rc.FlaggedAfter += one(ra)
			rc.Entered += one(ra && !rb)
			rc.Left += one(rb && !ra)
		}
	}
	for _, c := range counties {
		res.Counties = append(res.Counties, *c)
	}
	sort.Slice(res.Counties, func(i, j int) bool { return res.Counties[i].Code < res.Counties[j].Code })
	for _, k := range sortedKeys(lines) {
		res.Changes = append(res.Changes, k)
	}
	return res, nil
}

func one(b bool) int {
	if b {
		return 1
	}
	return 0
}

func cost(measures []string, unit map[string]float64) float64 {
	s := 0.0
	for _, m := range measures {
		s += unit[m]
	}
	return s
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// recordedRow is the night's screen of one household, from the feature
// table's rule columns.
type recordedRow struct {
	id        string
	tripped   map[string]bool
	types     []string
	primary   string
	lineEntry string
	line      float64
	// The rural income applied (previous year's; the medical burden
	// rule's base); "" and 0 when the table has no such column.
	ruralEntry string
	rural      float64
}

// recorded reads the rule columns of a feature table. rule_primary_risk_type
// is optional (a table of an earlier catalog: the first type).
func recorded(tab arrow.Table) ([]recordedRow, error) {
	idx := map[string]int{}
	for i, f := range tab.Schema().Fields() {
		idx[f.Name] = i
	}
	for _, n := range []string{"household_id", "rules_tripped", "rule_risk_types", "policy_line_entry", "policy_line"} {
		if _, ok := idx[n]; !ok {
			return nil, fmt.Errorf("whatif: the feature table has no column %s", n)
		}
	}
	pi, hasPrimary := idx["rule_primary_risk_type"]
	var out []recordedRow
	tr := array.NewTableReader(tab, 1<<16)
	defer tr.Release()
	for tr.Next() {
		rec := tr.RecordBatch()
		get := func(name string, i int) (string, error) { return text(rec.Column(idx[name]), i) }
		for i := 0; i < int(rec.NumRows()); i++ {
			var r recordedRow
			var names, types string
			var err error
			for _, f := range []struct {
				col string
				dst *string
			}{{"household_id", &r.id}, {"rules_tripped", &names}, {"rule_risk_types", &types}, {"policy_line_entry", &r.lineEntry}} {
				if *f.dst, err = get(f.col, i); err != nil {
					return nil, err
				}
			}
			if hasPrimary {
				if r.primary, err = text(rec.Column(pi), i); err != nil {
					return nil, err
				}
			}
			r.tripped = map[string]bool{}
			for _, n := range split(names) {
				r.tripped[n] = true
			}
			r.types = split(types)
			if !hasPrimary && len(r.types) > 0 {
				r.primary = r.types[0]
			}
			if l, ok := rec.Column(idx["policy_line"]).(*array.Float64); ok && l.IsValid(i) {
				r.line = l.Value(i)
			}
			if ri, ok := idx["policy_rural_income_entry"]; ok {
				if r.ruralEntry, err = text(rec.Column(ri), i); err != nil {
					return nil, err
				}
			}
			if ri, ok := idx["policy_rural_income"]; ok {
				if l, ok := rec.Column(ri).(*array.Float64); ok && l.IsValid(i) {
					r.rural = l.Value(i)
				}
			}
			out = append(out, r)
		}
	}
	return out, tr.Err()
}

func split(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ";")
}

// text is a string cell ("" when null); another type is an error.
func text(a arrow.Array, i int) (string, error) {
	if a.IsNull(i) {
		return "", nil
	}
	switch c := a.(type) {
	case *array.String:
		return c.Value(i), nil
	case *array.LargeString:
		return c.Value(i), nil
	case *array.StringView:
		return c.Value(i), nil
	}
	return "", fmt.Errorf("whatif: a column of type %s where text was expected", a.DataType())
}

// EvaluateElimination fills res's elimination verdicts before (as
// recorded in each assessment's Verdict) and after (EliminationConditions
// and EliminationVerdict under pol, from the assessment's facts), in total
// and per county (a county without eligible households is added).
func EvaluateElimination(res *Result, as []features.Assessment, pol *rules.Policy) error {
	res.EliminationBefore, res.EliminationAfter = map[string]int{}, map[string]int{}
	byCode := map[string]int{}
	for i, c := range res.Counties {
		byCode[c.Code] = i
	}
	for _, a := range as {
		before := a.Verdict
		if err := features.EliminationConditions(&a, pol); err != nil {
			return err
		}
		features.EliminationVerdict(&a, pol)
		code := rundir.Prefix(a.RegionCode, 6)
		i, ok := byCode[code]
		if !ok {
			res.Counties = append(res.Counties, CountyChange{Code: code})
			i = len(res.Counties) - 1
			byCode[code] = i
		}
		c := &res.Counties[i]
		if c.EliminationBefore == nil {
			c.EliminationBefore, c.EliminationAfter = map[string]int{}, map[string]int{}
		}
		res.EliminationBefore[before]++
		res.EliminationAfter[a.Verdict]++
		c.EliminationBefore[before]++
		c.EliminationAfter[a.Verdict]++
	}
	sort.Slice(res.Counties, func(i, j int) bool { return res.Counties[i].Code < res.Counties[j].Code })
	return nil
}

// settingChanges lists the thresholds and [elimination] settings that
// differ between the run's policy and pol. The run's policy is known when
// its checksum (summary.json) is that of the built-in sample, or of the
// file summary.json names (its base name, looked up from the working
// directory); otherwise the settings cannot be compared and the list says
// so (the lines changed are listed from the feature table all the same).
func settingChanges(info rundir.PolicyInfo, pol *rules.Policy) []string {
	if info.SHA256 == pol.SHA256() {
		return nil
	}
	if sample := rules.SamplePolicy(); info.SHA256 == sample.SHA256() {
		return diffSettings(sample, pol)
	}
	b, err := os.ReadFile(info.File)
	if err != nil || info.File == "" {
		return []string{"本次运行所用政策文件（" + info.File + "）不在当前目录，阈值变化未列出"}
	}
	sum := sha256.Sum256(b)
	if hex.EncodeToString(sum[:]) != info.SHA256 {
		return []string{"当前目录下的" + info.File + "与本次运行所用政策文件不同，阈值变化未列出"}
	}
	old, err := rules.ParsePolicy(b)
	if err != nil {
		return []string{"本次运行所用政策文件无法解析，阈值变化未列出"}
	}
	return diffSettings(old, pol)
}

// lineFrom names the entry applied under the new policy: nothing when it
// is the same entry as before (only the value changed), else its name.
func lineFrom(before, after string) string {
	if before == after {
		return ""
	}
	return "（" + rules.KeyZh(after) + "）"
}

// diffSettings lists "section：setting old → new" (the setting's Chinese
// name) for every threshold and
// elimination setting that differs, in the order of the structs.
func diffSettings(old, pol *rules.Policy) []string {
	var out []string
	for _, s := range []struct {
		zh   string
		a, b any
	}{{"规则阈值", old.Thresholds, pol.Thresholds}, {"风险消除", old.Elimination, pol.Elimination}} {
		va, vb := reflect.ValueOf(s.a), reflect.ValueOf(s.b)
		for i := 0; i < va.NumField(); i++ {
			fa, fb := va.Field(i).Interface(), vb.Field(i).Interface()
			if fa != fb {
				f := va.Type().Field(i)
				name := f.Tag.Get("zh")
				if name == "" {
					name = strings.Split(f.Tag.Get("toml"), ",")[0]
				}
				out = append(out, fmt.Sprintf("%s：%s %v → %v", s.zh, name, fa, fb))
			}
		}
	}
	return out
}

// ReadAssessments reads a run's elimination.parquet back into
// assessments: each scalar field of features.Assessment from the column
// of its name in snake_case (HouseholdID: household_id, IncomePC6m:
// income_pc6m; underscores and case are ignored when matching, so
// income_pc_6m matches too). A missing column leaves the field at its
// zero value (a float at NaN; AsOf at asOf). Any bytes give assessments
// or an error, never a panic.
func ReadAssessments(path, asOf string) (as []features.Assessment, err error) {
	tab, err := features.ReadParquet(path)
	if err != nil {
		return nil, err
	}
	defer tab.Release()
	defer func() {
		if r := recover(); r != nil {
			as, err = nil, fmt.Errorf("read %s: %v", path, r)
		}
	}()
	cols := map[string]int{}
	for i, f := range tab.Schema().Fields() {
		cols[norm(f.Name)] = i
	}
	if _, ok := cols[norm("HouseholdID")]; !ok {
		return nil, fmt.Errorf("read %s: no household_id column", path)
	}
	typ := reflect.TypeOf(features.Assessment{})
	tr := array.NewTableReader(tab, 1<<16)
	defer tr.Release()
	for tr.Next() {
		rec := tr.RecordBatch()
		for i := 0; i < int(rec.NumRows()); i++ {
			var a features.Assessment
			v := reflect.ValueOf(&a).Elem()
			for k := 0; k < typ.NumField(); k++ {
				f := v.Field(k)
				if f.Kind() == reflect.Float64 {
					f.SetFloat(math.NaN())
				}
				j, ok := cols[norm(typ.Field(k).Name)]
				if !ok {
					continue
				}
				if err := setField(f, rec.Column(j), i); err != nil {
					return nil, fmt.Errorf("read %s: column %s: %w", path, tab.Schema().Field(j).Name, err)
				}
			}
			if a.AsOf == "" {
				a.AsOf = asOf
			}
			as = append(as, a)
		}
	}
	return as, tr.Err()
}

// norm is a column or field name without underscores, in lower case.
func norm(s string) string { return strings.ToLower(strings.ReplaceAll(s, "_", "")) }

// setField sets a scalar field from a cell; null leaves the zero value
// (NaN for a float, -1 for an int). Slice fields are skipped.
func setField(f reflect.Value, a arrow.Array, i int) error {
	switch f.Kind() {
	case reflect.Slice:
		return nil
	case reflect.Int:
		if a.IsNull(i) {
			f.SetInt(-1)
			return nil
		}
	}
	if a.IsNull(i) {
		return nil
	}
	switch f.Kind() {
	case reflect.String:
		if d, ok := a.(*array.Date32); ok {
			f.SetString(d.Value(i).FormattedString())
			return nil
		}
		s, err := text(a, i)
		f.SetString(s)
		return err
	case reflect.Bool:
		c, ok := a.(*array.Boolean)
		if !ok {
			return fmt.Errorf("type %s, want boolean", a.DataType())
		}
		f.SetBool(c.Value(i))
	case reflect.Int, reflect.Float64:
		var x float64
		switch c := a.(type) {
		case *array.Int32:
			x = float64(c.Value(i))
		case *array.Int64:
			x = float64(c.Value(i))
		case *array.Float64:
			x = c.Value(i)
		case *array.Float32:
			x = float64(c.Value(i))
		case *array.Decimal128:
			x = c.Value(i).ToFloat64(c.DataType().(*arrow.Decimal128Type).Scale)
		default:
			return fmt.Errorf("type %s, want a number", a.DataType())
		}
		if f.Kind() == reflect.Int {
			f.SetInt(int64(x))
		} else {
			f.SetFloat(x)
		}
	}
	return nil
}

// Verdicts lists the verdict codes in report order.
func Verdicts() []string {
	return slices.Clone([]string{features.VerdictReady, features.VerdictDefer, features.VerdictNotMet})
}
