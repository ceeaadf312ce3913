package features

import (
	"math"
	"reflect"
	"strings"
	"unicode"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// SnakeCase is the column name of an Assessment field: HouseholdID ->
// household_id, IncomePC6m -> income_pc6m, IncomePCNoAssist12m ->
// income_pc_no_assist12m.
func SnakeCase(s string) string {
	r := []rune(s)
	var b strings.Builder
	for i, c := range r {
		if unicode.IsUpper(c) && i > 0 {
			prevLower := unicode.IsLower(r[i-1]) || unicode.IsDigit(r[i-1])
			nextLower := i+1 < len(r) && unicode.IsLower(r[i+1])
			if prevLower || (unicode.IsUpper(r[i-1]) && nextLower) {
				b.WriteByte('_')
			}
		}
		b.WriteRune(unicode.ToLower(c))
	}
	return b.String()
}

// AssessmentsTable is the table of elimination.parquet / .csv: one row per
// assessment, one column per scalar field of Assessment named in
// SnakeCase (floats NaN as null, MonthsSinceIdentified -1 as null), then
// `unmet` (';'-separated), then for each condition, in order, `met_<name>`
// (bool) and `fact_<name>` (zh). whatif.ReadAssessments reads it back.
// Every assessment must have the same conditions (AssessElimination's).
func AssessmentsTable(as []Assessment) arrow.Table {
	mem := memory.DefaultAllocator
	typ := reflect.TypeOf(Assessment{})
	var fields []arrow.Field
	var builders []array.Builder
	var idx []int
	for k := 0; k < typ.NumField(); k++ {
		f := typ.Field(k)
		var dt arrow.DataType
		switch f.Type.Kind() {
		case reflect.String:
			dt = arrow.BinaryTypes.String
		case reflect.Int:
			dt = arrow.PrimitiveTypes.Int32
		case reflect.Float64:
			dt = arrow.PrimitiveTypes.Float64
		case reflect.Bool:
			dt = arrow.FixedWidthTypes.Boolean
		default:
			continue
		}
		fields = append(fields, arrow.Field{Name: SnakeCase(f.Name), Type: dt, Nullable: true})
		builders = append(builders, array.NewBuilder(mem, dt))
		idx = append(idx, k)
	}
	unmet := array.NewStringBuilder(mem)
	fields = append(fields, arrow.Field{Name: "unmet", Type: arrow.BinaryTypes.String, Nullable: true})
	var condNames []string
	if len(as) > 0 {
		for _, c := range as[0].Conditions {
			condNames = append(condNames, c.Name)
		}
	}
	met := make([]*array.BooleanBuilder, len(condNames))
	facts := make([]*array.StringBuilder, len(condNames))
	for i, n := range condNames {
		met[i], facts[i] = array.NewBooleanBuilder(mem), array.NewStringBuilder(mem)
		fields = append(fields, arrow.Field{Name: "met_" + n, Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
			arrow.Field{Name: "fact_" + n, Type: arrow.BinaryTypes.String, Nullable: true})
	}
	for _, a := range as {
		v := reflect.ValueOf(a)
		for j, k := range idx {
			f := v.Field(k)
			switch b := builders[j].(type) {
			case *array.StringBuilder:
				b.Append(f.String())
			case *array.Int32Builder:
				if typ.Field(k).Name == "MonthsSinceIdentified" && f.Int() < 0 {
					b.AppendNull()
				} else {
					b.Append(int32(f.Int()))
				}
			case *array.Float64Builder:
				if math.IsNaN(f.Float()) {
					b.AppendNull()
				} else {
					b.Append(f.Float())
				}
			case *array.BooleanBuilder:
				b.Append(f.Bool())
			}
		}
		unmet.Append(strings.Join(a.Unmet, ";"))
		for i, n := range condNames {
			found := false
			for _, c := range a.Conditions {
				if c.Name == n {
					met[i].Append(c.Met)
					facts[i].Append(c.Fact)
					found = true
					break
				}
			}
			if !found {
				met[i].AppendNull()
				facts[i].AppendNull()
			}
		}
	}
	all := append(builders, unmet)
	for i := range condNames {
		all = append(all, met[i], facts[i])
	}
	cols := make([]arrow.Array, len(all))
	for i, b := range all {
		cols[i] = b.NewArray()
		b.Release()
	}
	rec := array.NewRecordBatch(arrow.NewSchema(fields, nil), cols, int64(len(as)))
	for _, c := range cols {
		c.Release()
	}
	defer rec.Release()
	return array.NewTableFromRecords(rec.Schema(), []arrow.RecordBatch{rec})
}
