package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/povrisk/povrisk/engine"
	"github.com/povrisk/povrisk/engine/audit"
	"github.com/povrisk/povrisk/engine/brief/browser"
	"github.com/povrisk/povrisk/engine/civil"
	"github.com/povrisk/povrisk/engine/fault"
	"github.com/povrisk/povrisk/engine/ingest"
	"github.com/povrisk/povrisk/engine/lock"
	"github.com/povrisk/povrisk/engine/warehouse"
	"github.com/povrisk/povrisk/features"
	"github.com/povrisk/povrisk/features/rules"
	"github.com/povrisk/povrisk/models/registry"
)

// doctorOptions are the flags of `povrisk doctor` and the seams its tests
// replace (the browser, the fonts, the free space).
type doctorOptions struct {
	Warehouse, Runs, Models, KeyFile, Policy, Chromium string
	AuditKeyFile                                       string    // "": POVRISK_AUDIT_KEY_FILE, else ~/.config/povrisk/audit.key
	AsOf                                               time.Time // the night's as-of; zero: the last month-end on or before today
	MaxStaleMonths                                     int       // > 0: a table more months behind fails (exit 3)
	Now                                                func() time.Time
	FindBrowser                                        func(bin string) (string, error)
	CJKFonts                                           func() (string, error) // output of fc-list :lang=zh family
	FreeBytes                                          func(dir string) (int64, error)
}

// check is one line of the doctor's report.
type check struct {
	Name   string     `json:"check"`
	Status string     `json:"status"` // ok, warn or fail
	Detail string     `json:"detail"`
	Fix    string     `json:"fix,omitempty"` // what to do about a warn or fail
	Kind   fault.Kind `json:"-"`
	Code   int        `json:"exit_code,omitempty"` // of a fail: the exit code the night would give
}

func okCheck(name, detail string) check { return check{Name: name, Status: "ok", Detail: detail} }
func warnCheck(name, detail, fix string) check {
	return check{Name: name, Status: "warn", Detail: detail, Fix: fix}
}
func failCheck(name string, k fault.Kind, detail, fix string) check {
	return check{Name: name, Status: "fail", Detail: detail, Fix: fix, Kind: k, Code: int(k)}
}

func init() {
	register(&cli.Command{
		Name:  "doctor",
		Usage: "check what a night needs before it runs: key, directories, locks, disk, browser and fonts, policy, model, data freshness",
		UsageText: "povrisk doctor [--warehouse DIR] [--runs DIR] [--models DIR] [--key-file FILE] [--policy FILE] [--as-of YYYY-MM-DD]\n" +
			"               [--max-stale-months N] [--json]",
		Description: "One line per check: ok, warn (the night runs, but read the fix) or fail (it would not). Exits 0 when\n" +
			"nothing fails, otherwise with the exit code of the most serious failure, in this order: could not\n" +
			"write (8), tampered (6), policy (5), no model (4), bad input (3), usage (2: the key), busy (7). Disk space is measured as\n" +
			"the size of the latest run directory plus the current warehouse version, against the free space of\n" +
			"each file system.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "warehouse", Value: "warehouse", Usage: "warehouse directory"},
			&cli.StringFlag{Name: "runs", Value: "runs", Usage: "runs directory"},
			&cli.StringFlag{Name: "models", Value: "models", Usage: "models directory"},
			keyFileFlag(),
			auditKeyFileFlag(),
			policyFlag(),
			&cli.StringFlag{Name: "as-of", Usage: "the night's as-of date YYYY-MM-DD (default: the last month-end on or before today)"},
			&cli.IntFlag{Name: "max-stale-months", Usage: "fail when a monthly table is more months behind the as-of (default: only warn)"},
			&cli.StringFlag{Name: "chromium", Usage: "chromium binary for PDF briefs; default looked up on PATH"},
			jsonFlag("the checks"),
		},
		Action: func(c *cli.Context) error {
			o := doctorOptions{Warehouse: c.String("warehouse"), Runs: c.String("runs"), Models: c.String("models"),
				KeyFile: c.String("key-file"), AuditKeyFile: c.String("audit-key-file"), Policy: c.String("policy"), Chromium: c.String("chromium"),
				MaxStaleMonths: c.Int("max-stale-months")}
			if s := c.String("as-of"); s != "" {
				t, err := civil.Parse(s)
				if err != nil {
					return withCode(ExitUsage, fmt.Errorf("--as-of %q: want YYYY-MM-DD", s))
				}
				o.AsOf = t
			}
			return runDoctor(c.Context, o, c.Bool("json"), reportWriter(c))
		},
	})
}

