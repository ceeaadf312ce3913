package run

import (
	"context"
	"database/sql"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/povrisk/povrisk/engine"
	"github.com/povrisk/povrisk/engine/audit"
	"github.com/povrisk/povrisk/engine/civil"
	"github.com/povrisk/povrisk/engine/fault"
	"github.com/povrisk/povrisk/engine/progress"
	"github.com/povrisk/povrisk/engine/rundir"
)

// TestResultNamesModelAndPrevious: the result says which model was used and
// how far back the previous month-end run is, in months.
func TestResultNamesModelAndPrevious(t *testing.T) {
	f := setupE2E(t)
	r := f.res
	if r.Model.ID == "" || r.Model.ID != r.ModelID || r.Model.AsOf == "" {
		t.Errorf("model %+v (id %s)", r.Model, r.ModelID)
	}
	if r.PreviousRun != civil.Format(f.prevAsOf) || r.PreviousMonths != 1 || r.PreviousAgo() != "1 month ago" {
		t.Errorf("previous %s, %d months, %q", r.PreviousRun, r.PreviousMonths, r.PreviousAgo())
	}
	if f.prevRes.PreviousRun != "" || f.prevRes.PreviousAgo() != "" {
		t.Errorf("first run has previous %q", f.prevRes.PreviousRun)
	}
	if r.Warnings == nil {
		t.Error("warnings is nil: --json must print an empty array")
	}
	run, err := rundir.Read(f.runDir())
	if err != nil {
		t.Fatal(err)
	}
	if run.Summary.Model.ID != r.ModelID || len(run.Summary.Warnings) != len(r.Warnings) {
		t.Errorf("summary model %s warnings %v; result %s %v", run.Summary.Model.ID, run.Summary.Warnings, r.ModelID, r.Warnings)
	}
}

// TestAsOfMustBeMonthEnd: a day that is not a month-end is a usage error
// unless AnyDay; then the run is written but is nobody's previous run,
// and a later night names its real previous run and distance.
func TestAsOfMustBeMonthEnd(t *testing.T) {
	f := setupE2E(t)
	db, err := engine.OpenDB("")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	runs := filepath.Join(t.TempDir(), "runs")
	o := f.options(runs)
	o.AsOf = f.asOf.AddDate(0, 0, -3)
	_, err = Run(context.Background(), db, o)
	if fault.Of(err) != fault.Usage || !strings.Contains(err.Error(), "not a month-end") {
		t.Fatalf("non-month-end as-of: err %v (kind %v), want a usage error", err, fault.Of(err))
	}
	if _, err := os.Stat(filepath.Join(runs, civil.Format(o.AsOf))); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused night left a directory")
	}
	// Six months earlier, the odd day, then the night.
	o.AsOf = civil.AddMonths(f.asOf, -6)
	if _, err := Run(context.Background(), db, o); err != nil {
		t.Fatal(err)
	}
	o.AsOf, o.AnyDay = f.asOf.AddDate(0, 0, -3), true
	if _, err := Run(context.Background(), db, o); err != nil {
		t.Fatalf("AnyDay: %v", err)
	}
	o.AsOf, o.AnyDay = f.asOf, false
	res, err := Run(context.Background(), db, o)
	if err != nil {
		t.Fatal(err)
	}
	if want := civil.Format(civil.AddMonths(f.asOf, -6)); res.PreviousRun != want || res.PreviousAgo() != "6 months ago" {
		t.Errorf("previous run %s (%q), want %s, 6 months ago", res.PreviousRun, res.PreviousAgo(), want)
	}
}

