package brief

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/povrisk/povrisk/datasets"
	"github.com/povrisk/povrisk/engine/fault"
)

// MaxUnitCost is the largest unit cost accepted, in yuan per household per
// year: ten times the dearest default (a house renovation), so that a typo
// of a few zeros is caught while any real programme fits.
const MaxUnitCost = 200_000

// DefaultUnitCosts is the cost table used when no unit-cost file is given:
// yuan per household per year for each assistance measure (datasets.Programs).
// The figures are ILLUSTRATIVE orders of magnitude, not official standards;
// a county office should pass its own with --unit-costs, and the brief says
// which table it used.
//
//	dibao          低保        4,800   (about 400 yuan a month)
//	tekun          特困供养    7,200
//	temporary      临时救助    1,500   (one payment)
//	medical_aid    医疗救助    3,000
//	employment_aid 就业帮扶    1,200   (training, job placement)
//	industry_aid   产业帮扶    5,000
//	education_aid  教育资助    2,500
//	housing_aid    危房改造   20,000   (one-off renovation)
func DefaultUnitCosts() map[string]float64 {
	return map[string]float64{
		"dibao": 4800, "tekun": 7200, "temporary": 1500, "medical_aid": 3000,
		"employment_aid": 1200, "industry_aid": 5000, "education_aid": 2500, "housing_aid": 20000,
	}
}

// LoadUnitCosts reads a unit-cost file: TOML (measure = yuan, optionally
// under a [unit_costs] table) or JSON (an object of measure: yuan), chosen by
// the file's extension. Measures not in the file keep their default. An
// unknown measure code, or a cost that is not a finite number from 0 to
// MaxUnitCost, is an error marked fault.Policy naming the file, the key and
// the value; a file that cannot be read is fault.Policy too (exit 5).
func LoadUnitCosts(path string) (map[string]float64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fault.Wrap(fault.Policy, fmt.Errorf("read unit costs %s: %w", path, err))
	}
	costs, err := parseUnitCosts(b, strings.ToLower(filepath.Ext(path)))
	if err != nil {
		return nil, fault.Wrap(fault.Policy, fmt.Errorf("unit costs %s: %w", path, err))
	}
	return costs, nil
}

// errFormat says which file formats a unit-cost file may have.
var errFormat = errors.New("unknown format; use a .toml or .json file")

// parseUnitCosts decodes a unit-cost file of extension ext (".toml",
// ".json") over the defaults and checks every value.
func parseUnitCosts(b []byte, ext string) (map[string]float64, error) {
	raw := map[string]any{}
	var err error
	switch ext {
	case ".json":
		err = json.Unmarshal(b, &raw)
	case ".toml":
		err = toml.Unmarshal(b, &raw)
	default:
		return nil, errFormat
	}
	if err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	if t, ok := raw["unit_costs"].(map[string]any); ok {
		raw = t
	}
	if len(raw) == 0 {
		return nil, errors.New("names no measure (an empty or cut file?): give at least one, or leave out --unit-costs to use the defaults")
	}
	known := map[string]bool{}
	for _, p := range datasets.Programs() {
		known[p] = true
	}
	out := DefaultUnitCosts()
	for _, k := range slices.Sorted(maps.Keys(raw)) {
		if !known[k] {
			return nil, fmt.Errorf("%q is not a measure; use one of %s", k, strings.Join(datasets.Programs(), ", "))
		}
		v, err := unitCost(k, raw[k])
		if err != nil {
			return nil, err
		}
		out[k] = v
	}
	return out, nil
}

// unitCost checks one value of the file: a finite number of yuan from 0 to
// MaxUnitCost.
func unitCost(key string, x any) (float64, error) {
	var v float64
	switch x := x.(type) {
	case int64:
		v = float64(x)
	case float64:
		v = x
	default:
		return 0, fmt.Errorf("%s = %v is not a number of yuan", key, x)
	}
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return 0, fmt.Errorf("%s = %v is not a finite number of yuan", key, v)
	case v < 0:
		return 0, fmt.Errorf("%s = %v is negative; a unit cost is 0 or more yuan", key, v)
	case v > MaxUnitCost:
		return 0, fmt.Errorf("%s = %v is over %d yuan per household per year; check the zeros", key, v, MaxUnitCost)
	}
	return v, nil
}

// checkUnitCosts applies the file's checks to costs given in Options.
func checkUnitCosts(costs map[string]float64) error {
	for _, k := range slices.Sorted(maps.Keys(costs)) {
		if _, err := unitCost(k, costs[k]); err != nil {
			return fault.Wrap(fault.Policy, fmt.Errorf("brief: unit costs: %w", err))
		}
	}
	return nil
}
