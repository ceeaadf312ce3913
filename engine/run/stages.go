package run

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"sort"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/povrisk/povrisk/engine/audit"
	"github.com/povrisk/povrisk/engine/civil"
	"github.com/povrisk/povrisk/engine/fault"
	"github.com/povrisk/povrisk/engine/ingest"
	"github.com/povrisk/povrisk/engine/progress"
	"github.com/povrisk/povrisk/engine/rundir"
	"github.com/povrisk/povrisk/engine/warehouse"
	"github.com/povrisk/povrisk/features"
	"github.com/povrisk/povrisk/features/rules"
	"github.com/povrisk/povrisk/models"
	"github.com/povrisk/povrisk/models/calib"
	"github.com/povrisk/povrisk/models/kmeans"
	"github.com/povrisk/povrisk/models/registry"
)

// config is Options checked and completed, with the policy loaded.
type config struct {
	Options
	policy                *rules.Policy
	policySum, policyName string
	perms                 rundir.Perms
	auditKey              *audit.Key
}

// prepare checks the options, fills the defaults and loads the policy.
func prepare(o Options) (*config, error) {
	if o.Warehouse == "" {
		return nil, usage("no warehouse directory given")
	}
	if o.Models == "" {
		return nil, fault.Wrap(fault.NoModel, errors.New("no models directory given"))
	}
	if o.Runs == "" {
		o.Runs = "runs"
	}
	if math.IsNaN(o.TopShare) || o.TopShare < 0 || o.TopShare > 1 {
		return nil, usage("top share %v is not within (0, 1]", o.TopShare)
	}
	if o.TopShare == 0 {
		o.TopShare = DefaultTopShare
	}
	if err := checkTopK(o.TopK, "the options"); err != nil {
		return nil, err
	}
	if o.MaxStaleMonths < 0 {
		return nil, usage("--max-stale-months %d: want 0 (warn only) or more", o.MaxStaleMonths)
	}
	if !o.AsOf.IsZero() && !o.AnyDay && !civil.IsMonthEnd(civil.Day(o.AsOf)) {
		return nil, usage("--as-of %s is not a month-end: nights are month-ends (the last day is %s); pass --any-day to run another day",
			civil.Format(o.AsOf), civil.Format(civil.MonthEnd(o.AsOf)))
	}
	c := &config{Options: o, perms: rundir.PermsFor(o.SharedPerms)}
	switch {
	case o.PolicyPath != "":
		var err error
		if c.policy, err = rules.LoadPolicy(o.PolicyPath); err != nil {
			return nil, fault.Wrap(fault.Policy, err)
		}
		if c.policySum, err = rundir.HashFile(o.PolicyPath); err != nil {
			return nil, fault.Wrap(fault.Policy, err)
		}
		c.policyName = o.PolicyPath
	case o.Policy != nil:
		c.policy, c.policySum, c.policyName = o.Policy, o.Policy.SHA256(), "policy:"+o.Policy.Name
	default:
		return nil, fault.Wrap(fault.Policy, errors.New("no policy file given (--policy; see features/rules/policy.sample.toml)"))
	}
	if c.MaxStaleMonths == 0 {
		c.MaxStaleMonths = c.policy.MaxStaleMonths()
	}
	if o.ShardHouseholds < 0 {
		return nil, usage("--shard-households %d: want a count of households (0: %d)", o.ShardHouseholds, DefaultShardHouseholds)
	}
	if c.ShardHouseholds == 0 {
		c.ShardHouseholds = DefaultShardHouseholds
	}
	if o.Shard != nil {
		// A shard records nothing: the merge loads the audit key.
		if o.Drop != "" {
			return nil, usage("--shard with --drop: ingest the drop once (povrisk ingest) before the shards start")
		}
		return c, nil
	}
	// The audit key is loaded before any work, so that a night that could
	// not be recorded is never computed.
	var err error
	if c.auditKey, err = audit.LoadKey(o.AuditKeyPath); err != nil {
		return nil, err
	}
	return c, nil
}

// inputs are what the night reads: the warehouse, the as-of date, the
// model, the previous run, and the checksums of every input file (for the
// audit record).
type inputs struct {
	cfg    *config
	w      *warehouse.Warehouse
	asOf   time.Time
	day    string // asOf as YYYY-MM-DD
	forest models.Classifier
	km     *kmeans.Model
	card   registry.Card
	// relapse is the relapse model saved last (nil: none in the registry;
	// the elimination's defer verdict then rests on the months alone).
	relapse     models.Classifier
	relapseCard registry.Card
	names       map[string]string // region code -> name, read by the first county group (regionNames)
	// shardCounties, when not nil, are the counties of the shard being
	// computed (fewer than the province's): the elimination assessment
	// reads only theirs.
	shardCounties []string
	sums          map[string]string // input path -> sha256
	ingested      *ingest.Report
	prev          string // the previous month-end run ("" none)
}

