package run

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/povrisk/povrisk/engine"
	"github.com/povrisk/povrisk/engine/civil"
	"github.com/povrisk/povrisk/engine/fault"
	"github.com/povrisk/povrisk/engine/ingest"
	"github.com/povrisk/povrisk/engine/rundir"
)

// ErrNotFound is wrapped when a household is not in the run.
var ErrNotFound = errors.New("household not in the run")

// FeatureLine is one model feature of an explanation.
type FeatureLine struct {
	Feature string   `json:"feature"`
	LabelZh string   `json:"label_zh"`
	Label   string   `json:"label"`
	Value   *float64 `json:"value"` // nil when missing
	// Percentile is the share (0-100) of the county's households with a
	// value whose value is at most this one; nil when the value is missing.
	Percentile   *float64 `json:"percentile"`
	Contribution float64  `json:"contribution"`
}

// Explanation is everything the run directory says about one household.
type Explanation struct {
	HouseholdID string `json:"household_id"`
	AsOf        string `json:"as_of"`
	RegionCode  string `json:"region_code"`
	// Names of the village, township and county ("" when the warehouse's
	// regions table does not name them).
	VillageName  string `json:"village_name"`
	TownshipName string `json:"township_name"`
	CountyName   string `json:"county_name"`
	Eligible     bool   `json:"eligible"` // ranked (false: a monitoring object on the as-of date)
	// Ranked holds the household's ranked.parquet row (nil when not eligible).
	Ranked   map[string]any `json:"ranked"`
	Base     float64        `json:"base"` // the forest's base: base + sum(contributions) = score
	Features []FeatureLine  `json:"features"`
	Rules    []string       `json:"rules"`
	Facts    []string       `json:"facts"`
	FactsEn  []string       `json:"facts_en"`
}

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// checkFeatureName is a validation, not quoting (engine.QuoteIdent
// quotes): every column of contributions.parquet after household_id is a
// model feature, and feature names are plain identifiers; anything else
// means the file was not written by a night.
func checkFeatureName(s string) error {
	if !identRE.MatchString(s) {
		return fault.Wrap(fault.Tampered, fmt.Errorf("column name %q in the run directory is not a feature name: the file was not written by povrisk run", s))
	}
	return nil
}

// queryRow returns the single row of q as a column → value map (nil when none).
func queryRow(ctx context.Context, db *sql.DB, q string, args ...any) (map[string]any, []string, error) {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, nil, err
	}
	if !rows.Next() {
		return nil, cols, rows.Err()
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return nil, nil, err
	}
	out := make(map[string]any, len(cols))
	for i, c := range cols {
		out[c] = vals[i]
	}
	return out, cols, rows.Err()
}

func asFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, !math.IsNaN(x)
	case float32:
		return float64(x), true
	case int32:
		return float64(x), true
	case int64:
		return float64(x), true
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

