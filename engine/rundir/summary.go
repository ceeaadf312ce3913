package rundir

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/povrisk/povrisk/engine/civil"
	"github.com/povrisk/povrisk/models/eval"
)

// SchemaVersion is summary.json's "schema".
const SchemaVersion = 1

// Summary is summary.json (docs/run-directory.md). The fields are in the
// order they are written; maps are written with sorted keys.
type Summary struct {
	Schema        int            `json:"schema"`
	AsOf          string         `json:"as_of"`
	PreviousRun   string         `json:"previous_run"`
	Model         ModelInfo      `json:"model"`
	Policy        PolicyInfo     `json:"policy"`
	Tiers         Tiers          `json:"tiers"`
	Counts        Counts         `json:"counts"`
	TopK          map[string]int `json:"top_k"`
	Coverage      []Coverage     `json:"coverage"`
	MissingTables []string       `json:"missing_tables"`
	Validation    Validation     `json:"validation"`
	// Warnings lists the source tables whose data end lags the as-of date
	// by more than their cadence allows (empty when all are fresh).
	Warnings []Warning `json:"warnings"`
	// Places names every county and township of the night (sorted by
	// code; Name "" when the warehouse's regions table does not name it).
	Places []Place `json:"places"`
	// Visits: what last month's home visits found (nil: no visit_outcomes).
	Visits *Visits `json:"visits"`
	// Elimination: the risk-elimination assessment (nil: none monitored).
	Elimination *Elimination `json:"elimination"`
	// Watch: the watch after elimination (nil: none eliminated in 12 months).
	Watch *Watch `json:"watch"`
	// Fairness: the model card's audit of the county top-k list (nil: the
	// card has none).
	Fairness *eval.Fairness `json:"fairness"`
}

// ModelInfo names the model of the night.
type ModelInfo struct {
	ID string `json:"id"`
	// Created is when the model was saved (RFC 3339; "" when its card does
	// not say).
	Created     string             `json:"created,omitempty"`
	TrainedOn   string             `json:"trained_on"`
	AUC         *float64           `json:"auc"`
	PRAUC       *float64           `json:"pr_auc"`
	PrecisionAt map[string]float64 `json:"precision_at"`
	CatalogHash string             `json:"catalog_hash"`
	// Base is the forest's prediction before any split: for every
	// household, base + the sum of its contributions = its score.
	Base float64 `json:"base"`
}

// Tiers are the score cut-offs of the tiers.
type Tiers struct {
	High   float64 `json:"high"`
	Medium float64 `json:"medium"`
}

// Validation is the model's temporal validation, copied from its card
// (nil figures: the card has none). Fields are in alphabetical order, as
// the run wrote them when this block was a JSON object.
type Validation struct {
	AsOf                 string             `json:"as_of"`
	AUC                  *float64           `json:"auc"`
	CountyPrecision      *float64           `json:"county_precision"`
	HorizonMonths        int                `json:"horizon_months"`
	PRAUC                *float64           `json:"pr_auc"`
	PrecisionAt          map[string]float64 `json:"precision_at"`
	RulesCountyPrecision *float64           `json:"rules_county_precision"`
	RulesPrecisionAt     map[string]float64 `json:"rules_precision_at"`
}

// HasFigures reports whether the validation holds any figure to show.
func (v Validation) HasFigures() bool { return v.AUC != nil || len(v.PrecisionAt) > 0 }

// PolicyInfo names the policy file and the entries applied.
type PolicyInfo struct {
	File   string       `json:"file"`
	SHA256 string       `json:"sha256"`
	Lines  []PolicyLine `json:"lines"`
	Rural  []PolicyLine `json:"rural_income"`
}

// PolicyLine is one policy entry applied, with the households it served.
type PolicyLine struct {
	Province   string  `json:"province"`
	Year       int     `json:"year"`
	Line       float64 `json:"line"`
	Entry      string  `json:"entry"`
	Fallback   string  `json:"fallback"`
	Households int     `json:"households"`
}

// Coverage is the data coverage and freshness of one source table.
type Coverage struct {
	Table   string `json:"table"`
	Present bool   `json:"present"`
	Rows    int64  `json:"rows"`
	Latest  string `json:"latest"` // latest date present ("" none)
	// HouseholdsShare is the share of households with at least one row
	// dated in the 12 months to the as-of date (persons: with a member;
	// disasters: exposed through their village, township or county).
	HouseholdsShare float64 `json:"households_share"`
	Rejected        int64   `json:"rejected"` // rows rejected on ingest, over every drop merged
	// CadenceMonths is how often the policy expects the table to be
	// refreshed (0: its freshness is not judged); Stale is the run's
	// verdict (the table is in Summary.Warnings). Readers show these; none
	// judges freshness again.
	CadenceMonths int  `json:"cadence_months,omitempty"`
	Stale         bool `json:"stale,omitempty"`
}

