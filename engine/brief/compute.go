package brief

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/povrisk/povrisk/datasets"
	"github.com/povrisk/povrisk/engine/civil"
	"github.com/povrisk/povrisk/engine/fault"
)

// minCell is the smallest count shown; smaller counts print as "<5".
const minCell = 5

// trendMonths is how far back the trend chart reaches.
const trendMonths = 6

// runPoint is the high-risk count of one run for the brief's region.
type runPoint struct {
	AsOf     string
	High     int
	Eligible int
	Skipped  string // why the run was not used ("" when used)
}

// areaRow is one county or township of the "where" table.
type areaRow struct {
	Code     string
	Eligible int
	High     int
	TopK     int
	Rules    int
	RefHigh  int // high-risk count in the reference run; -1 when the area was absent
	Rate     float64
}

// catRow is a count by category (risk type, profile).
type catRow struct {
	Code, Label string
	N           int
}

// insight explains one of the top risk types among new high-risk households.
type insight struct {
	RiskType  string
	N         int // new high-risk households with this primary risk type
	Share     float64
	Driver    string
	DriverN   int
	MedianOOP float64 // median out-of-pocket medical spending; -1 when unknown
}

// measureRow is the need for one assistance measure.
type measureRow struct {
	Code     string
	N        int
	Unit     float64
	ByCounty map[string]int
}

// coverageRow is one source table's coverage with its freshness verdict.
type coverageRow struct {
	Table      string
	Present    bool
	Rows       int64
	Latest     string
	Share      float64
	Rejected   int64
	Judged     bool // the policy gives the table a cadence, so the run judged its freshness
	Cadence    int  // months between expected refreshes (0: not judged)
	Stale      bool
	MonthsBack int
}

// facts are every figure the brief states, computed from the run directory
// and the earlier runs beside it.
type facts struct {
	Run, RunSHA  string
	AsOf         string
	Region       string
	Level        string // child level of the tables: "county" or "township"
	Eligible     int
	High, Medium int
	Prev, Month  *runPoint // previous run, run about a month earlier (nil when none)
	Ref          *runPoint // reference for "new" and "rise": Month, else Prev
	NewHigh      int       // high now, not high in Ref (or not eligible then)
	Rises        []areaRow // up to three areas with the sharpest rise since Ref
	Areas        []areaRow
	RiskTypes    []catRow
	Profiles     []catRow
	Insights     []insight
	Trend        []runPoint
	Measures     []measureRow
	Counties     []string
	CostsDefault bool
	RulesFlagged int
	TopK         int
	TopKMissed   int
	HighNoRule   int
	Summary      *Summary
	Coverage     []coverageRow
	Skipped      []runPoint // earlier runs not used, with the reason

	// Places names the counties and townships (summary.json places).
	Places map[string]string
	// Townships are the township rows (for the work suggestions, whatever
	// the level of the tables).
	Townships []areaRow
	// PrimaryTypes: RiskTypes count each household once by its primary
	// risk type; false: by every type it carries (an earlier run).
	PrimaryTypes bool
	// VisitTrend is what the visits found in the earlier runs of the trend
	// window and this one, oldest first (runs without visits left out).
	VisitTrend []visitPoint
	// Due is the date by which the priority visits are to be made.
	Due string
}

// visitDays is how many days after the as-of date the brief asks the
// priority visits to be made.
const visitDays = 15

