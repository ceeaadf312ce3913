package run

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/povrisk/povrisk/datasets"
	"github.com/povrisk/povrisk/engine/rundir"
	"github.com/povrisk/povrisk/features"
	"github.com/povrisk/povrisk/features/rules"
	"github.com/povrisk/povrisk/models"
	"github.com/povrisk/povrisk/models/kmeans"
)

// assetKinds are the eligibility-conflict evidence columns of the feature
// table (asset_<kind>_count, _value, _latest), with their Chinese names.
var assetKinds = []struct{ kind, zh string }{
	{"vehicle", "车辆"}, {"property", "商品房"}, {"business", "工商登记"}, {"public_payroll", "财政供养人员"}, {"deposit", "存款"},
}

// DepositConflict is the latest deposit balance (yuan) from which a deposit
// is shown as an eligibility conflict; any vehicle, property, business or
// public-payroll record is shown.
const DepositConflict = 50000.0

// infoColumns are the non-model columns of the feature table the night reads.
type infoColumns struct {
	region, status, rules, riskTypes, facts, factsEn []string
	monitored                                        []bool
	netIncomePC, oopMedical                          []float64
	assetCount, assetValue                           [][]float64 // per assetKinds
	assetLatest                                      [][]string
	lineValue, ruralValue                            []float64
	lineEntry, lineFallback                          []string
	ruralEntry, ruralFallback                        []string
}

func column(t arrow.Table, name string) (*arrow.Chunked, error) {
	idx := t.Schema().FieldIndices(name)
	if len(idx) == 0 {
		return nil, fmt.Errorf("feature table has no column %q: the features package and the night disagree", name)
	}
	return t.Column(idx[0]).Data(), nil
}

func stringColumn(t arrow.Table, name string) ([]string, error) {
	ch, err := column(t, name)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, ch.Len())
	for _, c := range ch.Chunks() {
		switch a := c.(type) {
		case interface{ Value(int) string }: // String, LargeString, StringView
			for i := 0; i < c.Len(); i++ {
				// Value aliases the Arrow buffer (DuckDB's memory, freed
				// with the table): keep a copy.
				out = append(out, strings.Clone(a.Value(i))) // "" when null
			}
		case *array.Date32:
			for i := 0; i < a.Len(); i++ {
				if a.IsNull(i) {
					out = append(out, "")
				} else {
					out = append(out, a.Value(i).FormattedString())
				}
			}
		default:
			return nil, fmt.Errorf("feature column %q is %s, want text or date", name, c.DataType())
		}
	}
	return out, nil
}

// floatColumn reads one numeric or boolean column (features.Numeric:
// booleans as 0/1, NaN for null).
func floatColumn(t arrow.Table, name string) ([]float64, error) {
	vals, err := features.Columns(t, []string{name})
	if err != nil {
		return nil, err
	}
	return vals[0], nil
}

func boolColumn(t arrow.Table, name string) ([]bool, error) {
	v, err := floatColumn(t, name)
	if err != nil {
		return nil, err
	}
	out := make([]bool, len(v))
	for i, x := range v {
		out[i] = x == 1
	}
	return out, nil
}

// readColumns reads the info columns of the feature table.
func readColumns(t arrow.Table) (*infoColumns, error) {
	c := &infoColumns{}
	var err error
	strs := []struct {
		dst  *[]string
		name string
	}{{&c.region, "region_code"}, {&c.status, "status_on_as_of"}, {&c.rules, "rules_tripped"}, {&c.riskTypes, "rule_risk_types"},
		{&c.facts, "rule_facts"}, {&c.factsEn, "rule_facts_en"}, {&c.lineEntry, "policy_line_entry"}, {&c.lineFallback, "policy_line_fallback"},
		{&c.ruralEntry, "policy_rural_income_entry"}, {&c.ruralFallback, "policy_rural_income_fallback"}}
	for _, s := range strs {
		if *s.dst, err = stringColumn(t, s.name); err != nil {
			return nil, err
		}
	}
	flts := []struct {
		dst  *[]float64
		name string
	}{{&c.netIncomePC, "net_income_pc_12m"}, {&c.oopMedical, "oop_medical_12m"}, {&c.lineValue, "policy_line"}, {&c.ruralValue, "policy_rural_income"}}
	for _, s := range flts {
		if *s.dst, err = floatColumn(t, s.name); err != nil {
			return nil, err
		}
	}
	if c.monitored, err = boolColumn(t, "monitored_at_as_of"); err != nil {
		return nil, err
	}
	for _, k := range assetKinds {
		n, err := floatColumn(t, "asset_"+k.kind+"_count")
		if err != nil {
			return nil, err
		}
		v, err := floatColumn(t, "asset_"+k.kind+"_value")
		if err != nil {
			return nil, err
		}
		l, err := stringColumn(t, "asset_"+k.kind+"_latest")
		if err != nil {
			return nil, err
		}
		c.assetCount, c.assetValue, c.assetLatest = append(c.assetCount, n), append(c.assetValue, v), append(c.assetLatest, l)
	}
	return c, nil
}