// Explain reads the run directory dir only and explains household id: its
// ranked row, every model feature with its value, its percentile among the
// households of its county and its contribution (largest first), and the
// rules it tripped with their facts.
func Explain(ctx context.Context, db *sql.DB, dir, id string) (*Explanation, error) {
	if ingest.LooksLikeIDNumber(id) {
		// Never repeated, not even in the error: stderr reaches logs.
		return nil, fault.Wrap(fault.Usage, errors.New("explain: the household id given is an ID number; give the household_id of ranked.csv (ID numbers are never stored in clear)"))
	}
	run, err := rundir.Read(dir) // verified against its checksums
	if err != nil {
		return nil, err
	}
	feat := filepath.Join(dir, "features.parquet")
	e := &Explanation{HouseholdID: id}
	fr, _, err := queryRow(ctx, db, "SELECT * FROM read_parquet(?) WHERE household_id = ?", feat, id)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", feat, err)
	}
	if fr == nil {
		return nil, fault.Wrap(fault.BadInput, fmt.Errorf("explain: the household id given (%d characters, not repeated) is %w %s: take it from ranked.csv", len(id), ErrNotFound, dir))
	}
	e.RegionCode, _ = fr["region_code"].(string)
	if t, ok := fr["as_of"].(interface{ Format(string) string }); ok {
		e.AsOf = t.Format(civil.Layout)
	}
	str := func(k string) string { s, _ := fr[k].(string); return s }
	if s := str("rules_tripped"); s != "" {
		e.Rules = strings.Split(s, ";")
		e.Facts = strings.Split(str("rule_facts"), "；")
		e.FactsEn = strings.Split(str("rule_facts_en"), "; ")
	}
	ranked := filepath.Join(dir, "ranked.parquet")
	if e.Ranked, _, err = queryRow(ctx, db, "SELECT * FROM read_parquet(?) WHERE household_id = ?", ranked, id); err != nil {
		return nil, fmt.Errorf("read %s: %w", ranked, err)
	}
	e.Eligible = e.Ranked != nil
	e.placeNames(run.Summary.Places)
	e.Base = run.Summary.Model.Base
	contrib := filepath.Join(dir, "contributions.parquet")
	cr, cols, err := queryRow(ctx, db, "SELECT * FROM read_parquet(?) WHERE household_id = ?", contrib, id)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", contrib, err)
	}
	names := cols[1:] // household_id first
	// Percentiles among the county's households, one pass for all features.
	var sel []string
	var args []any
	for _, n := range names {
		if err := checkFeatureName(n); err != nil {
			return nil, err
		}
		q := engine.QuoteIdent(n)
		v, ok := asFloat(fr[n])
		if !ok {
			sel = append(sel, "NULL")
			continue
		}
		sel = append(sel, fmt.Sprintf("100.0 * count(*) FILTER (WHERE CAST(%s AS DOUBLE) <= ?) / nullif(count(%s), 0)", q, q))
		args = append(args, v)
	}
	args = append(args, feat, rundir.Prefix(e.RegionCode, 6))
	pvals, err := rowValues(ctx, db, "SELECT "+strings.Join(sel, ", ")+" FROM read_parquet(?) WHERE substr(region_code, 1, 6) = ?", args...)
	if err != nil {
		return nil, fmt.Errorf("county percentiles from %s: %w", feat, err)
	}
	for i, n := range names {
		t := featureTexts[n]
		l := FeatureLine{Feature: n, LabelZh: t.Zh, Label: t.En}
		if v, ok := asFloat(fr[n]); ok {
			l.Value = &v
			if p, ok := asFloat(pvals[i]); ok {
				p = math.Round(p*10) / 10
				l.Percentile = &p
			}
		}
		if cr != nil {
			l.Contribution, _ = asFloat(cr[n])
		}
		e.Features = append(e.Features, l)
	}
	sort.SliceStable(e.Features, func(a, b int) bool { return e.Features[a].Contribution > e.Features[b].Contribution })
	return e, nil
}

// rowValues returns the values of the single row of q, by position.
func rowValues(ctx context.Context, db *sql.DB, q string, args ...any) ([]any, error) {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if !rows.Next() {
		return nil, errors.New("no row")
	}
	if err := rows.Scan(ptrs...); err != nil {
		return nil, err
	}
	return vals, rows.Err()
}

// placeNames sets the names of the household's places: from its ranked
// row, else (a monitoring object) the county and township from summary
// places.
func (e *Explanation) placeNames(places []rundir.Place) {
	if e.Ranked != nil {
		str := func(k string) string { s, _ := e.Ranked[k].(string); return s }
		e.VillageName, e.TownshipName, e.CountyName = str("village_name"), str("township_name"), str("county_name")
		return
	}
	for _, p := range places {
		switch p.Code {
		case rundir.Prefix(e.RegionCode, 6):
			e.CountyName = p.Name
		case rundir.Prefix(e.RegionCode, 9):
			e.TownshipName = p.Name
		}
	}
}

// PlaceLine writes the household's places with names and codes, the code
// alone where no name is known: "红岩村 (520123101001), 龙场镇 (520123101), 修文县 (520123)".
func (e *Explanation) PlaceLine() string {
	named := func(name, code string) string {
		if name == "" {
			return code
		}
		return name + " (" + code + ")"
	}
	return named(e.VillageName, e.RegionCode) + ", " + named(e.TownshipName, rundir.Prefix(e.RegionCode, 9)) + ", " +
		named(e.CountyName, rundir.Prefix(e.RegionCode, 6))
}
