package train

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"time"

	"github.com/povrisk/povrisk/engine/civil"
	"github.com/povrisk/povrisk/engine/fault"
	"github.com/povrisk/povrisk/engine/progress"
	"github.com/povrisk/povrisk/engine/warehouse"
	"github.com/povrisk/povrisk/features"
	"github.com/povrisk/povrisk/features/rules"
	"github.com/povrisk/povrisk/models"
	"github.com/povrisk/povrisk/models/forest"
	"github.com/povrisk/povrisk/models/registry"
)

// Options configure Train and Evaluate. The zero value of every field
// means its default.
type Options struct {
	Warehouse     string    // warehouse directory (required)
	Models        string    // models directory (Train: required)
	AsOf          time.Time // T_end; zero: the last month-end covered by the data
	HorizonMonths int       // default 6
	Snapshots     int       // monthly training snapshots; default 6
	Features      []string  // model input columns, in order; nil: features.ModelColumns()
	// Forest: each zero field means forest's default, except MinLeaf (0:
	// DefaultMinLeaf) and Seed (0: Seed). Forest.Reporter is ignored: the
	// forests report through Reporter.
	Forest       forest.Options
	Seed         uint64        // seed of the forest (when Forest.Seed is 0) and the profiles
	Policy       *rules.Policy // nil: rules.SamplePolicy()
	Truth        string        // ground-truth CSV (household_id,as_of,p_identified_6m); "" none
	CountyShare  float64       // k per county as a share of its households; default 0.05
	ProfileShare float64       // profiles are fitted on this top share of the final snapshot; default 0.1
	ProfileK     int           // k-means clusters; 0: chosen by silhouette in 3..6
	ModelID      string        // Evaluate: evaluate this saved model ("latest" the newest) instead of training
	CreatedBy    string        // written in the card; default "povrisk"
	// Rolling origins (see Rolling): Origins test dates (default
	// DefaultOrigins) OriginStep months apart (default DefaultOriginStep);
	// a training snapshot needs MinHistory months of data before it
	// (default DefaultMinHistory).
	Origins, OriginStep, MinHistory int
	// Grid is the selection grid (nil: DefaultGrid()); with one
	// configuration nothing is selected. EvalTrees: trees of the grid's
	// forests on the origins (default 40; the saved model and the chosen
	// configuration's origins use Forest.Trees). Tolerance: the AUC
	// tolerance of the selection rule (default 0.005).
	Grid      []Config
	EvalTrees int
	Tolerance float64
	// MaxRows bounds the training rows of one fit: above it negatives are
	// sampled per county and weighted (default DefaultMaxRows; negative:
	// never sample).
	MaxRows int
	// NoCalibrate saves the model's raw scores (no calib.json).
	NoCalibrate bool
	// Reporter is told of each long stage: "snapshots" (one per monthly
	// snapshot built), "evaluation forest" and "final forest" (one per
	// tree), "profiles". nil: nothing is reported.
	Reporter progress.Reporter
	// Progress, when set, gets a line of detail per step (counts, figures):
	// the --verbose output.
	Progress io.Writer

	snapsGiven bool // Snapshots was set by the caller (withDefaults)
	defaulted  bool // withDefaults has run
}

// DefaultMinLeaf is the smallest leaf of the household forest.
// Positives are rare (2-3% within six months) and a household appears in
// several monthly snapshots, so fully grown trees memorise households; on
// a simulated 20,000-household drop (6 snapshots, test 2025-06-30) MinLeaf
// 1, 5, 20, 50 gave test AUC 0.800, 0.817, 0.831, 0.833 and precision at
// 5% 0.174, 0.191, 0.209, 0.215.
const DefaultMinLeaf = 20

// DefaultForest is the forest used for household risk, spelt out:
// forest.DefaultOptions with leaves of at least DefaultMinLeaf rows. It
// trains what a zero Options.Forest trains.
func DefaultForest() forest.Options {
	o := forest.DefaultOptions()
	o.MinLeaf = DefaultMinLeaf
	return o
}

