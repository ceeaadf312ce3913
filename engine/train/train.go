package train

import (
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/povrisk/povrisk/engine/warehouse"
	"github.com/povrisk/povrisk/features"
	"github.com/povrisk/povrisk/features/rules"
	"github.com/povrisk/povrisk/models"
	"github.com/povrisk/povrisk/models/eval"
	"github.com/povrisk/povrisk/models/forest"
	"github.com/povrisk/povrisk/models/kmeans"
	"github.com/povrisk/povrisk/models/registry"
)

// Shares are the top-of-list shares at which precision and recall are
// reported (the keys of Metrics.PrecisionAt).
var shares = []float64{0.01, 0.05, 0.1}

// Options configure Train and Evaluate. Zero values mean the defaults.
type Options struct {
	Warehouse     string         // warehouse directory (required)
	Models        string         // models directory (Train: required)
	AsOf          time.Time      // T_end; zero: the last month-end covered by the data
	HorizonMonths int            // default 6
	Snapshots     int            // monthly training snapshots; default 6
	Features      []string       // model input columns, in order; nil: features.ModelColumns()
	Forest        forest.Options // zero value: DefaultForest() with Seed
	Seed          uint64         // seed of the forest (when Forest.Seed is 0) and the profiles
	Policy        *rules.Policy  // nil: rules.SamplePolicy()
	Truth         string         // ground-truth CSV (household_id,as_of,p_identified_6m); "" none
	CountyShare   float64        // k per county as a share of its households; default 0.05
	ProfileShare  float64        // profiles are fitted on this top share of the final snapshot; default 0.1
	ProfileK      int            // k-means clusters; 0: chosen by silhouette in 3..6
	ModelID       string         // Evaluate: evaluate this saved model ("latest" the newest) instead of training
	CreatedBy     string         // written in the card, e.g. "povrisk 0.1.0"
	Progress      io.Writer      // nil: quiet
}

// DefaultForest is the forest used for household risk: forest.DefaultOptions
// with leaves of at least 20 rows. Positives are rare (2-3% within six
// months) and a household appears in several monthly snapshots, so fully
// grown trees memorise households; on a simulated 20,000-household drop
// (6 snapshots, test 2025-06-30) MinLeaf 1, 5, 20, 50 gave test AUC 0.800,
// 0.817, 0.831, 0.833 and precision at 5% 0.174, 0.191, 0.209, 0.215.
func DefaultForest() forest.Options {
	o := forest.DefaultOptions()
	o.MinLeaf = 20
	return o
}

func (o Options) withDefaults() Options {
	if o.HorizonMonths <= 0 {
		o.HorizonMonths = 6
	}
	if o.Snapshots <= 0 {
		o.Snapshots = 6
	}
	if o.Forest == (forest.Options{}) {
		o.Forest = DefaultForest()
	}
	if o.Forest.Seed == 0 {
		o.Forest.Seed = o.Seed
	}
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
	return o
}

func (o Options) logf(format string, a ...any) {
	if o.Progress != nil {
		fmt.Fprintf(o.Progress, format+"\n", a...)
	}
}

