package run

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/povrisk/povrisk/engine/audit"
	"github.com/povrisk/povrisk/engine/ingest"
	"github.com/povrisk/povrisk/engine/warehouse"
	"github.com/povrisk/povrisk/features"
	"github.com/povrisk/povrisk/features/rules"
	"github.com/povrisk/povrisk/models"
	"github.com/povrisk/povrisk/models/kmeans"
	"github.com/povrisk/povrisk/models/registry"
)

// Errors that callers map to exit codes; Run's errors wrap one of them
// when the cause is the input, the model or the policy.
var (
	ErrBadInput = errors.New("bad input")
	ErrNoModel  = errors.New("no usable model")
	ErrPolicy   = errors.New("policy")
)

// Options configure Run. Zero values mean the defaults noted.
type Options struct {
	Drop       string        // a drop to ingest first ("" : the warehouse is already up to date)
	Warehouse  string        // warehouse directory (required)
	Runs       string        // runs directory; default "runs"
	Models     string        // models directory (required)
	ModelID    string        // "" or "latest": the newest model
	PolicyPath string        // policy TOML (required unless Policy is set)
	Policy     *rules.Policy // an already loaded policy (the demo's sample); used when PolicyPath is ""
	AsOf       time.Time
	// KeyPath is the HMAC key file for ingesting Drop ("" : env POVRISK_KEY / POVRISK_KEY_FILE).
	KeyPath string
	// AuditKeyPath is the audit key file that signs the audit record
	// ("" : env POVRISK_AUDIT_KEY_FILE, else audit.DefaultKeyPath()).
	AuditKeyPath string
	TopShare     float64         // county top k as a share of its eligible households; default 0.05
	TopK         map[string]TopK // per-county k or share (county code -> TopK), overriding TopShare
	// Progress receives one line per stage; nil is quiet.
	Progress    io.Writer
	SharedPerms bool // files 0640 and directories 0750 instead of 0600 / 0700

	Command string           // the command line recorded in the audit log
	User    string           // recorded in the audit log; "" : the OS user
	Now     func() time.Time // clock of the audit record; nil: time.Now
	// PauseAt, when set, calls Pause before the named stage (a test hook
	// for interrupting a run at a known point).
	PauseAt string
	Pause   func(stage string)
}

// Stage is the wall time of one stage of the night.
type Stage struct {
	Name    string  `json:"name"`
	Seconds float64 `json:"seconds"`
}

// Result is what Run reports (the `--json` summary of the command).
type Result struct {
	Dir         string         `json:"run_dir"`
	AsOf        string         `json:"as_of"`
	PreviousRun string         `json:"previous_run"`
	ModelID     string         `json:"model_id"`
	Counts      Counts         `json:"counts"`
	Stages      []Stage        `json:"stages"`
	AuditSeq    int64          `json:"audit_seq"`
	Top         string         `json:"top_household"` // the household ranked first
	Ingest      *ingest.Report `json:"-"`
}

// Stages of the night, in order (the names PauseAt accepts).
var Stages = []string{"ingest", "features", "score", "explain", "profile", "rank", "write", "worklists", "checksums", "commit", "audit"}

type clock struct {
	o      *Options
	stages []Stage
	cur    string
	start  time.Time
}

func (c *clock) stage(name string) {
	c.end()
	if c.o.PauseAt == name && c.o.Pause != nil {
		c.o.Pause(name)
	}
	c.cur, c.start = name, time.Now()
}

func (c *clock) end() {
	if c.cur == "" {
		return
	}
	s := Stage{Name: c.cur, Seconds: math.Round(time.Since(c.start).Seconds()*1000) / 1000}
	c.stages = append(c.stages, s)
	if c.o.Progress != nil {
		fmt.Fprintf(c.o.Progress, "run: %-9s %7.1fs\n", s.Name, s.Seconds)
	}
	c.cur = ""
}