// seriousness orders the kinds of failing checks, most serious first: the
// doctor exits with the first present. Write comes first (nothing can be
// kept), busy last (it passes by itself).
var seriousness = []fault.Kind{fault.Write, fault.Tampered, fault.Internal, fault.Policy, fault.NoModel, fault.BadInput, fault.Usage, fault.Busy}

func runDoctor(ctx context.Context, o doctorOptions, asJSON bool, out io.Writer) error {
	if ctx == nil {
		ctx = context.Background()
	}
	checks := doctorChecks(ctx, o)
	worst := worstKind(checks)
	fails, warns := 0, 0
	for _, c := range checks {
		switch c.Status {
		case "fail":
			fails++
		case "warn":
			warns++
		}
	}
	if asJSON {
		if err := writeJSON(out, struct {
			OK       bool    `json:"ok"`
			ExitCode int     `json:"exit_code"`
			Checks   []check `json:"checks"`
		}{worst == fault.OK, int(worst), checks}); err != nil {
			return err
		}
	} else {
		for _, c := range checks {
			line := fmt.Sprintf("%-4s  %-16s %s", c.Status, c.Name, c.Detail)
			if c.Fix != "" {
				line += ": " + c.Fix
			}
			fmt.Fprintln(out, line)
		}
	}
	if worst == fault.OK {
		return nil
	}
	return fault.Wrap(worst, fmt.Errorf("doctor: %s failed, %s: the night would not run; see the lines above", plural(int64(fails), "check"), plural(int64(warns), "warning")))
}

// worstKind is the kind of the most serious failing check (OK: none fails).
func worstKind(checks []check) fault.Kind {
	for _, k := range seriousness {
		for _, c := range checks {
			if c.Status == "fail" && c.Kind == k {
				return k
			}
		}
	}
	for _, c := range checks {
		if c.Status == "fail" {
			return c.Kind
		}
	}
	return fault.OK
}

// defaultAsOf is the as-of of a night started at now: the last month-end
// on or before today.
func defaultAsOf(now time.Time) time.Time {
	today := civil.Day(now)
	if civil.IsMonthEnd(today) {
		return today
	}
	return civil.AddMonths(today, -1)
}

// doctorChecks runs every check in the order the night meets them.
func doctorChecks(ctx context.Context, o doctorOptions) []check {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.FindBrowser == nil {
		o.FindBrowser = browser.Find
	}
	if o.CJKFonts == nil {
		o.CJKFonts = func() (string, error) {
			b, err := exec.Command("fc-list", ":lang=zh", "family").Output()
			return string(b), err
		}
	}
	if o.FreeBytes == nil {
		o.FreeBytes = freeBytes
	}
	if o.AsOf.IsZero() {
		o.AsOf = defaultAsOf(o.Now())
	}
	checks := []check{checkKey(o.KeyFile), checkAuditKey(o.AuditKeyFile, o.Runs)}
	checks = append(checks, checkWritableDir("warehouse", o.Warehouse, true)...)
	checks = append(checks, checkWritableDir("runs", o.Runs, false)...)
	checks = append(checks, checkDisk(o))
	checks = append(checks, checkPolicy(o.Policy))
	checks = append(checks, checkModel(o.Models))
	checks = append(checks, checkFreshness(ctx, o)...)
	checks = append(checks, checkBrief(o)...)
	return checks
}

// checkKey: the key file exists, has a usable key and only its owner can
// read it. A bad key is a usage error (exit 2), as ingest reports it.
func checkKey(path string) check {
	const name = "key file"
	if path == "" {
		path = os.Getenv("POVRISK_KEY_FILE")
	}
	if path == "" {
		if os.Getenv("POVRISK_KEY") != "" {
			if _, err := ingest.LoadKey(""); err != nil {
				return failCheck(name, fault.Usage, err.Error(), "set POVRISK_KEY to the key of at least 16 bytes")
			}
			return warnCheck(name, "the key comes from POVRISK_KEY", "prefer --key-file FILE (mode 600): an environment variable is visible to other tools")
		}
		return failCheck(name, fault.Usage, "no key file given", "pass --key-file FILE (chmod 600) or set POVRISK_KEY_FILE")
	}
	st, err := os.Stat(path)
	if err != nil {
		return failCheck(name, fault.Usage, fmt.Sprintf("%s: %v", path, errors.Unwrap(err)), "create the key file (at least 16 random bytes) and chmod 600 it")
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return failCheck(name, fault.Usage, fmt.Sprintf("%s has mode %04o: group or others can read it", path, perm), "chmod 600 "+path)
	}
	if _, err := ingest.LoadKey(path); err != nil {
		return failCheck(name, fault.Usage, err.Error(), "write a key of at least 16 random bytes into it")
	}
	return okCheck(name, fmt.Sprintf("%s: mode %04o", path, st.Mode().Perm()))
}

