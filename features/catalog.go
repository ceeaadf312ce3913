package features

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/povrisk/povrisk/features/rules"
)

//go:embed sql/*.sql
var sqlFS embed.FS

// families lists the feature families in execution and output order; a
// family's SQL may read the f_<family> tables of the families before it.
var families = []string{
	"demographics", "status", "income", "medical", "employment",
	"labour", "schooling", "disasters", "assets", "assistance", "shocks",
}

// Text is one wording in Chinese and in English.
type Text struct{ Zh, En string }

// Column describes one output column of the feature table: everything the
// engine knows of it, read from the header of its SQL file (or, for the key
// and rule columns, declared in this package). Nothing outside the catalog
// holds a feature's label, reason, risk type or profile.
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
	// must not print it (POLICY.md, Privacy), so it carries no reason.
	// Header flag "+health".
	Health bool

	// Label is the column's short name for people (tables, "no record").
	Label Text
	// RiskType is the official risk type (rules.RiskTypeCodes) that a high
	// value of a model feature points to.
	RiskType string
	// Reason is the template of the reason written for a model feature:
	// "%s" takes the value formatted in the feature's unit (ReasonFormat);
	// for a flag it is the wording when the flag is 1. Empty for Health.
	Reason Text
	// ReasonNot is a flag's wording when it is 0.
	ReasonNot Text
	// ReasonZero, when set, replaces Reason for a value that rounds to 0
	// (a "months since" feature: it happened this month).
	ReasonZero Text
	// Profile names the k-means risk profile that this feature can lead
	// (ProfileName); "" when it names none.
	Profile string
	// Digits is the number of decimals a DOUBLE feature keeps: values are
	// rounded once, when the features are computed, so that training and
	// scoring read the same numbers. The rule follows the unit: money
	// (units yuan...) to 2 decimals (the fen), ratios and shares to 6; -1
	// for the other types and for the key and rule columns (not rounded).
	Digits int

	// required lists the sources without which the column is NULL (sources
	// written "?table" in the header are read when present but not required).
	required []string
}

// Format is how a reason writes a feature's value.
type Format int

// The formats of ReasonFormat.
const (
	FormatCount Format = iota // a whole number: "3"
	FormatYuan                // money: "1.2万元" / "12,345 yuan"
	FormatRatio               // a multiple with one decimal: "4.2"
	FormatShare               // a percentage: "35%"
	FormatFlag                // no figure: Reason when 1, ReasonNot when 0
)

// ReasonFormat is the way the column's value is written in its reason,
// decided by its type and unit.
func (c Column) ReasonFormat() Format {
	switch {
	case c.Type == "BOOLEAN":
		return FormatFlag
	case strings.HasPrefix(c.Unit, "yuan"):
		return FormatYuan
	case c.Unit == "ratio":
		return FormatRatio
	case c.Unit == "share":
		return FormatShare
	}
	return FormatCount
}

// keyColumns open every feature table.
func keyColumns() []Column {
	return []Column{
		{Name: "household_id", Meaning: "household number", Unit: "id", Family: "key", Type: "VARCHAR", Sources: []string{"households"}, Label: Text{"户编号", "household"}, Digits: -1},
		{Name: "region_code", Meaning: "12-digit village code", Unit: "code", Family: "key", Type: "VARCHAR", Sources: []string{"households"}, Label: Text{"区划代码", "region code"}, Digits: -1},
		{Name: "as_of", Meaning: "the as-of date D: only data dated on or before D is used", Unit: "date", Family: "key", Type: "DATE", Label: Text{"截至日期", "as of"}, Digits: -1},
	}
}

