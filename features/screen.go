package features

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/povrisk/povrisk/features/rules"
)

// appendRules rounds the feature columns of recs (Column.Digits), screens
// every household and returns the table of the rounded recs with the rule
// columns appended.
func appendRules(ctx context.Context, schema *arrow.Schema, recs []arrow.RecordBatch, asOf time.Time, pol *rules.Policy, meta arrow.Metadata) (arrow.Table, error) {
	rc := ruleColumns()
	fields := append([]arrow.Field(nil), schema.Fields()...)
	for _, c := range rc {
		fields = append(fields, arrow.Field{Name: c.Name, Type: arrowType(c.Type), Nullable: true})
	}
	outSchema := arrow.NewSchema(fields, &meta)
	var out []arrow.RecordBatch
	defer func() {
		for _, r := range out {
			if r != nil {
				r.Release()
			}
		}
	}()
	// Batches are screened by runtime.GOMAXPROCS(0) workers; results keep
	// the batches' order, so the output does not depend on scheduling.
	out = make([]arrow.RecordBatch, len(recs))
	errs := make([]error, len(recs))
	digits := roundingDigits()
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := ctx.Err(); err != nil {
					errs[i] = fmt.Errorf("rule screen: %w", err)
					continue
				}
				rounded := roundBatch(recs[i], digits)
				out[i], errs[i] = screenBatch(rounded, outSchema, asOf, pol)
				rounded.Release()
			}
		}()
	}
	for i := range recs {
		next <- i
	}
	close(next)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return array.NewTableFromRecords(outSchema, out), nil
}

func arrowType(t string) arrow.DataType {
	switch t {
	case "DOUBLE":
		return arrow.PrimitiveTypes.Float64
	case "INTEGER":
		return arrow.PrimitiveTypes.Int32
	case "BOOLEAN":
		return arrow.FixedWidthTypes.Boolean
	case "DATE":
		return arrow.FixedWidthTypes.Date32
	}
	return arrow.BinaryTypes.String
}

// batchCols reads a record's columns by name.
type batchCols struct {
	rec arrow.RecordBatch
	idx map[string]int
}

func (b batchCols) col(name string) (arrow.Array, error) {
	i, ok := b.idx[name]
	if !ok {
		return nil, fmt.Errorf("the feature table has no column %s", name)
	}
	return b.rec.Column(i), nil
}

// num is the value of a numeric or boolean column at row i, NaN when null.
func num(a arrow.Array, i int) float64 {
	if a.IsNull(i) {
		return math.NaN()
	}
	switch c := a.(type) {
	case *array.Float64:
		return c.Value(i)
	case *array.Int32:
		return float64(c.Value(i))
	case *array.Int64:
		return float64(c.Value(i))
	case *array.Boolean:
		if c.Value(i) {
			return 1
		}
		return 0
	}
	panic(fmt.Sprintf("features: column of type %s is not numeric", a.DataType()))
}

// str is the value of a string column at row i ("" when null).
func str(a arrow.Array, i int) string {
	if a.IsNull(i) {
		return ""
	}
	switch c := a.(type) {
	case *array.String:
		return c.Value(i)
	case *array.LargeString:
		return c.Value(i)
	case *array.StringView:
		return c.Value(i)
	}
	panic(fmt.Sprintf("features: column of type %s is not a string", a.DataType()))
}

func isTrue(a arrow.Array, i int) bool { return num(a, i) == 1 }

func intOf(a arrow.Array, i int) int {
	v := num(a, i)
	if math.IsNaN(v) {
		return 0
	}
	return int(v)
}

// screenInput is one feature column the rule screen reads, and how its
// value at a row fills the screen's household. The column names are
// checked against the catalog when a batch is screened (and by
// TestScreenInputsInCatalog), so they cannot drift from the SQL.
type screenInput struct {
	col string
	set func(h *rules.Household, a arrow.Array, i int, t rules.Thresholds)
}

