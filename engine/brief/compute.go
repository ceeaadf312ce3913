package brief

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/povrisk/povrisk/datasets"
)

// minCell is the smallest count shown; smaller counts print as "<5".
const minCell = 5

// staleAfterMonths: a source feed whose latest date is older than this
// many months before the as-of date is stale. Only feeds that flow every
// month are judged (education by terms, which start twice a year); tables of
// registrations and events (households, disasters, ...) have no expected
// rhythm, so an old latest date says nothing about them.
var staleAfterMonths = map[string]int{
	"medical_claims": 2, "income_records": 2, "social_insurance": 2, "education": 8,
}

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
	Judged     bool // a monthly feed whose freshness is judged
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
}

// compute gathers the facts of the run in dir for the region prefix.
func compute(ctx context.Context, dir, region string, costs map[string]float64, costsDefault bool) (*facts, error) {
	sumHash, err := Verify(dir)
	if err != nil {
		return nil, err
	}
	s, err := readSummary(dir)
	if err != nil {
		return nil, err
	}
	asOf, err := time.Parse(time.DateOnly, s.AsOf)
	if err != nil {
		return nil, fmt.Errorf("read %s: as_of %q is not a date: %w", filepath.Join(dir, "summary.json"), s.AsOf, err)
	}
	rows, err := readRanked(ctx, dir, region)
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("region %q: no eligible household of run %s is in it; check the prefix", region, s.AsOf)
	}
	f := &facts{Run: filepath.Base(filepath.Clean(dir)), RunSHA: sumHash, AsOf: s.AsOf, Region: region, Summary: s, CostsDefault: costsDefault}
	f.Level = "township"
	if len(region) < 6 {
		counties := map[string]bool{}
		for _, h := range rows {
			counties[h.county] = true
		}
		if len(counties) > 1 {
			f.Level = "county"
		}
	}
	// Current counts.
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

	// Earlier runs: verified only when used, so that a year of nightly
	// runs is not hashed for every brief.
	earlier := earlierRuns(dir, s.AsOf)
	parent := filepath.Dir(filepath.Clean(dir))
	verdict := map[string]bool{}
	usable := func(name string) bool {
		if ok, seen := verdict[name]; seen {
			return ok
		}
		_, err := Verify(filepath.Join(parent, name))
		verdict[name] = err == nil
		if err != nil {
			f.Skipped = append(f.Skipped, runPoint{AsOf: name, Skipped: err.Error()})
		}
		return err == nil
	}
	latest := func(upTo string) string {
		for i := len(earlier) - 1; i >= 0; i-- {
			if earlier[i] <= upTo && usable(earlier[i]) {
				return earlier[i]
			}
		}
		return ""
	}
	var refRows []household
	load := func(name string) (*runPoint, []household, error) {
		rs, err := readRanked(ctx, filepath.Join(parent, name), region)
		if err != nil {
			return nil, nil, err
		}
		p := &runPoint{AsOf: name, Eligible: len(rs)}
		for _, h := range rs {
			if h.tier == "high" {
				p.High++
			}
		}
		return p, rs, nil
	}
	if prevName := latest(s.AsOf); prevName != "" {
		monthName := latest(monthBefore(asOf, 1).Format(time.DateOnly))
		p, prs, err := load(prevName)
		if err != nil {
			return nil, err
		}
		f.Prev, f.Ref, refRows = p, p, prs
		if monthName != "" {
			if monthName == prevName {
				f.Month = p
			} else {
				m, mrs, err := load(monthName)
				if err != nil {
					return nil, err
				}
				f.Month = m
				f.Ref, refRows = m, mrs
			}
		}
	}
	// Trend: the runs of the last months, then this one.
	from := monthBefore(asOf, trendMonths).Format(time.DateOnly)
	var window []string
	for _, e := range earlier {
		if e > from {
			window = append(window, e)
		}
	}
	for _, name := range thin(window, 40) {
		if !usable(name) {
			continue
		}
		var p *runPoint
		switch {
		case f.Prev != nil && name == f.Prev.AsOf:
			p = f.Prev
		case f.Month != nil && name == f.Month.AsOf:
			p = f.Month
		default:
			p, _, err = load(name)
			if err != nil {
				return nil, err
			}
		}
		f.Trend = append(f.Trend, *p)
	}
	f.Trend = append(f.Trend, runPoint{AsOf: s.AsOf, High: f.High, Eligible: f.Eligible})

	// New high-risk households and areas against the reference run.
	refHigh := map[string]bool{}
	refArea := map[string]int{}
	for _, h := range refRows {
		a := h.area(f.Level)
		if _, ok := refArea[a]; !ok {
			refArea[a] = 0
		}
		if h.tier == "high" {
			refHigh[h.id] = true
			refArea[a]++
		}
	}
	var fresh []household
	for _, h := range rows {
		if h.tier == "high" && !refHigh[h.id] {
			fresh = append(fresh, h)
		}
	}
	f.NewHigh = len(fresh)

	// Areas.
	areas := map[string]*areaRow{}
	for _, h := range rows {
		a := h.area(f.Level)
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
	for _, k := range slices.Sorted(maps.Keys(areas)) {
		r := areas[k]
		r.Rate = 1000 * float64(r.High) / float64(r.Eligible)
		f.Areas = append(f.Areas, *r)
	}
	sort.SliceStable(f.Areas, func(i, j int) bool { return f.Areas[i].Rate > f.Areas[j].Rate })
	if f.Ref != nil {
		// An area whose count the table withholds is not named either.
		highs := make([]int, len(f.Areas))
		for i, a := range f.Areas {
			highs[i] = a.High
		}
		hidden, _ := protect(highs)
		var rises []areaRow
		for i, a := range f.Areas {
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
		if len(rises) > 3 {
			rises = rises[:3]
		}
		f.Rises = rises
	}

	// Why: risk types and profiles of the high-risk households.
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
	f.RiskTypes = ranked(byType, nil)
	f.Profiles = ranked(byProfile, profileZh)
	// Insights: primary risk types of the new high-risk households.
	byPrimary := map[string][]household{}
	for _, h := range fresh {
		byPrimary[h.primary] = append(byPrimary[h.primary], h)
	}
	for _, c := range ranked(lens(byPrimary), nil) {
		if len(f.Insights) == 3 || c.N < minCell {
			break
		}
		hs := byPrimary[c.Code]
		in := insight{RiskType: c.Code, N: c.N, Share: float64(c.N) / float64(len(fresh)), MedianOOP: -1}
		drivers := map[string]int{}
		var oops []float64
		for _, h := range hs {
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
		f.Insights = append(f.Insights, in)
	}

	// Resources: measures suggested for the high-risk households.
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
	f.Counties = slices.Sorted(maps.Keys(counties))
	for _, m := range orderedPrograms(need) {
		f.Measures = append(f.Measures, *need[m])
	}

	f.Coverage = coverageRows(s, asOf)
	return f, nil
}

// coverageRows judges the freshness of every source table of the summary.
func coverageRows(s *Summary, asOf time.Time) []coverageRow {
	var out []coverageRow
	for _, c := range s.Coverage {
		row := coverageRow{Table: c.Table, Present: c.Present, Rows: c.Rows, Latest: c.Latest, Share: c.HouseholdsShare, Rejected: c.Rejected}
		limit, judged := staleAfterMonths[c.Table]
		row.Judged = judged
		if c.Present && c.Latest != "" {
			if t, err := time.Parse(time.DateOnly, c.Latest); err == nil {
				row.MonthsBack = monthsBetween(t, asOf)
				row.Stale = judged && t.Before(monthBefore(asOf, limit))
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
		if _, err := time.Parse(time.DateOnly, n); err != nil {
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
	y, m, d := t.Date()
	first := time.Date(y, m-time.Month(n), 1, 0, 0, 0, 0, time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	if d > last {
		d = last
	}
	return time.Date(first.Year(), first.Month(), d, 0, 0, 0, 0, time.UTC)
}

// monthsBetween counts whole months from a to b.
func monthsBetween(a, b time.Time) int {
	n := 0
	for !monthBefore(b, n+1).Before(a) {
		n++
	}
	return n
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