// loadInputs ingests the drop (if any), opens the warehouse, settles the
// as-of date, loads the model and checks it against the feature catalog
// before any work.
func loadInputs(ctx context.Context, db *sql.DB, cfg *config) (*inputs, error) {
	in := &inputs{cfg: cfg, sums: map[string]string{cfg.policyName: cfg.policySum}}
	if err := in.ingest(ctx, db); err != nil {
		return nil, err
	}
	w, err := warehouse.Open(cfg.Warehouse)
	if err != nil {
		return nil, fault.Wrap(fault.BadInput, err)
	}
	in.w = w
	manPath := filepath.Join(w.Dir(), "manifest.json")
	if in.sums[manPath], err = rundir.HashFile(manPath); err != nil {
		return nil, fault.Wrap(fault.BadInput, err)
	}
	for _, t := range []string{"households", "persons"} {
		if _, ok := w.TablePath(t); !ok {
			return nil, fault.Wrap(fault.BadInput, fmt.Errorf("warehouse %s has no %s table: ingest a drop that has one", cfg.Warehouse, t))
		}
	}
	in.asOf = cfg.AsOf
	if in.asOf.IsZero() {
		if in.asOf, err = features.DataEnd(ctx, db, w); err != nil {
			return nil, fault.Wrap(fault.BadInput, err)
		}
	}
	in.asOf = civil.Day(in.asOf)
	in.day = civil.Format(in.asOf)
	if err := in.loadModel(); err != nil {
		return nil, err
	}
	if in.prev, err = rundir.Previous(cfg.Runs, in.day); err != nil {
		return nil, err
	}
	return in, nil
}

// ingest merges the drop into the warehouse first, when one is given.
func (in *inputs) ingest(ctx context.Context, db *sql.DB) error {
	o := in.cfg
	if o.Drop == "" {
		return nil
	}
	key, err := ingest.LoadKey(o.KeyPath)
	if err != nil {
		// A key missing, open to others or too short is a usage error
		// (exit 2), as povrisk ingest and doctor report it.
		return fault.Wrap(fault.Usage, err)
	}
	rep, err := ingest.Run(ctx, db, ingest.Options{Drop: o.Drop, Warehouse: o.Warehouse, Key: key, Progress: o.Progress, Reporter: o.Reporter})
	if err != nil {
		if fault.Of(err) == fault.Internal {
			err = fault.Wrap(fault.BadInput, err)
		}
		return fmt.Errorf("ingest %s: %w", o.Drop, err)
	}
	for _, t := range rep.Tables {
		if t.Error != "" && (t.Table == "households" || t.Table == "persons") {
			return fault.Wrap(fault.BadInput, fmt.Errorf("ingest %s: table %s: %s", o.Drop, t.Table, t.Error))
		}
		if t.SHA256 != "" {
			in.sums[filepath.Join(o.Drop, t.File)] = t.SHA256
		}
	}
	if rep.Unchanged { // already merged: the report lists no files, so checksum them here
		sums, err := rundir.Sums(o.Drop)
		if err != nil {
			return fault.Wrap(fault.BadInput, err)
		}
		for rel, s := range sums {
			in.sums[filepath.Join(o.Drop, rel)] = s
		}
	}
	in.ingested = rep
	return nil
}

// loadModel loads the model and checks it fits the feature catalog.
func (in *inputs) loadModel() error {
	o := in.cfg
	f, km, card, err := registry.Load(o.Models, o.ModelID)
	if err != nil {
		return fault.Wrap(fault.NoModel, err)
	}
	if err := registry.CheckFeatures(card, features.ModelColumns(), features.CatalogHash()); err != nil {
		return fault.Wrap(fault.NoModel, err)
	}
	in.forest, in.km, in.card = f, km, card
	for name, sum := range card.Checksums() { // forest.bin (or boost.bin), calib.json when calibrated
		in.sums[filepath.Join(o.Models, card.ID, name)] = sum
	}
	if s, err := rundir.HashFile(filepath.Join(o.Models, card.ID, "profiles.json")); err == nil {
		in.sums[filepath.Join(o.Models, card.ID, "profiles.json")] = s
	}
	return in.loadRelapse()
}

