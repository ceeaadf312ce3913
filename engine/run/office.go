package run

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/gob"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"time"

	"github.com/povrisk/povrisk/datasets"
	"github.com/povrisk/povrisk/engine/civil"
	"github.com/povrisk/povrisk/engine/fault"
	"github.com/povrisk/povrisk/engine/rundir"
	"github.com/povrisk/povrisk/engine/warehouse"
	"github.com/povrisk/povrisk/features"
)

// officeSet is what the night adds for the office loop (issue 13) and the
// risk elimination (issue 16): place names, the visits since the previous
// run, the watch after elimination and the elimination assessment. Every
// figure is per county, so that county shards combine by sums and sorted
// merges.
type officeSet struct {
	names      map[string]string // region code (6, 9 or 12 digits) -> name
	places     []rundir.Place
	visits     *rundir.Visits
	watch      *rundir.Watch
	elim       []rundir.ElimRow // sorted by household_id
	elimSum    *rundir.Elimination
	topK       map[string]int // county -> k (for the work list's 列入原因)
	relapseCty map[string]int // county -> relapses in the 12 months to the as-of date
}

// name is the name of a region code ("" unknown).
func (o *officeSet) name(code string) string {
	if o == nil {
		return ""
	}
	return o.names[code]
}

// watchMonths is the length of the watch after elimination (回头看).
const watchMonths = 12

// visitWindowDays is how far back visits are counted without a previous run.
const visitWindowDays = 31

// office reads what the office outputs need from the warehouse and marks
// the rows (names, 新进入, 回头看). It only reads; rows keep their order.
//
// It runs once per county group (part.go): everything it computes is
// county-local, and the merge sums and sorts the parts (mergeOffice).
func office(ctx context.Context, db *sql.DB, in *inputs, rk *ranking, feat *featureTable, group []string) (*officeSet, error) {
	o := &officeSet{topK: rk.topK}
	night, err := in.officeNight(ctx, db)
	if err != nil {
		return nil, err
	}
	o.names = night.names
	elim, relapses := night.eliminated, night.relapses
	counties := map[string]bool{}
	for _, c := range group {
		counties[c] = true
	}
	o.relapseCty = map[string]int{}
	for c, n := range relapses {
		if counties[c] {
			o.relapseCty[c] = n
		}
	}
	// Entering the county top k is county-local: the group's rows against
	// the previous run's list (the merge's changes.csv says the same).
	entered, err := enteredTopK(ctx, db, in.cfg.Runs, in.prev, rk.rows)
	if err != nil {
		return nil, err
	}
	markRows(rk.rows, o.names, elim, entered)
	o.places = placesOf(rk.rows, o.names)
	o.watch = watchOf(rk.rows, o.names)
	since := in.prev
	if since == "" {
		since = civil.Format(in.asOf.AddDate(0, 0, -visitWindowDays))
	}
	if vp, ok := in.w.TablePath("visit_outcomes"); ok {
		hh, _ := in.w.TablePath("households")
		if o.visits, err = countVisits(ctx, db, vp, hh, since, in.day, counties, o.names); err != nil {
			return nil, err
		}
	}
	if o.elim, err = assessRows(ctx, db, in, feat, o.names, counties); err != nil {
		return nil, err
	}
	o.elimSum = eliminationSummary(o.elim, o.relapseCty, o.names, in.relapseCard.ID)
	return o, nil
}

// officeNight is what the office outputs read from the warehouse for the
// whole night: read once, on the first county group, and shared by the
// others (the warehouse does not change during a night).
type officeNight struct {
	names      map[string]string // region code -> name
	eliminated map[string]string // household -> elimination date, last 12 months
	relapses   map[string]int    // county -> relapses in the 12 months
	assessed   []assessment      // every monitored household (nil: none assessed)
}

// officeNight reads (once) the night's names, eliminations and
// elimination assessment.
func (in *inputs) officeNight(ctx context.Context, db *sql.DB) (*officeNight, error) {
	if in.office != nil {
		return in.office, nil
	}
	n := &officeNight{}
	var err error
	if n.names, err = regionNames(ctx, db, in.w); err != nil {
		return nil, err
	}
	if n.eliminated, n.relapses, err = eliminations(ctx, db, in.w, in.asOf); err != nil {
		return nil, err
	}
	if n.assessed, err = features.AssessEliminationIn(ctx, db, in.w, in.asOf, in.cfg.policy, in.shardCounties); err != nil {
		return nil, err
	}
	in.office = n
	return n, nil
}