// Metrics are the figures of a temporal evaluation on the test snapshot.
type Metrics struct {
	TestAsOf      string   `json:"test_as_of"`
	DataEnd       string   `json:"data_end"`
	TrainAsOf     []string `json:"train_as_of"`
	HorizonMonths int      `json:"horizon_months"`
	Model         string   `json:"model,omitempty"` // the saved model evaluated (Evaluate with ModelID)
	TrainRows     int      `json:"train_rows"`
	TrainPositive int      `json:"train_positive"`
	TestRows      int      `json:"test_rows"`
	TestPositive  int      `json:"test_positive"`
	BaseRate      float64  `json:"base_rate"`

	AUC         float64            `json:"auc"`
	PRAUC       float64            `json:"pr_auc"`
	Brier       float64            `json:"brier"`
	PrecisionAt map[string]float64 `json:"precision_at"`
	RecallAt    map[string]float64 `json:"recall_at"`
	// County figures: each county ranks its own households, k = CountyShare
	// of them; CountyPrecision pools the counties (hits / visits).
	CountyShare     float64               `json:"county_share"`
	CountyPrecision float64               `json:"county_precision"`
	Counties        []eval.GroupPrecision `json:"counties"`
	Calibration     []eval.CalibrationBin `json:"calibration"` // 10 equal-width bins

	// The rule screen alone: score = number of rules tripped.
	RulesAUC              float64            `json:"rules_auc"`
	RulesPRAUC            float64            `json:"rules_pr_auc"`
	RulesPrecisionAt      map[string]float64 `json:"rules_precision_at"`
	RulesRecallAt         map[string]float64 `json:"rules_recall_at"`
	RulesCountyPrecision  float64            `json:"rules_county_precision"`
	RulesFlagged          int                `json:"rules_flagged"`           // test households with at least one rule tripped
	RulesFlaggedPrecision float64            `json:"rules_flagged_precision"` // positives among them / flagged

	// With ground truth (Options.Truth): the simulator's own probabilities
	// as a score, the best any model could do.
	OracleAUC         *float64           `json:"oracle_auc,omitempty"`
	OraclePRAUC       *float64           `json:"oracle_pr_auc,omitempty"`
	OraclePrecisionAt map[string]float64 `json:"oracle_precision_at,omitempty"`
	AUCShareOfOracle  *float64           `json:"auc_share_of_oracle,omitempty"` // (auc-0.5)/(oracle_auc-0.5): share of the achievable lift over chance
	AUCRatioToOracle  *float64           `json:"auc_ratio_to_oracle,omitempty"` // auc/oracle_auc

	Notes []string `json:"notes,omitempty"`
}

// Map returns the metrics as a JSON object (for model cards). It fails
// when a figure is NaN or infinite, which JSON cannot carry.
func (m *Metrics) Map() (map[string]any, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode metrics of test snapshot %s (a figure is NaN: check that the test snapshot has both outcomes): %w", m.TestAsOf, err)
	}
	out := map[string]any{}
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("decode metrics of test snapshot %s: %w", m.TestAsOf, err)
	}
	return out, nil
}

func monthEnd(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month()+1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, -1)
}

// addMonths moves a month-end by n months and returns that month's end.
func addMonths(t time.Time, n int) time.Time {
	return monthEnd(time.Date(t.Year(), t.Month()+time.Month(n), 1, 0, 0, 0, 0, time.UTC))
}

func day(t time.Time) string { return t.Format("2006-01-02") }

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
	end = monthEnd(end)
	p := Plan{DataEnd: end, Test: addMonths(end, -horizon)}
	for i := snaps - 1; i >= 0; i-- {
		p.EvalTrain = append(p.EvalTrain, addMonths(p.Test, -horizon-i))
		p.Final = append(p.Final, addMonths(p.Test, -i))
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
		day(d), len(s.Y), sum(s.Y), b.o.HorizonMonths, s.Excluded)
	b.cache[d] = s
	return s, nil
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
	if path, ok := w.TablePath("income_records"); ok {
		var t sql.NullTime
		if err := db.QueryRowContext(ctx, "SELECT CAST(min(period) AS DATE) FROM read_parquet(?)", path).Scan(&t); err != nil {
			return nil, Plan{}, fmt.Errorf("find the start of the data in income_records: %w", err)
		}
		if t.Valid {
			plan.DataStart = t.Time.UTC()
		}
	}
	o.logf("data end %s, test as-of %s, horizon %d months, %d snapshots", day(plan.DataEnd), day(plan.Test), o.HorizonMonths, o.Snapshots)
	cols, err := featureColumns(o.Features)
	if err != nil {
		return nil, Plan{}, err
	}
	b := &builder{db: db, w: w, o: o, cols: cols, cache: map[time.Time]*Snapshot{}}
	return b, plan, nil
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
			sp.dates = append(sp.dates, day(d))
		}
	}
	if len(snaps) == 0 {
		return nil, fmt.Errorf("no training snapshot with households before %s: the data window is too short for a %d-month horizon", day(plan.Test), b.o.HorizonMonths)
	}
	if sp.X, sp.y, err = Stack(snaps, nil); err != nil {
		return nil, err
	}
	if p := sum(sp.y); p == 0 || p == len(sp.y) {
		return nil, fmt.Errorf("training snapshots %s..%s have %d positive of %d rows: need both outcomes (is monitoring_events in the warehouse?)",
			day(plan.EvalTrain[0]), day(plan.EvalTrain[len(plan.EvalTrain)-1]), p, len(sp.y))
	}
	t, err := b.get(ctx, plan.Test)
	if err != nil {
		return nil, err
	}
	if p := sum(t.Y); p == 0 || p == len(t.Y) {
		return nil, fmt.Errorf("test snapshot %s has %d positive of %d households: need both outcomes", day(plan.Test), p, len(t.Y))
	}
	sp.test = t
	return sp, nil
}

