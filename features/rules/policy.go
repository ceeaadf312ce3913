package rules

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"

	"github.com/BurntSushi/toml"

	"github.com/povrisk/povrisk/datasets"
	"github.com/povrisk/povrisk/engine/fault"
)

// National is the province value of the national default entries.
const National = "national"

// Fallbacks reported in Entry.Fallback.
const (
	FallbackNone            = ""                      // the province's entry for the year itself
	FallbackEarlierYear     = "earlier_year"          // the province's latest earlier year
	FallbackNational        = "national"              // no entry for the province: the national entry for the year
	FallbackNationalEarlier = "national_earlier_year" // no entry for the province: the national latest earlier year
)

// ErrNoEntry is returned when neither the province nor the national default
// has an entry for the year or an earlier one.
var ErrNoEntry = errors.New("no policy entry")

//go:embed policy.sample.toml
var samplePolicy []byte

// Thresholds are the rule settings of the policy file; the zero value of a
// field is replaced by the default of POLICY.md when the file is loaded.
type Thresholds struct {
	NearLineFactor        float64 `toml:"near_line_factor" zh:"临近监测线倍数"`
	IncomeDropShare       float64 `toml:"income_drop_share" zh:"收入骤减比例"`
	MedicalShareEscaped   float64 `toml:"medical_share_escaped" zh:"脱贫户医疗负担比例"`
	MedicalShareGeneral   float64 `toml:"medical_share_general" zh:"一般户医疗负担比例"`
	MedicalLargeLowIncome float64 `toml:"medical_large_low_income" zh:"低收入户大额医疗支出"`
	MedicalLargeOther     float64 `toml:"medical_large_other" zh:"其他户大额医疗支出"`
	JobLossMinRunMonths   int     `toml:"job_loss_min_run_months" zh:"失业判定连续缴费月数"`
	JobLossMinGapMonths   int     `toml:"job_loss_min_gap_months" zh:"失业判定停缴月数"`
	EducationShare        float64 `toml:"education_share" zh:"教育支出比例"`
	DisasterMaxSeverity   int     `toml:"disaster_max_severity" zh:"重大灾害等级"`
	DisasterLossShare     float64 `toml:"disaster_loss_share" zh:"灾害损失比例"`
	// AttributionShare: an expenditure (medical out of pocket, school
	// fees, disaster loss) of at least this share of the 12-month net
	// income names the cause of an income shortfall when no rule does
	// (IncomeCause).
	AttributionShare float64 `toml:"attribution_share" zh:"收入缺口归因支出比例"`
}

// DefaultThresholds are the defaults of POLICY.md.
func DefaultThresholds() Thresholds {
	return Thresholds{
		NearLineFactor:        1.5,
		IncomeDropShare:       0.30,
		MedicalShareEscaped:   0.5,
		MedicalShareGeneral:   1.0,
		MedicalLargeLowIncome: 10000,
		MedicalLargeOther:     26000,
		JobLossMinRunMonths:   6,
		JobLossMinGapMonths:   2,
		EducationShare:        0.30,
		DisasterMaxSeverity:   2,
		DisasterLossShare:     0.20,
		AttributionShare:      0.10,
	}
}