// markRows sets every row's place names, its elimination date and watch
// flag, and whether it entered the county top k since the previous run.
func markRows(rows []rundir.Row, names, eliminated map[string]string, entered map[string]bool) {
	for i := range rows {
		r := &rows[i]
		r.CountyName, r.TownshipName, r.VillageName = names[r.CountyCode], names[r.TownshipCode], names[r.RegionCode]
		if d, ok := eliminated[r.HouseholdID]; ok {
			r.EliminatedDate, r.Watch = d, true
		}
		r.Entered = r.InTopK && entered[r.HouseholdID]
	}
}

// regionNames reads the warehouse's optional regions table (v1.1): code ->
// name; empty when the warehouse has none.
func regionNames(ctx context.Context, db *sql.DB, w *warehouse.Warehouse) (map[string]string, error) {
	out := map[string]string{}
	path, ok := w.TablePath("regions")
	if !ok {
		return out, nil
	}
	q, err := db.QueryContext(ctx, "SELECT CAST(region_code AS VARCHAR), CAST(name AS VARCHAR) FROM read_parquet(?) WHERE name IS NOT NULL", path)
	if err != nil {
		return nil, fmt.Errorf("read the regions table %s: %w", path, err)
	}
	defer q.Close()
	for q.Next() {
		var code, name string
		if err := q.Scan(&code, &name); err != nil {
			return nil, fmt.Errorf("read the regions table %s: %w", path, err)
		}
		out[code] = name
	}
	if err := q.Err(); err != nil {
		return nil, fmt.Errorf("read the regions table %s: %w", path, err)
	}
	return out, nil
}

// eliminations reads monitoring_events: every household's latest risk
// elimination in the 12 months to asOf (household -> YYYY-MM-DD), and per
// county the households eliminated in that window and identified again
// after it, by asOf (relapses).
func eliminations(ctx context.Context, db *sql.DB, w *warehouse.Warehouse, asOf time.Time) (map[string]string, map[string]int, error) {
	path, ok := w.TablePath("monitoring_events")
	if !ok {
		return map[string]string{}, map[string]int{}, nil
	}
	hh, _ := w.TablePath("households")
	return eliminationsFrom(ctx, db, path, hh, asOf)
}

// eliminationsFrom is eliminations of the monitoring_events and households
// files given.
func eliminationsFrom(ctx context.Context, db *sql.DB, path, hh string, asOf time.Time) (map[string]string, map[string]int, error) {
	elim, relapses := map[string]string{}, map[string]int{}
	from, to := civil.Format(civil.AddMonths(asOf, -watchMonths)), civil.Format(asOf)
	q, err := db.QueryContext(ctx, `WITH e AS (
  SELECT household_id, max(eliminated_date) AS d FROM read_parquet(?)
  WHERE eliminated_date > CAST(? AS DATE) AND eliminated_date <= CAST(? AS DATE) GROUP BY household_id)
SELECT e.household_id, CAST(e.d AS VARCHAR), coalesce(substr(h.region_code, 1, 6), ''),
  EXISTS (SELECT 1 FROM read_parquet(?) m WHERE m.household_id = e.household_id
          AND m.identified_date > e.d AND m.identified_date <= CAST(? AS DATE))
FROM e LEFT JOIN read_parquet(?) h USING (household_id) ORDER BY e.household_id`, path, from, to, path, to, hh)
	if err != nil {
		return nil, nil, fmt.Errorf("read eliminations from %s: %w", path, err)
	}
	defer q.Close()
	for q.Next() {
		var id, d, county string
		var again bool
		if err := q.Scan(&id, &d, &county, &again); err != nil {
			return nil, nil, fmt.Errorf("read eliminations from %s: %w", path, err)
		}
		elim[id] = d
		if again {
			relapses[county]++
		}
	}
	if err := q.Err(); err != nil {
		return nil, nil, fmt.Errorf("read eliminations from %s: %w", path, err)
	}
	return elim, relapses, nil
}

