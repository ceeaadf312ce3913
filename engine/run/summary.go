package run

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/povrisk/povrisk/datasets"
	"github.com/povrisk/povrisk/engine"
	"github.com/povrisk/povrisk/engine/civil"
	"github.com/povrisk/povrisk/engine/rundir"
	"github.com/povrisk/povrisk/engine/warehouse"
	"github.com/povrisk/povrisk/features"
	"github.com/povrisk/povrisk/models/registry"
)

// countRows counts rows of a night (or a county group) of households
// households.
func countRows(rows []rundir.Row, households int) rundir.Counts {
	c := newRowCounter()
	for i := range rows {
		c.add(&rows[i])
	}
	return c.counts(households)
}

// rowCounter counts ranked rows as they come (the merge counts the
// night's rows while it streams them): the counts of summary.json.
type rowCounter struct {
	c      rundir.Counts
	reg    map[string]*rundir.RegionCount
	county map[string]int // eligible rows per county
}

func newRowCounter() *rowCounter {
	return &rowCounter{c: rundir.Counts{ByTier: map[string]int{"high": 0, "medium": 0, "low": 0}, ByRiskType: map[string]int{},
		ByPrimaryRiskType: map[string]int{}, ByProfile: map[string]int{}}, reg: map[string]*rundir.RegionCount{}, county: map[string]int{}}
}

func (rc *rowCounter) at(code, level string) *rundir.RegionCount {
	r, ok := rc.reg[code]
	if !ok {
		r = &rundir.RegionCount{Code: code, Level: level}
		rc.reg[code] = r
	}
	return r
}