// checkAuditKey: the audit key that signs the night's record loads (it
// exists, mode 600, long enough: exit 2 otherwise, as run reports it), and
// the audit log already in the runs directory verifies with it (a
// different key, or an altered log, would stop the night: exit 6).
func checkAuditKey(path, runs string) check {
	const name = "audit key"
	where := audit.KeyPath(path)
	key, err := audit.LoadKey(path)
	if err != nil {
		return failCheck(name, fault.Of(err), err.Error(), "") // the message says what to do
	}
	if inside(runs, where) {
		return failCheck(name, fault.Usage, where+" is inside the runs directory "+runs, "move it outside "+runs+": whoever can change the runs could rewrite the log with it")
	}
	if _, err := os.Stat(filepath.Join(runs, "audit.log")); err != nil {
		return okCheck(name, where+": mode 0600 (no audit log yet in "+runs+")")
	}
	rep, err := audit.Verify(runs, key)
	if err != nil {
		return failCheck(name, fault.Of(err), err.Error(), "povrisk audit --runs "+runs+" --verify says more")
	}
	for _, p := range rep.Problems {
		if p.Chain {
			return failCheck(name, fault.Tampered, fmt.Sprintf("%s does not verify with %s: %s", filepath.Join(runs, "audit.log"), where, p.What),
				"give the key that signed the log (povrisk audit --runs "+runs+" --verify --audit-key-file FILE)")
		}
	}
	return okCheck(name, fmt.Sprintf("%s: mode 0600, verifies the %s of %s", where, plural(int64(len(rep.Lines)), "record"), filepath.Join(runs, "audit.log")))
}

// unlessSaid is fix, or "" when err's message already says it.
func unlessSaid(err error, said, fix string) string {
	if strings.Contains(err.Error(), said) {
		return ""
	}
	return fix
}

// inside reports whether path lies in dir (after making both absolute).
func inside(dir, path string) bool {
	d, err1 := filepath.Abs(dir)
	p, err2 := filepath.Abs(path)
	if err1 != nil || err2 != nil {
		return false
	}
	rel, err := filepath.Rel(d, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// checkWritableDir: dir exists (or, when !mustExist, can be created), is
// writable and nobody holds its lock.
func checkWritableDir(name, dir string, mustExist bool) []check {
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist) && mustExist:
		return []check{failCheck(name, fault.BadInput, dir+" does not exist", "ingest a drop first: povrisk ingest --drop DIR --warehouse "+dir)}
	case errors.Is(err, fs.ErrNotExist):
		parent := existingParent(dir)
		if err := probeWrite(parent); err != nil {
			return []check{failCheck(name, fault.Write, fmt.Sprintf("%s does not exist and %s is not writable: %v", dir, parent, err), "create "+dir+" for the user of the night")}
		}
		return []check{warnCheck(name, dir+" does not exist yet", "the first night creates it (in "+parent+", writable)")}
	case err != nil:
		return []check{failCheck(name, fault.Write, err.Error(), "fix the path or its permissions")}
	case !st.IsDir():
		return []check{failCheck(name, fault.Write, dir+" is not a directory", "point --"+name+" at a directory")}
	}
	var out []check
	if err := probeWrite(dir); err != nil {
		out = append(out, failCheck(name, fault.Write, fmt.Sprintf("%s is not writable: %v", dir, err), "give the user of the night write access, or free the disk"))
	} else {
		detail := dir + ": writable"
		if name == "warehouse" {
			w, err := warehouse.Open(dir)
			if err != nil {
				return append(out, failCheck(name, fault.BadInput, err.Error(), "ingest a drop: povrisk ingest --drop DIR --warehouse "+dir))
			}
			detail += ", version " + w.Version()
		}
		out = append(out, okCheck(name, detail))
	}
	if h, busy := lock.HolderOf(dir); busy {
		out = append(out, failCheck(name+" lock", fault.Busy, dir+" is locked by "+h.String(),
			"let it finish before the night starts (or give the night --wait DURATION)"))
	} else {
		out = append(out, okCheck(name+" lock", dir+": not locked"))
	}
	return out
}

