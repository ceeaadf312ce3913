package run

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/povrisk/povrisk/datasets"
	"github.com/povrisk/povrisk/engine/warehouse"
	"github.com/povrisk/povrisk/models/registry"
)

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
	ByProfile         map[string]int `json:"by_profile"`
	RulesFlagged      int            `json:"rules_flagged"`
	TopKTotal         int            `json:"top_k_total"`
	TopKMissedByRules int            `json:"top_k_missed_by_rules"`
	ByRegion          []RegionCount  `json:"by_region,omitempty"`
}

func countRows(rows []row, households int) Counts {
	c := Counts{Households: households, Eligible: len(rows), MonitoredExcluded: households - len(rows),
		ByTier: map[string]int{"high": 0, "medium": 0, "low": 0}, ByRiskType: map[string]int{}, ByProfile: map[string]int{}}
	reg := map[string]*RegionCount{}
	at := func(code, level string) *RegionCount {
		r, ok := reg[code]
		if !ok {
			r = &RegionCount{Code: code, Level: level}
			reg[code] = r
		}
		return r
	}
	for i := range rows {
		r := &rows[i]
		c.ByTier[r.Tier]++
		c.ByProfile[r.Profile]++
		if r.RiskTypes != "" {
			for _, t := range strings.Split(r.RiskTypes, ";") {
				c.ByRiskType[t]++
			}
		}
		flagged := r.Rules != ""
		if flagged {
			c.RulesFlagged++
		}
		if r.InTopK {
			c.TopKTotal++
			if !flagged {
				c.TopKMissedByRules++
			}
		}
		for _, g := range []*RegionCount{at(r.CountyCode, "county"), at(r.TownshipCode, "township")} {
			g.Eligible++
			switch r.Tier {
			case "high":
				g.High++
			case "medium":
				g.Medium++
			}
			if r.InTopK {
				g.TopK++
			}
			if flagged {
				g.RulesFlagged++
			}
		}
	}
	for _, k := range slices.Sorted(maps.Keys(reg)) {
		c.ByRegion = append(c.ByRegion, *reg[k])
	}
	return c
}

// Summary is summary.json (docs/run-directory.md).
type Summary struct {
	Schema        int            `json:"schema"`
	AsOf          string         `json:"as_of"`
	PreviousRun   string         `json:"previous_run"`
	Model         ModelInfo      `json:"model"`
	Policy        PolicyInfo     `json:"policy"`
	Tiers         map[string]any `json:"tiers"`
	Counts        Counts         `json:"counts"`
	TopK          map[string]int `json:"top_k"`
	Coverage      []Coverage     `json:"coverage"`
	MissingTables []string       `json:"missing_tables"`
	Validation    map[string]any `json:"validation"`
}

// ModelInfo names the model of the night.
type ModelInfo struct {
	ID          string `json:"id"`
	TrainedOn   string `json:"trained_on"`
	AUC         any    `json:"auc"`
	PRAUC       any    `json:"pr_auc"`
	PrecisionAt any    `json:"precision_at"`
	CatalogHash string `json:"catalog_hash"`
	// Base is the forest's prediction before any split: for every
	// household, base + the sum of its contributions = its score.
	Base float64 `json:"base"`
}

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
}

type summaryInput struct {
	asOf                  time.Time
	prev                  string
	card                  registry.Card
	policyPath, policySum string
	cols                  *infoColumns
	rows                  []row
	counts                Counts
	topK                  map[string]int
	base                  float64
}

func buildSummary(ctx context.Context, db *sql.DB, w *warehouse.Warehouse, in summaryInput) (*Summary, error) {
	s := &Summary{Schema: 1, AsOf: in.asOf.Format("2006-01-02"), PreviousRun: in.prev,
		Tiers:  map[string]any{"high": TierHigh, "medium": TierMedium},
		Counts: in.counts, TopK: in.topK, MissingTables: []string{}}
	m := in.card.Metrics
	s.Model = ModelInfo{ID: in.card.ID, TrainedOn: in.card.AsOf, AUC: m.AUC, PRAUC: m.PRAUC, PrecisionAt: m.PrecisionAt, CatalogHash: in.card.CatalogHash, Base: in.base}
	s.Validation = map[string]any{"as_of": m.TestAsOf, "horizon_months": in.card.HorizonMonths, "auc": m.AUC, "pr_auc": m.PRAUC,
		"precision_at": m.PrecisionAt, "rules_precision_at": m.RulesPrecisionAt, "county_precision": m.CountyPrecision,
		"rules_county_precision": m.RulesCountyPrecision}
	s.Policy = PolicyInfo{File: filepath.Base(in.policyPath), SHA256: in.policySum}
	s.Policy.Lines = policyEntries(in.cols.region, in.cols.lineEntry, in.cols.lineFallback, in.cols.lineValue)
	s.Policy.Rural = policyEntries(in.cols.region, in.cols.ruralEntry, in.cols.ruralFallback, in.cols.ruralValue)
	rejected, err := rejectedRows(w)
	if err != nil {
		return nil, err
	}
	for _, t := range datasets.Tables() {
		path, ok := w.TablePath(t.Name)
		if !ok {
			s.MissingTables = append(s.MissingTables, t.Name)
			s.Coverage = append(s.Coverage, Coverage{Table: t.Name, Rejected: rejected[t.Name]})
			continue
		}
		c, err := coverage(ctx, db, w, t.Name, path, in.asOf)
		if err != nil {
			return nil, err
		}
		c.Rejected = rejected[t.Name]
		s.Coverage = append(s.Coverage, c)
	}
	return s, nil
}

