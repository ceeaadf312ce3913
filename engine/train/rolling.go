package train

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/povrisk/povrisk/engine/civil"
	"github.com/povrisk/povrisk/engine/fault"
	"github.com/povrisk/povrisk/engine/progress"
	"github.com/povrisk/povrisk/models"
	"github.com/povrisk/povrisk/models/eval"
	"github.com/povrisk/povrisk/models/registry"
)

// Rolling-origin defaults (Options.Origins, OriginStep, MinHistoryMonths).
const (
	DefaultOrigins    = 4
	DefaultOriginStep = 3 // months between test origins
	// DefaultMinHistory: a training snapshot is used only when the data
	// start at least this many months before it (its 6-month windows are
	// then full).
	DefaultMinHistory = 6
)

// Rolling is the temporal layout of the rolling-origin evaluation: test
// origins T_k = T_test - k*step (k = 0 latest), each evaluated with a
// model trained on snapshots D = T_k - H - i (so every training label
// (D, D+H] ends by T_k), and the saved model's snapshots D = T_test - i.
type Rolling struct {
	DataStart time.Time
	DataEnd   time.Time
	Horizon   int
	Earliest  time.Time   // the first usable training snapshot (zero: no bound)
	Tests     []time.Time // latest first
	Notes     []string
}

// MakeRolling lays out up to n origins step months apart for T_end = end.
// An origin is kept when at least minSnaps of its training snapshots fall
// on or after the earliest usable date (data start + minHistory months);
// the latest origin is always kept. Fewer origins than asked get a note.
func MakeRolling(end, dataStart time.Time, horizon, n, step, minSnaps, minHistory int) Rolling {
	end = civil.MonthEnd(end)
	r := Rolling{DataStart: dataStart, DataEnd: end, Horizon: horizon}
	if !dataStart.IsZero() {
		r.Earliest = civil.AddMonths(civil.MonthEnd(dataStart), minHistory)
	}
	test := civil.AddMonths(end, -horizon)
	for k := 0; k < n; k++ {
		t := civil.AddMonths(test, -k*step)
		if k > 0 && len(r.TrainDates(t, minSnaps)) < minSnaps {
			break
		}
		r.Tests = append(r.Tests, t)
	}
	if len(r.Tests) < n {
		r.Notes = append(r.Notes, fmt.Sprintf("%d rolling origins of the %d asked: the data (from %s) are too short for more with %d-month steps, a %d-month horizon and %d training snapshots",
			len(r.Tests), n, civil.Format(dataStart), step, horizon, minSnaps))
	}
	return r
}

// TrainDates are the training snapshots of the origin test for s
// snapshots, oldest first, without those before Earliest.
func (r Rolling) TrainDates(test time.Time, s int) []time.Time {
	var out []time.Time
	for i := s - 1; i >= 0; i-- {
		d := civil.AddMonths(test, -r.Horizon-i)
		if !r.Earliest.IsZero() && d.Before(r.Earliest) {
			continue
		}
		out = append(out, d)
	}
	return out
}

// FinalDates are the saved model's training snapshots for s snapshots.
func (r Rolling) FinalDates(s int) []time.Time {
	return r.TrainDates(civil.AddMonths(r.Tests[0], r.Horizon), s)
}

// trainSet is the stacked training rows of some snapshots, with the
// sampling applied.
type trainSet struct {
	dates  []time.Time
	X      models.Matrix
	y      []int
	w      []float64 // nil: every row weighs 1
	sample *registry.Sampling
	visits int // labels from visits; -1 unknown
}