// withDefaults fills every zero field with its default.
func (o Options) withDefaults() Options {
	if o.HorizonMonths <= 0 {
		o.HorizonMonths = 6
	}
	if o.Snapshots <= 0 {
		o.Snapshots = 6
	} else if !o.defaulted {
		o.snapsGiven = true
	}
	o.defaulted = true
	if o.Forest.MinLeaf == 0 {
		o.Forest.MinLeaf = DefaultMinLeaf
	}
	if o.Forest.Seed == 0 {
		o.Forest.Seed = o.Seed
	}
	o.Forest.Reporter = nil
	if o.Policy == nil {
		o.Policy = rules.SamplePolicy()
	}
	if o.CountyShare <= 0 {
		o.CountyShare = 0.05
	}
	if o.ProfileShare <= 0 {
		o.ProfileShare = 0.1
	}
	if o.CreatedBy == "" {
		o.CreatedBy = "povrisk"
	}
	if o.Origins <= 0 {
		o.Origins = DefaultOrigins
	}
	if o.OriginStep <= 0 {
		o.OriginStep = DefaultOriginStep
	}
	if o.MinHistory <= 0 {
		o.MinHistory = DefaultMinHistory
	}
	if o.EvalTrees <= 0 {
		o.EvalTrees = 40
	}
	if o.Tolerance <= 0 {
		o.Tolerance = 0.005
	}
	switch {
	case o.MaxRows == 0:
		o.MaxRows = DefaultMaxRows
	case o.MaxRows < 0:
		o.MaxRows = 0
	}
	o.Reporter = progress.Or(o.Reporter)
	return o
}

func (o Options) logf(format string, a ...any) {
	if o.Progress != nil {
		fmt.Fprintf(o.Progress, format+"\n", a...)
	}
}

// forestOptions are the forest's options reporting as stage.
func (o Options) forestOptions(stage string) forest.Options {
	fo := o.Forest
	fo.Reporter = renamed{o.Reporter, stage}
	return fo
}

// renamed reports a forest's trees as a stage of the training.
type renamed struct {
	r     progress.Reporter
	stage string
}

func (r renamed) Start(_ string, total int64) progress.Task { return r.r.Start(r.stage, total) }

// Metrics are the figures of a temporal evaluation on the test snapshot:
// the type of the model card, registry.Metrics.
type Metrics = registry.Metrics

// Plan is the temporal layout of a training run.
type Plan struct {
	DataStart time.Time   // first income month (zero when unknown); for the card
	DataEnd   time.Time   // T_end
	Test      time.Time   // T_test = T_end - H
	EvalTrain []time.Time // snapshots for the evaluation model, oldest first; D + H <= T_test
	Final     []time.Time // snapshots for the saved model, oldest first; D <= T_test
}

// MakePlan lays out the snapshots for T_end, H and S (see the package doc).
func MakePlan(end time.Time, horizon, snaps int) Plan {
	end = civil.MonthEnd(end)
	p := Plan{DataEnd: end, Test: civil.AddMonths(end, -horizon)}
	for i := snaps - 1; i >= 0; i-- {
		p.EvalTrain = append(p.EvalTrain, civil.AddMonths(p.Test, -horizon-i))
		p.Final = append(p.Final, civil.AddMonths(p.Test, -i))
	}
	return p
}

// builder computes and caches snapshots.
type builder struct {
	db     *sql.DB
	w      *warehouse.Warehouse
	o      Options
	cols   []string
	cache  map[time.Time]*Snapshot
	labels labelFunc                                  // nil: features.Labels
	keep   func(l features.Label, labelled bool) bool // nil: not monitored on the as-of date
	// Bounded snapshots (boundSnapshots): a snapshot that is no origin's
	// test date keeps a sample of its negatives when perSnap > 0 and it
	// has more rows than perSnap.
	tests   map[time.Time]bool
	perSnap int
}