// compute gathers the facts of the run in dir for the region prefix. It is
// a list of small computations, each taking the typed outputs of the ones
// before it; errors reading the runs are marked fault.BadInput unless a
// reader marked them otherwise (an altered run is fault.Tampered).
func compute(ctx context.Context, dir, region string, costs map[string]float64, costsDefault bool) (*facts, error) {
	cur, err := loadCurrent(ctx, dir, region)
	if err != nil {
		return nil, badInput(err)
	}
	f := &facts{Run: cur.Name, RunSHA: cur.SHA, AsOf: cur.Summary.AsOf, Region: region, Summary: cur.Summary, CostsDefault: costsDefault}
	f.Level = levelOf(region, cur.Rows)
	f.Places = placeNames(cur.Summary)
	f.Due = civil.Format(cur.AsOf.AddDate(0, 0, visitDays))
	countNow(f, cur.Rows)

	h := newHistory(dir, cur.Summary.AsOf, region)
	refs, err := h.references(ctx, cur.AsOf)
	if err != nil {
		return nil, badInput(err)
	}
	f.Prev, f.Month, f.Ref = refs.Prev, refs.Month, refs.Ref
	if f.Trend, err = h.trend(ctx, cur.AsOf, refs); err != nil {
		return nil, badInput(err)
	}
	f.Trend = append(f.Trend, runPoint{AsOf: f.AsOf, High: f.High, Eligible: f.Eligible})
	f.VisitTrend = h.visitTrend(f.Trend[:len(f.Trend)-1])
	if p := visitPointOf(f.AsOf, cur.Summary.Visits, region); p != nil {
		f.VisitTrend = append(f.VisitTrend, *p)
	}
	f.Skipped = h.skipped

	fresh := newlyHigh(cur.Rows, refs.Rows)
	f.NewHigh = len(fresh)
	f.Areas = areaRows(cur.Rows, f.Level, refAreas(refs.Rows, f.Level))
	if f.Ref != nil {
		f.Rises = sharpestRises(f.Areas, 3)
	}
	f.Townships = areaRows(cur.Rows, "township", nil)
	f.RiskTypes, f.Profiles = whyCounts(cur.Rows)
	if p, ok := primaryCounts(cur.Rows); ok {
		f.RiskTypes, f.PrimaryTypes = p, true
	}
	f.Insights = insights(fresh)
	f.Measures, f.Counties = measureNeed(cur.Rows, costs)
	f.Coverage = coverageRows(cur.Summary, cur.AsOf)
	return f, nil
}

// badInput marks an error nobody classified as fault.BadInput (an
// unreadable or inconsistent run directory); a marked error, a write
// failure or the end of the context keeps its own kind.
func badInput(err error) error {
	if err == nil || fault.Of(err) != fault.Internal || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fault.Wrap(fault.BadInput, err)
}

// current is the run being briefed, verified, with its households in the region.
type current struct {
	Name, SHA string
	Summary   *Summary
	AsOf      time.Time
	Rows      []household
}

// loadCurrent verifies the run directory and reads its summary and the
// households of the region.
func loadCurrent(ctx context.Context, dir, region string) (*current, error) {
	sumHash, err := Verify(dir)
	if err != nil {
		return nil, err
	}
	return readCurrent(ctx, dir, region, sumHash)
}

// readCurrent reads the summary and the households of a verified run.
func readCurrent(ctx context.Context, dir, region, sumHash string) (*current, error) {
	s, err := readSummary(dir)
	if err != nil {
		return nil, err
	}
	asOf, err := civil.Parse(s.AsOf)
	if err != nil {
		return nil, fmt.Errorf("read %s: as_of: %w", filepath.Join(dir, "summary.json"), err)
	}
	rows, err := readRanked(ctx, dir, region)
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("region %q: no eligible household of run %s is in it; check the prefix", region, s.AsOf)
	}
	return &current{Name: filepath.Base(filepath.Clean(dir)), SHA: sumHash, Summary: s, AsOf: asOf, Rows: rows}, nil
}

// levelOf is the child level of the brief's tables: counties when the
// region spans more than one county, else townships.
func levelOf(region string, rows []household) string {
	if len(region) < 6 {
		counties := map[string]bool{}
		for _, h := range rows {
			counties[h.county] = true
		}
		if len(counties) > 1 {
			return "county"
		}
	}
	return "township"
}

// countNow fills the current counts of the facts.
func countNow(f *facts, rows []household) {
	f.Eligible = len(rows)
	for _, h := range rows {
		switch h.tier {
		case "high":
			f.High++
		case "medium":
			f.Medium++
		}
		if h.rules != "" {
			f.RulesFlagged++
		}
		if h.topK {
			f.TopK++
			if h.rules == "" {
				f.TopKMissed++
			}
		}
		if h.tier == "high" && h.rules == "" {
			f.HighNoRule++
		}
	}
}