// conflicts writes the eligibility conflicts of household i (zh), or "".
func (c *infoColumns) conflicts(i int) string {
	var parts []string
	for k, a := range assetKinds {
		n, v := c.assetCount[k][i], c.assetValue[k][i]
		if math.IsNaN(n) || n <= 0 {
			continue
		}
		if a.kind == "deposit" {
			if math.IsNaN(v) || v < DepositConflict {
				continue
			}
			parts = append(parts, fmt.Sprintf("存款余额%s(%s)", formatValue(v, uYuan, true), c.assetLatest[k][i]))
			continue
		}
		s := fmt.Sprintf("%s%d条记录", a.zh, int(n))
		if !math.IsNaN(v) && v > 0 {
			s += "，合计" + formatValue(v, uYuan, true)
		}
		if c.assetLatest[k][i] != "" {
			s += "，最近" + c.assetLatest[k][i]
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "；")
}

// riskOrder is the position of each risk type in datasets.RiskTypes (ties).
var riskOrder = func() map[string]int {
	m := map[string]int{}
	for i, r := range datasets.RiskTypes() {
		m[r] = i
	}
	return m
}()

// buildRows makes one row per eligible household (not a monitoring object
// on the as-of date) with its reasons, risk types, measures and conflicts.
func buildRows(ids []string, score []float64, X, contrib models.Matrix, cluster []int, profs []kmeans.Profile, c *infoColumns, names []string) []rundir.Row {
	var elig []int
	for i := range ids {
		if !c.monitored[i] {
			elig = append(elig, i)
		}
	}
	rows := make([]rundir.Row, len(elig))
	// Each row depends on its household alone: the rows are built on
	// every core, in contiguous ranges, each worker with its own reasoner
	// (its buffers); the rows are the same whatever the number of workers.
	workers := max(1, min(runtime.GOMAXPROCS(0), len(elig)/buildChunk))
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := len(elig)*w/workers, len(elig)*(w+1)/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := newReasoner(names, X, contrib)
			for k := lo; k < hi; k++ {
				rows[k] = b.row(elig[k], ids, score, cluster, profs, c)
			}
		}()
	}
	wg.Wait()
	return rows
}

// buildChunk is the fewest rows worth a worker of buildRows.
const buildChunk = 4096

// row is the ranked row of household i (ranks and tier unset).
func (b *reasoner) row(i int, ids []string, score []float64, cluster []int, profs []kmeans.Profile, c *infoColumns) rundir.Row {
	names := b.names
	region := c.region[i]
	r := rundir.Row{HouseholdID: ids[i], RegionCode: region, CountyCode: rundir.Prefix(region, 6), TownshipCode: rundir.Prefix(region, 9),
		PovertyStatus: c.status[i], Score: score[i], Rules: c.rules[i], Conflicts: c.conflicts(i),
		NetIncomePC12m: cents(c.netIncomePC[i]), OOPMedical12m: cents(c.oopMedical[i]), Index: i}
	prof := profs[cluster[i]]
	r.Profile, r.ProfileZh = prof.Name, prof.NameZh
	top := b.topReasons(i)
	r.Reasons, r.ReasonsEn = b.reasonTexts(i, top, c.facts[i], c.factsEn[i])
	if len(top) > 0 {
		r.TopDriver = names[top[0]]
	}
	types := b.riskTypes(top, c.riskTypes[i])
	r.PrimaryRiskType = primaryRiskType(types, b.weight, prof.RiskType)
	zhTypes := make([]string, len(types))
	for k, t := range types {
		zhTypes[k] = riskTypeZh(t)
	}
	r.RiskTypes, r.RiskTypesZh = strings.Join(types, ";"), strings.Join(zhTypes, ";")
	if !slices.Contains(types, r.PrimaryRiskType) && r.PrimaryRiskType != "" && len(types) > 0 {
		// an income shortfall attributed to its cause: measures for the cause first
		types = append([]string{r.PrimaryRiskType}, types...)
	}
	r.Measures, r.MeasuresZh = measuresFor(types, r.PrimaryRiskType)
	return r
}

// reasoner picks a household's reasons and risk types from the model's
// contributions; it reuses its buffers from one household to the next.
type reasoner struct {
	names         []string
	X, contrib    models.Matrix
	riskOfFeature []string
	riskIdx       []int
	health        []bool
	top           [3]int
	weight        riskWeights // of the household being built
}