func (b *builder) get(ctx context.Context, d time.Time) (*Snapshot, error) {
	if s, ok := b.cache[d]; ok {
		return s, nil
	}
	labels, keep := b.labels, b.keep
	if labels == nil {
		labels, keep = features.Labels, func(l features.Label, _ bool) bool { return !l.MonitoredAtAsOf }
	}
	s, err := buildSnapshot(ctx, b.db, b.w, d, b.o.HorizonMonths, b.o.Policy, b.cols, labels, keep)
	if err != nil {
		return nil, err
	}
	b.o.logf("snapshot %s: %d households, %d positive within %d months, %d monitored excluded",
		civil.Format(d), len(s.Y), sum(s.Y), b.o.HorizonMonths, s.Excluded)
	if b.perSnap > 0 && !b.tests[d] && len(s.Y) > b.perSnap {
		idx, w, rec := sampleRows(s.Y, s.County, b.perSnap, b.o.Seed^uint64(d.Unix()))
		if idx != nil {
			s = s.subset(idx)
			s.W = w
			b.o.logf("snapshot %s: kept %d rows (all %d positives, negatives at %.4f per county)", civil.Format(d), rec.Kept, rec.Positives, rec.Rate)
		}
	}
	b.cache[d] = s
	return s, nil
}

// buildAll builds the snapshots of dates (each once) as the stage
// "snapshots", so that the forests' stages follow it.
func (b *builder) buildAll(ctx context.Context, dates ...[]time.Time) error {
	var todo []time.Time
	seen := map[time.Time]bool{}
	for _, ds := range dates {
		for _, d := range ds {
			if _, ok := b.cache[d]; !ok && !seen[d] {
				seen[d] = true
				todo = append(todo, d)
			}
		}
	}
	task := b.o.Reporter.Start("snapshots", int64(len(todo)))
	defer task.Done()
	for _, d := range todo {
		if _, err := b.get(ctx, d); err != nil {
			return err
		}
		task.Add(1)
	}
	return nil
}

func sum(y []int) int {
	n := 0
	for _, v := range y {
		n += v
	}
	return n
}

// split is the evaluation part of a run: the stacked training rows and
// the test snapshot.
type split struct {
	plan  Plan
	X     models.Matrix
	y     []int
	ids   []string // household id of each training row
	dates []string // as-of of each training row
	test  *Snapshot
}

func prepare(ctx context.Context, db *sql.DB, o Options) (*builder, Plan, error) {
	w, err := warehouse.Open(o.Warehouse)
	if err != nil {
		return nil, Plan{}, fmt.Errorf("open warehouse: %w", err)
	}
	end := o.AsOf
	if end.IsZero() {
		if end, err = features.DataEnd(ctx, db, w); err != nil {
			return nil, Plan{}, err
		}
	}
	plan := MakePlan(end, o.HorizonMonths, o.Snapshots)
	if plan.DataStart, err = dataStart(ctx, db, w); err != nil {
		return nil, Plan{}, err
	}
	o.logf("data end %s, test as-of %s, horizon %d months, %d snapshots", civil.Format(plan.DataEnd), civil.Format(plan.Test), o.HorizonMonths, o.Snapshots)
	cols, err := featureColumns(o.Features)
	if err != nil {
		return nil, Plan{}, err
	}
	b := &builder{db: db, w: w, o: o, cols: cols, cache: map[time.Time]*Snapshot{}}
	return b, plan, nil
}

// dataStart is the first income month of the warehouse (zero when it has
// no income records), for the card.
func dataStart(ctx context.Context, db *sql.DB, w *warehouse.Warehouse) (time.Time, error) {
	path, ok := w.TablePath("income_records")
	if !ok {
		return time.Time{}, nil
	}
	var t sql.NullTime
	if err := db.QueryRowContext(ctx, "SELECT CAST(min(period) AS DATE) FROM read_parquet(?)", path).Scan(&t); err != nil {
		return time.Time{}, fmt.Errorf("find the start of the data in income_records: %w", err)
	}
	if !t.Valid {
		return time.Time{}, nil
	}
	return t.Time.UTC(), nil
}