// history reads the earlier runs beside the current one. Each is verified
// only when used, so that a year of nightly runs is not hashed for every
// brief; a run that fails verification is skipped and recorded.
type history struct {
	parent  string
	region  string
	earlier []string        // run names before the current as-of, oldest first
	verdict map[string]bool // verified names: usable or not
	loaded  map[string]*runPoint
	skipped []runPoint
}

func newHistory(dir, asOf, region string) *history {
	return &history{parent: filepath.Dir(filepath.Clean(dir)), region: region, earlier: earlierRuns(dir, asOf),
		verdict: map[string]bool{}, loaded: map[string]*runPoint{}}
}

// usable verifies the run name once.
func (h *history) usable(name string) bool {
	if ok, seen := h.verdict[name]; seen {
		return ok
	}
	_, err := Verify(filepath.Join(h.parent, name))
	h.verdict[name] = err == nil
	if err != nil {
		h.skipped = append(h.skipped, runPoint{AsOf: name, Skipped: err.Error()})
	}
	return err == nil
}

// latest is the newest usable run dated on or before upTo ("" when none).
func (h *history) latest(upTo string) string {
	for i := len(h.earlier) - 1; i >= 0; i-- {
		if h.earlier[i] <= upTo && h.usable(h.earlier[i]) {
			return h.earlier[i]
		}
	}
	return ""
}

// load reads the households of run name in the region and counts them; a
// run already loaded gives the same point.
func (h *history) load(ctx context.Context, name string) (*runPoint, []household, error) {
	rs, err := readRanked(ctx, filepath.Join(h.parent, name), h.region)
	if err != nil {
		return nil, nil, err
	}
	p := &runPoint{AsOf: name, Eligible: len(rs)}
	for _, r := range rs {
		if r.tier == "high" {
			p.High++
		}
	}
	h.loaded[name] = p
	return p, rs, nil
}

// refs are the runs the brief compares with: the previous run, the run
// about a month earlier, and the reference for "new" and "rise" (Month,
// else Prev) with its households.
type refs struct {
	Prev, Month, Ref *runPoint
	Rows             []household
}

// references finds and reads the previous run and the run a month earlier.
func (h *history) references(ctx context.Context, asOf time.Time) (refs, error) {
	var r refs
	prevName := h.latest(civil.Format(asOf))
	if prevName == "" {
		return r, nil
	}
	monthName := h.latest(civil.Format(monthBefore(asOf, 1)))
	p, prs, err := h.load(ctx, prevName)
	if err != nil {
		return r, err
	}
	r.Prev, r.Ref, r.Rows = p, p, prs
	switch {
	case monthName == "":
	case monthName == prevName:
		r.Month = p
	default:
		m, mrs, err := h.load(ctx, monthName)
		if err != nil {
			return r, err
		}
		r.Month, r.Ref, r.Rows = m, m, mrs
	}
	return r, nil
}

// trend lists the usable runs of the last trendMonths months (at most 40,
// thinned to month ends), oldest first, reusing the runs already read.
func (h *history) trend(ctx context.Context, asOf time.Time, r refs) ([]runPoint, error) {
	from := civil.Format(monthBefore(asOf, trendMonths))
	var window []string
	for _, e := range h.earlier {
		if e > from {
			window = append(window, e)
		}
	}
	var out []runPoint
	for _, name := range thin(window, 40) {
		if !h.usable(name) {
			continue
		}
		p := h.loaded[name]
		if p == nil {
			var err error
			if p, _, err = h.load(ctx, name); err != nil {
				return nil, err
			}
		}
		out = append(out, *p)
	}
	return out, nil
}

// visitTrend reads what the visits found from the summaries of the
// earlier runs of the trend (already verified); a run whose summary
// records no visits, or cannot be read, is left out.
func (h *history) visitTrend(runs []runPoint) []visitPoint {
	var out []visitPoint
	for _, r := range runs {
		s, err := readSummary(filepath.Join(h.parent, r.AsOf))
		if err != nil {
			continue
		}
		if p := visitPointOf(r.AsOf, s.Visits, h.region); p != nil {
			out = append(out, *p)
		}
	}
	return out
}

// refAreas counts the high-risk households of the reference run by area;
// an area present in the reference with none counts 0.
func refAreas(refRows []household, level string) map[string]int {
	out := map[string]int{}
	for _, h := range refRows {
		a := h.area(level)
		if h.tier == "high" {
			out[a]++
		} else if _, ok := out[a]; !ok {
			out[a] = 0
		}
	}
	return out
}