// score fills the model, rule and oracle figures for the test snapshot.
func score(test *Snapshot, p []float64, o Options, plan Plan) (*Metrics, error) {
	m := &Metrics{TestAsOf: day(plan.Test), DataEnd: day(plan.DataEnd), HorizonMonths: o.HorizonMonths,
		TestRows: len(test.Y), TestPositive: sum(test.Y), CountyShare: o.CountyShare}
	m.BaseRate = float64(m.TestPositive) / float64(m.TestRows)
	y := test.Y
	m.AUC, m.PRAUC, m.Brier = eval.ROCAUC(y, p), eval.PRAUC(y, p), eval.Brier(y, p)
	m.PrecisionAt, m.RecallAt = atShares(y, p)
	m.Counties, m.CountyPrecision = eval.PrecisionByGroup(y, p, test.County, o.CountyShare)
	m.Calibration = eval.Calibration(y, p, 10)
	r := test.RuleScore
	m.RulesAUC, m.RulesPRAUC = eval.ROCAUC(y, r), eval.PRAUC(y, r)
	m.RulesPrecisionAt, m.RulesRecallAt = atShares(y, r)
	_, m.RulesCountyPrecision = eval.PrecisionByGroup(y, r, test.County, o.CountyShare)
	hits := 0
	for i, v := range r {
		if v > 0 {
			m.RulesFlagged++
			hits += y[i]
		}
	}
	if m.RulesFlagged > 0 {
		m.RulesFlaggedPrecision = float64(hits) / float64(m.RulesFlagged)
	}
	if o.Truth != "" {
		if err := oracle(m, test, o, plan); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func atShares(y []int, s []float64) (prec, rec map[string]float64) {
	prec, rec = map[string]float64{}, map[string]float64{}
	for _, sh := range shares {
		k := strconv.FormatFloat(sh, 'f', -1, 64)
		prec[k] = eval.PrecisionAtShare(y, s, sh)
		rec[k] = eval.RecallAtShare(y, s, sh)
	}
	return prec, rec
}

// ReadTruth reads the ground-truth CSV (household_id,as_of,p_identified_6m)
// rows of one as-of date.
func ReadTruth(path string, asOf time.Time) (map[string]float64, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read ground truth: %w", err)
	}
	defer fh.Close()
	r := csv.NewReader(fh)
	head, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("read ground truth %s: %w", path, err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[strings.TrimPrefix(strings.TrimSpace(h), "\ufeff")] = i
	}
	for _, need := range []string{"household_id", "as_of", "p_identified_6m"} {
		if _, ok := col[need]; !ok {
			return nil, fmt.Errorf("ground truth %s: no column %s (want household_id,as_of,p_identified_6m)", path, need)
		}
	}
	want := day(asOf)
	out := map[string]float64{}
	seen := map[string]bool{}
	for line := 2; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("ground truth %s: %w", path, err)
		}
		a := rec[col["as_of"]]
		seen[a] = true
		if a != want {
			continue
		}
		p, err := strconv.ParseFloat(rec[col["p_identified_6m"]], 64)
		if err != nil {
			return nil, fmt.Errorf("ground truth %s line %d column p_identified_6m: %w", path, line, err)
		}
		out[rec[col["household_id"]]] = p
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("ground truth %s has no rows for as-of %s (it has %s)", path, want, strings.Join(slices.Sorted(maps.Keys(seen)), ", "))
	}
	return out, nil
}