// ruleColumns closes every feature table (filled in Go by package rules).
func ruleColumns() []Column {
	cols := []Column{
		{Name: "policy_line", Meaning: "monitoring line applied (yuan per person per year) for the province and the as-of year", Unit: "yuan/person/year", Type: "DOUBLE", Label: Text{"监测线", "monitoring line"}},
		{Name: "policy_line_entry", Meaning: "policy entry of the line, province/year", Unit: "entry", Type: "VARCHAR", Label: Text{"监测线条目", "line entry"}},
		{Name: "policy_line_fallback", Meaning: "fallback taken for the line: '' exact, earlier_year, national, national_earlier_year", Unit: "code", Type: "VARCHAR", Label: Text{"监测线替代方式", "line fallback"}},
		{Name: "policy_rural_income", Meaning: "previous-year rural per-capita disposable income applied", Unit: "yuan/person/year", Type: "DOUBLE", Label: Text{"农村居民人均可支配收入", "rural income"}},
		{Name: "policy_rural_income_entry", Meaning: "policy entry of the rural income, province/year", Unit: "entry", Type: "VARCHAR", Label: Text{"农村收入条目", "rural income entry"}},
		{Name: "policy_rural_income_fallback", Meaning: "fallback taken for the rural income", Unit: "code", Type: "VARCHAR", Label: Text{"农村收入替代方式", "rural income fallback"}},
	}
	for _, r := range rules.Rules() {
		cols = append(cols, Column{Name: "rule_" + r.Name, Meaning: "rule tripped: " + r.Meaning, Unit: "flag", Type: "BOOLEAN",
			Label: Text{"规则：" + r.Name, "rule " + r.Name}, RiskType: r.RiskType})
	}
	cols = append(cols,
		Column{Name: "rules_tripped", Meaning: "names of the rules tripped, ';'-separated", Unit: "names", Type: "VARCHAR", Label: Text{"触发规则", "rules tripped"}},
		Column{Name: "rule_risk_types", Meaning: "official risk type codes of the rules tripped, ';'-separated, an income rule's 'other' attributed to its cause (rules.AttributedRiskTypes)", Unit: "codes", Type: "VARCHAR", Label: Text{"规则风险类型", "rule risk types"}},
		Column{Name: "rule_primary_risk_type", Meaning: "primary risk type of the rules tripped, an income shortfall attributed to its cause (rules.PrimaryRiskType); '' when none tripped", Unit: "code", Type: "VARCHAR", Label: Text{"主要风险类型（规则）", "primary risk type (rules)"}},
		Column{Name: "rule_facts", Meaning: "facts of the rules tripped, with figures, in Chinese, '；'-separated", Unit: "text", Type: "VARCHAR", Label: Text{"规则事实", "rule facts (zh)"}},
		Column{Name: "rule_facts_en", Meaning: "the same facts in English, '; '-separated", Unit: "text", Type: "VARCHAR", Label: Text{"规则事实（英文）", "rule facts"}},
	)
	for i := range cols {
		cols[i].Family = "rules"
		cols[i].Sources = []string{"households"}
		cols[i].Digits = -1
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

// The header of a family's SQL file names its columns, one line each:
//
//	-- column: name | type | unit | use | sources | meaning
//
// use is model or info, optionally followed by +health; a source written
// ?table is read when present but not required. Lines indented under a
// column line carry the rest of its metadata, "zh | en" where two
// languages are given:
//
//	--   label: 近12个月自付医疗费 | out-of-pocket medical, 12 months
//	--   risk: illness
//	--   reason: 近12个月自付医疗费%s | out-of-pocket medical spending %s in 12 months
//	--   reason_not: 未享受低保 | no dibao          (flags: the wording when 0)
//	--   reason_zero: 本月受灾 | hit by a disaster this month
//	--   profile: medical_burden
//
// Every column needs a label; a model column also a risk type and, unless
// it is health data, a reason (checkColumn).
const (
	columnPrefix = "-- column:"
	metaPrefix   = "--   "
)

// parseHeader reads the column lines of a family's SQL header and the
// metadata lines under them.
func parseHeader(family, text string) ([]Column, error) {
	var cols []Column
	for n, line := range strings.Split(text, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), columnPrefix); ok {
			c, err := parseColumnLine(family, rest)
			if err != nil {
				return nil, fmt.Errorf("sql/%s.sql line %d: %w", family, n+1, err)
			}
			cols = append(cols, c)
			continue
		}
		key, val, ok := metaLine(line)
		if !ok {
			continue
		}
		if len(cols) == 0 {
			return nil, fmt.Errorf("sql/%s.sql line %d: %s before any column line", family, n+1, key)
		}
		if err := setMeta(&cols[len(cols)-1], key, val); err != nil {
			return nil, fmt.Errorf("sql/%s.sql line %d: %w", family, n+1, err)
		}
	}
	if len(cols) == 0 {
		return nil, fmt.Errorf("sql/%s.sql: no column lines in the header", family)
	}
	for _, c := range cols {
		if err := checkColumn(c); err != nil {
			return nil, fmt.Errorf("sql/%s.sql: column %s: %w", family, c.Name, err)
		}
	}
	return cols, nil
}

