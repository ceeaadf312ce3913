package run

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"math"
	"os"
	"os/user"
	"path/filepath"
	"runtime/debug"
	"slices"
	"time"

	"github.com/povrisk/povrisk/engine/audit"
	"github.com/povrisk/povrisk/engine/civil"
	"github.com/povrisk/povrisk/engine/fault"
	"github.com/povrisk/povrisk/engine/ingest"
	"github.com/povrisk/povrisk/engine/progress"
	"github.com/povrisk/povrisk/engine/rundir"
	"github.com/povrisk/povrisk/features"
	"github.com/povrisk/povrisk/features/rules"
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
	// AsOf is the night's date, a month-end unless AnyDay; zero: the end
	// of the data (features.DataEnd).
	AsOf   time.Time
	AnyDay bool // accept an AsOf that is not a month-end
	// KeyPath is the HMAC key file for ingesting Drop ("" : env POVRISK_KEY / POVRISK_KEY_FILE).
	KeyPath string
	// AuditKeyPath is the audit key file that keys the audit record
	// ("" : env POVRISK_AUDIT_KEY_FILE, else audit.DefaultKeyPath()).
	AuditKeyPath string
	TopShare     float64         // county top k as a share of its eligible households; default 0.05
	TopK         map[string]TopK // per-county k or share (county code -> TopK), overriding TopShare
	// MaxStaleMonths, when above 0, makes a stale table an error of kind
	// fault.BadInput when it is more than MaxStaleMonths months behind the
	// as-of date (over its cadence or not); 0: the policy's [freshness]
	// max_stale_months, where 0 only warns.
	MaxStaleMonths int
	// Wait is how long to wait for the runs directory's lock held by
	// another writer; 0 fails at once with fault.Busy.
	Wait time.Duration
	// Progress receives one line per stage; nil is quiet.
	Progress io.Writer
	// Reporter shows the progress of the long stages (scoring, explaining,
	// writing); nil shows nothing.
	Reporter    progress.Reporter
	SharedPerms bool // files 0640 and directories 0750 instead of 0600 / 0700

	// Shard, when set, computes only shard K of N of the night (the
	// counties balance assigns it) and writes its result under
	// RUNS/.shards/<as_of>/<K>-of-<N> for Merge, instead of the run
	// directory; no lock, no audit record (docs/scale.md).
	Shard *Shard
	// ShardHouseholds is the size, in households, of the county groups
	// computed one at a time (0: DefaultShardHouseholds).
	ShardHouseholds int
	// Split says when a night of several county groups first copies the
	// warehouse cut by group (splitWarehouse): SplitAuto (the zero value)
	// when that costs less than filtering the whole tables for each group
	// (splitPays), SplitAlways, or SplitNever. The outputs are the same
	// bytes either way.
	Split SplitMode

	Command string           // the command line recorded in the audit log
	User    string           // recorded in the audit log; "" : the OS user
	Now     func() time.Time // clock of the audit record; nil: time.Now
	// PauseAt, when set, calls Pause before the named stage: a hook for
	// tests that interrupt a run at a known point (StageNames lists them),
	// set only by tests (the povrisk binary never sets it).
	PauseAt string
	Pause   func(stage string)
}

// Stage is the wall time of one stage of the night.
type Stage struct {
	Name    string  `json:"name"`
	Seconds float64 `json:"seconds"`
}

// ModelUsed names the model of the night.
type ModelUsed struct {
	ID      string `json:"id"`
	Created string `json:"created"` // when it was saved ("" when its card does not say)
	AsOf    string `json:"as_of"`   // its training as-of date
}

// Result is what Run reports (the `--json` object of the command).
type Result struct {
	Dir         string `json:"run_dir"`
	AsOf        string `json:"as_of"`
	PreviousRun string `json:"previous_run"`
	// PreviousMonths is the distance from the previous run to this one,
	// in calendar months (0 when there is none).
	PreviousMonths int              `json:"previous_months"`
	ModelID        string           `json:"model_id"`
	Model          ModelUsed        `json:"model"`
	Counts         rundir.Counts    `json:"counts"`
	Warnings       []rundir.Warning `json:"warnings"`
	Stages         []Stage          `json:"stages"`
	AuditSeq       int64            `json:"audit_seq"`
	Top            string           `json:"top_household"` // the household ranked first
	// AlreadyDone is set when this run waited for another run of the same
	// night, which wrote it: nothing was written again (see Run).
	AlreadyDone bool `json:"already_done,omitempty"`
	// Shard is "K-of-N" for the result of one shard (Dir is the shard's
	// directory, Counts its households only).
	Shard  string         `json:"shard,omitempty"`
	Ingest *ingest.Report `json:"-"`
}