// policyEntries lists the distinct entries applied, by entry then fallback.
func policyEntries(region, entry, fallback []string, value []float64) []PolicyLine {
	type key struct{ entry, fallback string }
	seen := map[key]*PolicyLine{}
	for i := range entry {
		k := key{entry[i], fallback[i]}
		p, ok := seen[k]
		if !ok {
			prov, year := entry[i], 0
			if a, b, ok := strings.Cut(entry[i], "/"); ok {
				prov = a
				fmt.Sscanf(b, "%d", &year)
			}
			v := value[i]
			if math.IsNaN(v) {
				v = 0
			}
			p = &PolicyLine{Province: prov, Year: year, Line: v, Entry: entry[i], Fallback: fallback[i]}
			seen[k] = p
		}
		p.Households++
	}
	out := make([]PolicyLine, 0, len(seen))
	for _, p := range seen {
		out = append(out, *p)
	}
	sort.Slice(out, func(a, b int) bool {
		if out[a].Entry != out[b].Entry {
			return out[a].Entry < out[b].Entry
		}
		return out[a].Fallback < out[b].Fallback
	})
	return out
}

// coverageSpec says how a table is dated and linked to households.
var coverageSpec = map[string]struct{ date, link string }{
	"households":        {"registered_date", "household"},
	"persons":           {"", "household"},
	"income_records":    {"period", "household"},
	"social_insurance":  {"period", "person"},
	"unemployment":      {"registered_date", "person"},
	"medical_claims":    {"service_date", "person"},
	"education":         {"term_start", "person"},
	"disasters":         {"start_date", "region"},
	"assets":            {"event_date", "household"},
	"assistance":        {"start_date", "household"},
	"monitoring_events": {"identified_date", "household"},
}

func coverage(ctx context.Context, db *sql.DB, w *warehouse.Warehouse, table, path string, asOf time.Time) (Coverage, error) {
	c := Coverage{Table: table, Present: true}
	spec, ok := coverageSpec[table]
	if !ok {
		return c, fmt.Errorf("coverage: table %s has no coverage rule", table)
	}
	hh, _ := w.TablePath("households")
	persons, _ := w.TablePath("persons")
	latest := "NULL"
	if spec.date != "" {
		latest = "CAST(max(" + spec.date + ") AS VARCHAR)"
	}
	var l sql.NullString
	if err := db.QueryRowContext(ctx, "SELECT count(*), "+latest+" FROM read_parquet(?)", path).Scan(&c.Rows, &l); err != nil {
		return c, fmt.Errorf("coverage of %s: %w", table, err)
	}
	c.Latest = l.String
	from, to := asOf.AddDate(-1, 0, 0).Format("2006-01-02"), asOf.Format("2006-01-02")
	window := "TRUE"
	var args []any
	if spec.date != "" && table != "households" {
		window = "t." + spec.date + " > CAST(? AS DATE) AND t." + spec.date + " <= CAST(? AS DATE)"
		args = []any{from, to}
	}
	var q string
	switch spec.link {
	case "household":
		q = "SELECT count(DISTINCT t.household_id) FROM read_parquet(?) t WHERE " + window
		args = append([]any{path}, args...)
	case "person":
		q = "SELECT count(DISTINCT p.household_id) FROM read_parquet(?) t JOIN read_parquet(?) p USING (person_id) WHERE " + window
		args = append([]any{path, persons}, args...)
	case "region":
		q = "SELECT count(*) FROM read_parquet(?) h WHERE EXISTS (SELECT 1 FROM read_parquet(?) t WHERE " + window +
			" AND (t.region_code = h.region_code OR t.region_code = substr(h.region_code, 1, 9) OR t.region_code = substr(h.region_code, 1, 6)))"
		args = append([]any{hh, path}, args...)
	}
	var n, total int64
	if err := db.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
		return c, fmt.Errorf("coverage of %s: %w", table, err)
	}
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM read_parquet(?)", hh).Scan(&total); err != nil {
		return c, fmt.Errorf("coverage: count households: %w", err)
	}
	if total > 0 {
		c.HouseholdsShare = math.Round(float64(n)/float64(total)*1e4) / 1e4
	}
	return c, nil
}

// rejectedRows sums the rejected rows per table over the manifests of
// every drop merged into the warehouse (W/drops/<id>/manifest.json).
func rejectedRows(w *warehouse.Warehouse) (map[string]int64, error) {
	out := map[string]int64{}
	for _, id := range w.Manifest().Drops {
		path := filepath.Join(w.Root(), "drops", id, "manifest.json")
		b, err := os.ReadFile(path)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read drop manifest %s: %w", path, err)
		}
		var m struct {
			Tables []struct {
				Table    string `json:"table"`
				Rejected int64  `json:"rejected"`
			} `json:"tables"`
		}
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("read drop manifest %s: %w", path, err)
		}
		for _, t := range m.Tables {
			out[t.Table] += t.Rejected
		}
	}
	return out, nil
}

func writeJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