// stackSet stacks the snapshots of dates (those with households),
// sampling negatives above o.MaxRows.
func stackSet(ctx context.Context, b *builder, dates []time.Time, o Options) (*trainSet, error) {
	ts := &trainSet{}
	var snaps []*Snapshot
	for _, d := range dates {
		s, err := b.get(ctx, d)
		if err != nil {
			return nil, err
		}
		if len(s.Y) == 0 {
			continue
		}
		snaps = append(snaps, s)
		ts.dates = append(ts.dates, d)
		if s.VisitLabels < 0 || ts.visits < 0 {
			ts.visits = -1
		} else {
			ts.visits += s.VisitLabels
		}
	}
	if len(snaps) == 0 {
		return nil, fault.Wrap(fault.BadInput, fmt.Errorf("no training snapshot among %s has households not already monitored: the data window is too short for a %d-month horizon", fmtDates(dates), o.HorizonMonths))
	}
	X, y, err := Stack(snaps, nil)
	if err != nil {
		return nil, err
	}
	if p := sum(y); p == 0 || p == len(y) {
		return nil, fault.Wrap(fault.BadInput, fmt.Errorf("training snapshots %s have %d positive of %d rows: need both outcomes (is monitoring_events in the warehouse?)", fmtDates(ts.dates), p, len(y)))
	}
	var county []string
	var prior []float64 // weights of snapshots sampled when built; nil: all 1
	for _, s := range snaps {
		county = append(county, s.County...)
		if s.W != nil && prior == nil {
			prior = make([]float64, 0, len(y))
			for _, p := range snaps {
				if p == s {
					break
				}
				prior = append(prior, ones(len(p.Y))...)
			}
		}
		if prior != nil {
			if s.W != nil {
				prior = append(prior, s.W...)
			} else {
				prior = append(prior, ones(len(s.Y))...)
			}
		}
	}
	idx, w, rec := sampleRows(y, county, o.MaxRows, o.Seed)
	ts.sample = rec
	ts.w = prior
	if prior != nil {
		rec.Applied = true
		rec.Notes = append(rec.Notes, "snapshots that are no origin's test date kept a sample of their negatives when built (weights applied); rows counts the rows kept")
	}
	if idx != nil {
		X, y = X.Subset(idx), pick(y, idx)
		if prior != nil {
			for k, i := range idx {
				w[k] *= prior[i]
			}
		}
		ts.w = w
		o.logf("sampled %d of %d training rows (all %d positives, negatives at %.4f per county)", rec.Kept, rec.Rows, rec.Positives, rec.Rate)
	}
	ts.X, ts.y = X, y
	return ts, nil
}

func fmtDates(ds []time.Time) string {
	if len(ds) == 0 {
		return "(none)"
	}
	return civil.Format(ds[0]) + ".." + civil.Format(ds[len(ds)-1])
}

// testSnapshot is the snapshot of origin t, refused when it lacks an
// outcome.
func testSnapshot(ctx context.Context, b *builder, t time.Time) (*Snapshot, error) {
	s, err := b.get(ctx, t)
	if err != nil {
		return nil, err
	}
	if p := sum(s.Y); p == 0 || p == len(s.Y) {
		return nil, fault.Wrap(fault.BadInput, fmt.Errorf("test snapshot %s has %d positive of %d households: need both outcomes", civil.Format(t), p, len(s.Y)))
	}
	return s, nil
}

// originRun is the chosen configuration on one origin: its model, the
// raw scores of the test snapshot and the figures.
type originRun struct {
	test    *Snapshot
	set     *trainSet
	model   models.Classifier
	p       []float64
	metrics *Metrics
}

// runOrigin fits c on the origin t's training snapshots and scores t.
func runOrigin(ctx context.Context, b *builder, r Rolling, t time.Time, c Config, trees int, o Options, stage string, full bool) (*originRun, error) {
	test, err := testSnapshot(ctx, b, t)
	if err != nil {
		return nil, err
	}
	ts, err := stackSet(ctx, b, r.TrainDates(t, c.snapshots(o)), o)
	if err != nil {
		return nil, err
	}
	m, err := fitConfig(ctx, c, ts.X, ts.y, ts.w, trees, o, stage)
	if err != nil {
		return nil, err
	}
	run := &originRun{test: test, set: ts, model: m, p: make([]float64, test.X.Rows)}
	m.PredictProba(test.X, run.p)
	if full {
		plan := Plan{DataStart: r.DataStart, DataEnd: civil.AddMonths(t, r.Horizon), Test: t}
		oo := o
		if t != r.Tests[0] {
			oo.Truth = "" // the ground truth is read for the latest origin (others: when it covers them, below)
		}
		if run.metrics, err = score(test, run.p, oo, plan); err != nil {
			return nil, err
		}
		run.metrics.TrainRows, run.metrics.TrainPositive = len(ts.y), sum(ts.y)
		for _, d := range ts.dates {
			run.metrics.TrainAsOf = append(run.metrics.TrainAsOf, civil.Format(d))
		}
	}
	return run, nil
}

