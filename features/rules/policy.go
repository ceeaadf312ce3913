package rules

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"

	"github.com/BurntSushi/toml"
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
	NearLineFactor        float64 `toml:"near_line_factor"`
	IncomeDropShare       float64 `toml:"income_drop_share"`
	MedicalShareEscaped   float64 `toml:"medical_share_escaped"`
	MedicalShareGeneral   float64 `toml:"medical_share_general"`
	MedicalLargeLowIncome float64 `toml:"medical_large_low_income"`
	MedicalLargeOther     float64 `toml:"medical_large_other"`
	JobLossMinRunMonths   int     `toml:"job_loss_min_run_months"`
	JobLossMinGapMonths   int     `toml:"job_loss_min_gap_months"`
	EducationShare        float64 `toml:"education_share"`
	DisasterMaxSeverity   int     `toml:"disaster_max_severity"`
	DisasterLossShare     float64 `toml:"disaster_loss_share"`
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
	}
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
	Lines      []Value
	Rurals     []Value
	Name       string // file name, or "sample"
	sum        [32]byte
}

type policyFile struct {
	Thresholds  Thresholds `toml:"thresholds"`
	Line        []Value    `toml:"line"`
	RuralIncome []Value    `toml:"rural_income"`
}

// LoadPolicy reads a TOML policy file (see policy.sample.toml).
func LoadPolicy(path string) (*Policy, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read policy %s: %w", path, err)
	}
	p, err := ParsePolicy(b)
	if err != nil {
		return nil, fmt.Errorf("policy %s: %w", path, err)
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

// ParsePolicy parses a policy file's contents and checks it: every entry has
// a 2-digit province or "national", a year and a positive value; no province
// and year appears twice; unknown keys are an error (a misspelt threshold
// would otherwise silently fall back to its default).
func ParsePolicy(b []byte) (*Policy, error) {
	var f policyFile
	md, err := toml.NewDecoder(bytes.NewReader(b)).Decode(&f)
	if err != nil {
		return nil, fmt.Errorf("parse toml: %w", err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		return nil, fmt.Errorf("unknown key %q: check the spelling against policy.sample.toml", und[0].String())
	}
	def := DefaultThresholds()
	t := &f.Thresholds
	setF := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	setI := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	setF(&t.NearLineFactor, def.NearLineFactor)
	setF(&t.IncomeDropShare, def.IncomeDropShare)
	setF(&t.MedicalShareEscaped, def.MedicalShareEscaped)
	setF(&t.MedicalShareGeneral, def.MedicalShareGeneral)
	setF(&t.MedicalLargeLowIncome, def.MedicalLargeLowIncome)
	setF(&t.MedicalLargeOther, def.MedicalLargeOther)
	setI(&t.JobLossMinRunMonths, def.JobLossMinRunMonths)
	setI(&t.JobLossMinGapMonths, def.JobLossMinGapMonths)
	setF(&t.EducationShare, def.EducationShare)
	setI(&t.DisasterMaxSeverity, def.DisasterMaxSeverity)
	setF(&t.DisasterLossShare, def.DisasterLossShare)
	for _, set := range []struct {
		name string
		v    []Value
	}{{"line", f.Line}, {"rural_income", f.RuralIncome}} {
		seen := map[string]bool{}
		for i, v := range set.v {
			if v.Province != National && (len(v.Province) != 2 || !allDigits(v.Province)) {
				return nil, fmt.Errorf("%s entry %d: province %q is neither a 2-digit prefix nor %q", set.name, i+1, v.Province, National)
			}
			if v.Year < 1978 || v.Year > 2100 {
				return nil, fmt.Errorf("%s entry %d (%s): year %d out of range", set.name, i+1, v.Province, v.Year)
			}
			if !(v.Value > 0) {
				return nil, fmt.Errorf("%s entry %d (%s/%d): value must be positive, got %v", set.name, i+1, v.Province, v.Year, v.Value)
			}
			k := v.Province + "/" + strconv.Itoa(v.Year)
			if seen[k] {
				return nil, fmt.Errorf("%s entry %d: %s appears twice", set.name, i+1, k)
			}
			seen[k] = true
		}
	}
	p := &Policy{Thresholds: f.Thresholds, Lines: sorted(f.Line), Rurals: sorted(f.RuralIncome), sum: sha256.Sum256(b)}
	return p, nil
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
