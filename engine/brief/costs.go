package brief

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/povrisk/povrisk/datasets"
)

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
// the file's extension. Measures not in the file keep their default; an
// unknown measure code or a negative cost is an error.
func LoadUnitCosts(path string) (map[string]float64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read unit costs %s: %w", path, err)
	}
	raw := map[string]any{}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".json":
		err = json.Unmarshal(b, &raw)
	case ".toml":
		err = toml.Unmarshal(b, &raw)
	default:
		return nil, fmt.Errorf("read unit costs %s: unknown format; use a .toml or .json file", path)
	}
	if err != nil {
		return nil, fmt.Errorf("decode unit costs %s: %w", path, err)
	}
	if t, ok := raw["unit_costs"].(map[string]any); ok {
		raw = t
	}
	known := map[string]bool{}
	for _, p := range datasets.Programs() {
		known[p] = true
	}
	out := DefaultUnitCosts()
	for _, k := range slices.Sorted(maps.Keys(raw)) {
		if !known[k] {
			return nil, fmt.Errorf("unit costs %s: %q is not a measure; use one of %s", path, k, strings.Join(datasets.Programs(), ", "))
		}
		var v float64
		switch x := raw[k].(type) {
		case int64:
			v = float64(x)
		case float64:
			v = x
		default:
			return nil, fmt.Errorf("unit costs %s: %s = %v is not a number of yuan", path, k, raw[k])
		}
		if v < 0 {
			return nil, fmt.Errorf("unit costs %s: %s = %v is negative", path, k, v)
		}
		out[k] = v
	}
	return out, nil
}
