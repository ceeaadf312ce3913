package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/povrisk/povrisk/engine/lock"
	"github.com/povrisk/povrisk/engine/rundir"
)

// TestDemo runs the README's first command on a small drop and checks that
// every artefact it announces exists and hangs together: a model card, two
// run directories whose audit chain verifies, a ranked list whose high-tier
// count is the one summary.json and the brief state, and (with Chromium) a
// PDF brief.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end: generates, trains and runs two nights")
	}
	dir := t.TempDir()
	var out, errb bytes.Buffer
	if code := run([]string{"povrisk", "demo", "--dir", dir, "--households", "1500"}, nil, &out, &errb); code != 0 {
		t.Fatalf("demo exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errb.String())
	}
	runs := filepath.Join(dir, "runs")
	days, err := filepath.Glob(filepath.Join(runs, "20*"))
	if err != nil || len(days) != 2 {
		t.Fatalf("run directories %v (err %v), want two nights", days, err)
	}
	last := days[len(days)-1]
	for _, f := range []string{"ranked.csv", "ranked.parquet", "summary.json", "checksums.sha256", "changes.csv"} {
		if _, err := os.Stat(filepath.Join(last, f)); err != nil {
			t.Errorf("run directory lacks %s: %v", f, err)
		}
	}
	// One identification model and one relapse model (the elimination's
	// defer verdict uses it).
	cards, _ := filepath.Glob(filepath.Join(dir, "models", "*", "card.json"))
	var ident, relapse int
	for _, c := range cards {
		switch name := filepath.Base(filepath.Dir(c)); {
		case strings.HasPrefix(name, "relapse-"):
			relapse++
		case strings.HasPrefix(name, "rf-") || strings.HasPrefix(name, "gb-"):
			ident++
		}
	}
	if len(cards) != 2 || ident != 1 || relapse != 1 {
		t.Errorf("model cards %v, want one identification and one relapse model", cards)
	}
	// The second night's visits, recounted from the visit outcomes
	// imported (the simulated visits are dated after the first night).
	sum, err := rundir.ReadSummary(last)
	if err != nil {
		t.Fatal(err)
	}
	if v := sum.Visits; v == nil || v.Visited == 0 || v.Visited != v.Confirmed+v.NoRisk+v.NotReached+v.Moved+v.Other {
		t.Errorf("second night's visits %+v: want the simulated visits, adding up", v)
	} else if len(v.BySource) == 0 || v.BySource[0].Source != "model" || v.BySource[0].Visited == 0 {
		t.Errorf("second night's visits by source %+v: want the work lists' (model) visits", v.BySource)
	}
	if sum.Elimination == nil || sum.Elimination.RelapseModel == "" {
		t.Errorf("second night's elimination %+v: want an assessment with the relapse model", sum.Elimination)
	}

	// summary.json against counts made here from ranked.csv.
	checkSummary(t, last)
	// The visit loop: without a simulator in the build the second night
	// says it has no visit outcomes; with one, how many were visited.
	if !regexp.MustCompile(`visits +(no visit outcomes in the warehouse|\d+ visited since \d{4}-\d\d-\d\d, \d+ found at risk)`).MatchString(out.String()) {
		t.Errorf("demo output lacks the visits line:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "eligible households, ") {
		t.Errorf("demo output lacks the night's counts:\n%s", out.String())
	}
	// No diagnosis code of the drop reaches an office-facing file.
	checkNoDiagnoses(t, filepath.Join(dir, "drop", "medical_claims.csv"),
		filepath.Join(last, "ranked.csv"), filepath.Join(last, "changes.csv"), filepath.Join(last, "summary.json"))

	// The audit chain and the run directories verify.
	out.Reset()
	errb.Reset()
	if code := run([]string{"povrisk", "audit", "--runs", runs, "--verify", "--audit-key-file", filepath.Join(dir, "demo-audit.key")}, nil, &out, &errb); code != 0 {
		t.Errorf("audit --verify exit %d: %s%s", code, out.String(), errb.String())
	}

	code, js, _ := runCLI(t, []string{"audit", "--runs", runs, "--verify", "--json", "--audit-key-file", filepath.Join(dir, "demo-audit.key")})
	var aud struct {
		OK      bool `json:"ok"`
		Records []struct {
			Run string `json:"run"`
		} `json:"records"`
	}
	if err := json.Unmarshal([]byte(js), &aud); err != nil || code != 0 || !aud.OK || len(aud.Records) != 2 || aud.Records[1].Run != filepath.Base(days[1]) {
		t.Errorf("audit --json: exit %d, %v: %s", code, err, js)
	}
	if code, out, _ := runCLI(t, []string{"audit", "--runs", runs, "--audit-key-file", filepath.Join(dir, "demo-audit.key")}); code != 0 || !strings.Contains(out, "ok: 2 records, chain intact") {
		t.Errorf("audit: exit %d: %s", code, out)
	}

	// The brief exists; the PDF too when Chromium is installed (always in CI).
	briefs, _ := filepath.Glob(filepath.Join(dir, "brief-*-zh.html"))
	if len(briefs) != 1 {
		t.Fatalf("briefs %v, want one HTML brief", briefs)
	}
	checkNoDiagnoses(t, filepath.Join(dir, "drop", "medical_claims.csv"), briefs[0])
	html, _ := os.ReadFile(briefs[0])
	if !bytes.Contains(html, []byte("风险研判简报")) {
		t.Errorf("the brief has no title")
	}
	pdfs, _ := filepath.Glob(filepath.Join(dir, "brief-*-zh.pdf"))
	if len(pdfs) != 1 && os.Getenv("CI") != "" {
		t.Errorf("no PDF brief under CI (Chromium is installed by scripts/test.sh); demo said:\n%s", out.String())
	}

	// Another size in the same directory is refused, not silently reused.
	if code, _, errs := runCLI(t, []string{"demo", "--dir", dir, "--households", "3500"}); code != ExitUsage ||
		!strings.Contains(errs, "holds a sample drop of 1,500 households, not 3,500") {
		t.Errorf("demo --households 3500 on a 1,500-household directory: exit %d: %s", code, errs)
	}
	checkDemoJSON(t, dir)
	checkDoctorOnDemo(t, dir)
	checkCrontabLine(t, dir)
}

// checkDemoJSON reruns the demo on its directory (every step reused) with
// --json and an explicit --key-file: one JSON object naming what it made.
func checkDemoJSON(t *testing.T, dir string) {
	t.Helper()
	key := filepath.Join(dir, "demo.key")
	code, out, errs := runCLI(t, []string{"demo", "--dir", dir, "--households", "1500", "--key-file", key, "--json", "-q"})
	var got demoSummary
	if err := json.Unmarshal([]byte(out), &got); err != nil || code != 0 {
		t.Fatalf("demo --json: exit %d, %v: %s%s", code, err, out, errs)
	}
	if got.KeyFile != key || got.Households != 1500 || len(got.Nights) != 2 || got.Nights[1] != "2025-12-31" ||
		got.RunDir != filepath.Join(dir, "runs", "2025-12-31") || got.Eligible == 0 || !strings.HasPrefix(got.Model, "rf-") {
		t.Errorf("demo --json: %+v", got)
	}
	code, _, errs = runCLI(t, []string{"demo", "--dir", dir, "--households", "1500", "--key-file", filepath.Join(dir, "no-such.key"), "-q"})
	if code != ExitUsage || !strings.Contains(errs, "--key-file") {
		t.Errorf("demo --key-file of a missing file: exit %d: %s", code, errs)
	}
}

// checkSummary recounts summary.json's counts from ranked.csv of the run
// directory: eligible, tiers, risk types, profiles, rule flags, top k, and
// every county and township row.
func checkSummary(t *testing.T, runDir string) {
	t.Helper()
	f, err := os.Open(filepath.Join(runDir, "ranked.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("ranked.csv: %v", err)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[strings.TrimPrefix(h, "\ufeff")] = i
	}
	type region struct {
		Eligible     int `json:"eligible"`
		High         int `json:"high"`
		Medium       int `json:"medium"`
		TopK         int `json:"top_k"`
		RulesFlagged int `json:"rules_flagged"`
	}
	want := struct {
		eligible, rulesFlagged, topK, topKMissed int
		tier, risk, profile                      map[string]int
		region                                   map[string]*region
	}{tier: map[string]int{}, risk: map[string]int{}, profile: map[string]int{}, region: map[string]*region{}}
	for _, r := range recs[1:] {
		want.eligible++
		want.tier[r[col["tier"]]]++
		want.profile[r[col["profile"]]]++
		for _, rt := range strings.Split(r[col["risk_types"]], ";") {
			if rt != "" {
				want.risk[rt]++
			}
		}
		flagged, top := r[col["rules"]] != "", r[col["in_top_k"]] == "true"
		for _, code := range []string{r[col["county_code"]], r[col["township_code"]]} {
			g := want.region[code]
			if g == nil {
				g = &region{}
				want.region[code] = g
			}
			g.Eligible++
			switch r[col["tier"]] {
			case "high":
				g.High++
			case "medium":
				g.Medium++
			}
			if top {
				g.TopK++
			}
			if flagged {
				g.RulesFlagged++
			}
		}
		if flagged {
			want.rulesFlagged++
		}
		if top {
			want.topK++
			if !flagged {
				want.topKMissed++
			}
		}
	}
	var sum struct {
		Counts struct {
			Eligible          int            `json:"eligible"`
			ByTier            map[string]int `json:"by_tier"`
			ByRiskType        map[string]int `json:"by_risk_type"`
			ByProfile         map[string]int `json:"by_profile"`
			RulesFlagged      int            `json:"rules_flagged"`
			TopKTotal         int            `json:"top_k_total"`
			TopKMissedByRules int            `json:"top_k_missed_by_rules"`
			ByRegion          []struct {
				Code string `json:"code"`
				region
			} `json:"by_region"`
		} `json:"counts"`
	}
	b, err := os.ReadFile(filepath.Join(runDir, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatalf("summary.json: %v", err)
	}
	if want.eligible == 0 || want.topK == 0 || want.rulesFlagged == 0 || len(want.profile) < 2 || len(want.risk) < 2 {
		t.Fatalf("ranked.csv too thin for the check to mean anything: %d eligible, %d top k, %d flagged, %d profiles, %d risk types",
			want.eligible, want.topK, want.rulesFlagged, len(want.profile), len(want.risk))
	}
	c := sum.Counts
	got := []int{c.Eligible, c.RulesFlagged, c.TopKTotal, c.TopKMissedByRules}
	exp := []int{want.eligible, want.rulesFlagged, want.topK, want.topKMissed}
	if !slices.Equal(got, exp) {
		t.Errorf("summary eligible, rules_flagged, top_k_total, top_k_missed_by_rules = %v, ranked.csv gives %v", got, exp)
	}
	for name, m := range map[string][2]map[string]int{"by_tier": {c.ByTier, want.tier}, "by_risk_type": {c.ByRiskType, want.risk}, "by_profile": {c.ByProfile, want.profile}} {
		for k, v := range m[1] {
			if m[0][k] != v {
				t.Errorf("summary %s[%s] = %d, ranked.csv gives %d", name, k, m[0][k], v)
			}
		}
		for k, v := range m[0] {
			if v != 0 && m[1][k] == 0 {
				t.Errorf("summary %s[%s] = %d, ranked.csv has none", name, k, v)
			}
		}
	}
	if len(c.ByRegion) != len(want.region) {
		t.Errorf("summary has %d regions, ranked.csv %d", len(c.ByRegion), len(want.region))
	}
	for _, g := range c.ByRegion {
		if w := want.region[g.Code]; w == nil || *w != g.region {
			t.Errorf("summary region %s = %+v, ranked.csv gives %+v", g.Code, g.region, w)
		}
	}
}

// checkNoDiagnoses fails when a diagnosis code of the drop's claims appears
// as a token in any of the files.
func checkNoDiagnoses(t *testing.T, claims string, files ...string) {
	t.Helper()
	f, err := os.Open(claims)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", claims, err)
	}
	dcol := slices.Index(recs[0], "diagnosis")
	if dcol < 0 {
		t.Fatalf("%s has no diagnosis column", claims)
	}
	codes := map[string]bool{}
	for _, r := range recs[1:] {
		if r[dcol] != "" {
			codes[r[dcol]] = true
		}
	}
	if len(codes) == 0 {
		t.Fatalf("%s holds no diagnosis: the check would prove nothing", claims)
	}
	token := regexp.MustCompile(`[A-Z][0-9]{2}(\.[0-9A-Z]{1,4})?`)
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range token.FindAllIndex(b, -1) {
			before := m[0] > 0 && isAlnum(b[m[0]-1])
			after := m[1] < len(b) && isAlnum(b[m[1]])
			if !before && !after && codes[string(b[m[0]:m[1]])] {
				t.Errorf("%s holds diagnosis code %s", p, b[m[0]:m[1]])
			}
		}
	}
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
}

// checkDoctorOnDemo: on the demo's directories the doctor passes; with the
// warehouse locked it exits 7 naming the holder; with tables far behind
// the as-of and --max-stale-months it exits 3.
func checkDoctorOnDemo(t *testing.T, dir string) {
	t.Helper()
	policy := samplePolicy(t)
	noAuditKey := []string{"doctor", "--warehouse", filepath.Join(dir, "warehouse"), "--runs", filepath.Join(dir, "runs"),
		"--models", filepath.Join(dir, "models"), "--key-file", filepath.Join(dir, "demo.key"), "--policy", policy, "--as-of", "2025-12-31"}
	auditKey := filepath.Join(dir, "demo-audit.key")
	args := append(slices.Clone(noAuditKey), "--audit-key-file", auditKey)
	code, out, errs := runCLI(t, args)
	if code != 0 || strings.Contains(out, "fail ") || !strings.Contains(out, "ok    model") || !strings.Contains(out, "ok    freshness") ||
		// 4 records: two nights of the first demo, two of its --json rerun.
		!strings.Contains(out, "ok    audit key        "+auditKey+": mode 0600, verifies the 4 records of ") {
		t.Errorf("doctor on the demo: exit %d\n%s%s", code, out, errs)
	}
	// The audit key of the environment (TestMain's) did not sign the
	// demo's log: the night would stop on it, exit 6.
	code, out, _ = runCLI(t, noAuditKey)
	if code != ExitIncomplete || !strings.Contains(out, "fail  audit key ") || !strings.Contains(out, "does not verify with") {
		t.Errorf("doctor with another audit key: exit %d\n%s", code, out)
	}
	// An audit key that others can read is refused, as run refuses it: exit 2.
	open := filepath.Join(t.TempDir(), "audit.key")
	b, _ := os.ReadFile(auditKey)
	os.WriteFile(open, b, 0o644)
	os.Chmod(open, 0o644)
	code, out, _ = runCLI(t, append(slices.Clone(noAuditKey), "--audit-key-file", open))
	if code != ExitUsage || !strings.Contains(out, "fail  audit key ") || !strings.Contains(out, "chmod 600 "+open) {
		t.Errorf("doctor with an audit key of mode 644: exit %d\n%s", code, out)
	}
	l, err := lock.Acquire(filepath.Join(dir, "warehouse"), lock.Options{Command: "povrisk ingest (test holder)"})
	if err != nil {
		t.Fatal(err)
	}
	code, out, _ = runCLI(t, args)
	l.Release()
	if code != ExitBusy || !strings.Contains(out, "povrisk ingest (test holder)") {
		t.Errorf("doctor with the warehouse locked: exit %d\n%s", code, out)
	}
	code, out, _ = runCLI(t, append(args, "--as-of", "2031-12-31", "--max-stale-months", "3"))
	if code != ExitBadInput || !strings.Contains(out, "income_records ends 2025-12-31, 72 months before the as-of 2031-12-31") {
		t.Errorf("doctor on stale data: exit %d\n%s", code, out)
	}
}

// checkCrontabLine runs the README's crontab line as cron would: the real
// binary, no terminal, a minimal environment, on the demo's directories.
// A good night leaves the log empty (--quiet); a night without its policy
// file leaves the error and its exit code there.
func checkCrontabLine(t *testing.T, dir string) {
	t.Helper()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)<!-- crontab -->\n```\n(.*?)\n```\n<!-- /crontab -->").FindSubmatch(readme)
	if m == nil {
		t.Fatal("README.md lacks the <!-- crontab --> block")
	}
	entry := strings.Fields(string(m[1]))
	for _, need := range []string{"--key-file", "--audit-key-file", "--policy", "--runs", "--warehouse", "--models"} {
		if !slices.Contains(entry, need) {
			t.Errorf("the README's crontab line lacks %s (a night needs it): %s", need, m[1])
		}
	}
	if len(entry) < 7 || entry[5] != "/usr/local/bin/povrisk" {
		t.Fatalf("crontab line %q: want five time fields and /usr/local/bin/povrisk", m[1])
	}
	command := strings.SplitN(string(m[1]), " ", 6)[5]
	bin := filepath.Join(t.TempDir(), "povrisk")
	build := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-tags", "duckdb_arrow", "-o", bin, ".")
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build povrisk: %v\n%s", err, b)
	}
	logs := t.TempDir()
	home := t.TempDir()
	policy := filepath.Join(t.TempDir(), "policy.toml")
	sample, err := os.ReadFile(samplePolicy(t))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(policy, sample, 0o600)
	paths := strings.NewReplacer(
		"/usr/local/bin/povrisk", bin,
		"/srv/povrisk/drops/current", filepath.Join(dir, "drop"),
		"/srv/povrisk/", dir+"/",
		"/etc/povrisk/audit.key", filepath.Join(dir, "demo-audit.key"),
		"/etc/povrisk/key", filepath.Join(dir, "demo.key"),
		"/etc/povrisk/policy.toml", policy,
		"/var/log/povrisk/", logs+"/",
	)
	cron := func(line string) string {
		t.Helper()
		os.Remove(filepath.Join(logs, "night.log"))
		cmd := exec.Command("/usr/bin/env", "-i", "PATH=/usr/bin:/bin", "HOME="+home, "SHELL=/bin/sh", "/bin/sh", "-c", paths.Replace(line))
		cmd.Dir = home
		if b, err := cmd.CombinedOutput(); err != nil || len(b) != 0 {
			t.Errorf("cron line: %v, output %q", err, b)
		}
		b, _ := os.ReadFile(filepath.Join(logs, "night.log"))
		return string(b)
	}
	before, _ := filepath.Glob(filepath.Join(dir, "runs", "20*"))
	if log := cron(command); log != "" {
		t.Errorf("a good night under cron logged %q, want nothing", log)
	}
	after, _ := filepath.Glob(filepath.Join(dir, "runs", "20*"))
	if len(after) < len(before) || len(after) == 0 {
		t.Errorf("run directories %v after the cron night", after)
	}
	code, out, errs := runCLI(t, []string{"audit", "--runs", filepath.Join(dir, "runs"), "--verify", "--audit-key-file", filepath.Join(dir, "demo-audit.key")})
	if code != 0 {
		t.Errorf("audit after the cron night: exit %d\n%s%s", code, out, errs)
	}
	os.Remove(policy)
	log := cron(command)
	if !strings.Contains(log, "policy.toml") || !strings.HasSuffix(log, "povrisk run failed: exit 5\n") {
		t.Errorf("a night without its policy logged %q, want the error and exit 5", log)
	}
}