// Elimination holds the [elimination] section: the thresholds of the risk
// elimination assessment (POLICY.md, "Risk elimination"; features.AssessElimination).
// A key left out (or 0) takes its default (DefaultElimination).
type Elimination struct {
	// MinMonthsSinceIdentified: an elimination sooner after identification
	// is deferred (default 6).
	MinMonthsSinceIdentified int `toml:"min_months_since_identified" zh:"识别后最短月数"`
	// IncomeMonths: the short income window, months to the as-of date; its
	// net income per head, annualised, and that of the 12 months must both
	// be at or above the as-of year's line (default 6).
	IncomeMonths int `toml:"income_months" zh:"收入稳定月数"`
	// RelapseDefer: a relapse probability at or above it defers an
	// elimination whose conditions are met (default 0.3).
	RelapseDefer float64 `toml:"relapse_defer" zh:"返贫风险暂缓阈值"`
	// RigidMonths: the look-back of the rigid expenditure (out-of-pocket
	// medical plus non-compulsory school fees net of aid), months (default 6).
	RigidMonths int `toml:"rigid_months" zh:"刚性支出回看月数"`
	// RigidMedicalMax: out-of-pocket medical spending of the RigidMonths
	// above this, yuan, is a large medical expense not resolved (default 10000).
	RigidMedicalMax float64 `toml:"rigid_medical_max" zh:"刚性医疗支出上限"`
	// RigidIncomeShare: the rigid expenditure of the RigidMonths above this
	// share of the household's net income of those months is not resolved
	// (default 0.5).
	RigidIncomeShare float64 `toml:"rigid_income_share" zh:"刚性支出占收入比例"`
	// CompulsoryAgeMin, CompulsoryAgeMax: the ages (whole years on the
	// as-of date) of compulsory schooling, whose dropouts leave the
	// education guarantee unmet (default 7 and 15).
	CompulsoryAgeMin int `toml:"compulsory_age_min" zh:"义务教育起始年龄"`
	CompulsoryAgeMax int `toml:"compulsory_age_max" zh:"义务教育截止年龄"`
}

// DefaultElimination is the [elimination] section's defaults.
func DefaultElimination() Elimination {
	return Elimination{MinMonthsSinceIdentified: 6, IncomeMonths: 6, RelapseDefer: 0.3, RigidMonths: 6,
		RigidMedicalMax: 10000, RigidIncomeShare: 0.5, CompulsoryAgeMin: 7, CompulsoryAgeMax: 15}
}

// Value is one entry of the policy file: a figure for a province and year.
type Value struct {
	Province string  `toml:"province"` // 2-digit province prefix, or "national"
	Year     int     `toml:"year"`
	Value    float64 `toml:"value"`
	Source   string  `toml:"source"`
}

// Entry is the figure that applies to a region and year, and how it was found.
type Entry struct {
	Province string  // the entry's province ("national" for the default)
	Year     int     // the entry's year
	Value    float64 // yuan
	Fallback string  // FallbackNone, FallbackEarlierYear, FallbackNational or FallbackNationalEarlier
}

// Key names the entry as "province/year", e.g. "53/2025" or "national/2021".
func (e Entry) Key() string { return e.Province + "/" + strconv.Itoa(e.Year) }

// Policy is a loaded policy file.
type Policy struct {
	Thresholds Thresholds
	// Elimination is the [elimination] section (defaults filled in).
	Elimination Elimination
	Lines       []Value
	Rurals      []Value
	Name        string // file name, or "sample"
	sum         [32]byte
	health      Health
	freshness   Freshness
}

// Health holds the [health] section: how much of a table may be rejected
// before the table counts as failed as a whole.
type Health struct {
	// MaxRejectShare: a table whose ingest rejects more than this share of
	// its rows fails as a whole (exit 3). In (0, 1]; 0 in the file: 0.05.
	MaxRejectShare float64 `toml:"max_reject_share"`
}

// Freshness holds the [freshness] section: how often each table is
// expected to be delivered.
type Freshness struct {
	// MaxStaleMonths is the default of `run --max-stale-months`: a table
	// more months behind the as-of date than its cadence plus this fails
	// the night (exit 3). 0: staleness only warns.
	MaxStaleMonths int `toml:"max_stale_months"`
	// CadenceMonths: for each table checked, the expected months between
	// its deliveries; its last date more than this many months before the
	// as-of date is stale. Tables not listed keep DefaultCadence's value.
	CadenceMonths map[string]int `toml:"cadence_months"`
}

// DefaultMaxRejectShare is the [health] max_reject_share when the file
// does not set it (issue 11: 5%).
const DefaultMaxRejectShare = 0.05