// loadRelapse loads the relapse model saved last, if the registry holds
// one; one that does not load, or was trained on another feature catalog,
// stops the night (exit 4) like the identification model.
func (in *inputs) loadRelapse() error {
	o := in.cfg
	c, err := registry.LatestKind(o.Models, registry.KindRelapse)
	if errors.Is(err, registry.ErrNoModel) {
		return nil
	}
	if err != nil {
		return fault.Wrap(fault.NoModel, err)
	}
	f, _, card, err := registry.Load(o.Models, c.ID)
	if err != nil {
		return fault.Wrap(fault.NoModel, err)
	}
	if err := registry.CheckFeatures(card, features.ModelColumns(), features.CatalogHash()); err != nil {
		return fault.Wrap(fault.NoModel, fmt.Errorf("relapse model %s: %w (povrisk train --relapse)", card.ID, err))
	}
	in.relapse, in.relapseCard = f, card
	for name, sum := range card.Checksums() {
		in.sums[filepath.Join(o.Models, card.ID, name)] = sum
	}
	return nil
}

// featureTable is the night's feature table, cut into fixed chunks.
type featureTable struct {
	t    arrow.Table
	live bool
}

func (f *featureTable) release() {
	if f.live {
		f.t.Release()
		f.live = false
	}
}

// computeFeatures derives the feature table of the households of the
// counties for the as-of date, with the official rule screen.
// tables: the warehouse, or the group's split of it (splitWarehouse).
func computeFeatures(ctx context.Context, db *sql.DB, in *inputs, tables features.Tables, counties []string) (*featureTable, error) {
	if counties == nil {
		counties = []string{}
	}
	tbl, err := features.ComputeWith(ctx, db, tables, in.asOf, in.cfg.policy,
		features.Options{Progress: in.cfg.Progress, Reporter: in.cfg.Reporter, Counties: counties})
	if err != nil {
		if errors.Is(err, rules.ErrNoEntry) {
			return nil, fault.Wrap(fault.Policy, err)
		}
		return nil, fmt.Errorf("compute features for %s: %w", in.day, err)
	}
	canon, err := canonicalTable(tbl)
	tbl.Release()
	if err != nil {
		return nil, err
	}
	ft := &featureTable{t: canon, live: true}
	if err := ctx.Err(); err != nil {
		ft.release()
		return nil, err
	}
	return ft, nil
}

// scored is the model matrix of the night and the score of every household.
type scored struct {
	X     models.Matrix
	ids   []string // sorted
	score []float64
}

// chunkRows is how many rows are scored or explained between two reports.
const chunkRows = 16 << 10

// rowsOf is rows [lo, hi) of m (sharing its columns).
func rowsOf(m models.Matrix, lo, hi int) models.Matrix {
	s := models.Matrix{Rows: hi - lo, Names: m.Names, Cols: make([][]float64, len(m.Cols))}
	for j, c := range m.Cols {
		s.Cols[j] = c[lo:hi]
	}
	return s
}

