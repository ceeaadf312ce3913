package train

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/povrisk/povrisk/engine/civil"
	"github.com/povrisk/povrisk/engine/fault"
	"github.com/povrisk/povrisk/features"
	"github.com/povrisk/povrisk/models"
	"github.com/povrisk/povrisk/models/calib"
	"github.com/povrisk/povrisk/models/eval"
	"github.com/povrisk/povrisk/models/kmeans"
	"github.com/povrisk/povrisk/models/registry"
)

// Evaluate runs the rolling-origin evaluation without saving anything:
// one configuration (Options.Grid's only one, else the forest of
// Options.Forest) on every origin, or with o.ModelID a saved model scored
// on the latest test snapshot, against the rule screen. The figures are
// the latest origin's, with every origin in Origins.
func Evaluate(ctx context.Context, db *sql.DB, o Options) (*Metrics, error) {
	o = o.withDefaults()
	b, plan, err := prepare(ctx, db, o)
	if err != nil {
		return nil, err
	}
	if o.ModelID != "" {
		return evaluateSaved(ctx, b, plan, o)
	}
	c := Config{}
	if len(o.Grid) == 1 {
		c = o.Grid[0]
	}
	r := MakeRolling(plan.DataEnd, plan.DataStart, o.HorizonMonths, o.Origins, o.OriginStep, c.snapshots(o), o.MinHistory)
	if err := b.buildAll(ctx, r.testAndTrain(c.snapshots(o))); err != nil {
		return nil, err
	}
	ev, err := evalOrigins(ctx, b, r, c, o)
	if err != nil {
		return nil, err
	}
	return ev.metrics, nil
}

// evaluated is the chosen configuration on every origin.
type evaluated struct {
	runs    []*originRun // latest first
	metrics *Metrics     // the latest origin's, with Origins
}

// evalOrigins fits c (Forest.Trees trees) on every origin and records the
// figures: the latest origin's as the metrics, every origin's in Origins.
// An older origin whose test snapshot lacks an outcome is left out with a
// note; the latest one is required.
func evalOrigins(ctx context.Context, b *builder, r Rolling, c Config, o Options) (*evaluated, error) {
	ev := &evaluated{}
	var notes []string
	for k, t := range r.Tests {
		run, err := runOrigin(ctx, b, r, t, c, 0, o, "evaluation forest", true)
		if err != nil {
			if k > 0 && fault.Of(err) == fault.BadInput {
				notes = append(notes, fmt.Sprintf("origin %s left out: %v", civil.Format(t), err))
				continue
			}
			return nil, err
		}
		ev.runs = append(ev.runs, run)
		o.logf("origin %s: AUC %.3f (rules %.3f), precision at 5%% %.3f (rules %.3f), county precision %.3f", run.metrics.TestAsOf,
			run.metrics.AUC, run.metrics.RulesAUC, run.metrics.Precision(0.05), run.metrics.RulesPrecision(0.05), run.metrics.CountyPrecision)
	}
	m := *ev.runs[0].metrics
	for _, run := range ev.runs {
		m.Origins = append(m.Origins, originMetrics(run, o))
	}
	summarise(&m)
	m.Notes = append(m.Notes, r.Notes...)
	m.Notes = append(m.Notes, notes...)
	ev.metrics = &m
	return ev, nil
}

// testAndTrain are the snapshots of every origin (test and training, s
// snapshots), oldest first.
func (r Rolling) testAndTrain(s int) []time.Time {
	all := r.allDates(s)
	need := map[time.Time]bool{}
	for _, t := range r.Tests {
		need[t] = true
		for _, d := range r.TrainDates(t, s) {
			need[d] = true
		}
	}
	var out []time.Time
	for _, d := range all {
		if need[d] {
			out = append(out, d)
		}
	}
	return out
}