// PreviousAgo says how long before the night its previous run was:
// "1 month ago", "6 months ago", or "" when there is none.
func (r *Result) PreviousAgo() string {
	if r.PreviousRun == "" {
		return ""
	}
	return rundir.Months(r.PreviousMonths) + " ago"
}

// StageNames are the stages of the night, in order (the names PauseAt
// accepts); a fresh slice.
func StageNames() []string {
	return []string{"ingest", "split", "features", "score", "explain", "profile", "rank", "write", "worklists", "checksums", "commit", "audit"}
}

// clock times the stages, calls the pause hook and prints stage lines.
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
	// A stage met again (the next county group's) adds to its first entry.
	if i := slices.IndexFunc(c.stages, func(x Stage) bool { return x.Name == s.Name }); i >= 0 {
		c.stages[i].Seconds = math.Round((c.stages[i].Seconds+s.Seconds)*1000) / 1000
	} else {
		c.stages = append(c.stages, s)
	}
	if c.o.Progress != nil {
		fmt.Fprintf(c.o.Progress, "run: %-9s %7.1fs\n", s.Name, s.Seconds)
	}
	c.cur = ""
}

// Run runs the night for o.AsOf and writes RUNS/<as_of>, holding the runs
// directory's lock throughout. The night is the list of stages below, each
// a function of the previous stages' outputs: the stages from features to
// rank and the part files run one county group at a time (part.go), and
// the merge of the parts writes the run directory, the same merge as
// `povrisk merge` of a sharded night (Merge). With o.Shard set, Run
// computes that shard only (runShard).
//
// A second run of the same night started while the first holds the lock
// fails at once with fault.Busy, or with o.Wait waits; when the first then
// wrote the night and the directory verifies against its checksums, the
// second returns that night's result with AlreadyDone set and writes
// nothing. A run that did not have to wait always (re)writes the night.
func Run(ctx context.Context, db *sql.DB, o Options) (*Result, error) {
	cfg, err := prepare(o)
	if err != nil {
		return nil, err
	}
	if cfg.Shard != nil {
		return runShard(ctx, db, cfg)
	}
	ck := &clock{o: &cfg.Options}
	ck.stage("ingest")
	rl, err := lockRuns(cfg)
	if err != nil {
		return nil, err
	}
	defer rl.release()
	// A log that Append would refuse (records removed, another audit key)
	// stops the night before it ingests or writes anything.
	if err := audit.CheckAppend(cfg.Runs, cfg.auditKey); err != nil {
		return nil, err
	}
	in, err := loadInputs(ctx, db, cfg)
	if err != nil {
		return nil, err
	}
	if res, ok, err := rl.doneByOther(in); ok || err != nil {
		return res, err
	}
	// The parts of the night's county groups, merged below and removed.
	parts := filepath.Join(cfg.Runs, "."+in.day+".parts")
	if err := os.RemoveAll(parts); err != nil {
		return nil, fault.Wrap(fault.Write, fmt.Errorf("remove stale %s: %w", parts, err))
	}
	defer os.RemoveAll(parts)
	if _, err := computeShard(ctx, db, in, ck, Shard{K: 0, N: 1}, parts, parts+".partial", true); err != nil {
		return nil, err
	}
	src, err := readShard(parts, false)
	if err != nil {
		return nil, err
	}
	res, out, err := mergeShards(ctx, db, cfg, ck, []shardSrc{src})
	if err != nil {
		return nil, err
	}
	ck.stage("audit")
	if res.AuditSeq, err = record(cfg, &src.meta.Night, out); err != nil {
		return nil, err
	}
	ck.end()
	res.Stages, res.Ingest = ck.stages, in.ingested
	return res, nil
}

// runShard computes shard K of N and writes it under RUNS/.shards/.
func runShard(ctx context.Context, db *sql.DB, cfg *config) (*Result, error) {
	ck := &clock{o: &cfg.Options}
	ck.stage("ingest")
	in, err := loadInputs(ctx, db, cfg)
	if err != nil {
		return nil, err
	}
	final := ShardsDir(cfg.Runs, in.day, *cfg.Shard)
	if err := cfg.perms.Mkdir(filepath.Dir(final)); err != nil {
		return nil, err
	}
	host, _ := os.Hostname()
	tmp := filepath.Join(filepath.Dir(final), fmt.Sprintf(".%s.partial.%s.%d", filepath.Base(final), host, os.Getpid()))
	sh, err := computeShard(ctx, db, in, ck, *cfg.Shard, final, tmp, false)
	if err != nil {
		return nil, err
	}
	ck.end()
	m := &sh.meta.Night
	res := &Result{Dir: final, AsOf: m.AsOf, PreviousRun: m.PreviousRun, ModelID: m.ModelID, Model: m.ModelUsed,
		Counts: sh.counts, Warnings: m.Warnings, Stages: ck.stages, Ingest: in.ingested, Shard: cfg.Shard.String()}
	if m.PreviousRun != "" {
		res.PreviousMonths = monthsFrom(m.PreviousRun, in.asOf)
	}
	return res, nil
}