// placesOf lists every county and township of the rows, sorted by code.
func placesOf(rows []rundir.Row, names map[string]string) []rundir.Place {
	codes := map[string]bool{}
	for i := range rows {
		codes[rows[i].CountyCode], codes[rows[i].TownshipCode] = true, true
	}
	out := make([]rundir.Place, 0, len(codes))
	for _, c := range slices.Sorted(maps.Keys(codes)) {
		out = append(out, rundir.Place{Code: c, Name: names[c]})
	}
	return out
}

// watchOf counts the watch after elimination per county (nil: no row is
// under watch).
func watchOf(rows []rundir.Row, names map[string]string) *rundir.Watch {
	per := map[string]*rundir.CountyWatch{}
	w := &rundir.Watch{Counties: []rundir.CountyWatch{}}
	for i := range rows {
		r := &rows[i]
		if !r.Watch {
			continue
		}
		c, ok := per[r.CountyCode]
		if !ok {
			c = &rundir.CountyWatch{Place: rundir.Place{Code: r.CountyCode, Name: names[r.CountyCode]}}
			per[r.CountyCode] = c
		}
		c.Eliminated12m++
		w.Eliminated12m++
		if r.InTopK {
			c.InTopK++
			w.InTopK++
		}
		if r.Tier == "high" {
			c.High++
			w.High++
		}
	}
	if w.Eliminated12m == 0 {
		return nil
	}
	for _, k := range slices.Sorted(maps.Keys(per)) {
		w.Counties = append(w.Counties, *per[k])
	}
	return w
}

// countVisits counts the visits of visit_outcomes (path) dated in (since,
// asOf], per county (of the household's region in households, hh) and in
// total, by outcome and source; only the counties given are counted (a
// shard counts its own). A visit whose source is null counts as other.
func countVisits(ctx context.Context, db *sql.DB, path, hh, since, asOf string, counties map[string]bool, names map[string]string) (*rundir.Visits, error) {
	q, err := db.QueryContext(ctx, `SELECT coalesce(substr(h.region_code, 1, 6), ''), CAST(v.outcome AS VARCHAR),
  coalesce(CAST(v.source AS VARCHAR), 'other'), count(*)
FROM read_parquet(?) v LEFT JOIN read_parquet(?) h USING (household_id)
WHERE v.visit_date > CAST(? AS DATE) AND v.visit_date <= CAST(? AS DATE)
GROUP BY ALL ORDER BY ALL`, path, hh, since, asOf)
	if err != nil {
		return nil, fmt.Errorf("count the visits of %s: %w", path, err)
	}
	defer q.Close()
	v := &rundir.Visits{Present: true, Since: since, BySource: newSources(), Counties: []rundir.CountyVisits{}}
	per := map[string]*rundir.CountyVisits{}
	for q.Next() {
		var county, outcome, source string
		var n int
		if err := q.Scan(&county, &outcome, &source, &n); err != nil {
			return nil, fmt.Errorf("count the visits of %s: %w", path, err)
		}
		if !counties[county] {
			continue
		}
		c, ok := per[county]
		if !ok {
			c = &rundir.CountyVisits{Place: rundir.Place{Code: county, Name: names[county]}, BySource: newSources()}
			per[county] = c
		}
		addVisits(&c.Visited, &c.Confirmed, &c.NoRisk, &c.NotReached, &c.Moved, &c.Other, outcome, n)
		addVisits(&v.Visited, &v.Confirmed, &v.NoRisk, &v.NotReached, &v.Moved, &v.Other, outcome, n)
		addSource(c.BySource, source, outcome, n)
		addSource(v.BySource, source, outcome, n)
	}
	if err := q.Err(); err != nil {
		return nil, fmt.Errorf("count the visits of %s: %w", path, err)
	}
	for _, k := range slices.Sorted(maps.Keys(per)) {
		c := per[k]
		setPrecision(c.BySource)
		v.Counties = append(v.Counties, *c)
	}
	setPrecision(v.BySource)
	return v, nil
}

// newSources is one zero line per visit source, in the standard's order.
func newSources() []rundir.SourceVisits {
	var out []rundir.SourceVisits
	for _, s := range datasets.VisitSources() {
		out = append(out, rundir.SourceVisits{Source: s})
	}
	return out
}

func addVisits(visited, confirmed, noRisk, notReached, moved, other *int, outcome string, n int) {
	*visited += n
	switch outcome {
	case "confirmed":
		*confirmed += n
	case "no_risk":
		*noRisk += n
	case "not_reached":
		*notReached += n
	case "moved":
		*moved += n
	default:
		*other += n
	}
}