// TestStaleData: a night far after the data end lists every judged table
// as stale (table, last date, months behind, in the result and in
// summary.json); with MaxStaleMonths the night fails with bad input and
// writes nothing.
func TestStaleData(t *testing.T) {
	f := setupE2E(t)
	db, err := engine.OpenDB("")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	runs := filepath.Join(t.TempDir(), "runs")
	o := f.options(runs)
	o.AsOf = civil.AddMonths(f.asOf, 6)
	res, err := Run(context.Background(), db, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.res.Warnings) != 0 {
		t.Errorf("the night at the data end has warnings %v", f.res.Warnings)
	}
	byTable := map[string]rundir.Warning{}
	for _, w := range res.Warnings {
		byTable[w.Table] = w
	}
	// Income is monthly and its last period is the first of the data
	// end's month: 6 months behind.
	w, ok := byTable["income_records"]
	if !ok || w.MonthsBehind != 6 || w.CadenceMonths != 1 || w.LastDate[:7] != civil.Format(f.asOf)[:7] {
		t.Errorf("income_records warning %+v (all %v)", w, res.Warnings)
	}
	if _, ok := byTable["households"]; ok {
		t.Errorf("households judged by registration dates: %v", res.Warnings)
	}
	s, err := rundir.ReadSummary(res.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Warnings) != len(res.Warnings) || s.Warnings[0] != res.Warnings[0] {
		t.Errorf("summary.json warnings %v, result %v", s.Warnings, res.Warnings)
	}
	o.AsOf = civil.AddMonths(f.asOf, 7)
	o.MaxStaleMonths = 3
	_, err = Run(context.Background(), db, o)
	if fault.Of(err) != fault.BadInput || !strings.Contains(err.Error(), "income_records is stale") {
		t.Fatalf("MaxStaleMonths: err %v (kind %v)", err, fault.Of(err))
	}
	if _, err := os.Stat(filepath.Join(runs, civil.Format(o.AsOf))); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a night refused as stale left a directory")
	}
}

func TestStaleTables(t *testing.T) {
	asOf := civil.Date(2025, 12, 31)
	cov := []rundir.Coverage{
		{Table: "households", Present: true, Latest: "2015-12-24"},
		{Table: "income_records", Present: true, Latest: "2025-11-01"},   // 1 month: fresh
		{Table: "social_insurance", Present: true, Latest: "2025-10-01"}, // 2 months: stale
		{Table: "education", Present: true, Latest: "2025-09-01"},        // 3 of 6: fresh
		{Table: "medical_claims", Present: true, Latest: ""},             // no dated row
		{Table: "assets", Present: false},
		{Table: "disasters", Present: true, Latest: "2026-02-01"}, // after the as-of date
	}
	got := staleTables(cov, asOf, map[string]int{"income_records": 1, "social_insurance": 1, "medical_claims": 1, "education": 6, "disasters": 12})
	want := []rundir.Warning{
		{Table: "social_insurance", LastDate: "2025-10-01", MonthsBehind: 2, CadenceMonths: 1},
		{Table: "medical_claims", LastDate: "", MonthsBehind: 2, CadenceMonths: 1},
	}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("warning %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if err := tooStale(got, 0); err != nil {
		t.Errorf("warn-only: %v", err)
	}
	if err := tooStale(got, 2); err != nil {
		t.Errorf("2 months behind with a limit of 2: %v", err)
	}
	err := tooStale(got, 1)
	if fault.Of(err) != fault.BadInput || !strings.Contains(err.Error(), "social_insurance") || !strings.Contains(err.Error(), "medical_claims") {
		t.Errorf("limit 1: %v", err)
	}
}