// snapshots is the configuration's snapshot count.
func (c Config) snapshots(o Options) int {
	if c.Snapshots > 0 {
		return c.Snapshots
	}
	return o.Snapshots
}

// originMetrics is the card's record of one origin.
func originMetrics(run *originRun, o Options) registry.OriginMetrics {
	m := run.metrics
	om := registry.OriginMetrics{TestAsOf: m.TestAsOf, TrainAsOf: m.TrainAsOf, TrainRows: m.TrainRows, TrainPositive: m.TrainPositive,
		TestRows: m.TestRows, TestPositive: m.TestPositive, AUC: m.AUC, PRAUC: m.PRAUC, Brier: m.Brier, PrecisionAt: m.PrecisionAt,
		PrecisionAtLo: map[string]float64{}, PrecisionAtHi: map[string]float64{}, CountyPrecision: m.CountyPrecision,
		RulesAUC: m.RulesAUC, RulesPRAUC: m.RulesPRAUC, RulesPrecisionAt: m.RulesPrecisionAt, RulesCountyPrecision: m.RulesCountyPrecision,
		OracleAUC: m.OracleAUC}
	for _, sh := range shares() {
		lo, hi := eval.PrecisionAtShareTies(run.test.Y, run.p, sh)
		om.PrecisionAtLo[registry.ShareKey(sh)], om.PrecisionAtHi[registry.ShareKey(sh)] = lo, hi
	}
	if om.OracleAUC == nil && o.Truth != "" {
		if truth, err := readTruth(o.Truth, run.test.AsOf); err == nil {
			var y []int
			var p []float64
			for i, id := range run.test.IDs {
				if v, ok := truth[id]; ok {
					y, p = append(y, run.test.Y[i]), append(p, v)
				}
			}
			if a := eval.ROCAUC(y, p); !math.IsNaN(a) {
				om.OracleAUC = &a
			}
		}
	}
	return om
}