func addSource(ss []rundir.SourceVisits, source, outcome string, n int) {
	k := len(ss) - 1 // other
	for i := range ss {
		if ss[i].Source == source {
			k = i
		}
	}
	ss[k].Visited += n
	switch outcome {
	case "confirmed":
		ss[k].Confirmed += n
	case "no_risk":
		ss[k].NoRisk += n
	}
}

// setPrecision sets confirmed / (confirmed + no_risk), nil when 0.
func setPrecision(ss []rundir.SourceVisits) {
	for i := range ss {
		ss[i].Precision = precision(ss[i].Confirmed, ss[i].NoRisk)
	}
}

func precision(confirmed, noRisk int) *float64 {
	if confirmed+noRisk == 0 {
		return nil
	}
	p := float64(confirmed) / float64(confirmed+noRisk)
	return &p
}

// elimRowsFile is a part's elimination rows (gob batches of rowsBatch
// rows, sorted by household_id).
const elimRowsFile = "elimination.gob"

// officePart is the part half of the office output: the group's places,
// visits, watch and elimination summary in part.json, its elimination
// rows beside them.
func officePart(o *officeSet, p *partWriter) error {
	p.put("places", o.places)
	p.put("visits", o.visits)
	p.put("watch", o.watch)
	p.put("elimination", o.elimSum)
	if o.elim == nil {
		return nil
	}
	return p.create(elimRowsFile, func(w io.Writer) error {
		enc := gob.NewEncoder(w) // in batches: the merge streams them (mergeElimRows)
		for lo := 0; lo < len(o.elim); lo += rowsBatch {
			if err := enc.Encode(o.elim[lo:min(lo+rowsBatch, len(o.elim))]); err != nil {
				return err
			}
		}
		return nil
	})
}

// mergeOffice is the merge half: summary.json places, visits, watch and
// elimination summed over the parts (rundir.Merge*), and
// elimination.parquet/.csv from every part's rows, by household_id.
func (m *merger) mergeOffice(ctx context.Context, dw *rundir.Writer, s *rundir.Summary) error {
	var places [][]rundir.Place
	var visits []*rundir.Visits
	var watch []*rundir.Watch
	var elim []*rundir.Elimination
	decode := func(dst any) func(json.RawMessage) error {
		return func(raw json.RawMessage) error { return json.Unmarshal(raw, dst) }
	}
	err := errors.Join(
		m.each("places", func(raw json.RawMessage) error {
			var p []rundir.Place
			err := decode(&p)(raw)
			places = append(places, p)
			return err
		}),
		m.each("visits", func(raw json.RawMessage) error {
			var v *rundir.Visits
			err := decode(&v)(raw)
			visits = append(visits, v)
			return err
		}),
		m.each("watch", func(raw json.RawMessage) error {
			var w *rundir.Watch
			err := decode(&w)(raw)
			watch = append(watch, w)
			return err
		}),
		m.each("elimination", func(raw json.RawMessage) error {
			var e *rundir.Elimination
			err := decode(&e)(raw)
			elim = append(elim, e)
			return err
		}))
	if err != nil {
		return err
	}
	s.Places = rundir.MergePlaces(places...)
	if s.Visits, err = rundir.MergeVisits(visits...); err != nil {
		return fault.Wrap(fault.BadInput, err)
	}
	if s.Watch, err = rundir.MergeWatch(watch...); err != nil {
		return fault.Wrap(fault.BadInput, err)
	}
	if s.Elimination, err = rundir.MergeElimination(elim...); err != nil {
		return fault.Wrap(fault.BadInput, err)
	}
	if s.Elimination == nil {
		return nil
	}
	return m.mergeElimRows(ctx, dw)
}