// fitted is a trained, validated model and what the card says of it.
type fitted struct {
	rolling  Rolling
	chosen   Config
	sel      *registry.Selection
	ev       *evaluated
	final    *trainSet
	raw      models.Classifier // the final model, uncalibrated
	model    models.Classifier // raw, or raw calibrated
	cal      *calib.Calibrator // nil: raw scores
	calRep   *registry.CalibrationReport
	fairness *eval.Fairness
	perm     []registry.FeatureImportance
}

// fitAll lays out the origins for grid, builds every snapshot once,
// selects a configuration, evaluates it on every origin, calibrates,
// audits (when audit), measures permutation importances and fits the
// saved model on the latest snapshots.
func fitAll(ctx context.Context, b *builder, plan Plan, grid []Config, o Options, audit bool) (*fitted, error) {
	smin, smax := gridSnapshots(grid, o)
	r := MakeRolling(plan.DataEnd, plan.DataStart, o.HorizonMonths, o.Origins, o.OriginStep, smin, o.MinHistory)
	o.logf("rolling origins %s (training snapshots from %s), %d configurations", fmtDates(r.Tests), civil.Format(r.Earliest), len(grid))
	b.boundSnapshots(r, smax)
	if err := b.buildAll(ctx, r.allDates(smax)); err != nil {
		return nil, err
	}
	f := &fitted{rolling: r}
	var err error
	if f.chosen, f.sel, err = selectConfig(ctx, b, r, grid, o); err != nil {
		return nil, err
	}
	if f.ev, err = evalOrigins(ctx, b, r, f.chosen, o); err != nil {
		return nil, err
	}
	latest := f.ev.runs[0]
	if !o.NoCalibrate {
		var runs []scored
		for _, run := range f.ev.runs {
			runs = append(runs, scored{asOf: civil.Format(run.test.AsOf), y: run.test.Y, p: run.p})
		}
		cal, rep, err := calibrate(runs)
		if err != nil {
			return nil, fmt.Errorf("calibrate: %w", err)
		}
		f.calRep, f.cal = rep, cal
		o.logf("calibration: %s, ECE %.4f (held out: %v), raw %.4f", rep.Method, rep.ECE, rep.HeldOut, rep.ECERaw)
	}
	if audit {
		fa := Audit(latest.test, latest.p, o.CountyShare, o.Seed)
		f.fairness = &fa
	}
	task := o.Reporter.Start("permutation importance", 0)
	imp, err := PermutationImportance(ctx, latest.model, latest.test.X, latest.test.Y, 3, 50_000, o.Seed)
	task.Done()
	if err != nil {
		return nil, err
	}
	f.perm = registry.TopOf(latest.test.X.Names, imp, 15)
	if f.final, err = stackSet(ctx, b, r.FinalDates(f.chosen.snapshots(o)), o); err != nil {
		return nil, err
	}
	o.logf("final model: %d training rows (%d positive) from %s", len(f.final.y), sum(f.final.y), fmtDates(f.final.dates))
	if f.raw, err = fitConfig(ctx, f.chosen, f.final.X, f.final.y, f.final.w, 0, o, "final forest"); err != nil {
		return nil, err
	}
	f.model = f.raw
	if f.cal != nil {
		f.model = calib.Wrap(f.raw, f.cal)
	}
	return f, nil
}

// Train evaluates on rolling origins, selects a configuration from the
// grid, calibrates, audits, refits on the latest snapshots, fits the
// risk profiles and saves the model with its card; it returns the card.
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
	grid := o.Grid
	if len(grid) == 0 {
		grid = DefaultGrid()
		if o.snapsGiven {
			grid = WithSnapshots(grid, o.Snapshots)
		}
	}
	f, err := fitAll(ctx, b, plan, grid, o, true)
	if err != nil {
		return registry.Card{}, err
	}
	last := f.final.dates[len(f.final.dates)-1]
	s, err := b.get(ctx, last)
	if err != nil {
		return registry.Card{}, err
	}
	prof, err := fitProfiles(ctx, f.raw, s, o)
	if err != nil {
		return registry.Card{}, err
	}
	card := makeCard(b, o, f, prof)
	card.Kind = registry.KindIdentification
	card.TrainSeconds = math.Round(time.Since(start).Seconds()*10) / 10
	id, err := registry.Save(o.Models, f.model, prof, card)
	if err != nil {
		return registry.Card{}, err
	}
	o.logf("saved model %s in %s", id, o.Models)
	return registry.ReadCard(o.Models, id)
}

