package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
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
	if cards, _ := filepath.Glob(filepath.Join(dir, "models", "*", "card.json")); len(cards) != 1 {
		t.Errorf("model cards %v, want one", cards)
	}

	// summary.json against counts made here from ranked.csv.
	checkSummary(t, last)
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
