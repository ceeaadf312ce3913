package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// nightFixture generates, ingests and trains a small world once for the
// run command tests: warehouse, models and key paths.
type nightFixture struct{ dir, drop, wh, models, key string }

func newNightFixture(t *testing.T) nightFixture {
	t.Helper()
	if testing.Short() {
		t.Skip("generates, ingests and trains (about 20 s); skipped with -short")
	}
	dir := t.TempDir()
	f := nightFixture{dir: dir, drop: filepath.Join(dir, "drop"), wh: filepath.Join(dir, "wh"), models: filepath.Join(dir, "models"), key: filepath.Join(dir, "key")}
	if err := os.WriteFile(f.key, []byte("night-test-key-0123456789"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"povrisk", "generate", "--households", "800", "--out", f.drop},
		{"povrisk", "ingest", "--drop", f.drop, "--warehouse", f.wh, "--key-file", f.key},
		{"povrisk", "train", "--warehouse", f.wh, "--models", f.models, "--trees", "20", "--snapshots", "2", "--profiles", "3"},
	} {
		var out, errb bytes.Buffer
		if code := run(args, nil, &out, &errb); code != 0 {
			t.Fatalf("%s: exit %d\n%s", strings.Join(args[1:2], " "), code, errb.String())
		}
	}
	return f
}

func samplePolicy(t *testing.T) string {
	p, err := filepath.Abs("../../features/rules/policy.sample.toml")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRunCommandExitCodes(t *testing.T) {
	f := newNightFixture(t)
	badPolicy := filepath.Join(f.dir, "bad.toml")
	writeTestFile(t, badPolicy, "[[line]]\nprovince = \"5\"\nyear = 2025\nvalue = -1\n")
	noLines := filepath.Join(f.dir, "nolines.toml")
	writeTestFile(t, noLines, "[thresholds]\nnear_line_factor = 1.5\n")
	// A model whose card names another catalog.
	stale := filepath.Join(f.dir, "stale")
	if err := os.CopyFS(stale, os.DirFS(f.models)); err != nil {
		t.Fatal(err)
	}
	cards, err := filepath.Glob(filepath.Join(stale, "*", "card.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cards) != 1 {
		t.Fatalf("%d model cards", len(cards))
	}
	b, err := os.ReadFile(cards[0])
	if err != nil {
		t.Fatal(err)
	}
	var card map[string]any
	if err := json.Unmarshal(b, &card); err != nil {
		t.Fatal(err)
	}
	card["catalog_hash"] = "0000000000000000"
	if b, err = json.Marshal(card); err != nil {
		t.Fatal(err)
	}
	writeTestFile(t, cards[0], string(b))
	noHouseholds := filepath.Join(f.dir, "drop-no-households")
	if err := os.CopyFS(noHouseholds, os.DirFS(f.drop)); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(noHouseholds, "households.csv")); err != nil {
		t.Fatal(err)
	}

	base := func(extra ...string) []string {
		return append([]string{"povrisk", "run", "--warehouse", f.wh, "--models", f.models, "--runs", filepath.Join(f.dir, "runs")}, extra...)
	}
	cases := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"ok", base("--policy", samplePolicy(t)), ExitOK, ""},
		{"no model", append(base("--policy", samplePolicy(t)), "--models", filepath.Join(f.dir, "empty")), ExitNoModel, "no model"},
		{"unknown model", base("--policy", samplePolicy(t), "--model", "rf-none"), ExitNoModel, "rf-none"},
		{"stale model", append(base("--policy", samplePolicy(t)), "--models", stale), ExitNoModel, "catalog hash"},
		{"policy missing", base("--policy", filepath.Join(f.dir, "none.toml")), ExitPolicy, "none.toml"},
		{"policy invalid", base("--policy", badPolicy), ExitPolicy, "bad.toml"},
		{"policy without lines", base("--policy", noLines), ExitPolicy, "policy"},
		{"no warehouse", append(base("--policy", samplePolicy(t)), "--warehouse", filepath.Join(f.dir, "nowh")), ExitBadInput, "nowh"},
		{"drop without households", base("--policy", samplePolicy(t), "--drop", noHouseholds, "--key", f.key), ExitBadInput, "households"},
		{"bad as-of", base("--policy", samplePolicy(t), "--as-of", "2025-13-01"), ExitUsage, "as-of"},
		// A missing key is a usage error, as ingest and doctor report it.
		{"drop with a missing key file", base("--policy", samplePolicy(t), "--drop", f.drop, "--key-file", filepath.Join(f.dir, "no.key")), ExitUsage, "no.key"},
		{"as-of not a month-end", base("--policy", samplePolicy(t), "--as-of", "2025-12-15"), ExitUsage, "pass --any-day"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(c.args, nil, &out, &errb)
			if code != c.code {
				t.Fatalf("exit %d, want %d\n%s", code, c.code, errb.String())
			}
			if c.msg != "" && !strings.Contains(errb.String(), c.msg) {
				t.Errorf("stderr %q does not mention %q", errb.String(), c.msg)
			}
			if c.code == ExitOK {
				// Not a terminal: exactly one summary line on stderr.
				if lines := strings.Split(strings.TrimSpace(errb.String()), "\n"); len(lines) != 1 || !strings.HasPrefix(lines[0], "povrisk run ") {
					t.Errorf("stderr %q, want one summary line", errb.String())
				}
			}
		})
	}
}