func newReasoner(names []string, X, contrib models.Matrix) *reasoner {
	b := &reasoner{names: names, X: X, contrib: contrib, riskOfFeature: make([]string, len(names)), riskIdx: make([]int, len(names)),
		health: make([]bool, len(names)), weight: make(riskWeights, len(datasets.RiskTypes()))}
	for j, f := range names {
		b.riskOfFeature[j] = featureTexts[f].Risk
		b.riskIdx[j] = riskOrder[b.riskOfFeature[j]]
	}
	// Features derived from a health condition (disease registers) count
	// towards the risk type but are never written as a reason: work lists
	// and ranked lists reach offices, and health conditions must not.
	for _, col := range features.Catalog() {
		for j, n := range names {
			if n == col.Name && col.Health {
				b.health[j] = true
			}
		}
	}
	return b
}

// topReasons returns the features of the (up to) three largest positive
// contributions of household i, largest first, and fills b.weight with
// the household's total positive contribution per risk type.
func (b *reasoner) topReasons(i int) []int {
	nt := 0
	clear(b.weight)
	top, cols := &b.top, b.contrib.Cols
	for j := range b.names {
		v := cols[j][i]
		if v <= 0 {
			continue
		}
		b.weight[b.riskIdx[j]] += v
		if b.health[j] {
			continue
		}
		k := nt
		if nt < 3 {
			nt++
		} else if v <= cols[top[2]][i] {
			continue
		} else {
			k = 2
		}
		for k > 0 && cols[top[k-1]][i] < v {
			top[k] = top[k-1]
			k--
		}
		top[k] = j
	}
	return top[:nt]
}

// reasonTexts writes the reasons of household i (zh and en): the top
// features' templates, then rule facts while there are fewer than three.
func (b *reasoner) reasonTexts(i int, top []int, facts, factsEn string) (zh, en string) {
	var z, e []string
	for _, j := range top {
		a, c := reason(b.names[j], b.X.Cols[j][i])
		z, e = append(z, a), append(e, c)
	}
	if len(z) < 3 && facts != "" {
		fz, fe := strings.Split(facts, "；"), strings.Split(factsEn, "; ")
		for k := 0; k < len(fz) && len(z) < 3; k++ {
			z = append(z, fz[k])
			if k < len(fe) {
				e = append(e, fe[k])
			}
		}
	}
	return strings.Join(z, "；"), strings.Join(e, "; ")
}

// riskTypes are the types of the rules tripped and of the top reasons,
// by the model's total positive contribution to each (b.weight).
func (b *reasoner) riskTypes(top []int, ruleTypes string) []string {
	var types []string
	add := func(t string) {
		if t != "" && !slices.Contains(types, t) {
			types = append(types, t)
		}
	}
	if ruleTypes != "" {
		for _, t := range strings.Split(ruleTypes, ";") {
			add(t)
		}
	}
	for _, j := range top {
		add(b.riskOfFeature[j])
	}
	sortRiskTypes(types, b.weight)
	return types
}

// riskWeights holds a weight per risk type, indexed as datasets.RiskTypes.
type riskWeights []float64

func (w riskWeights) of(t string) float64 {
	if i, ok := riskOrder[t]; ok {
		return w[i]
	}
	return 0
}

// sortRiskTypes orders types by weight descending, ties in the order of
// datasets.RiskTypes; "other" (其他) always comes last, so that the primary
// type is a specific one whenever there is one.
func sortRiskTypes(types []string, weight riskWeights) {
	less := func(y, x string) bool { // y before x
		if (y == "other") != (x == "other") {
			return x == "other"
		}
		return weight.of(y) > weight.of(x) || (weight.of(y) == weight.of(x) && riskOrder[y] < riskOrder[x])
	}
	for a := 1; a < len(types); a++ {
		for b := a; b > 0; b-- {
			x, y := types[b-1], types[b]
			if less(y, x) {
				types[b-1], types[b] = y, x
			} else {
				break
			}
		}
	}
}

// measuresFor suggests at most three programmes for the risk types (the
// primary type when there is none): rules.MeasuresFor, the one table of
// measures per risk type, with their Chinese names.
func measuresFor(types []string, primary string) (codes, zh string) {
	out := rules.MeasuresFor(types, primary)
	outZh := make([]string, len(out))
	for i, m := range out {
		outZh[i] = rules.ProgramZh(m)
	}
	return strings.Join(out, ";"), strings.Join(outZh, ";")
}

// cents rounds yuan to the fen (NaN stays NaN).
func cents(v float64) float64 { return math.Round(v*100) / 100 }