// shardDone is what computeShard wrote.
type shardDone struct {
	meta   shardMeta
	counts rundir.Counts // of the shard's households (global ranks aside)
}

// computeShard computes shard s of the night in county groups of about
// cfg.ShardHouseholds households and writes the shard directory final
// (through tmp); local: the night's own parts (shardWriter.local).
func computeShard(ctx context.Context, db *sql.DB, in *inputs, ck *clock, s Shard, final, tmp string, local bool) (*shardDone, error) {
	cov, err := readCoverage(ctx, db, in)
	if err != nil {
		return nil, err
	}
	sizes, err := countySizes(ctx, db, in)
	if err != nil {
		return nil, err
	}
	all := make([]string, len(sizes))
	for i, c := range sizes {
		all[i] = c.code
	}
	mine := balance(sizes, s.N)[s.K]
	if mine == nil {
		mine = []string{}
	}
	if len(mine) < len(all) {
		in.shardCounties = mine
	}
	sw, err := beginShard(final, tmp, in.cfg.perms)
	if err != nil {
		return nil, err
	}
	defer sw.abort()
	sw.local = local
	done := &shardDone{counts: countRows(nil, 0)}
	base := math.NaN()
	groups := groupsOf(mine, sizes, in.cfg.ShardHouseholds)
	tables := make([]features.Tables, len(groups))
	for i := range tables {
		tables[i] = in.w
	}
	split := "" // the split of the warehouse, when made: removed before sw.finish renames tmp, else with tmp by sw.abort
	if len(groups) > 1 && (in.cfg.Split == SplitAlways || in.cfg.Split == SplitAuto && splitPays(len(groups), households(sizes, mine), households(sizes, all))) {
		ck.stage("split")
		split = filepath.Join(tmp, "split")
		if tables, err = splitWarehouse(ctx, db, in.w, groups, split, in.cfg.Progress, in.cfg.Reporter); err != nil {
			return nil, err
		}
	}
	for i, counties := range groups {
		g, err := computeGroup(ctx, db, in, ck, counties, tables[i])
		if err != nil {
			return nil, err
		}
		ck.stage("write")
		err = sw.writePart(ctx, g)
		g.release()
		if err != nil {
			return nil, err
		}
		if i+1 < len(groups) {
			// Hand the group's freed heap back to the OS before the next
			// group's features, which DuckDB allocates outside Go's heap:
			// else the peak holds both (1M households, shard 0/2 in 4
			// groups: 1.74-1.96 GB against 2.07-2.12 GB). One collection
			// per group.
			debug.FreeOSMemory()
		}
		base = g.ex.base
		addCounts(&done.counts, g.rk.counts)
	}
	if split != "" {
		if err := os.RemoveAll(split); err != nil {
			return nil, fault.Wrap(fault.Write, fmt.Errorf("remove the split of the warehouse: %w", err))
		}
	}
	done.meta = shardMeta{Shard: s.K, Shards: s.N, Counties: mine, AllCounties: all, Night: in.meta(cov, base)}
	if err := sw.finish(&done.meta); err != nil {
		return nil, err
	}
	return done, nil
}

// addCounts adds the totals of b to a (a shard's result line).
func addCounts(a *rundir.Counts, b rundir.Counts) {
	a.Households += b.Households
	a.Eligible += b.Eligible
	a.MonitoredExcluded += b.MonitoredExcluded
	a.RulesFlagged += b.RulesFlagged
	a.TopKTotal += b.TopKTotal
	a.TopKMissedByRules += b.TopKMissedByRules
	for k, v := range b.ByTier {
		a.ByTier[k] += v
	}
	for k, v := range b.ByRiskType {
		a.ByRiskType[k] += v
	}
	for k, v := range b.ByProfile {
		a.ByProfile[k] += v
	}
	a.ByRegion = append(a.ByRegion, b.ByRegion...)
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

// monthsFrom is the number of calendar months from the run day prev to asOf.
func monthsFrom(prev string, asOf time.Time) int {
	p, err := civil.Parse(prev)
	if err != nil {
		return 0
	}
	return civil.MonthsBetween(p, asOf)
}

// usage marks an error of the options as fault.Usage.
func usage(format string, args ...any) error {
	return fault.Wrap(fault.Usage, fmt.Errorf(format, args...))
}