func oracle(m *Metrics, test *Snapshot, o Options, plan Plan) error {
	truth, err := ReadTruth(o.Truth, plan.Test)
	if err != nil {
		return err
	}
	if o.HorizonMonths != 6 {
		m.Notes = append(m.Notes, fmt.Sprintf("ground truth is for a 6-month horizon, the evaluation uses %d months", o.HorizonMonths))
	}
	var y []int
	var p []float64
	missing := 0
	for i, id := range test.IDs {
		v, ok := truth[id]
		if !ok {
			missing++
			continue
		}
		y = append(y, test.Y[i])
		p = append(p, v)
	}
	if missing > 0 {
		m.Notes = append(m.Notes, fmt.Sprintf("%d test households have no ground truth; oracle figures use the other %d", missing, len(y)))
	}
	auc, pr := eval.ROCAUC(y, p), eval.PRAUC(y, p)
	m.OracleAUC, m.OraclePRAUC = &auc, &pr
	m.OraclePrecisionAt, _ = atShares(y, p)
	if auc > 0.5 {
		share := (m.AUC - 0.5) / (auc - 0.5)
		m.AUCShareOfOracle = &share
	}
	if auc > 0 {
		ratio := m.AUC / auc
		m.AUCRatioToOracle = &ratio
	}
	return nil
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
	m, _, err := evaluate(ctx, b, plan, o)
	return m, err
}

func evaluate(ctx context.Context, b *builder, plan Plan, o Options) (*Metrics, *split, error) {
	sp, err := buildSplit(ctx, b, plan)
	if err != nil {
		return nil, nil, err
	}
	o.logf("evaluation model: %d training rows (%d positive) from %s..%s", len(sp.y), sum(sp.y), day(plan.EvalTrain[0]), day(plan.EvalTrain[len(plan.EvalTrain)-1]))
	f, err := forest.Fit(ctx, sp.X, sp.y, o.Forest)
	if err != nil {
		return nil, nil, fmt.Errorf("train evaluation forest: %w", err)
	}
	p := make([]float64, sp.test.X.Rows)
	f.PredictProba(sp.test.X, p)
	m, err := score(sp.test, p, o, plan)
	if err != nil {
		return nil, nil, err
	}
	m.TrainRows, m.TrainPositive = len(sp.y), sum(sp.y)
	for _, d := range plan.EvalTrain {
		m.TrainAsOf = append(m.TrainAsOf, day(d))
	}
	o.logf("test %s: AUC %.3f (rules %.3f), precision at 5%% %.3f (rules %.3f)", m.TestAsOf, m.AUC, m.RulesAUC, m.PrecisionAt["0.05"], m.RulesPrecisionAt["0.05"])
	return m, sp, nil
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
		return nil, fmt.Errorf("model %s predicts %d months ahead, evaluation asked for %d: pass --horizon %d", card.ID, card.HorizonMonths, o.HorizonMonths, card.HorizonMonths)
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
	if card.AsOf != "" && card.AsOf > day(addMonths(plan.Test, -o.HorizonMonths)) {
		m.Notes = append(m.Notes, fmt.Sprintf("model %s was trained on snapshots up to %s, whose labels reach past the test as-of %s: these figures are optimistic (in-sample)",
			card.ID, card.AsOf, m.TestAsOf))
	}
	return m, nil
}