// probeWrite creates and removes a file in dir.
func probeWrite(dir string) error {
	f, err := os.CreateTemp(dir, ".povrisk-doctor-*")
	if err != nil {
		return err
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

// existingParent is the nearest ancestor of dir that exists.
func existingParent(dir string) string {
	d := filepath.Clean(dir)
	for {
		p := filepath.Dir(d)
		if _, err := os.Stat(p); err == nil || p == d {
			return p
		}
		d = p
	}
}

// runDirName is the name of a night's run directory (its as-of date).
var runDirName = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// latestRun is the newest run directory under runs ("" when none).
func latestRun(runs string) string {
	ents, err := os.ReadDir(runs)
	if err != nil {
		return ""
	}
	var names []string
	for _, e := range ents {
		if e.IsDir() && runDirName.MatchString(e.Name()) {
			names = append(names, e.Name())
		}
	}
	if len(names) == 0 {
		return ""
	}
	sort.Strings(names)
	return filepath.Join(runs, names[len(names)-1])
}

// dirSize is the bytes of the regular files under dir.
func dirSize(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}

func freeBytes(dir string) (int64, error) {
	var s syscall.Statfs_t
	if err := syscall.Statfs(dir, &s); err != nil {
		return 0, err
	}
	return int64(s.Bavail) * int64(s.Bsize), nil
}

// checkDisk: the free space of the runs directory's file system holds
// another night like the last one: the latest run directory plus a new
// warehouse version as large as the current one (a night with --drop
// writes both). Measured with statfs (blocks free to the user).
func checkDisk(o doctorOptions) check {
	const name = "disk space"
	var need int64
	var parts []string
	if last := latestRun(o.Runs); last != "" {
		s := dirSize(last)
		need += s
		parts = append(parts, fmt.Sprintf("run %s %s", filepath.Base(last), bytesHuman(s)))
	}
	if w, err := warehouse.Open(o.Warehouse); err == nil {
		s := dirSize(w.Dir())
		need += s
		parts = append(parts, fmt.Sprintf("warehouse version %s %s", w.Version(), bytesHuman(s)))
	}
	free, err := o.FreeBytes(existingParent(filepath.Join(o.Runs, "x")))
	if err != nil {
		return warnCheck(name, "could not measure the free space: "+err.Error(), "check with df")
	}
	if need == 0 {
		return okCheck(name, bytesHuman(free)+" free; no earlier night to compare with")
	}
	detail := fmt.Sprintf("%s free, the last night used %s (%s)", bytesHuman(free), bytesHuman(need), strings.Join(parts, " + "))
	switch {
	case free < need:
		return failCheck(name, fault.Write, detail, "free space on the disk of "+o.Runs+" (old run directories can be archived)")
	case free < 2*need:
		return warnCheck(name, detail, "room for one more night only: free space soon")
	}
	return okCheck(name, detail)
}

// checkPolicy: the policy file loads and is valid.
func checkPolicy(path string) check {
	const name = "policy"
	switch path {
	case "":
		return failCheck(name, fault.Policy, "no policy given", "pass --policy FILE or set POVRISK_POLICY")
	case samplePolicyName:
		return warnCheck(name, "the built-in sample policy", "its lines are illustrative: give the night your province's policy file")
	}
	p, err := rules.LoadPolicy(path)
	if err != nil {
		return failCheck(name, fault.Policy, err.Error(), "fix the file (features/rules/policy.sample.toml shows every key)")
	}
	return okCheck(name, fmt.Sprintf("%s valid (sha256 %s)", path, p.SHA256()[:12]))
}

// checkModel: the newest model in the registry fits the feature catalog.
func checkModel(dir string) check {
	const name = "model"
	card, err := registry.Latest(dir)
	if err != nil {
		return failCheck(name, fault.NoModel, err.Error(), unlessSaid(err, "povrisk train", "train one: povrisk train --warehouse W --models "+dir))
	}
	if err := registry.CheckFeatures(card, features.ModelColumns(), features.CatalogHash()); err != nil {
		return failCheck(name, fault.NoModel, err.Error(), unlessSaid(err, "povrisk train", "retrain: povrisk train --warehouse W --models "+dir))
	}
	return okCheck(name, fmt.Sprintf("%s (as of %s, AUC %s) fits the feature catalog", card.ID, card.AsOf, score(card.Metrics.AUC)))
}

// monthlyTables are the tables that arrive every month, with the date
// that says how far each reaches. Event tables (monitoring events,
// disasters, unemployment) are left out: months without an event are
// normal, so their last date says nothing about freshness.
var monthlyTables = []struct{ table, expr string }{
	{"income_records", "last_day(max(period))"},
	{"social_insurance", "last_day(max(period))"},
	{"medical_claims", "last_day(max(service_date))"},
}

// tableEnds is the last date of each monthly table of the warehouse
// (tables absent or empty are left out).
func tableEnds(ctx context.Context, db *sql.DB, w *warehouse.Warehouse) (map[string]time.Time, error) {
	ends := map[string]time.Time{}
	for _, p := range monthlyTables {
		path, ok := w.TablePath(p.table)
		if !ok {
			continue
		}
		var t sql.NullTime
		if err := db.QueryRowContext(ctx, "SELECT CAST("+p.expr+" AS DATE) FROM read_parquet("+engine.QuoteString(path)+")").Scan(&t); err != nil {
			return nil, fmt.Errorf("last date of %s: %w", p.table, err)
		}
		if t.Valid {
			ends[p.table] = civil.Day(t.Time.UTC())
		}
	}
	return ends, nil
}

// checkFreshness: each monthly table reaches the month before the as-of
// at least (a month's data arrives during the next month); a table more
// behind is a warning, or a failure beyond --max-stale-months.
func checkFreshness(ctx context.Context, o doctorOptions) []check {
	const name = "freshness"
	w, err := warehouse.Open(o.Warehouse)
	if err != nil {
		return []check{warnCheck(name, "not checked: no warehouse", "ingest a drop first")}
	}
	db, err := engine.OpenDB("")
	if err != nil {
		return []check{failCheck(name, fault.Internal, err.Error(), "")}
	}
	defer db.Close()
	ends, err := tableEnds(ctx, db, w)
	if err != nil {
		return []check{failCheck(name, fault.BadInput, err.Error(), "re-ingest the drop")}
	}
	var out []check
	for _, p := range monthlyTables {
		end, ok := ends[p.table]
		if !ok {
			continue
		}
		behind := civil.MonthsBetween(end, o.AsOf)
		detail := fmt.Sprintf("%s ends %s, %s before the as-of %s", p.table, civil.Format(end), plural(int64(max(behind, 0)), "month"), civil.Format(o.AsOf))
		switch {
		case o.MaxStaleMonths > 0 && behind > o.MaxStaleMonths:
			out = append(out, failCheck(name, fault.BadInput, detail, fmt.Sprintf("more than --max-stale-months %d: ingest a newer drop", o.MaxStaleMonths)))
		case behind > 1:
			out = append(out, warnCheck(name, detail, "ingest a newer drop, or run with an earlier --as-of"))
		default:
			out = append(out, okCheck(name, detail))
		}
	}
	if len(out) == 0 {
		out = append(out, warnCheck(name, "no monthly table (income, social insurance, medical claims) in the warehouse", "check the drop"))
	}
	return out
}

// checkBrief: Chromium and CJK fonts for PDF briefs (HTML needs neither,
// so both are warnings).
func checkBrief(o doctorOptions) []check {
	var out []check
	if p, err := o.FindBrowser(o.Chromium); err != nil {
		out = append(out, warnCheck("chromium", "no chromium: PDF briefs cannot be written (HTML can)", "apt-get install chromium, or pass --chromium to brief"))
	} else {
		out = append(out, okCheck("chromium", p))
	}
	fonts, err := o.CJKFonts()
	families := strings.Fields(strings.ReplaceAll(strings.TrimSpace(fonts), ",", " "))
	switch {
	case err != nil:
		out = append(out, warnCheck("CJK fonts", "fc-list failed: "+err.Error(), "apt-get install fontconfig fonts-wqy-microhei"))
	case len(families) == 0:
		out = append(out, warnCheck("CJK fonts", "no font covers Chinese: PDF briefs would show boxes", "apt-get install fonts-wqy-microhei"))
	case !strings.Contains(fonts, "WenQuanYi Micro Hei"):
		// Chromium embeds CFF (OpenType) fonts such as Noto CJK as hundreds
		// of Type 3 glyph fonts; the brief's stack starts with a TrueType one.
		out = append(out, warnCheck("CJK fonts", "no WenQuanYi Micro Hei: PDF briefs fall back to "+strings.TrimSpace(strings.SplitN(strings.TrimSpace(fonts), "\n", 2)[0])+
			", embedded as Type 3 glyphs (heavy, not searchable everywhere)", "apt-get install fonts-wqy-microhei"))
	default:
		out = append(out, okCheck("CJK fonts", "WenQuanYi Micro Hei (TrueType, embedded as a real font)"))
	}
	return out
}
