package features

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/povrisk/povrisk/features/rules"
)

//go:embed sql/*.sql
var sqlFS embed.FS

// families lists the feature families in execution and output order; a
// family's SQL may read the f_<family> tables of the families before it.
var families = []string{
	"demographics", "status", "income", "medical", "employment",
	"labour", "schooling", "disasters", "assets", "assistance",
}

// Column describes one output column of the feature table.
type Column struct {
	Name    string
	Meaning string
	Unit    string
	Family  string   // the SQL family, "key" or "rules"
	Type    string   // DuckDB type: VARCHAR, DATE, INTEGER, DOUBLE, BOOLEAN
	Sources []string // warehouse tables the column is computed from
	Model   bool     // a numeric input of the model (info columns are evidence or labels)
	// Health marks a column derived from a health condition (disease
	// registers): a model may read it, but explanations and office outputs
	// must not print it (POLICY.md, Privacy). Header flag "+health".
	Health bool
	// required lists the sources without which the column is NULL (sources
	// written "?table" in the header are read when present but not required).
	required []string
}

// keyColumns open every feature table.
var keyColumns = []Column{
	{Name: "household_id", Meaning: "household number", Unit: "id", Family: "key", Type: "VARCHAR", Sources: []string{"households"}},
	{Name: "region_code", Meaning: "12-digit village code", Unit: "code", Family: "key", Type: "VARCHAR", Sources: []string{"households"}},
	{Name: "as_of", Meaning: "the as-of date D: only data dated on or before D is used", Unit: "date", Family: "key", Type: "DATE"},
}

// ruleColumns closes every feature table (filled in Go by package rules).
func ruleColumns() []Column {
	cols := []Column{
		{Name: "policy_line", Meaning: "monitoring line applied (yuan per person per year) for the province and the as-of year", Unit: "yuan/person/year", Type: "DOUBLE"},
		{Name: "policy_line_entry", Meaning: "policy entry of the line, province/year", Unit: "entry", Type: "VARCHAR"},
		{Name: "policy_line_fallback", Meaning: "fallback taken for the line: '' exact, earlier_year, national, national_earlier_year", Unit: "code", Type: "VARCHAR"},
		{Name: "policy_rural_income", Meaning: "previous-year rural per-capita disposable income applied", Unit: "yuan/person/year", Type: "DOUBLE"},
		{Name: "policy_rural_income_entry", Meaning: "policy entry of the rural income, province/year", Unit: "entry", Type: "VARCHAR"},
		{Name: "policy_rural_income_fallback", Meaning: "fallback taken for the rural income", Unit: "code", Type: "VARCHAR"},
	}
	for _, r := range rules.Rules {
		cols = append(cols, Column{Name: "rule_" + r.Name, Meaning: "rule tripped: " + r.Meaning, Unit: "flag", Type: "BOOLEAN"})
	}
	cols = append(cols,
		Column{Name: "rules_tripped", Meaning: "names of the rules tripped, ';'-separated", Unit: "names", Type: "VARCHAR"},
		Column{Name: "rule_risk_types", Meaning: "official risk type codes of the rules tripped, ';'-separated", Unit: "codes", Type: "VARCHAR"},
		Column{Name: "rule_facts", Meaning: "facts of the rules tripped, with figures, in Chinese, '；'-separated", Unit: "text", Type: "VARCHAR"},
		Column{Name: "rule_facts_en", Meaning: "the same facts in English, '; '-separated", Unit: "text", Type: "VARCHAR"},
	)
	for i := range cols {
		cols[i].Family = "rules"
		cols[i].Sources = []string{"households"}
	}
	return cols
}

// familySQL returns the SQL text of a family or step file.
func familySQL(name string) string {
	b, err := sqlFS.ReadFile("sql/" + name + ".sql")
	if err != nil {
		panic("features: missing embedded sql/" + name + ".sql")
	}
	return string(b)
}

// parseHeader reads the "-- column: name | type | unit | use | sources | meaning"
// lines of a family's SQL header: use is model or info, optionally followed
// by +health; a source written ?table is read when present but not required.
func parseHeader(family, text string) ([]Column, error) {
	var cols []Column
	for n, line := range strings.Split(text, "\n") {
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), "-- column:")
		if !ok {
			continue
		}
		f := strings.Split(rest, "|")
		if len(f) != 6 {
			return nil, fmt.Errorf("sql/%s.sql line %d: want 6 '|'-separated fields, got %d", family, n+1, len(f))
		}
		for i := range f {
			f[i] = strings.TrimSpace(f[i])
		}
		c := Column{Name: f[0], Type: f[1], Unit: f[2], Family: family, Meaning: f[5]}
		use, flag, _ := strings.Cut(f[3], "+")
		switch use {
		case "model":
			c.Model = true
		case "info":
		default:
			return nil, fmt.Errorf("sql/%s.sql line %d: field 4 is %q, want model or info", family, n+1, f[3])
		}
		switch flag {
		case "health":
			c.Health = true
		case "":
		default:
			return nil, fmt.Errorf("sql/%s.sql line %d: flag %q unknown (want +health)", family, n+1, flag)
		}
		switch c.Type {
		case "VARCHAR", "DATE", "INTEGER", "DOUBLE", "BOOLEAN":
		default:
			return nil, fmt.Errorf("sql/%s.sql line %d: type %q not supported", family, n+1, c.Type)
		}
		if c.Model && (c.Type == "VARCHAR" || c.Type == "DATE") {
			return nil, fmt.Errorf("sql/%s.sql line %d: model column %s must be numeric or boolean", family, n+1, c.Name)
		}
		for _, s := range strings.Fields(f[4]) {
			opt := strings.HasPrefix(s, "?")
			s = strings.TrimPrefix(s, "?")
			c.Sources = append(c.Sources, s)
			if !opt {
				c.required = append(c.required, s)
			}
		}
		cols = append(cols, c)
	}
	if len(cols) == 0 {
		return nil, fmt.Errorf("sql/%s.sql: no column lines in the header", family)
	}
	return cols, nil
}

// featureColumns is the catalog without the key and rule columns.
func featureColumns() []Column {
	var out []Column
	for _, fam := range families {
		cols, err := parseHeader(fam, familySQL(fam))
		if err != nil {
			panic("features: " + err.Error())
		}
		out = append(out, cols...)
	}
	return out
}

// Catalog lists every output column of the feature table, in output order:
// household_id, region_code, as_of, the features family by family, then the
// rule columns.
func Catalog() []Column {
	out := append([]Column(nil), keyColumns...)
	out = append(out, featureColumns()...)
	return append(out, ruleColumns()...)
}

// ModelColumns lists the numeric columns a model reads, in catalog order.
func ModelColumns() []string {
	var out []string
	for _, c := range Catalog() {
		if c.Model {
			out = append(out, c.Name)
		}
	}
	return out
}

// CatalogHash is the hex SHA-256 of the catalog: every column's name, type
// and model flag, the SQL text of every file and the rule names. A model
// trained on one catalog is refused by a different one.
func CatalogHash() string {
	h := sha256.New()
	for _, c := range Catalog() {
		fmt.Fprintf(h, "%s\t%s\t%v\t%v\n", c.Name, c.Type, c.Model, c.Health)
	}
	for _, f := range append([]string{"params", "base"}, families...) {
		fmt.Fprintf(h, "== %s\n%s\n", f, familySQL(f))
	}
	return hex.EncodeToString(h.Sum(nil))
}