// newlyHigh lists the high-risk households that were not high in the reference run.
func newlyHigh(rows, refRows []household) []household {
	refHigh := map[string]bool{}
	for _, h := range refRows {
		if h.tier == "high" {
			refHigh[h.id] = true
		}
	}
	var fresh []household
	for _, h := range rows {
		if h.tier == "high" && !refHigh[h.id] {
			fresh = append(fresh, h)
		}
	}
	return fresh
}

// areaRows counts the households by area, highest rate per 1,000 first.
func areaRows(rows []household, level string, refArea map[string]int) []areaRow {
	areas := map[string]*areaRow{}
	for _, h := range rows {
		a := h.area(level)
		r := areas[a]
		if r == nil {
			r = &areaRow{Code: a, RefHigh: -1}
			if n, ok := refArea[a]; ok {
				r.RefHigh = n
			}
			areas[a] = r
		}
		r.Eligible++
		if h.tier == "high" {
			r.High++
		}
		if h.topK {
			r.TopK++
		}
		if h.rules != "" {
			r.Rules++
		}
	}
	var out []areaRow
	for _, k := range slices.Sorted(maps.Keys(areas)) {
		r := areas[k]
		r.Rate = 1000 * float64(r.High) / float64(r.Eligible)
		out = append(out, *r)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Rate > out[j].Rate })
	return out
}

// sharpestRises are up to n areas whose high-risk count rose most since the
// reference run. An area whose count the table withholds is not named either.
func sharpestRises(areas []areaRow, n int) []areaRow {
	highs := make([]int, len(areas))
	for i, a := range areas {
		highs[i] = a.High
	}
	hidden, _ := protect(highs)
	var rises []areaRow
	for i, a := range areas {
		if !hidden[i] && a.RefHigh >= 0 && a.High > a.RefHigh {
			rises = append(rises, a)
		}
	}
	sort.SliceStable(rises, func(i, j int) bool {
		di, dj := rises[i].High-rises[i].RefHigh, rises[j].High-rises[j].RefHigh
		if di != dj {
			return di > dj
		}
		return rises[i].Code < rises[j].Code
	})
	if len(rises) > n {
		rises = rises[:n]
	}
	return rises
}

// whyCounts counts the high-risk households by risk type and by profile.
func whyCounts(rows []household) (riskTypes, profiles []catRow) {
	byType := map[string]int{}
	byProfile := map[string]int{}
	profileZh := map[string]string{}
	for _, h := range rows {
		if h.tier != "high" {
			continue
		}
		for _, t := range splitList(h.riskTypes) {
			byType[t]++
		}
		p := h.profile
		if p == "" {
			p = "unassigned"
		}
		byProfile[p]++
		if h.profileZh != "" {
			profileZh[p] = h.profileZh
		}
	}
	return ranked(byType, nil), ranked(byProfile, profileZh)
}

// insights explain up to three primary risk types of the newly high-risk
// households, each of at least minCell households.
func insights(fresh []household) []insight {
	byPrimary := map[string][]household{}
	for _, h := range fresh {
		byPrimary[h.primary] = append(byPrimary[h.primary], h)
	}
	var out []insight
	for _, c := range ranked(lens(byPrimary), nil) {
		if len(out) == 3 || c.N < minCell {
			break
		}
		in := insight{RiskType: c.Code, N: c.N, Share: float64(c.N) / float64(len(fresh)), MedianOOP: -1}
		drivers := map[string]int{}
		var oops []float64
		for _, h := range byPrimary[c.Code] {
			if h.driver != "" {
				drivers[h.driver]++
			}
			if h.oopValid {
				oops = append(oops, h.oop)
			}
		}
		if d := ranked(drivers, nil); len(d) > 0 {
			in.Driver, in.DriverN = d[0].Code, d[0].N
		}
		if len(oops) >= minCell {
			in.MedianOOP = median(oops)
		}
		out = append(out, in)
	}
	return out
}