// meanSD are the mean and population standard deviation of v.
func meanSD(v []float64) (float64, float64) {
	if len(v) == 0 {
		return math.NaN(), math.NaN()
	}
	var s float64
	for _, x := range v {
		s += x
	}
	mean := s / float64(len(v))
	var ss float64
	for _, x := range v {
		ss += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(ss / float64(len(v)))
}

// summarise fills the mean and spread over origins of the headline figures.
func summarise(m *Metrics) {
	get := map[string]func(registry.OriginMetrics) float64{
		"auc": func(o registry.OriginMetrics) float64 { return o.AUC }, "pr_auc": func(o registry.OriginMetrics) float64 { return o.PRAUC },
		"brier":            func(o registry.OriginMetrics) float64 { return o.Brier },
		"county_precision": func(o registry.OriginMetrics) float64 { return o.CountyPrecision },
		"rules_auc":        func(o registry.OriginMetrics) float64 { return o.RulesAUC },
		"rules_county_precision": func(o registry.OriginMetrics) float64 {
			return o.RulesCountyPrecision
		},
	}
	for _, sh := range shares() {
		k := registry.ShareKey(sh)
		get["precision_at_"+k] = func(o registry.OriginMetrics) float64 { return o.PrecisionAt[k] }
	}
	m.OriginsMean, m.OriginsSD = map[string]float64{}, map[string]float64{}
	for name, f := range get {
		var v []float64
		for _, o := range m.Origins {
			if x := f(o); !math.IsNaN(x) {
				v = append(v, x)
			}
		}
		if len(v) > 0 {
			m.OriginsMean[name], m.OriginsSD[name] = meanSD(v)
		}
	}
}

// selectConfig evaluates every configuration of the grid on the origins
// (forests of o.EvalTrees trees) and applies the selection rule: among
// the configurations whose mean AUC is within o.Tolerance of the best,
// the one with the best mean county precision at k (ties: higher mean
// AUC, then grid order). With one configuration it is chosen unscored.
func selectConfig(ctx context.Context, b *builder, r Rolling, grid []Config, o Options) (Config, *registry.Selection, error) {
	if len(grid) == 1 {
		return grid[0], nil, nil
	}
	sel := &registry.Selection{Rule: SelectionRule, Tolerance: o.Tolerance, EvalTrees: o.EvalTrees}
	for _, t := range r.Tests {
		sel.Origins = append(sel.Origins, civil.Format(t))
	}
	task := o.Reporter.Start("grid", int64(len(grid)*len(r.Tests)))
	defer task.Done()
	quiet := o
	quiet.Reporter = nopReporter{}
	sel.Configs = make([]registry.ConfigScore, len(grid))
	prs := make([][]float64, len(grid))
	for i, c := range grid {
		sel.Configs[i] = registry.ConfigScore{Name: c.label(), Family: c.family(), Snapshots: c.snapshots(o), Params: c.params()}
	}
	// Origins outer, snapshot counts inner: each training set is stacked
	// once and shared by the configurations of its snapshot count.
	for k, t := range r.Tests {
		// An older origin that cannot be scored is left out, as evalOrigins does.
		skip := func(err error) bool {
			if k > 0 && fault.Of(err) == fault.BadInput {
				sel.Notes = append(sel.Notes, fmt.Sprintf("origin %s left out of the selection: %v", civil.Format(t), err))
				return true
			}
			return false
		}
		test, err := testSnapshot(ctx, b, t)
		if err != nil {
			if skip(err) {
				continue
			}
			return Config{}, nil, err
		}
		sets := map[int]*trainSet{}
		for _, c0 := range grid {
			s := c0.snapshots(o)
			if _, ok := sets[s]; ok {
				continue
			}
			if sets[s], err = stackSet(ctx, b, r.TrainDates(t, s), quiet); err != nil {
				if skip(err) {
					break
				}
				return Config{}, nil, err
			}
		}
		if len(sets) != len(distinctSnapshots(grid, o)) || hasNil(sets) {
			continue
		}
		for _, s := range distinctSnapshots(grid, o) {
			ts := sets[s]
			for i, c := range grid {
				if c.snapshots(o) != s {
					continue
				}
				m, err := fitConfig(ctx, c, ts.X, ts.y, ts.w, o.EvalTrees, quiet, "grid")
				if err != nil {
					return Config{}, nil, err
				}
				p := make([]float64, test.X.Rows)
				m.PredictProba(test.X, p)
				_, cp := eval.PrecisionByGroup(test.Y, p, test.County, o.CountyShare)
				cs := &sel.Configs[i]
				cs.AUC = append(cs.AUC, eval.ROCAUC(test.Y, p))
				cs.CountyPrecision = append(cs.CountyPrecision, cp)
				prs[i] = append(prs[i], eval.PRAUC(test.Y, p))
				task.Add(1)
			}
		}
	}
	for i := range sel.Configs {
		cs := &sel.Configs[i]
		cs.MeanAUC, cs.SDAUC = meanSD(cs.AUC)
		cs.MeanCountyPrecision, cs.SDCountyPrecision = meanSD(cs.CountyPrecision)
		cs.MeanPRAUC, _ = meanSD(prs[i])
		o.logf("grid %s: mean AUC %.4f (sd %.4f), mean county precision %.4f", cs.Name, cs.MeanAUC, cs.SDAUC, cs.MeanCountyPrecision)
	}
	chosen := choose(sel)
	return grid[chosen], sel, nil
}

// SelectionRule is the rule selectConfig applies, as the card states it.
const SelectionRule = "best mean county precision at k among the configurations whose mean AUC over the rolling origins is within the tolerance of the best mean AUC (ties: higher mean AUC, then grid order)"

// choose applies SelectionRule to the scored configurations, fills the
// choice, the regret and the family comparison, and returns the index.
func choose(sel *registry.Selection) int {
	best := 0
	for i, c := range sel.Configs {
		if c.MeanAUC > sel.Configs[best].MeanAUC {
			best = i
		}
	}
	bestAUC := sel.Configs[best].MeanAUC
	chosen := -1
	for i := range sel.Configs {
		c := &sel.Configs[i]
		c.WithinTolerance = c.MeanAUC >= bestAUC-sel.Tolerance
		if !c.WithinTolerance {
			continue
		}
		if chosen < 0 {
			chosen = i
			continue
		}
		ch := sel.Configs[chosen]
		if c.MeanCountyPrecision > ch.MeanCountyPrecision || (c.MeanCountyPrecision == ch.MeanCountyPrecision && c.MeanAUC > ch.MeanAUC) {
			chosen = i
		}
	}
	sel.Chosen, sel.BestAUC = sel.Configs[chosen].Name, sel.Configs[best].Name
	sel.Regret = bestAUC - sel.Configs[chosen].MeanAUC
	famBest := map[string]float64{}
	for _, c := range sel.Configs {
		if v, ok := famBest[c.Family]; !ok || c.MeanCountyPrecision > v {
			famBest[c.Family] = c.MeanCountyPrecision
		}
	}
	sel.BestFamily = sel.Configs[chosen].Family
	fams := make([]string, 0, len(famBest))
	for f := range famBest {
		fams = append(fams, f)
	}
	sort.Strings(fams)
	for _, f := range fams {
		if f != sel.BestFamily {
			sel.FamilyMargin = famBest[sel.BestFamily] - famBest[f]
		}
	}
	return chosen
}

// nopReporter reports nothing (the grid reports one step per fit).
type nopReporter struct{}

func (nopReporter) Start(string, int64) progress.Task { return nopTask{} }

type nopTask struct{}

func (nopTask) Add(int64) {}
func (nopTask) Done()     {}

// gridSnapshots is the largest snapshot count of the grid.
func gridSnapshots(grid []Config, o Options) (smin, smax int) {
	smin = math.MaxInt
	for _, c := range grid {
		s := c.snapshots(o)
		smin, smax = min(smin, s), max(smax, s)
	}
	return smin, smax
}

// allDates are every snapshot the rolling evaluation and the final fit
// of up to smax snapshots need, each once, oldest first.
func (r Rolling) allDates(smax int) []time.Time {
	seen := map[time.Time]bool{}
	var out []time.Time
	add := func(ds ...time.Time) {
		for _, d := range ds {
			if !seen[d] {
				seen[d] = true
				out = append(out, d)
			}
		}
	}
	for _, t := range r.Tests {
		add(t)
		add(r.TrainDates(t, smax)...)
	}
	add(r.FinalDates(smax)...)
	slices.SortFunc(out, func(a, b time.Time) int { return a.Compare(b) })
	return out
}

// distinctSnapshots are the snapshot counts of the grid, in grid order.
func distinctSnapshots(grid []Config, o Options) []int {
	var out []int
	for _, c := range grid {
		if s := c.snapshots(o); !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

func hasNil(m map[int]*trainSet) bool {
	for _, v := range m {
		if v == nil {
			return true
		}
	}
	return false
}

func ones(n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = 1
	}
	return out
}

// boundSnapshots makes the builder sample the negatives of every snapshot
// that is no origin's test date when the largest stack (smax snapshots)
// of full snapshots could exceed MaxRows: each keeps about MaxRows/smax
// rows, so that the snapshots held and the training matrices stay bounded
// by the province's size only through the origins' test snapshots. The
// test snapshots stay whole: the metrics, calibration and audit need every
// household.
func (b *builder) boundSnapshots(r Rolling, smax int) {
	if b.o.MaxRows <= 0 || smax <= 0 {
		return
	}
	b.tests = map[time.Time]bool{}
	for _, t := range r.Tests {
		b.tests[t] = true
	}
	b.perSnap = max(1, b.o.MaxRows/smax)
}