// TestConcurrentNights starts two runs of the same night together, many
// times. Without Wait exactly one writes and the other is busy at once,
// naming the holder; with Wait one writes and the other finds the night
// done and writes nothing. Never do both fail, never is a .partial left,
// and the audit log gains exactly one record per round.
func TestConcurrentNights(t *testing.T) {
	f := setupE2E(t)
	runs := filepath.Join(t.TempDir(), "runs")
	day := civil.Format(f.asOf)
	dbs := [2]*sql.DB{}
	for i := range dbs {
		db, err := engine.OpenDB("")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		dbs[i] = db
	}
	records := 0
	for round := range 8 {
		wait := round%2 == 1
		var wg sync.WaitGroup
		var res [2]*Result
		var errs [2]error
		start := make(chan struct{})
		for i := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				o := f.options(runs)
				o.AsOf = f.asOf
				if wait {
					o.Wait = 5 * time.Minute
				}
				<-start
				res[i], errs[i] = Run(context.Background(), dbs[i], o)
			}()
		}
		close(start)
		wg.Wait()
		wrote, other := 0, -1
		for i := range 2 {
			if errs[i] == nil && !res[i].AlreadyDone {
				wrote++
			} else {
				other = i
			}
		}
		if wrote != 1 || other < 0 {
			t.Fatalf("round %d (wait %v): %d runs wrote; errors %v", round, wait, wrote, errs)
		}
		if wait {
			if errs[other] != nil || !res[other].AlreadyDone || res[other].Dir != filepath.Join(runs, day) {
				t.Errorf("round %d: the waiting run: %v, %+v", round, errs[other], res[other])
			} else if res[other].Counts.Eligible != res[1-other].Counts.Eligible || res[other].ModelID != res[1-other].ModelID {
				t.Errorf("round %d: already-done result %+v differs from the writer's %+v", round, res[other].Counts, res[1-other].Counts)
			}
		} else if fault.Of(errs[other]) != fault.Busy || !strings.Contains(errs[other].Error(), "is locked by") {
			// "locked by pid N (command) since T"; engine/lock writes the
			// holder line just after taking the flock, so a second run in
			// that instant reads "another process".
			t.Errorf("round %d: the second run: %v (kind %v), want busy naming the holder", round, errs[other], fault.Of(errs[other]))
		}
		records++
		rep, err := audit.Verify(runs, testAuditKey(t))
		if err != nil {
			t.Fatal(err)
		}
		if !rep.OK() || len(rep.Lines) != records {
			t.Errorf("round %d: audit %d records (want %d), problems %v", round, len(rep.Lines), records, rep.Problems)
		}
		if _, err := rundir.Read(filepath.Join(runs, day)); err != nil {
			t.Errorf("round %d: %v", round, err)
		}
		if _, err := os.Stat(filepath.Join(runs, rundir.PartialName(day))); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("round %d: partial directory left", round)
		}
	}
}

func TestLoadTopK(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name, text string
		share      float64
		county     map[string][2]float64 // code -> {share, k}
		err        string
	}{
		{"shares and k", "share = 0.08\n[county.520123]\nshare = 0.03\n[county.530627]\nk = 150\n", 0.08,
			map[string][2]float64{"520123": {0.03, 0}, "530627": {0, 150}}, ""},
		{"empty", "", 0, map[string][2]float64{}, ""},
		{"bad code", "[county.5201]\nk = 3\n", 0, nil, `county "5201": a county is a 6-digit code`},
		{"letters", "[county.52012x]\nk = 3\n", 0, nil, `county "52012x"`},
		{"share above 1", "[county.520123]\nshare = 2.0\n", 0, nil, `county "520123": share = 2`},
		{"share nan", "[county.520123]\nshare = nan\n", 0, nil, `county "520123": share = NaN`},
		{"share negative", "[county.520123]\nshare = -0.1\n", 0, nil, `county "520123": share = -0.1`},
		{"k negative", "[county.520123]\nk = -3\n", 0, nil, `county "520123": k = -3`},
		{"k and share", "[county.520123]\nk = 30\nshare = 0.1\n", 0, nil, `county "520123": both k = 30 and share = 0.1: give one of them`},
		{"top share nan", "share = nan\n", 0, nil, "share = NaN"},
		{"top share above 1", "share = 1.5\n", 0, nil, "share = 1.5"},
		{"top share inf", "share = inf\n", 0, nil, "share = +Inf"},
		{"unknown key", "[county.520123]\nsize = 3\n", 0, nil, "unknown key"},
		{"not toml", "share = \n", 0, nil, "top-k file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "_")+".toml")
			if err := os.WriteFile(p, []byte(c.text), 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := LoadTopK(p)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) || !strings.Contains(err.Error(), p) || fault.Of(err) != fault.Policy {
					t.Fatalf("err %v (kind %v), want %q naming %s, kind policy", err, fault.Of(err), c.err, p)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Share != c.share || len(got.County) != len(c.county) {
				t.Fatalf("got %+v", got)
			}
			for code, w := range c.county {
				if g := got.County[code]; g.Share != w[0] || float64(g.K) != w[1] {
					t.Errorf("county %s: %+v, want share %v k %v", code, g, w[0], w[1])
				}
			}
		})
	}
	if _, err := LoadTopK(filepath.Join(dir, "absent.toml")); fault.Of(err) != fault.Policy {
		t.Errorf("missing file: %v", err)
	}
}