// Train evaluates temporally, refits on the final snapshots, fits the risk
// profiles and saves the model with its card; it returns the card.
func Train(ctx context.Context, db *sql.DB, o Options) (registry.Card, error) {
	o = o.withDefaults()
	if o.Models == "" {
		return registry.Card{}, errors.New("train: no models directory")
	}
	start := time.Now()
	b, plan, err := prepare(ctx, db, o)
	if err != nil {
		return registry.Card{}, err
	}
	m, _, err := evaluate(ctx, b, plan, o)
	if err != nil {
		return registry.Card{}, err
	}
	var snaps []*Snapshot
	var dates []string
	for _, d := range plan.Final {
		s, err := b.get(ctx, d)
		if err != nil {
			return registry.Card{}, err
		}
		if len(s.Y) > 0 {
			snaps = append(snaps, s)
			dates = append(dates, day(d))
		}
	}
	if len(snaps) == 0 {
		return registry.Card{}, fmt.Errorf("no final training snapshot %s..%s has households not already monitored: check the warehouse's households and monitoring_events",
			day(plan.Final[0]), day(plan.Final[len(plan.Final)-1]))
	}
	X, y, err := Stack(snaps, nil)
	if err != nil {
		return registry.Card{}, err
	}
	o.logf("final model: %d training rows (%d positive) from %s..%s", len(y), sum(y), dates[0], dates[len(dates)-1])
	f, err := forest.Fit(ctx, X, y, o.Forest)
	if err != nil {
		return registry.Card{}, fmt.Errorf("train final forest: %w", err)
	}
	last := snaps[len(snaps)-1]
	prof, err := fitProfiles(ctx, f, last, o)
	if err != nil {
		return registry.Card{}, err
	}
	mm, err := m.Map()
	if err != nil {
		return registry.Card{}, err
	}
	card := registry.Card{
		CreatedBy: o.CreatedBy, AsOf: dates[len(dates)-1], AsOfDates: dates, DataTo: day(plan.DataEnd),
		HorizonMonths: o.HorizonMonths, Features: b.cols, CatalogHash: features.CatalogHash(),
		PolicySHA256: o.Policy.SHA256(), Drops: b.w.Manifest().Drops, Params: f.Options(), Seed: o.Forest.Seed,
		TrainRows: len(y), TrainPositive: sum(y), Metrics: mm, TopFeatures: registry.TopImportances(f, 15),
	}
	if !plan.DataStart.IsZero() {
		card.DataFrom = day(plan.DataStart)
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
	card.TrainSeconds = math.Round(time.Since(start).Seconds()*10) / 10
	id, err := registry.Save(o.Models, f, prof, card)
	if err != nil {
		return registry.Card{}, err
	}
	card.ID = id
	o.logf("saved model %s in %s", id, o.Models)
	return registry.ReadCard(o.Models, id)
}

// fitProfiles clusters the top ProfileShare of the snapshot by the
// model's score; nil when fewer than 30 households are in it.
func fitProfiles(ctx context.Context, f *forest.Forest, s *Snapshot, o Options) (*kmeans.Model, error) {
	p := make([]float64, s.X.Rows)
	f.PredictProba(s.X, p)
	k := eval.TopK(len(p), o.ProfileShare)
	idx := make([]int, len(p))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return p[idx[a]] > p[idx[b]] })
	top := idx[:k]
	sort.Ints(top)
	if len(top) < 30 {
		o.logf("profiles: only %d households in the top %.0f%%, none fitted", len(top), o.ProfileShare*100)
		return nil, nil
	}
	X := s.X.Subset(top)
	ko := kmeans.Options{K: o.ProfileK, Seed: o.Seed, Restarts: 4}
	if ko.K == 0 {
		kk, _, err := kmeans.ChooseK(ctx, X, 3, 6, ko)
		if err != nil {
			return nil, fmt.Errorf("choose profile count: %w", err)
		}
		ko.K = kk
	}
	m, err := kmeans.Fit(ctx, X, ko)
	if err != nil {
		return nil, fmt.Errorf("fit profiles: %w", err)
	}
	o.logf("profiles: %d clusters on the top %d households", ko.K, len(top))
	return m, nil
}