func buildSplit(ctx context.Context, b *builder, plan Plan) (*split, error) {
	sp := &split{plan: plan}
	var err error
	var snaps []*Snapshot
	for _, d := range plan.EvalTrain {
		s, err := b.get(ctx, d)
		if err != nil {
			return nil, err
		}
		if len(s.Y) == 0 {
			continue
		}
		snaps = append(snaps, s)
		for _, id := range s.IDs {
			sp.ids = append(sp.ids, id)
			sp.dates = append(sp.dates, civil.Format(d))
		}
	}
	if len(snaps) == 0 {
		return nil, fault.Wrap(fault.BadInput, fmt.Errorf("no training snapshot with households before %s: the data window is too short for a %d-month horizon", civil.Format(plan.Test), b.o.HorizonMonths))
	}
	if sp.X, sp.y, err = Stack(snaps, nil); err != nil {
		return nil, err
	}
	if p := sum(sp.y); p == 0 || p == len(sp.y) {
		return nil, fault.Wrap(fault.BadInput, fmt.Errorf("training snapshots %s..%s have %d positive of %d rows: need both outcomes (is monitoring_events in the warehouse?)",
			civil.Format(plan.EvalTrain[0]), civil.Format(plan.EvalTrain[len(plan.EvalTrain)-1]), p, len(sp.y)))
	}
	t, err := b.get(ctx, plan.Test)
	if err != nil {
		return nil, err
	}
	if p := sum(t.Y); p == 0 || p == len(t.Y) {
		return nil, fault.Wrap(fault.BadInput, fmt.Errorf("test snapshot %s has %d positive of %d households: need both outcomes", civil.Format(plan.Test), p, len(t.Y)))
	}
	sp.test = t
	return sp, nil
}

func evaluateSaved(ctx context.Context, b *builder, plan Plan, o Options) (*Metrics, error) {
	f, _, card, err := registry.Load(o.Models, o.ModelID)
	if err != nil {
		return nil, err
	}
	if len(o.Features) == 0 && len(card.Features) > 0 {
		// A model trained on a subset (Options.Features) reads its own columns.
		if b.cols, err = featureColumns(card.Features); err != nil {
			return nil, fmt.Errorf("model %s: %w", card.ID, err)
		}
	}
	if err := registry.CheckFeatures(card, b.cols, features.CatalogHash()); err != nil {
		return nil, err
	}
	if card.HorizonMonths != 0 && card.HorizonMonths != o.HorizonMonths {
		return nil, fault.Wrap(fault.Usage, fmt.Errorf("model %s predicts %d months ahead, evaluation asked for %d: pass --horizon %d", card.ID, card.HorizonMonths, o.HorizonMonths, card.HorizonMonths))
	}
	if err := b.buildAll(ctx, []time.Time{plan.Test}); err != nil {
		return nil, err
	}
	t, err := b.get(ctx, plan.Test)
	if err != nil {
		return nil, err
	}
	p := make([]float64, t.X.Rows)
	f.PredictProba(t.X, p)
	m, err := score(t, p, o, plan)
	if err != nil {
		return nil, err
	}
	m.Model, m.TrainAsOf, m.TrainRows, m.TrainPositive = card.ID, card.AsOfDates, card.TrainRows, card.TrainPositive
	if card.AsOf != "" && card.AsOf > civil.Format(civil.AddMonths(plan.Test, -o.HorizonMonths)) {
		m.Notes = append(m.Notes, fmt.Sprintf("model %s was trained on snapshots up to %s, whose labels reach past the test as-of %s: these figures are optimistic (in-sample)",
			card.ID, card.AsOf, m.TestAsOf))
	}
	return m, nil
}