// parseColumnLine reads "name | type | unit | use | sources | meaning".
func parseColumnLine(family, rest string) (Column, error) {
	f := strings.Split(rest, "|")
	if len(f) != 6 {
		return Column{}, fmt.Errorf("want 6 '|'-separated fields, got %d", len(f))
	}
	for i := range f {
		f[i] = strings.TrimSpace(f[i])
	}
	c := Column{Name: f[0], Type: f[1], Unit: f[2], Family: family, Meaning: f[5], Digits: -1}
	use, flag, _ := strings.Cut(f[3], "+")
	switch use {
	case "model":
		c.Model = true
	case "info":
	default:
		return Column{}, fmt.Errorf("field 4 is %q, want model or info", f[3])
	}
	switch flag {
	case "health":
		c.Health = true
	case "":
	default:
		return Column{}, fmt.Errorf("flag %q unknown (want +health)", flag)
	}
	switch c.Type {
	case "VARCHAR", "DATE", "INTEGER", "BOOLEAN":
	case "DOUBLE":
		d, err := digitsOf(c.Unit)
		if err != nil {
			return Column{}, fmt.Errorf("column %s: %w", c.Name, err)
		}
		c.Digits = d
	default:
		return Column{}, fmt.Errorf("type %q not supported", c.Type)
	}
	if c.Model && (c.Type == "VARCHAR" || c.Type == "DATE") {
		return Column{}, fmt.Errorf("model column %s must be numeric or boolean", c.Name)
	}
	for _, s := range strings.Fields(f[4]) {
		opt := strings.HasPrefix(s, "?")
		s = strings.TrimPrefix(s, "?")
		c.Sources = append(c.Sources, s)
		if !opt {
			c.required = append(c.required, s)
		}
	}
	return c, nil
}

// digitsOf is the rounding rule of a DOUBLE feature (Column.Digits).
func digitsOf(unit string) (int, error) {
	switch {
	case strings.HasPrefix(unit, "yuan"):
		return 2, nil
	case unit == "ratio", unit == "share":
		return 6, nil
	}
	return 0, fmt.Errorf("no rounding rule for a DOUBLE of unit %q (want yuan..., ratio or share)", unit)
}

// setMeta stores one metadata line of a column.
func setMeta(c *Column, key, val string) error {
	two := func(dst *Text) error {
		zh, en, ok := strings.Cut(val, "|")
		zh, en = strings.TrimSpace(zh), strings.TrimSpace(en)
		if !ok || zh == "" || en == "" || strings.Contains(en, "|") {
			return fmt.Errorf("%s of %s: want \"zh | en\", got %q", key, c.Name, val)
		}
		if *dst != (Text{}) {
			return fmt.Errorf("%s of %s given twice", key, c.Name)
		}
		*dst = Text{zh, en}
		return nil
	}
	one := func(dst *string) error {
		if val == "" || strings.ContainsAny(val, " |") {
			return fmt.Errorf("%s of %s: want one code, got %q", key, c.Name, val)
		}
		if *dst != "" {
			return fmt.Errorf("%s of %s given twice", key, c.Name)
		}
		*dst = val
		return nil
	}
	switch key {
	case "label":
		return two(&c.Label)
	case "reason":
		return two(&c.Reason)
	case "reason_not":
		return two(&c.ReasonNot)
	case "reason_zero":
		return two(&c.ReasonZero)
	case "risk":
		return one(&c.RiskType)
	case "profile":
		return one(&c.Profile)
	}
	return fmt.Errorf("unknown metadata %q of %s (want label, risk, reason, reason_not, reason_zero or profile)", key, c.Name)
}

// checkColumn checks that a feature column carries the metadata its use
// needs: every column a label; a model column an official risk type and a
// reason with one %s (flags: the wordings for 1 and 0), unless it is health
// data, which never gives a reason; a profile only when one is named.
func checkColumn(c Column) error {
	if c.Label.Zh == "" {
		return errors.New("no label")
	}
	if c.RiskType != "" && rules.RiskTypeZh(c.RiskType) == "" {
		return fmt.Errorf("risk type %q is not an official one", c.RiskType)
	}
	if c.Profile != "" {
		if _, ok := ProfileName(c.Profile); !ok {
			return fmt.Errorf("profile %q is not in the profile table (profiles.go)", c.Profile)
		}
	}
	if !c.Model {
		if c.RiskType != "" || c.Reason != (Text{}) || c.Profile != "" {
			return errors.New("an info column carries no risk type, reason or profile")
		}
		return nil
	}
	if c.RiskType == "" {
		return errors.New("a model column needs a risk type")
	}
	if c.Health {
		if c.Reason != (Text{}) || c.ReasonNot != (Text{}) || c.ReasonZero != (Text{}) {
			return errors.New("health data is never a reason: remove its reason lines")
		}
		return nil
	}
	if c.Reason == (Text{}) {
		return errors.New("a model column needs a reason")
	}
	flag := c.ReasonFormat() == FormatFlag
	for _, s := range []string{c.Reason.Zh, c.Reason.En} {
		if n := strings.Count(s, "%s"); flag && n != 0 || !flag && n != 1 {
			return fmt.Errorf("reason %q: want %s", s, map[bool]string{true: "no %s in a flag's reason", false: "exactly one %s"}[flag])
		}
	}
	if flag != (c.ReasonNot != Text{}) {
		return errors.New("reason_not is given for flags, and only for them")
	}
	return nil
}