// Warning is a stale source table: its last date is MonthsBehind months
// before the as-of date, more than its cadence allows.
type Warning struct {
	Table        string `json:"table"`
	LastDate     string `json:"last_date"` // "" when the table has no dated row
	MonthsBehind int    `json:"months_behind"`
	// CadenceMonths is how often the table is expected to be refreshed.
	CadenceMonths int `json:"cadence_months"`
}

func (w Warning) String() string {
	last := w.LastDate
	if last == "" {
		last = "no dated row"
	}
	return fmt.Sprintf("table %s is stale: last date %s, %s behind the as-of date (expected every %s)",
		w.Table, last, Months(w.MonthsBehind), Months(w.CadenceMonths))
}

// Months writes n months in English: "1 month", "6 months".
func Months(n int) string {
	if n == 1 || n == -1 {
		return fmt.Sprintf("%d month", n)
	}
	return fmt.Sprintf("%d months", n)
}

// RegionCount is one county or township line of summary.json.
type RegionCount struct {
	Code         string `json:"code"`
	Level        string `json:"level"` // county or township
	Eligible     int    `json:"eligible"`
	High         int    `json:"high"`
	Medium       int    `json:"medium"`
	TopK         int    `json:"top_k"`
	RulesFlagged int    `json:"rules_flagged"`
}

// Counts are the counts of summary.json.
type Counts struct {
	Households        int            `json:"households"`
	Eligible          int            `json:"eligible"`
	MonitoredExcluded int            `json:"monitored_excluded"`
	ByTier            map[string]int `json:"by_tier"`
	ByRiskType        map[string]int `json:"by_risk_type"`
	// ByPrimaryRiskType counts each household once, by its primary risk
	// type (an income shortfall attributed to its cause where the data
	// shows one): what the brief's "why" section shows.
	ByPrimaryRiskType map[string]int `json:"by_primary_risk_type"`
	ByProfile         map[string]int `json:"by_profile"`
	RulesFlagged      int            `json:"rules_flagged"`
	TopKTotal         int            `json:"top_k_total"`
	TopKMissedByRules int            `json:"top_k_missed_by_rules"`
	ByRegion          []RegionCount  `json:"by_region,omitempty"`
}

// encodeSummary is summary.json's one encoding: indented by two spaces,
// with a final newline.
func encodeSummary(w io.Writer, s *Summary) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("encode summary.json: %w", err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// maxSummaryBytes bounds what DecodeSummary accepts: a real summary.json
// is a few hundred kilobytes even for a province.
const maxSummaryBytes = 64 << 20

// DecodeSummary decodes summary.json and checks what every reader relies
// on: the schema, an as-of date, counts that are not negative and that
// add up, and figures that are numbers. It never panics, whatever b holds.
func DecodeSummary(b []byte) (*Summary, error) {
	if len(b) > maxSummaryBytes {
		return nil, fmt.Errorf("summary.json is %d bytes, more than a summary can be", len(b))
	}
	var s Summary
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("decode summary.json: %w (is it a run directory of this povrisk version?)", err)
	}
	if dec.More() {
		return nil, errors.New("decode summary.json: text after the JSON object")
	}
	if s.Schema != SchemaVersion {
		return nil, fmt.Errorf("summary.json has schema %d, this povrisk reads schema %d", s.Schema, SchemaVersion)
	}
	if _, err := civil.Parse(s.AsOf); err != nil {
		return nil, fmt.Errorf("summary.json: as_of %q is not a date", s.AsOf)
	}
	if s.PreviousRun != "" {
		if _, err := civil.Parse(s.PreviousRun); err != nil {
			return nil, fmt.Errorf("summary.json: previous_run %q is not a date", s.PreviousRun)
		}
	}
	c := s.Counts
	if c.Households < 0 || c.Eligible < 0 || c.MonitoredExcluded < 0 || c.Eligible > c.Households ||
		c.RulesFlagged < 0 || c.TopKTotal < 0 || c.TopKMissedByRules < 0 {
		return nil, fmt.Errorf("summary.json: counts do not add up (households %d, eligible %d)", c.Households, c.Eligible)
	}
	if err := checkOffice(&s); err != nil {
		return nil, err
	}
	for _, f := range []float64{s.Tiers.High, s.Tiers.Medium, s.Model.Base} {
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, errors.New("summary.json: a figure is not a number")
		}
	}
	return &s, nil
}
