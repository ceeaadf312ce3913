package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
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

	// The high-tier count: counted from ranked.csv here, and as stated in
	// summary.json and printed by the demo.
	raw, err := os.ReadFile(filepath.Join(last, "ranked.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(strings.TrimPrefix(string(raw), "\ufeff")), "\n")
	head := strings.Split(lines[0], ",")
	tierCol := -1
	for i, h := range head {
		if h == "tier" {
			tierCol = i
		}
	}
	if tierCol < 0 {
		t.Fatalf("ranked.csv has no tier column: %v", head)
	}
	high := 0
	for _, l := range lines[1:] {
		// The columns before tier never hold quoted commas.
		if f := strings.SplitN(l, ",", tierCol+2); len(f) > tierCol && f[tierCol] == "high" {
			high++
		}
	}
	var sum struct {
		Counts struct {
			ByTier map[string]int `json:"by_tier"`
		} `json:"counts"`
	}
	b, err := os.ReadFile(filepath.Join(last, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatalf("summary.json: %v", err)
	}
	if sum.Counts.ByTier["high"] != high {
		t.Errorf("summary.json says %d high-tier households, ranked.csv holds %d", sum.Counts.ByTier["high"], high)
	}
	if !strings.Contains(out.String(), "eligible households, ") {
		t.Errorf("demo output lacks the night's counts:\n%s", out.String())
	}

	// The audit chain and the run directories verify.
	out.Reset()
	errb.Reset()
	if code := run([]string{"povrisk", "audit", "--runs", runs, "--verify"}, nil, &out, &errb); code != 0 {
		t.Errorf("audit --verify exit %d: %s%s", code, out.String(), errb.String())
	}

	// The brief exists; the PDF too when Chromium is installed (always in CI).
	briefs, _ := filepath.Glob(filepath.Join(dir, "brief-*-zh.html"))
	if len(briefs) != 1 {
		t.Fatalf("briefs %v, want one HTML brief", briefs)
	}
	html, _ := os.ReadFile(briefs[0])
	if !bytes.Contains(html, []byte("风险研判简报")) {
		t.Errorf("the brief has no title")
	}
	pdfs, _ := filepath.Glob(filepath.Join(dir, "brief-*-zh.pdf"))
	if len(pdfs) != 1 && os.Getenv("CI") != "" {
		t.Errorf("no PDF brief under CI (Chromium is installed by scripts/test.sh); demo said:\n%s", out.String())
	}
}