// featureColumns is the catalog without the key and rule columns.
func featureColumns() []Column {
	cols := parsedFeatures()
	out := make([]Column, len(cols))
	for i, c := range cols {
		c.Sources = slices.Clone(c.Sources)
		out[i] = c
	}
	return out
}

// parsedFeatures parses the embedded SQL headers once per process (the
// catalog is looked up per feature and per household reason); a header
// that does not parse is a bug of the binary, caught by the catalog tests.
var parsedFeatures = sync.OnceValue(func() []Column {
	var out []Column
	for _, fam := range families {
		cols, err := parseHeader(fam, familySQL(fam))
		if err != nil {
			panic("features: " + err.Error())
		}
		out = append(out, cols...)
	}
	return out
})

// Catalog lists every output column of the feature table, in output order:
// household_id, region_code, as_of, the features family by family, then the
// rule columns. It is a fresh copy.
func Catalog() []Column {
	out := keyColumns()
	out = append(out, featureColumns()...)
	return append(out, ruleColumns()...)
}

// Lookup returns the catalog's column name.
func Lookup(name string) (Column, bool) {
	for _, c := range Catalog() {
		if c.Name == name {
			return c, true
		}
	}
	return Column{}, false
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

// CatalogHash is the hex SHA-256 of the catalog: every column's name, type,
// model and health flags and rounding, the SQL text of every file (without
// the metadata lines, which only word the column for people) and the rule
// names. A model trained on one catalog is refused by a different one.
// A rewrite of the SQL proven to give byte-identical feature tables keeps
// the hash of the catalog it rewrote (sameCatalog), so that the models
// trained before it still fit.
func CatalogHash() string { return catalogHashOf(catalogDigest()) }

// catalogHashOf is the hash of the catalog of digest d (sameCatalog).
func catalogHashOf(d string) string {
	if was, ok := sameCatalog[d]; ok {
		return was
	}
	return d
}

// sameCatalog maps the digest of a catalog whose SQL was rewritten without
// changing a byte of the feature table to the hash of the catalog before
// the rewrite. An entry is added only with that proof (the same feature
// table, cmp, over simulated warehouses and the package's tests); a change
// of any feature's value must change the hash instead (no entry).
var sameCatalog = map[string]string{
	// Round 6 (speed): the family shocks reads its sums from the passes of
	// income, medical, employment and disasters; the same tables at
	// 300,000 and 1,000,000 households.
	sameCatalogDigest: "60c4f14dbd8e47e134c549eec4f78db2320c19e7f50b0e76a31151618dfeefd4",
}

// catalogDigest is the SHA-256 of the catalog as it is (CatalogHash).
func catalogDigest() string {
	h := sha256.New()
	for _, c := range Catalog() {
		fmt.Fprintf(h, "%s\t%s\t%v\t%v\t%d\n", c.Name, c.Type, c.Model, c.Health, c.Digits)
	}
	for _, f := range append([]string{"params", "base"}, families...) {
		fmt.Fprintf(h, "== %s\n%s\n", f, withoutMeta(familySQL(f)))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// sameCatalogDigest is the digest of this catalog (catalogDigest), which
// gives the feature tables of the catalog of hash 60c4f14d (sameCatalog).
const sameCatalogDigest = "3bafe7d9886d404cf6d86c9d9f04783bf0ac2dcbea74279e9023a6719e3638a1"

// withoutMeta drops the metadata lines of a SQL file's header.
func withoutMeta(text string) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(text, "\n") {
		if k, _, ok := metaLine(l); ok && metaKeys[k] {
			continue
		}
		b.WriteString(l)
	}
	return b.String()
}

// metaKeys are the keys of the metadata lines.
var metaKeys = map[string]bool{"label": true, "risk": true, "reason": true, "reason_not": true, "reason_zero": true, "profile": true}

// metaLine splits an indented "--   key: value" line; ok is false for any
// other line (an indented comment has a space before its colon).
func metaLine(line string) (key, val string, ok bool) {
	rest, ok := strings.CutPrefix(strings.TrimRight(line, "\r\n"), metaPrefix)
	if !ok {
		return "", "", false
	}
	key, val, ok = strings.Cut(rest, ":")
	if !ok || key == "" || strings.ContainsAny(key, " \t") {
		return "", "", false
	}
	return key, strings.TrimSpace(val), true
}