// screenInputs lists every column the screen reads, once each.
func screenInputs() []screenInput {
	return []screenInput{
		{"region_code", func(h *rules.Household, a arrow.Array, i int, _ rules.Thresholds) { h.RegionCode = str(a, i) }},
		{"household_size", func(h *rules.Household, a arrow.Array, i int, _ rules.Thresholds) { h.HouseholdSize = intOf(a, i) }},
		{"escaped_household", func(h *rules.Household, a arrow.Array, i int, _ rules.Thresholds) { h.Escaped = isTrue(a, i) }},
		// low income: dibao, tekun or a monitoring object
		{"monitored_at_as_of", func(h *rules.Household, a arrow.Array, i int, _ rules.Thresholds) {
			h.Monitored = isTrue(a, i)
			h.LowIncome = h.LowIncome || h.Monitored
		}},
		{"assist_dibao", func(h *rules.Household, a arrow.Array, i int, _ rules.Thresholds) {
			h.LowIncome = h.LowIncome || isTrue(a, i)
		}},
		{"assist_tekun", func(h *rules.Household, a arrow.Array, i int, _ rules.Thresholds) {
			h.LowIncome = h.LowIncome || isTrue(a, i)
		}},
		{"net_income_12m", func(h *rules.Household, a arrow.Array, i int, _ rules.Thresholds) { h.NetIncome12 = num(a, i) }},
		{"net_income_pc_12m", func(h *rules.Household, a arrow.Array, i int, _ rules.Thresholds) { h.NetIncomePC12 = num(a, i) }},
		{"income_change_ratio", func(h *rules.Household, a arrow.Array, i int, _ rules.Thresholds) { h.IncomeChangeRatio = num(a, i) }},
		{"oop_medical_12m", func(h *rules.Household, a arrow.Array, i int, _ rules.Thresholds) { h.OOPMedical12 = num(a, i) }},
		{"edu_fees_net_12m", func(h *rules.Household, a arrow.Array, i int, _ rules.Thresholds) { h.EduFeesNet12 = num(a, i) }},
		{"edu_noncompulsory_net_12m", func(h *rules.Household, a arrow.Array, i int, _ rules.Thresholds) { h.EduNoncompNet12 = num(a, i) }},
		{"job_loss", func(h *rules.Household, a arrow.Array, i int, _ rules.Thresholds) { h.JobLoss = isTrue(a, i) }},
		{"months_since_job_loss", func(h *rules.Household, a arrow.Array, i int, _ rules.Thresholds) { h.MonthsSinceJobLoss = intOf(a, i) }},
		{"unemployment_new", func(h *rules.Household, a arrow.Array, i int, _ rules.Thresholds) { h.UnemploymentNew = intOf(a, i) }},
		{"earner_deaths_12m", func(h *rules.Household, a arrow.Array, i int, _ rules.Thresholds) { h.EarnerDeaths12 = intOf(a, i) }},
		{"working_age_lost_capacity", func(h *rules.Household, a arrow.Array, i int, _ rules.Thresholds) { h.WorkingAgeLost = intOf(a, i) }},
		{"no_labor", func(h *rules.Household, a arrow.Array, i int, _ rules.Thresholds) { h.NoLabor = isTrue(a, i) }},
		{"disaster_sev12_12m", func(h *rules.Household, a arrow.Array, i int, _ rules.Thresholds) { h.DisasterSevere12 += intOf(a, i) }},
		// sev12 counts severity 1-2 events only; a looser setting adds 3-4.
		{"disaster_sev34_12m", func(h *rules.Household, a arrow.Array, i int, t rules.Thresholds) {
			if t.DisasterMaxSeverity >= 3 {
				h.DisasterSevere12 += intOf(a, i)
			}
		}},
		{"disaster_loss_12m", func(h *rules.Household, a arrow.Array, i int, _ rules.Thresholds) { h.DisasterLoss12 = num(a, i) }},
		// unknown is not unsafe
		{"housing_safe", func(h *rules.Household, a arrow.Array, i int, _ rules.Thresholds) { h.HousingUnsafe = num(a, i) == 0 }},
		{"water_safe", func(h *rules.Household, a arrow.Array, i int, _ rules.Thresholds) { h.WaterUnsafe = num(a, i) == 0 }},
	}
}