// add counts one row.
func (rc *rowCounter) add(r *rundir.Row) {
	c := &rc.c
	c.Eligible++
	rc.county[r.CountyCode]++
	c.ByTier[r.Tier]++
	c.ByProfile[r.Profile]++
	if r.PrimaryRiskType != "" {
		c.ByPrimaryRiskType[r.PrimaryRiskType]++
	}
	if r.RiskTypes != "" {
		for t := range strings.SplitSeq(r.RiskTypes, ";") {
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
	for _, g := range []*rundir.RegionCount{rc.at(r.CountyCode, "county"), rc.at(r.TownshipCode, "township")} {
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

// counts are the counts of the rows added, of households households in
// all (the eligible ones and the monitored ones excluded).
func (rc *rowCounter) counts(households int) rundir.Counts {
	c := rc.c
	c.Households, c.MonitoredExcluded = households, households-c.Eligible
	c.ByRegion = nil
	for _, k := range slices.Sorted(maps.Keys(rc.reg)) {
		c.ByRegion = append(c.ByRegion, *rc.reg[k])
	}
	return c
}

// buildSummary assembles summary.json from the night's inputs (meta),
// the ranking of every household and the changes; the outputs' merge
// halves fill the rest (the policy lines).
func buildSummary(meta *nightMeta, rk *ranking, ch *changeSet) *rundir.Summary {
	s := &rundir.Summary{Schema: rundir.SchemaVersion, AsOf: meta.AsOf, PreviousRun: ch.prev,
		Tiers:  rundir.Tiers{High: TierHigh, Medium: TierMedium},
		Counts: rk.counts, TopK: rk.topK, Coverage: meta.Coverage, MissingTables: meta.Missing, Warnings: meta.Warnings}
	s.Model = meta.Model
	s.Validation = meta.Validation
	s.Policy = rundir.PolicyInfo{File: meta.PolicyFile, SHA256: meta.PolicySHA256}
	s.Fairness = meta.Fairness // the card's audit of the county top-k list (nil: none)
	return s
}

// nightMeta is what the inputs fix for the summary and the audit record
// (base: the model's base score, common to every household).
func (in *inputs) meta(cov *coverageSet, base float64) nightMeta {
	m := cardMetrics(in.card)
	v := m
	v.HorizonMonths = in.card.HorizonMonths
	return nightMeta{AsOf: in.day, PreviousRun: in.prev, Inputs: in.sums, ModelID: in.card.ID,
		PolicySHA256: in.cfg.policySum, PolicyFile: filepath.Base(in.cfg.policyName),
		Model: rundir.ModelInfo{ID: in.card.ID, Created: cardCreated(in.card), TrainedOn: in.card.AsOf, AUC: m.AUC, PRAUC: m.PRAUC,
			PrecisionAt: m.PrecisionAt, CatalogHash: in.card.CatalogHash, Base: base},
		ModelUsed:  ModelUsed{ID: in.card.ID, Created: cardCreated(in.card), AsOf: in.card.AsOf},
		Validation: v, Coverage: cov.coverage, Missing: cov.missing, Warnings: cov.warnings,
		TopShare: in.cfg.TopShare, TopK: in.cfg.TopK, Features: in.card.Features, Fairness: in.card.Fairness}
}

// cardMetrics reads the model's validation figures from its card's typed
// metrics; a card without metrics (a model saved without a temporal
// evaluation) gives no figures.
func cardMetrics(card registry.Card) rundir.Validation {
	m := card.Metrics
	if m.IsZero() {
		return rundir.Validation{}
	}
	num := func(f float64) *float64 { return &f }
	return rundir.Validation{AsOf: m.TestAsOf, AUC: num(m.AUC), PRAUC: num(m.PRAUC), PrecisionAt: m.PrecisionAt,
		RulesPrecisionAt: m.RulesPrecisionAt, CountyPrecision: num(m.CountyPrecision),
		RulesCountyPrecision: num(m.RulesCountyPrecision)}
}

// cardCreated is when the model was saved, as its card says: "" until
// the registry records creation times (then only this function changes).
func cardCreated(card registry.Card) string { return "" }

// coverageSet is the coverage of every source table, the tables missing
// and the stale ones.
type coverageSet struct {
	coverage []rundir.Coverage
	missing  []string
	warnings []rundir.Warning
}

// readCoverage measures every source table's coverage and freshness, and
// fails the night when a table is staler than MaxStaleMonths allows.
func readCoverage(ctx context.Context, db *sql.DB, in *inputs) (*coverageSet, error) {
	rejected, err := rejectedRows(in.w)
	if err != nil {
		return nil, err
	}
	cs := &coverageSet{missing: []string{}}
	for _, t := range datasets.Tables() {
		path, ok := in.w.TablePath(t.Name)
		if !ok {
			if t.Version == "" || t.Version == "1" { // an absent optional table (v1.1) is not missing
				cs.missing = append(cs.missing, t.Name)
			}
			cs.coverage = append(cs.coverage, rundir.Coverage{Table: t.Name, Rejected: rejected[t.Name]})
			continue
		}
		c, err := coverage(ctx, db, t.Name, path)
		if err != nil {
			return nil, err
		}
		c.Rejected = rejected[t.Name]
		cs.coverage = append(cs.coverage, c)
	}
	cadence := cadences(in.cfg.policy)
	cs.warnings = staleTables(cs.coverage, in.asOf, cadence)
	stale := map[string]bool{}
	for _, w := range cs.warnings {
		stale[w.Table] = true
	}
	for i := range cs.coverage {
		c := &cs.coverage[i]
		c.CadenceMonths, c.Stale = cadence[c.Table], stale[c.Table]
	}
	if err := tooStale(cs.warnings, in.cfg.MaxStaleMonths); err != nil {
		return nil, err
	}
	return cs, nil
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
	// v1.1 (optional): regions is not linked by household (its share is 0).
	"regions":        {"", "none"},
	"person_events":  {"event_date", "person"},
	"visit_outcomes": {"visit_date", "household"},
}

// coverage is a table's rows and latest date, read from the whole
// warehouse (cheap: a count and a maximum); the share of households it
// covers is counted per county group (groupCoverage) and summed by the
// merge (mergeCoverage).
func coverage(ctx context.Context, db *sql.DB, table, path string) (rundir.Coverage, error) {
	c := rundir.Coverage{Table: table, Present: true}
	spec, ok := coverageSpec[table]
	if !ok {
		return c, fmt.Errorf("coverage: table %s has no coverage rule", table)
	}
	latest := "NULL"
	if spec.date != "" {
		latest = "CAST(max(" + spec.date + ") AS VARCHAR)"
	}
	var l sql.NullString
	if err := db.QueryRowContext(ctx, "SELECT count(*), "+latest+" FROM read_parquet(?)", path).Scan(&c.Rows, &l); err != nil {
		return c, fmt.Errorf("coverage of %s: %w", table, err)
	}
	c.Latest = l.String
	return c, nil
}

// groupCoverage counts, for every source table of tables linked to
// households, the households of the county group with at least one row
// dated in the 12 months to the as-of date (persons: with a member;
// disasters: exposed through their village, township or county). A
// household is in one county, so the groups' counts sum to the
// province's; counting them per group reads the group's rows (a split's)
// where one count for the night joined each person-linked table with the
// province's persons in every shard (4M households: 150 s of a 530 s
// shard, 1.4 GB for medical_claims).
func groupCoverage(ctx context.Context, db *sql.DB, tables features.Tables, counties []string, asOf time.Time) (map[string]int64, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("coverage: open a connection: %w", err)
	}
	defer conn.Close()
	var views []string
	defer func() {
		for _, v := range slices.Backward(views) {
			conn.ExecContext(context.WithoutCancel(ctx), "DROP VIEW IF EXISTS "+engine.QuoteIdent(v)) //nolint:errcheck // temp views die with the connection anyway
		}
	}()
	present := map[string]bool{}
	for _, t := range datasets.Tables() {
		path, ok := tables.TablePath(t.Name)
		if !ok {
			continue
		}
		if _, err := conn.ExecContext(ctx, features.TableView(t, path)+features.GroupFilter(t, counties)); err != nil {
			return nil, fmt.Errorf("coverage: open table %s: %w", t.Name, err)
		}
		views, present[t.Name] = append(views, t.Name), true
	}
	// The same day a year earlier (normalised as time.Date does: 29 Feb gives 1 Mar).
	from, to := civil.Format(civil.Date(asOf.Year()-1, asOf.Month(), asOf.Day())), civil.Format(asOf)
	out := map[string]int64{}
	for _, t := range datasets.Tables() {
		spec := coverageSpec[t.Name]
		if !present[t.Name] || spec.link == "none" {
			continue
		}
		window := "TRUE"
		var args []any
		if spec.date != "" && t.Name != "households" {
			window = "t." + spec.date + " > CAST(? AS DATE) AND t." + spec.date + " <= CAST(? AS DATE)"
			args = []any{from, to}
		}
		var q string
		switch spec.link {
		case "household":
			q = "SELECT count(DISTINCT t.household_id) FROM " + engine.QuoteIdent(t.Name) + " t WHERE " + window
		case "person":
			q = "SELECT count(DISTINCT p.household_id) FROM " + engine.QuoteIdent(t.Name) + " t JOIN persons p USING (person_id) WHERE " + window
		case "region":
			q = "SELECT count(*) FROM households h WHERE EXISTS (SELECT 1 FROM " + engine.QuoteIdent(t.Name) + " t WHERE " + window +
				" AND (t.region_code = h.region_code OR t.region_code = substr(h.region_code, 1, 9) OR t.region_code = substr(h.region_code, 1, 6)))"
		default:
			return nil, fmt.Errorf("coverage: table %s has no coverage rule", t.Name)
		}
		var n int64
		if err := conn.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
			return nil, fmt.Errorf("coverage of %s: %w", t.Name, err)
		}
		out[t.Name] = n
	}
	return out, nil
}

// mergeCoverage sets the summary's coverage shares from the parts'
// counts (groupCoverage) over the households of the night.
func (m *merger) mergeCoverage(s *rundir.Summary) error {
	sums := map[string]int64{}
	err := m.each("coverage_households", func(raw json.RawMessage) error {
		var c map[string]int64
		if err := json.Unmarshal(raw, &c); err != nil {
			return err
		}
		for t, n := range c {
			sums[t] += n
		}
		return nil
	})
	if err != nil {
		return err
	}
	var total int64
	for _, c := range s.Coverage {
		if c.Table == "households" {
			total = c.Rows
		}
	}
	s.Coverage = slices.Clone(s.Coverage) // the night's meta keeps its own
	for i := range s.Coverage {
		c := &s.Coverage[i]
		if c.Present && total > 0 {
			c.HouseholdsShare = math.Round(float64(sums[c.Table])/float64(total)*1e4) / 1e4
		}
	}
	return nil
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
