package main

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/povrisk/povrisk/engine"
	"github.com/povrisk/povrisk/engine/whatif"
	"github.com/povrisk/povrisk/features/rules"
)

// policyScaled writes the sample policy with every monitoring line
// multiplied by f.
func policyScaled(t *testing.T, f float64) string {
	t.Helper()
	p := rules.SamplePolicy()
	var b strings.Builder
	for _, l := range p.Lines {
		fmt.Fprintf(&b, "[[line]]\nprovince = %q\nyear = %d\nvalue = %.1f\n", l.Province, l.Year, l.Value*f)
	}
	for _, r := range p.Rurals {
		fmt.Fprintf(&b, "[[rural_income]]\nprovince = %q\nyear = %d\nvalue = %.1f\n", r.Province, r.Year, r.Value)
	}
	path := filepath.Join(t.TempDir(), fmt.Sprintf("policy-%v.toml", f))
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func whatifJSON(t *testing.T, args ...string) whatif.Result {
	t.Helper()
	var out, errb bytes.Buffer
	if code := run(append([]string{"povrisk", "whatif", "--json"}, args...), nil, &out, &errb); code != 0 {
		t.Fatalf("whatif %v: exit %d: %s", args, code, errb.String())
	}
	var r whatif.Result
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("whatif --json: %v\n%s", err, out.String())
	}
	return r
}

// TestWhatifCommand replays the fixture's night: under its own policy
// nothing changes and flagged_before is recounted from features.parquet;
// a raised line never flags fewer, a lowered one never more; an altered
// run directory is exit 6, a bad policy file exit 5.
func TestWhatifCommand(t *testing.T) {
	runs := copyBriefRuns(t)
	dir := filepath.Join(runs, "2025-12-31")
	same := whatifJSON(t, "--run", dir, "--policy", "../../features/rules/policy.sample.toml")
	db, err := engine.OpenDB("")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var flagged, eligible int
	if err := db.QueryRow(`SELECT count(*) FILTER (WHERE rules_tripped <> ''), count(*) FROM read_parquet(?) WHERE NOT monitored_at_as_of`,
		filepath.Join(dir, "features.parquet")).Scan(&flagged, &eligible); err != nil && err != sql.ErrNoRows {
		t.Fatal(err)
	}
	if same.FlaggedBefore != flagged || same.FlaggedAfter != flagged || same.Entered != 0 || same.Left != 0 || flagged == 0 {
		t.Errorf("same policy: %d -> %d (+%d -%d); features.parquet has %d flagged of %d eligible",
			same.FlaggedBefore, same.FlaggedAfter, same.Entered, same.Left, flagged, eligible)
	}
	if len(same.Changes) != 0 {
		t.Errorf("same policy: changes %q", same.Changes)
	}
	up := whatifJSON(t, "--run", dir, "--policy", policyScaled(t, 1.3))
	if len(up.Changes) == 0 || !strings.Contains(strings.Join(up.Changes, "\n"), "云南省2025年监测线 8,700元 → 11,310元") {
		t.Errorf("raised line: changes %q", up.Changes)
	}
	if up.FlaggedAfter < up.FlaggedBefore || up.Left != 0 || up.FlaggedAfter-up.FlaggedBefore != up.Entered {
		t.Errorf("raised line: %d -> %d (+%d -%d)", up.FlaggedBefore, up.FlaggedAfter, up.Entered, up.Left)
	}
	down := whatifJSON(t, "--run", dir, "--policy", policyScaled(t, 0.7))
	if down.FlaggedAfter > down.FlaggedBefore || down.Entered != 0 || down.FlaggedBefore-down.FlaggedAfter != down.Left {
		t.Errorf("lowered line: %d -> %d (+%d -%d)", down.FlaggedBefore, down.FlaggedAfter, down.Entered, down.Left)
	}
	sum := 0
	for _, c := range up.Counties {
		sum += c.FlaggedAfter
	}
	if sum != up.FlaggedAfter {
		t.Errorf("counties add up to %d, total %d", sum, up.FlaggedAfter)
	}
	var out, errb bytes.Buffer
	if code := run([]string{"povrisk", "whatif", "--run", dir, "--policy", policyScaled(t, 1.3)}, nil, &out, &errb); code != 0 ||
		!strings.Contains(out.String(), "households flagged: ") {
		t.Errorf("human output: exit %d\n%s%s", code, out.String(), errb.String())
	}
	t.Log(out.String())
	annex := filepath.Join(t.TempDir(), "whatif.html")
	if code := run([]string{"povrisk", "whatif", "-q", "--run", dir, "--policy", policyScaled(t, 1.3), "--out", annex}, nil, &out, &errb); code != 0 {
		t.Errorf("--out: exit %d\n%s", code, errb.String())
	} else if b, err := os.ReadFile(annex); err != nil || !strings.Contains(string(b), "云南省2025年监测线") ||
		!strings.Contains(string(b), rules.Thousands(float64(up.FlaggedAfter))) {
		t.Errorf("--out: the annex lacks the change or the flagged count %d (%v)", up.FlaggedAfter, err)
	}
	if up.CostAfter < up.CostBefore || up.CostBefore <= 0 || up.UnitCosts["dibao"] != 4800 {
		t.Errorf("raised line at the default unit costs: cost %v -> %v, dibao %v", up.CostBefore, up.CostAfter, up.UnitCosts["dibao"])
	}
	zero := filepath.Join(t.TempDir(), "zero.toml")
	var zb strings.Builder
	for _, m := range rules.ProgramCodes() {
		fmt.Fprintf(&zb, "%s = 0\n", m)
	}
	os.WriteFile(zero, []byte(zb.String()), 0o600)
	if z := whatifJSON(t, "--run", dir, "--policy", policyScaled(t, 1.3), "--unit-costs", zero); z.CostBefore != 0 || z.CostAfter != 0 || z.FlaggedAfter != up.FlaggedAfter {
		t.Errorf("zero unit costs: cost %v -> %v", z.CostBefore, z.CostAfter)
	}
	badCosts := filepath.Join(t.TempDir(), "badcosts.toml")
	os.WriteFile(badCosts, []byte("dibao = nan\n"), 0o600)
	if code := run([]string{"povrisk", "whatif", "--run", dir, "--policy", policyScaled(t, 1.3), "--unit-costs", badCosts}, nil, &out, &errb); code != 5 {
		t.Errorf("bad unit costs: exit %d, want 5", code)
	}
	bad := filepath.Join(t.TempDir(), "bad.toml")
	os.WriteFile(bad, []byte("[thresholds]\nnear_line_factor = -1\n"), 0o600)
	if code := run([]string{"povrisk", "whatif", "--run", dir, "--policy", bad}, nil, &out, &errb); code != 5 {
		t.Errorf("bad policy: exit %d, want 5", code)
	}
	if err := os.WriteFile(filepath.Join(dir, "extra.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code := run([]string{"povrisk", "whatif", "--run", dir, "--policy", policyScaled(t, 1.3)}, nil, &out, &errb); code != 6 {
		t.Errorf("altered run: exit %d, want 6", code)
	}
}