// score builds the model matrix and scores every household, reporting
// the rows done.
func score(ctx context.Context, in *inputs, feat *featureTable, rep progress.Reporter) (*scored, error) {
	vals, ids, err := features.Numeric(feat.t, in.card.Features)
	if err != nil {
		return nil, fault.Wrap(fault.NoModel, err)
	}
	X := models.Matrix{Rows: len(ids), Cols: vals, Names: slices.Clone(in.card.Features)}
	if !sort.StringsAreSorted(ids) {
		return nil, errors.New("feature table is not sorted by household_id: the features package must return it sorted")
	}
	s := &scored{X: X, ids: ids, score: make([]float64, X.Rows)}
	task := progress.Or(rep).Start("scoring", int64(X.Rows))
	defer task.Done()
	for lo := 0; lo < X.Rows; lo += chunkRows {
		hi := min(lo+chunkRows, X.Rows)
		in.forest.PredictProba(rowsOf(X, lo, hi), s.score[lo:hi])
		task.Add(int64(hi - lo))
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// explained holds every feature's contribution to every score.
type explained struct {
	contrib models.Matrix
	base    float64
}

// explainAll computes the contributions, reporting the rows done.
func explainAll(ctx context.Context, in *inputs, s *scored, rep progress.Reporter) (*explained, error) {
	e := &explained{contrib: models.NewMatrix(s.X.Rows, in.card.Features)}
	task := progress.Or(rep).Start("explaining", int64(s.X.Rows))
	defer task.Done()
	if s.X.Rows == 0 {
		e.base = calib.ExplainAll(in.forest, s.X, e.contrib)
	}
	for lo := 0; lo < s.X.Rows; lo += chunkRows {
		hi := min(lo+chunkRows, s.X.Rows)
		e.base = calib.ExplainAll(in.forest, rowsOf(s.X, lo, hi), rowsOf(e.contrib, lo, hi))
		task.Add(int64(hi - lo))
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// profiles are every household's k-means profile.
type profiles struct {
	cluster []int
	profs   []kmeans.Profile
}

// profile assigns every household to a k-means profile and names the
// profiles. With no profiles saved with the model, every household gets
// the fallback profile.
func profile(in *inputs, s *scored, feat *featureTable) (*profiles, error) {
	X, km := s.X, in.km
	p := &profiles{cluster: make([]int, X.Rows)}
	if km == nil {
		fb := kmeans.FallbackLabel()
		p.profs = []kmeans.Profile{{Name: fb.Name, NameZh: fb.NameZh, RiskType: fb.RiskType}}
		return p, nil
	}
	names := km.FeatureNames()
	Xk := models.Matrix{Rows: X.Rows, Names: names, Cols: make([][]float64, len(names))}
	pos := map[string]int{}
	for j, n := range X.Names {
		pos[n] = j
	}
	for j, n := range names {
		if k, ok := pos[n]; ok {
			Xk.Cols[j] = X.Cols[k]
			continue
		}
		vals, err := features.Columns(feat.t, []string{n})
		if err != nil {
			return nil, fault.Wrap(fault.NoModel, fmt.Errorf("profiles: %w", err))
		}
		Xk.Cols[j] = vals[0]
	}
	km.Assign(Xk, p.cluster)
	labels := profileLabels()
	p.profs = make([]kmeans.Profile, km.K())
	for c := range p.profs {
		p.profs[c] = km.Profile(c, labels)
	}
	return p, nil
}

// ranking is the ranked list of the night with its counts.
type ranking struct {
	rows   []rundir.Row
	cols   *infoColumns
	topK   map[string]int
	counts rundir.Counts
}

// rank builds one row per eligible household and ranks them.
func rank(in *inputs, feat *featureTable, s *scored, e *explained, p *profiles) (*ranking, error) {
	cols, err := readColumns(feat.t)
	if err != nil {
		return nil, err
	}
	rows := buildRows(s.ids, s.score, s.X, e.contrib, p.cluster, p.profs, cols, in.card.Features)
	topK := rankRows(rows, in.cfg.TopShare, in.cfg.TopK)
	return &ranking{rows: rows, cols: cols, topK: topK, counts: countRows(rows, len(s.ids))}, nil
}

// written is the committed run directory and the checksum of every file.
type written struct {
	dir  string
	sums map[string]string
}

// group is one county group's night: the stages' outputs for the
// households of its counties (part.go says what is county-local).
type group struct {
	in       *inputs
	counties []string
	feat     *featureTable
	sc       *scored
	ex       *explained
	prof     *profiles
	rk       *ranking
	office   *officeSet       // names, marks, visits, watch, elimination of the group's counties
	coverage map[string]int64 // table -> the group's households it covers (groupCoverage)
}

func (g *group) release() { g.feat.release() }

// computeGroup runs the stages from features to rank for one county
// group, its features computed from tables (computeFeatures).
func computeGroup(ctx context.Context, db *sql.DB, in *inputs, ck *clock, counties []string, tables features.Tables) (*group, error) {
	g := &group{in: in, counties: counties}
	ck.stage("features")
	var err error
	if g.coverage, err = groupCoverage(ctx, db, tables, counties, in.asOf); err != nil {
		return nil, err
	}
	if g.feat, err = computeFeatures(ctx, db, in, tables, counties); err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			g.feat.release()
		}
	}()
	ck.stage("score")
	if g.sc, err = score(ctx, in, g.feat, in.cfg.Reporter); err != nil {
		return nil, err
	}
	ck.stage("explain")
	if g.ex, err = explainAll(ctx, in, g.sc, in.cfg.Reporter); err != nil {
		return nil, err
	}
	ck.stage("profile")
	if g.prof, err = profile(in, g.sc, g.feat); err != nil {
		return nil, err
	}
	ck.stage("rank")
	if g.rk, err = rank(in, g.feat, g.sc, g.ex, g.prof); err != nil {
		return nil, err
	}
	// The model matrix (a copy of the features the model reads, 8 bytes a
	// household and feature) has served scores, explanations, profiles and
	// rows: the office outputs and the part's files read the feature
	// table, so it goes before them (196 MB of Go heap a 250,000-household
	// group).
	g.sc.X = models.Matrix{}
	ck.stage("office")
	if g.office, err = office(ctx, db, in, g.rk, g.feat, counties, tables); err != nil {
		return nil, err
	}
	ok = true
	return g, nil
}

// record appends the audit record of the night and returns its sequence.
func record(o *config, m *nightMeta, out *written) (int64, error) {
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	who := o.User
	if who == "" {
		who = osUser()
	}
	rec, err := audit.Append(o.Runs, o.auditKey, audit.Record{
		Time: now().UTC().Format(time.RFC3339), User: who, Command: o.Command, Run: m.AsOf,
		Inputs: m.Inputs, Model: m.ModelID, PolicySHA256: m.PolicySHA256, Outputs: out.sums,
	}, o.perms.File)
	if err != nil {
		return 0, fmt.Errorf("run %s is written but not recorded: %w", out.dir, err)
	}
	return rec.Seq, nil
}
