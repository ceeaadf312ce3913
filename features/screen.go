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

// appendRules screens every household of recs and returns the table of recs
// with the rule columns appended.
func appendRules(ctx context.Context, schema *arrow.Schema, recs []arrow.RecordBatch, asOf time.Time, pol *rules.Policy) (arrow.Table, error) {
	rc := ruleColumns()
	fields := append([]arrow.Field(nil), schema.Fields()...)
	for _, c := range rc {
		fields = append(fields, arrow.Field{Name: c.Name, Type: arrowType(c.Type), Nullable: true})
	}
	outSchema := arrow.NewSchema(fields, nil)
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
				out[i], errs[i] = screenBatch(recs[i], outSchema, asOf, pol)
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

func (b batchCols) col(name string) arrow.Array {
	i, ok := b.idx[name]
	if !ok {
		panic("features: no column " + name)
	}
	return b.rec.Column(i)
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

func screenBatch(rec arrow.RecordBatch, outSchema *arrow.Schema, asOf time.Time, pol *rules.Policy) (arrow.RecordBatch, error) {
	b := batchCols{rec: rec, idx: map[string]int{}}
	for i, f := range rec.Schema().Fields() {
		b.idx[f.Name] = i
	}
	var (
		region   = b.col("region_code")
		size     = b.col("household_size")
		escaped  = b.col("escaped_household")
		monitor  = b.col("monitored_at_as_of")
		dibao    = b.col("assist_dibao")
		tekun    = b.col("assist_tekun")
		net12    = b.col("net_income_12m")
		pc12     = b.col("net_income_pc_12m")
		change   = b.col("income_change_ratio")
		oop12    = b.col("oop_medical_12m")
		eduAll   = b.col("edu_fees_net_12m")
		eduNC    = b.col("edu_noncompulsory_net_12m")
		jobLoss  = b.col("job_loss")
		jobSince = b.col("months_since_job_loss")
		unNew    = b.col("unemployment_new")
		deaths   = b.col("earner_deaths_12m")
		lostCap  = b.col("working_age_lost_capacity")
		noLabor  = b.col("no_labor")
		sev12    = b.col("disaster_sev12_12m")
		sev34    = b.col("disaster_sev34_12m")
		loss12   = b.col("disaster_loss_12m")
		housing  = b.col("housing_safe")
		water    = b.col("water_safe")
	)
	mem := memory.DefaultAllocator
	lineB := array.NewFloat64Builder(mem)
	lineEntry := array.NewStringBuilder(mem)
	lineFb := array.NewStringBuilder(mem)
	ruralB := array.NewFloat64Builder(mem)
	ruralEntry := array.NewStringBuilder(mem)
	ruralFb := array.NewStringBuilder(mem)
	flags := make([]*array.BooleanBuilder, len(rules.Rules))
	for i := range flags {
		flags[i] = array.NewBooleanBuilder(mem)
	}
	names := array.NewStringBuilder(mem)
	types := array.NewStringBuilder(mem)
	facts := array.NewStringBuilder(mem)
	factsEn := array.NewStringBuilder(mem)
	n := int(rec.NumRows())
	for i := 0; i < n; i++ {
		severe := intOf(sev12, i)
		if pol.Thresholds.DisasterMaxSeverity >= 3 {
			// sev12 counts severity 1-2 events only; a looser setting adds 3-4.
			severe += intOf(sev34, i)
		}
		h := rules.Household{
			RegionCode:         str(region, i),
			Escaped:            isTrue(escaped, i),
			Monitored:          isTrue(monitor, i),
			LowIncome:          isTrue(dibao, i) || isTrue(tekun, i) || isTrue(monitor, i),
			HouseholdSize:      intOf(size, i),
			NetIncome12:        num(net12, i),
			NetIncomePC12:      num(pc12, i),
			IncomeChangeRatio:  num(change, i),
			OOPMedical12:       num(oop12, i),
			EduFeesNet12:       num(eduAll, i),
			EduNoncompNet12:    num(eduNC, i),
			JobLoss:            isTrue(jobLoss, i),
			MonthsSinceJobLoss: intOf(jobSince, i),
			UnemploymentNew:    intOf(unNew, i),
			EarnerDeaths12:     intOf(deaths, i),
			WorkingAgeLost:     intOf(lostCap, i),
			NoLabor:            isTrue(noLabor, i),
			DisasterSevere12:   severe,
			DisasterLoss12:     num(loss12, i),
			HousingUnsafe:      num(housing, i) == 0,
			WaterUnsafe:        num(water, i) == 0,
		}
		r, err := pol.Screen(h, asOf)
		if err != nil {
			return nil, fmt.Errorf("rule screen of household %s: %w", str(b.col("household_id"), i), err)
		}
		lineB.Append(r.Line.Value)
		lineEntry.Append(r.Line.Key())
		lineFb.Append(r.Line.Fallback)
		ruralB.Append(r.Rural.Value)
		ruralEntry.Append(r.Rural.Key())
		ruralFb.Append(r.Rural.Fallback)
		for j, t := range r.Tripped {
			flags[j].Append(t)
		}
		names.Append(strings.Join(r.Names, ";"))
		types.Append(strings.Join(r.RiskTypes, ";"))
		facts.Append(strings.Join(r.Facts, "；"))
		factsEn.Append(strings.Join(r.FactsEn, "; "))
	}
	cols := make([]arrow.Array, 0, outSchema.NumFields())
	for i := 0; i < int(rec.NumCols()); i++ {
		c := rec.Column(i)
		c.Retain()
		cols = append(cols, c)
	}
	builders := []array.Builder{lineB, lineEntry, lineFb, ruralB, ruralEntry, ruralFb}
	for _, f := range flags {
		builders = append(builders, f)
	}
	builders = append(builders, names, types, facts, factsEn)
	for _, bl := range builders {
		cols = append(cols, bl.NewArray())
		bl.Release()
	}
	out := array.NewRecordBatch(outSchema, cols, int64(n))
	for _, c := range cols {
		c.Release()
	}
	return out, nil
}