func TestRunJSONExplainAudit(t *testing.T) {
	f := newNightFixture(t)
	runs := filepath.Join(f.dir, "runs")
	var out, errb bytes.Buffer
	if code := run([]string{"povrisk", "run", "--warehouse", f.wh, "--models", f.models, "--runs", runs, "--policy", samplePolicy(t), "--json"}, nil, &out, &errb); code != 0 {
		t.Fatalf("run: exit %d\n%s", code, errb.String())
	}
	var res struct {
		Dir    string `json:"run_dir"`
		Top    string `json:"top_household"`
		Stages []struct{ Name string }
		Counts struct{ Eligible int }
	}
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("--json: %v\n%s", err, out.String())
	}
	if res.Counts.Eligible == 0 || len(res.Stages) < 8 || res.Top == "" {
		t.Errorf("--json summary %+v", res)
	}
	out.Reset()
	if code := run([]string{"povrisk", "explain", res.Top, "--run", res.Dir}, nil, &out, &errb); code != 0 {
		t.Fatalf("explain: exit %d\n%s", code, errb.String())
	}
	if !strings.Contains(out.String(), "household "+res.Top) || !strings.Contains(out.String(), "rank 1 ") {
		t.Errorf("explain output:\n%s", out.String())
	}
	if code := run([]string{"povrisk", "explain", "NOPE", "--run", res.Dir}, nil, &out, &errb); code != ExitBadInput {
		t.Errorf("explain of an unknown household: exit %d", code)
	}
	out.Reset()
	if code := run([]string{"povrisk", "audit", "--runs", runs, "--verify"}, nil, &out, &errb); code != 0 {
		t.Fatalf("audit: exit %d\n%s", code, out.String())
	}
	// Tamper with the record: the audit names its seq and exits 6.
	log := filepath.Join(runs, "audit.log")
	b, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	tampered := bytes.Replace(b, []byte(`"user":"`), []byte(`"user":"x`), 1)
	if bytes.Equal(tampered, b) {
		t.Fatalf("audit.log has no user field to tamper with:\n%s", b)
	}
	writeTestFile(t, log, string(tampered))
	out.Reset()
	if code := run([]string{"povrisk", "audit", "--runs", runs, "--verify"}, nil, &out, &errb); code != ExitIncomplete {
		t.Fatalf("audit of a tampered log: exit %d", code)
	}
	if !strings.Contains(out.String(), "record seq 1 (line 1)") || !strings.Contains(out.String(), "record altered") {
		t.Errorf("audit output does not name the altered record:\n%s", out.String())
	}
}

// writeTestFile writes text to path or fails the test.
func writeTestFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
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
		{"bad code", "[county.5201]\nk = 3\n", 0, nil, `county "5201"`},
		{"share above 1", "[county.520123]\nshare = 2.0\n", 0, nil, `county "520123"`},
		{"unknown key", "[county.520123]\nsize = 3\n", 0, nil, "unknown key"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "_")+".toml")
			writeTestFile(t, p, c.text)
			got, err := loadTopK(p)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err %v, want %q", err, c.err)
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
}