// DefaultCadence returns the expected cadence, in months, of the tables
// whose freshness is checked when the file sets none: the monthly flows
// (income, contributions, claims) every month, monitoring records every
// quarter. A fresh copy.
func DefaultCadence() map[string]int {
	return map[string]int{"income_records": 1, "social_insurance": 1, "medical_claims": 1, "monitoring_events": 3}
}

// MaxRejectShare is the share of rejected rows above which a table fails
// as a whole ([health] max_reject_share).
func (p *Policy) MaxRejectShare() float64 { return p.health.MaxRejectShare }

// Cadence is the expected months between deliveries of table ([freshness]
// cadence_months); 0 for a table whose freshness is not checked.
func (p *Policy) Cadence(table string) int { return p.freshness.CadenceMonths[table] }

// CadenceTables lists the tables whose freshness is checked, sorted.
func (p *Policy) CadenceTables() []string {
	out := make([]string, 0, len(p.freshness.CadenceMonths))
	for t := range p.freshness.CadenceMonths {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// MaxStaleMonths is the default of `run --max-stale-months` ([freshness]
// max_stale_months); 0: staleness warns only.
func (p *Policy) MaxStaleMonths() int { return p.freshness.MaxStaleMonths }

type policyFile struct {
	Thresholds  Thresholds  `toml:"thresholds"`
	Line        []Value     `toml:"line"`
	RuralIncome []Value     `toml:"rural_income"`
	Health      Health      `toml:"health"`
	Freshness   Freshness   `toml:"freshness"`
	Elimination Elimination `toml:"elimination"`
}

// LoadPolicy reads a TOML policy file (see policy.sample.toml), which must
// hold at least one [[line]] and one [[rural_income]] entry. Every error
// is marked fault.Policy and names the file (and the key and value at fault).
func LoadPolicy(path string) (*Policy, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fault.Wrap(fault.Policy, fmt.Errorf("read policy %s: %w (give --policy the path of a policy file; see features/rules/policy.sample.toml)", path, err))
	}
	p, err := ParsePolicy(b)
	if err != nil {
		return nil, fault.Wrap(fault.Policy, fmt.Errorf("policy %s: %w", path, err))
	}
	// A file without lines or rural incomes (empty, cut short, the wrong
	// file) would parse and then fail the first household's rule screen
	// with a message that names no file.
	for _, set := range []struct {
		key string
		n   int
	}{{"line", len(p.Lines)}, {"rural_income", len(p.Rurals)}} {
		if set.n == 0 {
			return nil, fault.Wrap(fault.Policy, fmt.Errorf("policy %s: no [[%s]] entry: a policy file gives the monitoring lines and rural incomes by province and year (is it empty, cut short, or the wrong file? see features/rules/policy.sample.toml)", path, set.key))
		}
	}
	p.Name = path
	return p, nil
}

// SamplePolicy returns the policy of policy.sample.toml, whose Guizhou lines
// are illustrative: for tests and demonstrations, not for production.
func SamplePolicy() *Policy {
	p, err := ParsePolicy(samplePolicy)
	if err != nil {
		panic("rules: sample policy: " + err.Error())
	}
	p.Name = "sample"
	return p
}

// ParsePolicy parses a policy file's contents and checks it (Validate):
// unknown keys are an error (a misspelt threshold would otherwise silently
// fall back to its default); a threshold left at 0 takes its default.
// Errors are marked fault.Policy.
func ParsePolicy(b []byte) (*Policy, error) {
	var f policyFile
	md, err := toml.NewDecoder(bytes.NewReader(b)).Decode(&f)
	if err != nil {
		return nil, fault.Wrap(fault.Policy, fmt.Errorf("parse toml: %w", err))
	}
	if und := md.Undecoded(); len(und) > 0 {
		return nil, fault.Wrap(fault.Policy, fmt.Errorf("unknown key %q: check the spelling against policy.sample.toml", und[0].String()))
	}
	fillDefaults(&f)
	p := &Policy{Thresholds: f.Thresholds, Elimination: f.Elimination, Lines: sorted(f.Line), Rurals: sorted(f.RuralIncome), sum: sha256.Sum256(b),
		health: f.Health, freshness: f.Freshness}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return p, nil
}

// fillDefaults replaces the settings left at 0 by their defaults.
func fillDefaults(f *policyFile) {
	def := DefaultThresholds()
	t := &f.Thresholds
	for _, v := range []struct{ v, d *float64 }{
		{&t.NearLineFactor, &def.NearLineFactor}, {&t.IncomeDropShare, &def.IncomeDropShare},
		{&t.MedicalShareEscaped, &def.MedicalShareEscaped}, {&t.MedicalShareGeneral, &def.MedicalShareGeneral},
		{&t.MedicalLargeLowIncome, &def.MedicalLargeLowIncome}, {&t.MedicalLargeOther, &def.MedicalLargeOther},
		{&t.EducationShare, &def.EducationShare}, {&t.DisasterLossShare, &def.DisasterLossShare},
		{&t.AttributionShare, &def.AttributionShare},
	} {
		if *v.v == 0 {
			*v.v = *v.d
		}
	}
	for _, v := range []struct{ v, d *int }{
		{&t.JobLossMinRunMonths, &def.JobLossMinRunMonths}, {&t.JobLossMinGapMonths, &def.JobLossMinGapMonths},
		{&t.DisasterMaxSeverity, &def.DisasterMaxSeverity},
	} {
		if *v.v == 0 {
			*v.v = *v.d
		}
	}
	de, e := DefaultElimination(), &f.Elimination
	for _, v := range []struct{ v, d *int }{
		{&e.MinMonthsSinceIdentified, &de.MinMonthsSinceIdentified}, {&e.IncomeMonths, &de.IncomeMonths},
		{&e.RigidMonths, &de.RigidMonths}, {&e.CompulsoryAgeMin, &de.CompulsoryAgeMin}, {&e.CompulsoryAgeMax, &de.CompulsoryAgeMax},
	} {
		if *v.v == 0 {
			*v.v = *v.d
		}
	}
	for _, v := range []struct{ v, d *float64 }{
		{&e.RelapseDefer, &de.RelapseDefer}, {&e.RigidMedicalMax, &de.RigidMedicalMax}, {&e.RigidIncomeShare, &de.RigidIncomeShare},
	} {
		if *v.v == 0 {
			*v.v = *v.d
		}
	}
	if f.Health.MaxRejectShare == 0 {
		f.Health.MaxRejectShare = DefaultMaxRejectShare
	}
	cad := DefaultCadence()
	for t, m := range f.Freshness.CadenceMonths {
		cad[t] = m
	}
	f.Freshness.CadenceMonths = cad
}

// Bounds of the settings: a value outside is refused as absurd (a typo,
// a percentage written for a share, yuan written for 10,000 yuan).
const (
	maxLineValue   = 1e6 // yuan per person per year, lines and rural incomes
	maxMedicalYuan = 1e7 // medical_large_*
	maxMonths      = 120
)

// Validate checks every setting: thresholds, lines and rural incomes
// finite, positive and within sane bounds, no province and year twice,
// max_reject_share in (0, 1], cadences of tables of the data standard.
// The error is marked fault.Policy and names the key and the value.
func (p *Policy) Validate() error {
	if err := checkThresholds(p.Thresholds); err != nil {
		return fault.Wrap(fault.Policy, err)
	}
	for _, set := range []struct {
		name string
		v    []Value
	}{{"line", p.Lines}, {"rural_income", p.Rurals}} {
		if err := checkValues(set.name, set.v); err != nil {
			return fault.Wrap(fault.Policy, err)
		}
	}
	if err := checkHealthAndFreshness(p.health, p.freshness); err != nil {
		return fault.Wrap(fault.Policy, err)
	}
	if err := checkElimination(p.Elimination); err != nil {
		return fault.Wrap(fault.Policy, err)
	}
	return nil
}

// checkThresholds checks each threshold against its range.
func checkThresholds(t Thresholds) error {
	for _, c := range []struct {
		key    string
		v      float64
		lo, hi float64
		loOpen bool // lo itself is refused
	}{
		{"near_line_factor", t.NearLineFactor, 1, 10, false},
		{"income_drop_share", t.IncomeDropShare, 0, 1, true},
		{"medical_share_escaped", t.MedicalShareEscaped, 0, 100, true},
		{"medical_share_general", t.MedicalShareGeneral, 0, 100, true},
		{"medical_large_low_income", t.MedicalLargeLowIncome, 0, maxMedicalYuan, true},
		{"medical_large_other", t.MedicalLargeOther, 0, maxMedicalYuan, true},
		{"education_share", t.EducationShare, 0, 10, true},
		{"disaster_loss_share", t.DisasterLossShare, 0, 10, true},
		{"attribution_share", t.AttributionShare, 0, 10, true},
		{"job_loss_min_run_months", float64(t.JobLossMinRunMonths), 1, maxMonths, false},
		{"job_loss_min_gap_months", float64(t.JobLossMinGapMonths), 1, maxMonths, false},
		{"disaster_max_severity", float64(t.DisasterMaxSeverity), 1, 4, false},
	} {
		if !inRange(c.v, c.lo, c.hi, c.loOpen) {
			return fmt.Errorf("thresholds.%s = %v: want a number in %s", c.key, c.v, rangeText(c.lo, c.hi, c.loOpen))
		}
	}
	return nil
}

// checkElimination checks the [elimination] section.
func checkElimination(e Elimination) error {
	for _, c := range []struct {
		key    string
		v      float64
		lo, hi float64
		loOpen bool
	}{
		{"min_months_since_identified", float64(e.MinMonthsSinceIdentified), 1, maxMonths, false},
		{"income_months", float64(e.IncomeMonths), 1, 12, false},
		{"relapse_defer", e.RelapseDefer, 0, 1, true},
		{"rigid_months", float64(e.RigidMonths), 1, 12, false},
		{"rigid_medical_max", e.RigidMedicalMax, 0, maxMedicalYuan, true},
		{"rigid_income_share", e.RigidIncomeShare, 0, 10, true},
		{"compulsory_age_min", float64(e.CompulsoryAgeMin), 1, 18, false},
		{"compulsory_age_max", float64(e.CompulsoryAgeMax), 1, 18, false},
	} {
		if !inRange(c.v, c.lo, c.hi, c.loOpen) {
			return fmt.Errorf("elimination.%s = %v: want a number in %s", c.key, c.v, rangeText(c.lo, c.hi, c.loOpen))
		}
	}
	if e.CompulsoryAgeMin > e.CompulsoryAgeMax {
		return fmt.Errorf("elimination.compulsory_age_min = %d is above compulsory_age_max = %d", e.CompulsoryAgeMin, e.CompulsoryAgeMax)
	}
	return nil
}

func inRange(v, lo, hi float64, loOpen bool) bool {
	if math.IsNaN(v) || math.IsInf(v, 0) || v > hi || v < lo {
		return false
	}
	return !(loOpen && v == lo)
}

func rangeText(lo, hi float64, loOpen bool) string {
	b := "["
	if loOpen {
		b = "("
	}
	return b + num(lo) + ", " + num(hi) + "]"
}

// checkValues checks the entries of [[line]] or [[rural_income]].
func checkValues(name string, vals []Value) error {
	seen := map[string]bool{}
	for i, v := range vals {
		if v.Province != National && (len(v.Province) != 2 || !allDigits(v.Province)) {
			return fmt.Errorf("%s entry %d: province %q is neither a 2-digit prefix nor %q", name, i+1, v.Province, National)
		}
		if v.Year < 1978 || v.Year > 2100 {
			return fmt.Errorf("%s entry %d (%s): year %d out of range", name, i+1, v.Province, v.Year)
		}
		if !(v.Value > 0) {
			return fmt.Errorf("%s entry %d (%s/%d): value must be positive, got %v", name, i+1, v.Province, v.Year, v.Value)
		}
		if !inRange(v.Value, 0, maxLineValue, true) {
			return fmt.Errorf("%s entry %d (%s/%d): value = %v: want yuan per person per year in %s", name, i+1, v.Province, v.Year, v.Value, rangeText(0, maxLineValue, true))
		}
		k := v.Province + "/" + strconv.Itoa(v.Year)
		if seen[k] {
			return fmt.Errorf("%s entry %d: %s appears twice", name, i+1, k)
		}
		seen[k] = true
	}
	return nil
}

// checkHealthAndFreshness checks the [health] and [freshness] sections.
func checkHealthAndFreshness(h Health, f Freshness) error {
	if !inRange(h.MaxRejectShare, 0, 1, true) {
		return fmt.Errorf("health.max_reject_share = %v: want a share in (0, 1]", h.MaxRejectShare)
	}
	if f.MaxStaleMonths < 0 || f.MaxStaleMonths > 2*maxMonths {
		return fmt.Errorf("freshness.max_stale_months = %d: want 0 (warn only) to %d months", f.MaxStaleMonths, 2*maxMonths)
	}
	known := map[string]bool{}
	for _, t := range datasets.Tables() {
		known[t.Name] = true
	}
	for _, t := range sortedKeys(f.CadenceMonths) {
		m := f.CadenceMonths[t]
		if !known[t] {
			return fmt.Errorf("freshness.cadence_months.%s: not a table of the data standard", strconv.Quote(t))
		}
		if m < 1 || m > maxMonths {
			return fmt.Errorf("freshness.cadence_months.%s = %d: want 1 to %d months", t, m, maxMonths)
		}
	}
	return nil
}

func sortedKeys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func sorted(v []Value) []Value {
	out := append([]Value(nil), v...)
	sort.Slice(out, func(i, j int) bool {
		if out[i].Province != out[j].Province {
			return out[i].Province < out[j].Province
		}
		return out[i].Year < out[j].Year
	})
	return out
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// SHA256 is the hex SHA-256 of the policy file's bytes.
func (p *Policy) SHA256() string { return hex.EncodeToString(p.sum[:]) }

// Line returns the monitoring line for a household of regionCode (its first
// two digits name the province) in year.
func (p *Policy) Line(regionCode string, year int) (Entry, error) {
	return lookup(p.Lines, "monitoring line", regionCode, year)
}

// RuralIncome returns the rural per-capita disposable income of year for the
// province of regionCode. The medical rule asks for the year before the as-of year.
func (p *Policy) RuralIncome(regionCode string, year int) (Entry, error) {
	return lookup(p.Rurals, "rural income", regionCode, year)
}

func lookup(vals []Value, what, regionCode string, year int) (Entry, error) {
	prov := regionCode
	if len(prov) > 2 {
		prov = prov[:2]
	}
	if e, ok := latest(vals, prov, year); ok {
		if e.Year != year {
			e.Fallback = FallbackEarlierYear
		}
		return e, nil
	}
	if e, ok := latest(vals, National, year); ok {
		e.Fallback = FallbackNational
		if e.Year != year {
			e.Fallback = FallbackNationalEarlier
		}
		return e, nil
	}
	return Entry{}, fmt.Errorf("%s for province %q, year %d: %w (add a %q entry for %d or earlier to the policy file)", what, prov, year, ErrNoEntry, National, year)
}

// latest finds the entry of prov with the greatest year <= year (vals sorted).
func latest(vals []Value, prov string, year int) (Entry, bool) {
	var e Entry
	found := false
	for _, v := range vals {
		if v.Province == prov && v.Year <= year {
			e = Entry{Province: v.Province, Year: v.Year, Value: v.Value}
			found = true
		}
	}
	return e, found
}