// mergeElimRows writes elimination.parquet and .csv from every part's
// rows, merged by household_id as they stream (a batch per part at a
// time): a first pass finds the condition names in the order of their
// first appearance (the files' columns), the second writes the rows.
func (m *merger) mergeElimRows(ctx context.Context, dw *rundir.Writer) error {
	var paths []string
	for _, part := range m.parts {
		p := filepath.Join(part, elimRowsFile)
		if _, err := os.Stat(p); err == nil {
			paths = append(paths, p)
		} else if !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("read the elimination rows of %s: %w", part, err)
		}
	}
	conds, err := elimConditionNames(paths)
	if err != nil {
		return err
	}
	err = dw.Create("elimination.parquet", func(wp io.Writer) error {
		return dw.Create("elimination.csv", func(wc io.Writer) error {
			pw, err := rundir.NewElimParquetWriter(wp, conds)
			if err != nil {
				return err
			}
			cw, err := rundir.NewElimCSVWriter(wc, conds)
			if err != nil {
				pw.Close()
				return err
			}
			err = mergeByID(paths, func(batch []rundir.ElimRow) error {
				if err := pw.Write(batch); err != nil {
					return err
				}
				if err := cw.Write(batch); err != nil {
					return err
				}
				return ctx.Err()
			})
			return errors.Join(err, pw.Close(), cw.Close())
		})
	})
	if err != nil {
		return err
	}
	m.task.Add(2)
	return ctx.Err()
}

// elimBatches reads a part's elimination rows a gob batch at a time.
type elimBatches struct {
	path  string
	f     *os.File
	dec   *gob.Decoder
	batch []rundir.ElimRow
	pos   int
}

func openElim(path string) (*elimBatches, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read the elimination rows: %w", err)
	}
	e := &elimBatches{path: path, f: f, dec: gob.NewDecoder(bufio.NewReader(f))}
	if err := e.load(); err != nil {
		f.Close()
		return nil, err
	}
	return e, nil
}

// load reads the next batch (none at the end).
func (e *elimBatches) load() error {
	e.batch, e.pos = nil, 0
	for len(e.batch) == 0 {
		var b []rundir.ElimRow
		if err := e.dec.Decode(&b); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return fault.Wrap(fault.BadInput, fmt.Errorf("read the elimination rows %s: %w", e.path, err))
		}
		e.batch = b
	}
	return nil
}

func (e *elimBatches) cur() *rundir.ElimRow {
	if e.pos < len(e.batch) {
		return &e.batch[e.pos]
	}
	return nil
}

func (e *elimBatches) next() error {
	if e.pos++; e.pos == len(e.batch) {
		return e.load()
	}
	return nil
}

// elimConditionNames is rundir.ElimConditionNames of the rows of every
// part merged by household_id, reading each part once, a batch at a time:
// a name's first appearance is the first row (by household_id) that has
// it, then its place among that row's conditions.
func elimConditionNames(paths []string) ([]string, error) {
	type first struct {
		id string
		k  int
	}
	at := map[string]first{}
	for _, p := range paths {
		e, err := openElim(p)
		if err != nil {
			return nil, err
		}
		for r := e.cur(); r != nil; r = e.cur() {
			for k, c := range r.Conditions {
				if f, ok := at[c.Name]; !ok || r.HouseholdID < f.id {
					at[c.Name] = first{r.HouseholdID, k}
				}
			}
			if err := e.next(); err != nil {
				e.f.Close()
				return nil, err
			}
		}
		e.f.Close()
	}
	names := slices.Collect(maps.Keys(at))
	sort.Slice(names, func(a, b int) bool {
		fa, fb := at[names[a]], at[names[b]]
		if fa.id != fb.id {
			return fa.id < fb.id
		}
		return fa.k < fb.k
	})
	return names, nil
}

// mergeByID merges the elimination rows of paths (each sorted by
// household_id) by household_id (ties part by part), calling fn with
// batches of up to rowsBatch rows.
func mergeByID(paths []string, fn func([]rundir.ElimRow) error) error {
	var src []*elimBatches
	defer func() {
		for _, e := range src {
			e.f.Close()
		}
	}()
	for _, p := range paths {
		e, err := openElim(p)
		if err != nil {
			return err
		}
		src = append(src, e)
	}
	out := make([]rundir.ElimRow, 0, rowsBatch)
	for {
		best := -1
		for i, e := range src { // a province has a few parts: a scan beats a heap
			if r := e.cur(); r != nil && (best < 0 || r.HouseholdID < src[best].cur().HouseholdID) {
				best = i
			}
		}
		if best < 0 || len(out) == rowsBatch {
			if len(out) > 0 {
				if err := fn(out); err != nil {
					return err
				}
				out = out[:0]
			}
			if best < 0 {
				return nil
			}
		}
		out = append(out, *src[best].cur())
		if err := src[best].next(); err != nil {
			return err
		}
	}
}
