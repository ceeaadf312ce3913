package train

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/povrisk/povrisk/engine/civil"
	"github.com/povrisk/povrisk/engine/fault"
	"github.com/povrisk/povrisk/engine/progress"
	"github.com/povrisk/povrisk/engine/warehouse"
	"github.com/povrisk/povrisk/features"
	"github.com/povrisk/povrisk/features/rules"
	"github.com/povrisk/povrisk/models"
	"github.com/povrisk/povrisk/models/forest"
	"github.com/povrisk/povrisk/models/kmeans"
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
	// Reporter is told of each long stage: "snapshots" (one per monthly
	// snapshot built), "evaluation forest" and "final forest" (one per
	// tree), "profiles". nil: nothing is reported.
	Reporter progress.Reporter
	// Progress, when set, gets a line of detail per step (counts, figures):
	// the --verbose output.
	Progress io.Writer
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
	}
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
	db    *sql.DB
	w     *warehouse.Warehouse
	o     Options
	cols  []string
	cache map[time.Time]*Snapshot
}

func (b *builder) get(ctx context.Context, d time.Time) (*Snapshot, error) {
	if s, ok := b.cache[d]; ok {
		return s, nil
	}
	s, err := BuildSnapshot(ctx, b.db, b.w, d, b.o.HorizonMonths, b.o.Policy, b.cols)
	if err != nil {
		return nil, err
	}
	b.o.logf("snapshot %s: %d households, %d positive within %d months, %d monitored excluded",
		civil.Format(d), len(s.Y), sum(s.Y), b.o.HorizonMonths, s.Excluded)
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

// Evaluate runs the temporal evaluation without saving anything: a forest
// trained on the evaluation snapshots, or with o.ModelID a saved model,
// scored on the test snapshot against the rule screen.
func Evaluate(ctx context.Context, db *sql.DB, o Options) (*Metrics, error) {
	o = o.withDefaults()
	b, plan, err := prepare(ctx, db, o)
	if err != nil {
		return nil, err
	}
	if o.ModelID != "" {
		return evaluateSaved(ctx, b, plan, o)
	}
	if err := b.buildAll(ctx, plan.EvalTrain, []time.Time{plan.Test}); err != nil {
		return nil, err
	}
	m, err := evaluate(ctx, b, plan, o)
	return m, err
}

func evaluate(ctx context.Context, b *builder, plan Plan, o Options) (*Metrics, error) {
	sp, err := buildSplit(ctx, b, plan)
	if err != nil {
		return nil, err
	}
	o.logf("evaluation model: %d training rows (%d positive) from %s..%s", len(sp.y), sum(sp.y), civil.Format(plan.EvalTrain[0]), civil.Format(plan.EvalTrain[len(plan.EvalTrain)-1]))
	f, err := forest.Fit(ctx, sp.X, sp.y, o.forestOptions("evaluation forest"))
	if err != nil {
		return nil, fmt.Errorf("train evaluation forest: %w", err)
	}
	p := make([]float64, sp.test.X.Rows)
	f.PredictProba(sp.test.X, p)
	m, err := score(sp.test, p, o, plan)
	if err != nil {
		return nil, err
	}
	m.TrainRows, m.TrainPositive = len(sp.y), sum(sp.y)
	for _, d := range plan.EvalTrain {
		m.TrainAsOf = append(m.TrainAsOf, civil.Format(d))
	}
	o.logf("test %s: AUC %.3f (rules %.3f), precision at 5%% %.3f (rules %.3f)", m.TestAsOf, m.AUC, m.RulesAUC, m.Precision(0.05), m.RulesPrecision(0.05))
	return m, nil
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

// Train evaluates temporally, refits on the final snapshots, fits the risk
// profiles and saves the model with its card; it returns the card. Its
// steps: lay out the plan, build every snapshot, evaluate, fit the final
// forest, fit the profiles, write the card, save.
func Train(ctx context.Context, db *sql.DB, o Options) (registry.Card, error) {
	o = o.withDefaults()
	if o.Models == "" {
		return registry.Card{}, fault.Wrap(fault.Usage, errors.New("train: no models directory"))
	}
	start := time.Now()
	b, plan, err := prepare(ctx, db, o)
	if err != nil {
		return registry.Card{}, err
	}
	if err := b.buildAll(ctx, plan.EvalTrain, []time.Time{plan.Test}, plan.Final); err != nil {
		return registry.Card{}, err
	}
	m, err := evaluate(ctx, b, plan, o)
	if err != nil {
		return registry.Card{}, err
	}
	fin, err := fitFinal(ctx, b, plan, o)
	if err != nil {
		return registry.Card{}, err
	}
	prof, err := fitProfiles(ctx, fin.forest, fin.snaps[len(fin.snaps)-1], o)
	if err != nil {
		return registry.Card{}, err
	}
	card := makeCard(b, plan, o, m, fin, prof)
	card.TrainSeconds = math.Round(time.Since(start).Seconds()*10) / 10
	id, err := registry.Save(o.Models, fin.forest, prof, card)
	if err != nil {
		return registry.Card{}, err
	}
	o.logf("saved model %s in %s", id, o.Models)
	return registry.ReadCard(o.Models, id)
}

// final is the saved model's forest and what it was trained on.
type final struct {
	forest *forest.Forest
	snaps  []*Snapshot // the final snapshots with households, oldest first
	dates  []string
	rows   int
	pos    int
}

// fitFinal refits the forest on the final snapshots.
func fitFinal(ctx context.Context, b *builder, plan Plan, o Options) (*final, error) {
	fin := &final{}
	for _, d := range plan.Final {
		s, err := b.get(ctx, d)
		if err != nil {
			return nil, err
		}
		if len(s.Y) > 0 {
			fin.snaps = append(fin.snaps, s)
			fin.dates = append(fin.dates, civil.Format(d))
		}
	}
	if len(fin.snaps) == 0 {
		return nil, fault.Wrap(fault.BadInput, fmt.Errorf("no final training snapshot %s..%s has households not already monitored: check the warehouse's households and monitoring_events",
			civil.Format(plan.Final[0]), civil.Format(plan.Final[len(plan.Final)-1])))
	}
	X, y, err := Stack(fin.snaps, nil)
	if err != nil {
		return nil, err
	}
	fin.rows, fin.pos = len(y), sum(y)
	o.logf("final model: %d training rows (%d positive) from %s..%s", fin.rows, fin.pos, fin.dates[0], fin.dates[len(fin.dates)-1])
	if fin.forest, err = forest.Fit(ctx, X, y, o.forestOptions("final forest")); err != nil {
		return nil, fmt.Errorf("train final forest: %w", err)
	}
	return fin, nil
}

// makeCard writes the card of the final model (Save fills in its id and
// checksums).
func makeCard(b *builder, plan Plan, o Options, m *Metrics, fin *final, prof *kmeans.Model) registry.Card {
	f, dates := fin.forest, fin.dates
	card := registry.Card{
		CreatedBy: o.CreatedBy, AsOf: dates[len(dates)-1], AsOfDates: dates, DataTo: civil.Format(plan.DataEnd),
		HorizonMonths: o.HorizonMonths, Features: b.cols, CatalogHash: features.CatalogHash(),
		PolicySHA256: o.Policy.SHA256(), Drops: b.w.Manifest().Drops, Params: f.Params(), Seed: o.Forest.Seed,
		TrainRows: fin.rows, TrainPositive: fin.pos, Metrics: *m, TopFeatures: registry.TopImportances(f, 15),
	}
	if !plan.DataStart.IsZero() {
		card.DataFrom = civil.Format(plan.DataStart)
	}
	if oob := f.OOBScore(); !math.IsNaN(oob) {
		card.OOBAUC = oob
		card.Notes = append(card.Notes, "oob_auc is optimistic: a household appears in several monthly snapshots, so its out-of-bag rows have near-twins in the bag; judge the model by the temporal metrics")
	}
	if prof != nil {
		for c := 0; c < prof.K(); c++ {
			card.Profiles = append(card.Profiles, registry.ProfileSummary{Cluster: c, Size: prof.Sizes()[c], Traits: prof.Distinguishing(c, 5)})
		}
	}
	card.Notes = append(card.Notes, fmt.Sprintf("metrics: model trained on %s..%s, tested on %s (labels to %s); the saved model is refitted on %s..%s",
		m.TrainAsOf[0], m.TrainAsOf[len(m.TrainAsOf)-1], m.TestAsOf, m.DataEnd, dates[0], dates[len(dates)-1]))
	return card
}