// ruleBuilders hold the rule columns of one batch while it is screened.
type ruleBuilders struct {
	line, ruralV                   *array.Float64Builder
	lineEntry, lineFb, ruralEntry  *array.StringBuilder
	ruralFb, names, types, primary *array.StringBuilder
	facts, factsEn                 *array.StringBuilder
	flags                          []*array.BooleanBuilder
}

func newRuleBuilders(nRules int) *ruleBuilders {
	mem := memory.DefaultAllocator
	s := func() *array.StringBuilder { return array.NewStringBuilder(mem) }
	b := &ruleBuilders{line: array.NewFloat64Builder(mem), ruralV: array.NewFloat64Builder(mem),
		lineEntry: s(), lineFb: s(), ruralEntry: s(), ruralFb: s(), names: s(), types: s(), primary: s(), facts: s(), factsEn: s()}
	for range nRules {
		b.flags = append(b.flags, array.NewBooleanBuilder(mem))
	}
	return b
}

func (b *ruleBuilders) add(r rules.Result) {
	b.line.Append(r.Line.Value)
	b.lineEntry.Append(r.Line.Key())
	b.lineFb.Append(r.Line.Fallback)
	b.ruralV.Append(r.Rural.Value)
	b.ruralEntry.Append(r.Rural.Key())
	b.ruralFb.Append(r.Rural.Fallback)
	for j, t := range r.Tripped {
		b.flags[j].Append(t)
	}
	b.names.Append(strings.Join(r.Names, ";"))
	b.types.Append(strings.Join(r.RiskTypes, ";"))
	b.primary.Append(r.Primary)
	b.facts.Append(strings.Join(r.Facts, "；"))
	b.factsEn.Append(strings.Join(r.FactsEn, "; "))
}

// arrays returns the rule columns in catalog order (ruleColumns) and
// releases the builders.
func (b *ruleBuilders) arrays() []arrow.Array {
	builders := []array.Builder{b.line, b.lineEntry, b.lineFb, b.ruralV, b.ruralEntry, b.ruralFb}
	for _, f := range b.flags {
		builders = append(builders, f)
	}
	builders = append(builders, b.names, b.types, b.primary, b.facts, b.factsEn)
	out := make([]arrow.Array, len(builders))
	for i, bl := range builders {
		out[i] = bl.NewArray()
		bl.Release()
	}
	return out
}

// screenBatch screens the households of rec (feature columns already
// rounded) and returns rec with the rule columns appended.
func screenBatch(rec arrow.RecordBatch, outSchema *arrow.Schema, asOf time.Time, pol *rules.Policy) (arrow.RecordBatch, error) {
	b := batchCols{rec: rec, idx: map[string]int{}}
	for i, f := range rec.Schema().Fields() {
		b.idx[f.Name] = i
	}
	inputs := screenInputs()
	cols := make([]arrow.Array, len(inputs))
	for k, in := range inputs {
		a, err := b.col(in.col)
		if err != nil {
			return nil, fmt.Errorf("rule screen: %w", err)
		}
		cols[k] = a
	}
	ids, err := b.col("household_id")
	if err != nil {
		return nil, fmt.Errorf("rule screen: %w", err)
	}
	rs := rules.Rules()
	out := newRuleBuilders(len(rs))
	n := int(rec.NumRows())
	for i := 0; i < n; i++ {
		var h rules.Household
		for k, in := range inputs {
			in.set(&h, cols[k], i, pol.Thresholds)
		}
		r, err := pol.ScreenWith(rs, h, asOf)
		if err != nil {
			for _, a := range out.arrays() {
				a.Release()
			}
			return nil, fmt.Errorf("rule screen of household %s: %w", str(ids, i), err)
		}
		out.add(r)
	}
	all := make([]arrow.Array, 0, outSchema.NumFields())
	for i := 0; i < int(rec.NumCols()); i++ {
		c := rec.Column(i)
		c.Retain()
		all = append(all, c)
	}
	all = append(all, out.arrays()...)
	res := array.NewRecordBatch(outSchema, all, int64(n))
	for _, c := range all {
		c.Release()
	}
	return res, nil
}
