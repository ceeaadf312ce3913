package run

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"math"
	"os"
	"os/user"
	"time"

	"github.com/povrisk/povrisk/engine/audit"
	"github.com/povrisk/povrisk/engine/civil"
	"github.com/povrisk/povrisk/engine/fault"
	"github.com/povrisk/povrisk/engine/ingest"
	"github.com/povrisk/povrisk/engine/progress"
	"github.com/povrisk/povrisk/engine/rundir"
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
	AlreadyDone bool           `json:"already_done,omitempty"`
	Ingest      *ingest.Report `json:"-"`
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
	return []string{"ingest", "features", "score", "explain", "profile", "rank", "write", "worklists", "checksums", "commit", "audit"}
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
	c.stages = append(c.stages, s)
	if c.o.Progress != nil {
		fmt.Fprintf(c.o.Progress, "run: %-9s %7.1fs\n", s.Name, s.Seconds)
	}
	c.cur = ""
}

// Run runs the night for o.AsOf and writes RUNS/<as_of>, holding the runs
// directory's lock throughout. The night is the list of stages below, each
// a function of the previous stages' outputs.
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
	cov, err := readCoverage(ctx, db, in)
	if err != nil {
		return nil, err
	}
	ck.stage("features")
	feat, err := computeFeatures(ctx, db, in)
	if err != nil {
		return nil, err
	}
	defer feat.release()
	ck.stage("score")
	sc, err := score(ctx, in, feat, cfg.Reporter)
	if err != nil {
		return nil, err
	}
	ck.stage("explain")
	ex, err := explainAll(ctx, in, sc, cfg.Reporter)
	if err != nil {
		return nil, err
	}
	ck.stage("profile")
	prof, err := profile(in, sc, feat)
	if err != nil {
		return nil, err
	}
	ck.stage("rank")
	rk, err := rank(in, feat, sc, ex, prof)
	if err != nil {
		return nil, err
	}
	ch, err := changes(ctx, db, in, rk)
	if err != nil {
		return nil, err
	}
	if ch.office, err = office(ctx, db, in, rk, ch); err != nil {
		return nil, err
	}
	ck.stage("write")
	out, err := write(ctx, in, ck, feat, sc, ex, rk, ch, cov)
	if err != nil {
		return nil, err
	}
	ck.stage("audit")
	seq, err := record(in, out)
	if err != nil {
		return nil, err
	}
	ck.end()
	res := in.result(rk, ch, cov.warnings)
	res.Dir, res.AuditSeq, res.Stages = out.dir, seq, ck.stages
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