// FuzzLoadTopK: the top-k reader never panics, and what it accepts is
// within bounds.
func FuzzLoadTopK(f *testing.F) {
	f.Add([]byte("share = 0.08\n[county.520123]\nshare = 0.03\n[county.530627]\nk = 150\n"))
	f.Add([]byte("share = nan\n"))
	f.Add([]byte("[county.\"520123\"]\nk = 9223372036854775807\n"))
	f.Add([]byte("[[county]]\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		tk, err := ParseTopK("fuzz.toml", b)
		if err != nil {
			if fault.Of(err) != fault.Policy {
				t.Fatalf("error of kind %v: %v", fault.Of(err), err)
			}
			return
		}
		if math.IsNaN(tk.Share) || tk.Share < 0 || tk.Share > 1 {
			t.Fatalf("accepted share %v", tk.Share)
		}
		for c, v := range tk.County {
			if len(c) != 6 || v.K < 0 || math.IsNaN(v.Share) || v.Share < 0 || v.Share > 1 {
				t.Fatalf("accepted county %q %+v", c, v)
			}
		}
	})
}

// recorder is a progress.Reporter that records each stage's total and
// the work it was told was done.
type recorder struct {
	mu     sync.Mutex
	stages []string
	total  map[string]int64
	done   map[string]int64
	ended  map[string]bool
}

type recTask struct {
	r     *recorder
	stage string
}

func (r *recorder) Start(stage string, total int64) progress.Task {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stages = append(r.stages, stage)
	r.total[stage] = total
	return recTask{r, stage}
}

func (t recTask) Add(n int64) { t.r.mu.Lock(); t.r.done[t.stage] += n; t.r.mu.Unlock() }
func (t recTask) Done()       { t.r.mu.Lock(); t.r.ended[t.stage] = true; t.r.mu.Unlock() }

// TestReporterStages: scoring and explaining report every household,
// writing reports every file (6 tables and summaries, one work list per
// county), and each stage is ended.
func TestReporterStages(t *testing.T) {
	f := setupE2E(t)
	db, err := engine.OpenDB("")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rec := &recorder{total: map[string]int64{}, done: map[string]int64{}, ended: map[string]bool{}}
	o := f.options(filepath.Join(t.TempDir(), "runs"))
	o.AsOf, o.Reporter = f.asOf, rec
	res, err := Run(context.Background(), db, o)
	if err != nil {
		t.Fatal(err)
	}
	run, err := rundir.Read(res.Dir)
	if err != nil {
		t.Fatal(err)
	}
	workLists := int64(len(run.Summary.TopK))
	elimFiles := int64(0)
	if run.Summary.Elimination != nil {
		elimFiles = 2 // elimination.parquet and .csv
	}
	// features: the eleven feature families (demographics ... assistance,
	// shocks), then the join and the rule screen.
	want := map[string]int64{"features": 13, "scoring": int64(res.Counts.Households), "explaining": int64(res.Counts.Households), "writing": 6 + workLists + elimFiles}
	if strings.Join(rec.stages, ",") != "features,scoring,explaining,writing" {
		t.Errorf("stages %v", rec.stages)
	}
	for s, n := range want {
		if rec.total[s] != n || rec.done[s] != n || !rec.ended[s] {
			t.Errorf("%s: total %d, done %d, ended %v; want %d", s, rec.total[s], rec.done[s], rec.ended[s], n)
		}
	}
	// Every file of the directory but checksums.sha256 was reported.
	if got := int64(len(run.Sums) - 1); got != want["writing"] {
		t.Errorf("%d files written, %d reported", got, want["writing"])
	}
}