// measureNeed counts the measures suggested for the high-risk households,
// in total and by county, with their unit costs; and lists the counties.
func measureNeed(rows []household, costs map[string]float64) ([]measureRow, []string) {
	counties := map[string]bool{}
	need := map[string]*measureRow{}
	for _, h := range rows {
		if h.tier != "high" {
			continue
		}
		counties[h.county] = true
		for _, m := range splitList(h.measures) {
			r := need[m]
			if r == nil {
				r = &measureRow{Code: m, Unit: costs[m], ByCounty: map[string]int{}}
				need[m] = r
			}
			r.N++
			r.ByCounty[h.county]++
		}
	}
	var out []measureRow
	for _, m := range orderedPrograms(need) {
		out = append(out, *need[m])
	}
	return out, slices.Sorted(maps.Keys(counties))
}

// coverageRows lists every source table of the summary with the run's
// verdict on its freshness.
func coverageRows(s *Summary, asOf time.Time) []coverageRow {
	var out []coverageRow
	for _, c := range s.Coverage {
		row := coverageRow{Table: c.Table, Present: c.Present, Rows: c.Rows, Latest: c.Latest, Share: c.HouseholdsShare, Rejected: c.Rejected}
		// Freshness is the run's verdict (the policy's cadences); the brief
		// only says how far back the latest date lies.
		row.Judged, row.Stale, row.Cadence = c.CadenceMonths > 0, c.Present && c.Stale, c.CadenceMonths
		if c.Present && c.Latest != "" {
			if t, err := civil.Parse(c.Latest); err == nil {
				row.MonthsBack = monthsBetween(t, asOf)
			}
		}
		out = append(out, row)
	}
	return out
}

// area returns the code of the household's county or township.
func (h household) area(level string) string {
	if level == "county" {
		return h.county
	}
	return h.township
}

// earlierRuns lists the run directories beside dir dated before asOf,
// oldest first (not yet verified).
func earlierRuns(dir, asOf string) []string {
	ents, err := os.ReadDir(filepath.Dir(filepath.Clean(dir)))
	if err != nil {
		return nil
	}
	var names []string
	for _, e := range ents {
		n := e.Name()
		if !e.IsDir() || n >= asOf {
			continue
		}
		if _, err := civil.Parse(n); err != nil {
			continue
		}
		names = append(names, n)
	}
	return names
}

// thin keeps at most max runs: the last run of each month, then the latest
// runs, when there are more.
func thin(names []string, max int) []string {
	if len(names) <= max {
		return names
	}
	var out []string
	for i, n := range names {
		if i == len(names)-1 || names[i+1][:7] != n[:7] {
			out = append(out, n)
		}
	}
	if len(out) > max {
		out = out[len(out)-max:]
	}
	return out
}

// monthBefore returns the same day n months earlier, clamped to the month's
// last day (2025-12-31 -> 2025-11-30).
func monthBefore(t time.Time, n int) time.Time {
	first := civil.Date(t.Year(), t.Month()-time.Month(n), 1)
	return civil.Date(first.Year(), first.Month(), min(t.Day(), civil.DaysInMonth(first.Year(), first.Month())))
}

// monthsBetween counts whole months from a to b (0 when b is not a month
// after a): the calendar months between them, less one when b's day of the
// month has not reached a's.
func monthsBetween(a, b time.Time) int {
	n := civil.MonthsBetween(a, b)
	if n > 0 && monthBefore(b, n).Before(a) {
		n--
	}
	return max(n, 0)
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ";") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// ranked orders counts by count descending, then code.
func ranked(m map[string]int, labels map[string]string) []catRow {
	out := make([]catRow, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, catRow{Code: k, Label: labels[k], N: m[k]})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].N > out[j].N })
	return out
}

func lens(m map[string][]household) map[string]int {
	out := make(map[string]int, len(m))
	for k, v := range m {
		out[k] = len(v)
	}
	return out
}

func median(x []float64) float64 {
	s := append([]float64(nil), x...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// orderedPrograms lists the measures in the data standard's order, then any
// unknown code alphabetically.
func orderedPrograms(need map[string]*measureRow) []string {
	var out []string
	known := map[string]bool{}
	for _, p := range datasets.Programs() {
		known[p] = true
		if need[p] != nil {
			out = append(out, p)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(need)) {
		if !known[k] {
			out = append(out, k)
		}
	}
	return out
}