// Run runs the night for o.AsOf and writes RUNS/<as_of>.
func Run(ctx context.Context, db *sql.DB, o Options) (*Result, error) {
	if o.Warehouse == "" {
		return nil, fmt.Errorf("%w: no warehouse directory given", ErrBadInput)
	}
	if o.Models == "" {
		return nil, fmt.Errorf("%w: no models directory given", ErrNoModel)
	}
	if o.Runs == "" {
		o.Runs = "runs"
	}
	if o.TopShare <= 0 {
		o.TopShare = DefaultTopShare
	}
	if o.TopShare > 1 {
		return nil, fmt.Errorf("%w: top share %v is not within (0, 1]", ErrBadInput, o.TopShare)
	}
	var pol *rules.Policy
	var policySum, policyName string
	switch {
	case o.PolicyPath != "":
		var err error
		if pol, err = rules.LoadPolicy(o.PolicyPath); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrPolicy, err)
		}
		if policySum, err = audit.HashFile(o.PolicyPath); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrPolicy, err)
		}
		policyName = o.PolicyPath
	case o.Policy != nil:
		pol, policySum, policyName = o.Policy, o.Policy.SHA256(), "policy:"+o.Policy.Name
	default:
		return nil, fmt.Errorf("%w: no policy file given (--policy; see features/rules/policy.sample.toml)", ErrPolicy)
	}
	auditKey, err := audit.LoadKey(o.AuditKeyPath)
	if err != nil {
		return nil, err
	}
	p := permsFor(o.SharedPerms)
	ck := &clock{o: &o}
	res := &Result{}
	inputs := map[string]string{policyName: policySum}

	// Ingest.
	ck.stage("ingest")
	if o.Drop != "" {
		key, err := ingest.LoadKey(o.KeyPath)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadInput, err)
		}
		rep, err := ingest.Run(ctx, db, ingest.Options{Drop: o.Drop, Warehouse: o.Warehouse, Key: key, Progress: o.Progress})
		if err != nil {
			return nil, fmt.Errorf("%w: ingest %s: %w", ErrBadInput, o.Drop, err)
		}
		for _, t := range rep.Tables {
			if t.Error != "" && (t.Table == "households" || t.Table == "persons") {
				return nil, fmt.Errorf("%w: ingest %s: table %s: %s", ErrBadInput, o.Drop, t.Table, t.Error)
			}
			if t.SHA256 != "" {
				inputs[filepath.Join(o.Drop, t.File)] = t.SHA256
			}
		}
		if rep.Unchanged { // already merged: the report lists no files, so checksum them here
			sums, err := audit.HashTree(o.Drop)
			if err != nil {
				return nil, fmt.Errorf("%w: %w", ErrBadInput, err)
			}
			for rel, s := range sums {
				inputs[filepath.Join(o.Drop, rel)] = s
			}
		}
		res.Ingest = rep
	}
	w, err := warehouse.Open(o.Warehouse)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadInput, err)
	}
	manPath := filepath.Join(w.Dir(), "manifest.json")
	if s, err := audit.HashFile(manPath); err == nil {
		inputs[manPath] = s
	} else {
		return nil, fmt.Errorf("%w: %w", ErrBadInput, err)
	}
	for _, t := range []string{"households", "persons"} {
		if _, ok := w.TablePath(t); !ok {
			return nil, fmt.Errorf("%w: warehouse %s has no %s table: ingest a drop that has one", ErrBadInput, o.Warehouse, t)
		}
	}
	asOf := o.AsOf
	if asOf.IsZero() {
		if asOf, err = features.DataEnd(ctx, db, w); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadInput, err)
		}
	}
	asOf = time.Date(asOf.Year(), asOf.Month(), asOf.Day(), 0, 0, 0, 0, time.UTC)
	res.AsOf = asOf.Format("2006-01-02")

	// The model, checked against the catalog before any work.
	f, km, card, err := registry.Load(o.Models, o.ModelID)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoModel, err)
	}
	if err := registry.CheckFeatures(card, features.ModelColumns(), features.CatalogHash()); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoModel, err)
	}
	res.ModelID = card.ID
	inputs[filepath.Join(o.Models, card.ID, "forest.bin")] = card.ModelSHA256
	if s, err := audit.HashFile(filepath.Join(o.Models, card.ID, "profiles.json")); err == nil {
		inputs[filepath.Join(o.Models, card.ID, "profiles.json")] = s
	}

	ck.stage("features")
	tbl, err := features.ComputeWith(ctx, db, w, asOf, pol, features.Options{Progress: o.Progress})
	if err != nil {
		if errors.Is(err, rules.ErrNoEntry) {
			return nil, fmt.Errorf("%w: %w", ErrPolicy, err)
		}
		return nil, fmt.Errorf("compute features for %s: %w", res.AsOf, err)
	}
	canon := canonicalTable(tbl)
	tbl.Release()
	tbl = canon
	tblLive := true
	defer func() {
		if tblLive {
			tbl.Release()
		}
	}()
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	ck.stage("score")
	X, ids, err := features.ToMatrix(tbl, card.Features)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoModel, err)
	}
	for i := range ids {
		ids[i] = strings.Clone(ids[i]) // ToMatrix's ids alias the table's buffers
	}
	score := make([]float64, X.Rows)
	f.PredictProba(X, score)
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	ck.stage("explain")
	contrib := models.NewMatrix(X.Rows, card.Features)
	base := f.ExplainAll(X, contrib)
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	ck.stage("profile")
	cluster, profs, err := assignProfiles(km, X, tbl)
	if err != nil {
		return nil, err
	}

	ck.stage("rank")
	cols, err := readColumns(tbl)
	if err != nil {
		return nil, err
	}
	if !sort.StringsAreSorted(ids) {
		return nil, errors.New("feature table is not sorted by household_id: the features package must return it sorted")
	}
	rows := buildRows(ids, score, X, contrib, cluster, profs, cols, card.Features)
	topK := rankRows(rows, o.TopShare, o.TopK)
	counts := countRows(rows, len(ids))
	if len(rows) > 0 {
		res.Top = rows[0].HouseholdID
	}
	res.Counts = counts

	prev, err := previousRun(o.Runs, res.AsOf)
	if err != nil {
		return nil, err
	}
	res.PreviousRun = prev
	changes, err := computeChanges(ctx, db, o.Runs, prev, rows)
	if err != nil {
		return nil, err
	}

	ck.stage("write")
	dir, err := startPartial(o.Runs, res.AsOf, p)
	if err != nil {
		return nil, err
	}
	defer func() {
		if res.Dir == "" { // failed before the rename: leave no partial behind
			os.RemoveAll(dir)
		}
	}()
	write := func(rel string, fn func(w io.Writer) error) error {
		return p.writeFile(filepath.Join(dir, filepath.FromSlash(rel)), fn)
	}
	// features.parquet is written alongside the other files (2 cores);
	// the feature table and the matrices are let go as soon as written.
	X = models.Matrix{}
	featDone := make(chan error, 1)
	go func() {
		featDone <- write("features.parquet", func(w io.Writer) error { return writeTableParquet(w, tbl) })
	}()
	werr := write("ranked.parquet", func(w io.Writer) error { return writeRankedParquet(w, rows) })
	if werr == nil {
		werr = write("ranked.csv", func(w io.Writer) error { return writeRankedCSV(w, rows) })
	}
	if werr == nil {
		werr = write("contributions.parquet", func(w io.Writer) error {
			return writeContributionsParquet(w, rows, card.Features, contrib.Cols)
		})
	}
	contrib = models.Matrix{}
	if err := <-featDone; err != nil && werr == nil {
		werr = err
	}
	tbl.Release() // its info columns were copied into cols
	tblLive = false
	if werr != nil {
		return nil, werr
	}
	if err := write("changes.csv", func(w io.Writer) error { return writeChanges(w, changes) }); err != nil {
		return nil, err
	}
	sum, err := buildSummary(ctx, db, w, summaryInput{asOf: asOf, prev: prev, card: card, policyPath: policyName,
		policySum: policySum, cols: cols, rows: rows, counts: counts, topK: topK, base: base})
	if err != nil {
		return nil, err
	}
	if err := write("summary.json", func(w io.Writer) error { return writeJSON(w, sum) }); err != nil {
		return nil, err
	}

	ck.stage("worklists")
	if err := p.mkdir(filepath.Join(dir, "worklists")); err != nil {
		return nil, err
	}
	for _, c := range slices.Sorted(maps.Keys(topK)) {
		var cr []*row
		for i := range rows {
			if rows[i].CountyCode == c {
				cr = append(cr, &rows[i])
			}
		}
		if err := write("worklists/"+c+".xlsx", func(w io.Writer) error { return writeWorklist(w, cr) }); err != nil {
			return nil, err
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}

	ck.stage("checksums")
	outputs, err := writeChecksums(dir, p)
	if err != nil {
		return nil, err
	}

	ck.stage("commit")
	if res.Dir, err = commitPartial(o.Runs, res.AsOf); err != nil {
		return nil, err
	}

	ck.stage("audit")
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	who := o.User
	if who == "" {
		who = osUser()
	}
	rec, err := audit.Append(o.Runs, auditKey, audit.Record{
		Time: now().UTC().Format(time.RFC3339), User: who, Command: o.Command, Run: res.AsOf,
		Inputs: inputs, Model: card.ID, PolicySHA256: policySum, Outputs: outputs,
	}, p.file)
	if err != nil {
		return nil, fmt.Errorf("run %s is written but not recorded: %w", res.Dir, err)
	}
	res.AuditSeq = rec.Seq
	ck.end()
	res.Stages = ck.stages
	return res, nil
}

func osUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	if s := os.Getenv("USER"); s != "" {
		return s
	}
	return fmt.Sprintf("uid:%d", os.Getuid())
}

// assignProfiles assigns every household to a k-means profile and names
// the profiles. With no profiles saved with the model, every household
// gets the fallback profile.
func assignProfiles(km *kmeans.Model, X models.Matrix, tbl arrow.Table) ([]int, []kmeans.Profile, error) {
	cluster := make([]int, X.Rows)
	if km == nil {
		fb := kmeans.FallbackLabel()
		return cluster, []kmeans.Profile{{Name: fb.Name, NameZh: fb.NameZh, RiskType: fb.RiskType}}, nil
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
		m, _, err := features.ToMatrix(tbl, []string{n})
		if err != nil {
			return nil, nil, fmt.Errorf("%w: profiles: %w", ErrNoModel, err)
		}
		Xk.Cols[j] = m.Cols[0]
	}
	km.Assign(Xk, cluster)
	labels := profileLabels()
	profs := make([]kmeans.Profile, km.K())
	for c := range profs {
		profs[c] = km.Profile(c, labels)
	}
	return cluster, profs, nil
}