// makeCard writes the card of the saved model (Save fills in its id,
// family and checksums).
func makeCard(b *builder, o Options, f *fitted, prof *kmeans.Model) registry.Card {
	var dates []string
	for _, d := range f.final.dates {
		dates = append(dates, civil.Format(d))
	}
	m := *f.ev.metrics
	card := registry.Card{
		CreatedBy: o.CreatedBy, AsOf: dates[len(dates)-1], AsOfDates: dates, DataTo: civil.Format(f.rolling.DataEnd),
		HorizonMonths: o.HorizonMonths, Features: b.cols, CatalogHash: features.CatalogHash(),
		PolicySHA256: o.Policy.SHA256(), Drops: b.w.Manifest().Drops, Seed: o.Forest.Seed,
		TrainRows: len(f.final.y), TrainPositive: sum(f.final.y), Metrics: m, TopFeatures: registry.TopImportances(f.raw, 15),
		Calibration: f.calRep, Selection: f.sel, Fairness: f.fairness, PermutationImportance: f.perm,
	}
	if p, ok := forestParams(f.raw); ok {
		card.Params = p
	} else {
		card.FamilyParams = f.chosen.params()
	}
	if f.final.visits >= 0 {
		n := f.final.visits
		card.LabelsFromVisits = &n
	}
	if f.final.sample != nil && f.final.sample.Applied {
		card.Sampling = f.final.sample
		if !forestTakesWeights() {
			card.Sampling.Notes = append(card.Sampling.Notes, "the weights are recorded but this build's forest does not apply them: the sampled negatives trained unweighted; the calibration on a whole test snapshot sets the probability scale")
		}
	}
	if !f.rolling.DataStart.IsZero() {
		card.DataFrom = civil.Format(f.rolling.DataStart)
	}
	if oob, ok := f.raw.(interface{ OOBScore() float64 }); ok {
		if v := oob.OOBScore(); !math.IsNaN(v) {
			card.OOBAUC = v
			card.Notes = append(card.Notes, "oob_auc is optimistic: a household appears in several monthly snapshots, so its out-of-bag rows have near-twins in the bag; judge the model by the temporal metrics")
		}
	}
	if prof != nil {
		for c := 0; c < prof.K(); c++ {
			card.Profiles = append(card.Profiles, registry.ProfileSummary{Cluster: c, Size: prof.Sizes()[c], Traits: prof.Distinguishing(c, 5)})
		}
	}
	if f.calRep != nil {
		card.Notes = append(card.Notes, fmt.Sprintf("scores are calibrated probabilities (%s, fitted on the origin %s); explanations are rescaled so that base + contributions = the calibrated score", f.calRep.Method, f.calRep.FittedOn))
	}
	if card.LabelsFromVisits == nil {
		card.Notes = append(card.Notes, "labels from visit outcomes are not counted by this build")
	}
	card.Notes = append(card.Notes, fmt.Sprintf("metrics: %d rolling origins %s; the headline figures are the latest origin's (trained on %s..%s, tested on %s, labels to %s); the saved model is refitted on %s..%s",
		len(m.Origins), originDates(m.Origins), m.TrainAsOf[0], m.TrainAsOf[len(m.TrainAsOf)-1], m.TestAsOf, m.DataEnd, dates[0], dates[len(dates)-1]))
	return card
}

func originDates(os []registry.OriginMetrics) string {
	var ds []time.Time
	for _, o := range os {
		if t, err := civil.Parse(o.TestAsOf); err == nil {
			ds = append(ds, t)
		}
	}
	if len(ds) == 0 {
		return ""
	}
	return civil.Format(ds[len(ds)-1]) + ".." + civil.Format(ds[0])
}
