package main

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/povrisk/povrisk/engine/fault"
	"github.com/povrisk/povrisk/engine/lock"
	"github.com/povrisk/povrisk/features"
	"github.com/povrisk/povrisk/models/registry"
)

func wantCheck(t *testing.T, c check, status string, kind fault.Kind, has string) {
	t.Helper()
	if c.Status != status || (status == "fail" && c.Kind != kind) {
		t.Errorf("%s: %s (%v) %q, want %s (%v)", c.Name, c.Status, c.Kind, c.Detail+": "+c.Fix, status, kind)
	}
	if !strings.Contains(c.Detail+": "+c.Fix, has) {
		t.Errorf("%s: %q lacks %q", c.Name, c.Detail+": "+c.Fix, has)
	}
}

func TestDoctorKey(t *testing.T) {
	t.Setenv("POVRISK_KEY_FILE", "")
	t.Setenv("POVRISK_KEY", "")
	dir := t.TempDir()
	good := filepath.Join(dir, "good.key")
	os.WriteFile(good, []byte("a key of thirty-two bytes for tests\n"), 0o600)
	open := filepath.Join(dir, "open.key")
	os.WriteFile(open, []byte("a key of thirty-two bytes for tests\n"), 0o644)
	os.Chmod(open, 0o644)
	short := filepath.Join(dir, "short.key")
	os.WriteFile(short, []byte("short\n"), 0o600)
	wantCheck(t, checkKey(""), "fail", fault.Usage, "--key-file")
	wantCheck(t, checkKey(filepath.Join(dir, "none.key")), "fail", fault.Usage, "no such file")
	wantCheck(t, checkKey(open), "fail", fault.Usage, "chmod 600 "+open)
	wantCheck(t, checkKey(short), "fail", fault.Usage, "at least 16")
	wantCheck(t, checkKey(good), "ok", fault.OK, "mode 0600")
	t.Setenv("POVRISK_KEY_FILE", good)
	wantCheck(t, checkKey(""), "ok", fault.OK, good)
	t.Setenv("POVRISK_KEY_FILE", "")
	t.Setenv("POVRISK_KEY", "a key of thirty-two bytes for tests")
	wantCheck(t, checkKey(""), "warn", fault.OK, "POVRISK_KEY")
}

func TestDoctorDirectories(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain")
	os.WriteFile(plain, []byte("x"), 0o600)
	c := checkWritableDir("warehouse", filepath.Join(dir, "none"), true)
	wantCheck(t, c[0], "fail", fault.BadInput, "povrisk ingest")
	c = checkWritableDir("runs", filepath.Join(dir, "runs"), false)
	wantCheck(t, c[0], "warn", fault.OK, "the first night creates it")
	// Below a regular file nothing can be created, as root too.
	c = checkWritableDir("runs", filepath.Join(plain, "runs"), false)
	wantCheck(t, c[0], "fail", fault.Write, "not a directory")
	c = checkWritableDir("runs", plain, false)
	wantCheck(t, c[0], "fail", fault.Write, "not a directory")
	// An empty directory is no warehouse.
	c = checkWritableDir("warehouse", t.TempDir(), true)
	wantCheck(t, c[0], "fail", fault.BadInput, "no current version")
	runs := t.TempDir()
	c = checkWritableDir("runs", runs, false)
	wantCheck(t, c[0], "ok", fault.OK, "writable")
	wantCheck(t, c[1], "ok", fault.OK, "not locked")
	l, err := lock.Acquire(runs, lock.Options{Command: "povrisk run (test)"})
	if err != nil {
		t.Fatal(err)
	}
	c = checkWritableDir("runs", runs, false)
	l.Release()
	wantCheck(t, c[1], "fail", fault.Busy, "povrisk run (test)")
	if len(c) != 2 || !strings.Contains(c[1].Detail, "pid ") {
		t.Errorf("lock check names no holder: %+v", c)
	}
}

func TestDoctorDisk(t *testing.T) {
	runs := t.TempDir()
	run := filepath.Join(runs, "2025-12-31")
	os.Mkdir(run, 0o700)
	os.WriteFile(filepath.Join(run, "ranked.csv"), make([]byte, 3000), 0o600)
	os.WriteFile(filepath.Join(run, "summary.json"), make([]byte, 1000), 0o600)
	os.Mkdir(filepath.Join(runs, "2025-11-30"), 0o700) // older, empty: not the one measured
	free := func(n int64) func(string) (int64, error) {
		return func(string) (int64, error) { return n, nil }
	}
	o := doctorOptions{Runs: runs, Warehouse: filepath.Join(runs, "no-warehouse")}
	o.FreeBytes = free(3999)
	wantCheck(t, checkDisk(o), "fail", fault.Write, "the last night used 3.9 KiB (run 2025-12-31 3.9 KiB)")
	o.FreeBytes = free(6000)
	wantCheck(t, checkDisk(o), "warn", fault.OK, "one more night")
	o.FreeBytes = free(1 << 30)
	wantCheck(t, checkDisk(o), "ok", fault.OK, "1.0 GiB free")
	o.FreeBytes = func(string) (int64, error) { return 0, errors.New("statfs failed") }
	wantCheck(t, checkDisk(o), "warn", fault.OK, "statfs failed")
	o = doctorOptions{Runs: t.TempDir(), Warehouse: "none", FreeBytes: free(10)}
	wantCheck(t, checkDisk(o), "ok", fault.OK, "no earlier night")
}

func TestDoctorPolicy(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.toml")
	os.WriteFile(bad, []byte("nonsense = [\n"), 0o600)
	wantCheck(t, checkPolicy(""), "fail", fault.Policy, "--policy FILE")
	wantCheck(t, checkPolicy(bad), "fail", fault.Policy, "bad.toml")
	wantCheck(t, checkPolicy(samplePolicyName), "warn", fault.OK, "illustrative")
	wantCheck(t, checkPolicy(samplePolicy(t)), "ok", fault.OK, "valid (sha256 ")
}

// writeCard writes a model card (only the card: what the check reads).
func writeCard(t *testing.T, dir string, card registry.Card) {
	t.Helper()
	os.MkdirAll(filepath.Join(dir, card.ID), 0o700)
	b, _ := json.Marshal(card)
	if err := os.WriteFile(filepath.Join(dir, card.ID, "card.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestDoctorModel(t *testing.T) {
	wantCheck(t, checkModel(t.TempDir()), "fail", fault.NoModel, "povrisk train")
	fits := t.TempDir()
	writeCard(t, fits, registry.Card{ID: "rf-fits", AsOf: "2025-06-30", Features: features.ModelColumns(), CatalogHash: features.CatalogHash(),
		Metrics: registry.Metrics{AUC: 0.8216778182321441}})
	wantCheck(t, checkModel(fits), "ok", fault.OK, "rf-fits (as of 2025-06-30, AUC 0.822) fits")
	stale := t.TempDir()
	writeCard(t, stale, registry.Card{ID: "rf-stale", AsOf: "2025-06-30", Features: features.ModelColumns()[1:], CatalogHash: "0123456789abcdef"})
	wantCheck(t, checkModel(stale), "fail", fault.NoModel, "retrain")
}

func TestDoctorBrief(t *testing.T) {
	o := doctorOptions{
		FindBrowser: func(string) (string, error) { return "", errors.New("no chromium found") },
		CJKFonts:    func() (string, error) { return "", nil },
	}
	c := checkBrief(o)
	wantCheck(t, c[0], "warn", fault.OK, "apt-get install chromium")
	wantCheck(t, c[1], "warn", fault.OK, "fonts-wqy-microhei")
	o.CJKFonts = func() (string, error) { return "", errors.New("exec: fc-list: not found") }
	wantCheck(t, checkBrief(o)[1], "warn", fault.OK, "fontconfig")
	o.FindBrowser = func(string) (string, error) { return "/usr/bin/chromium", nil }
	o.CJKFonts = func() (string, error) { return "Noto Sans CJK SC,Noto Sans CJK SC Regular\nNoto Serif CJK SC\n", nil }
	c = checkBrief(o)
	wantCheck(t, c[0], "ok", fault.OK, "/usr/bin/chromium")
	// Noto CJK alone: the PDF would embed Type 3 glyphs, a warning naming the fallback.
	wantCheck(t, c[1], "warn", fault.OK, "Noto Sans CJK SC")
	wantCheck(t, c[1], "warn", fault.OK, "fonts-wqy-microhei")
	o.CJKFonts = func() (string, error) { return "Noto Sans CJK SC\nWenQuanYi Micro Hei,文泉驿微米黑\n", nil }
	wantCheck(t, checkBrief(o)[1], "ok", fault.OK, "WenQuanYi Micro Hei")
}

// TestDoctorExitCode: the doctor exits with the most serious failing
// check's kind, prints one line per check, or one JSON object.
func TestDoctorExitCode(t *testing.T) {
	t.Setenv("POVRISK_KEY_FILE", "")
	t.Setenv("POVRISK_KEY", "")
	t.Setenv("POVRISK_POLICY", "")
	dir := t.TempDir()
	// No key (2), no warehouse (3), no policy (5), no model (4): policy wins.
	code, out, errs := runCLI(t, []string{"doctor", "--warehouse", filepath.Join(dir, "wh"), "--runs", filepath.Join(dir, "runs"), "--models", filepath.Join(dir, "m")})
	if code != ExitPolicy {
		t.Fatalf("exit %d, want %d:\n%s%s", code, ExitPolicy, out, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	for _, l := range lines {
		if !strings.HasPrefix(l, "ok ") && !strings.HasPrefix(l, "warn ") && !strings.HasPrefix(l, "fail ") {
			t.Errorf("line without a status: %q", l)
		}
	}
	if !strings.Contains(out, "fail  policy") || !strings.Contains(out, "fail  model") || !strings.Contains(errs, "checks failed") {
		t.Errorf("report:\n%s\nstderr: %s", out, errs)
	}
	code, out, _ = runCLI(t, []string{"doctor", "--warehouse", filepath.Join(dir, "wh"), "--runs", filepath.Join(dir, "runs"), "--models", filepath.Join(dir, "m"), "--json"})
	var rep struct {
		OK       bool    `json:"ok"`
		ExitCode int     `json:"exit_code"`
		Checks   []check `json:"checks"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("--json: %v\n%s", err, out)
	}
	if rep.OK || rep.ExitCode != ExitPolicy || code != ExitPolicy || len(rep.Checks) != len(lines) {
		t.Errorf("--json: ok %v exit %d (process %d), %d checks (text: %d)", rep.OK, rep.ExitCode, code, len(rep.Checks), len(lines))
	}
	// The order of seriousness: a write failure beats everything, busy nothing.
	for _, c := range []struct {
		kinds []fault.Kind
		want  fault.Kind
	}{
		{[]fault.Kind{fault.Busy, fault.BadInput}, fault.BadInput},
		{[]fault.Kind{fault.Busy}, fault.Busy},
		{[]fault.Kind{fault.NoModel, fault.Write, fault.Policy}, fault.Write},
	} {
		var cs []check
		for _, k := range c.kinds {
			cs = append(cs, failCheck("x", k, "d", "f"))
		}
		if got := worstKind(cs); got != c.want {
			t.Errorf("worstKind(%v) = %v, want %v", c.kinds, got, c.want)
		}
	}
	if worstKind([]check{okCheck("a", "b"), warnCheck("c", "d", "e")}) != fault.OK {
		t.Error("warnings must not fail the doctor")
	}
}

// TestDoctorAsOf: without --as-of the doctor judges freshness against the
// last month-end on or before today.
func TestDoctorAsOf(t *testing.T) {
	for _, c := range []struct{ now, want string }{{"2026-12-01", "2026-11-30"}, {"2026-11-30", "2026-11-30"}, {"2026-03-15", "2026-02-28"}} {
		now, _ := time.Parse("2006-01-02", c.now)
		if got := defaultAsOf(now).Format("2006-01-02"); got != c.want {
			t.Errorf("defaultAsOf(%s) = %s, want %s", c.now, got, c.want)
		}
	}
}

// TestDoctorFreshness: on a small real warehouse (8 months ending
// 2025-08-31) the tables are fresh for that as-of, a warning four months
// later, and a failure (exit 3) beyond --max-stale-months.
func TestDoctorFreshness(t *testing.T) {
	dir := t.TempDir()
	drop, wh, key := filepath.Join(dir, "drop"), filepath.Join(dir, "wh"), filepath.Join(dir, "key")
	os.WriteFile(key, []byte("a key of thirty-two bytes for tests\n"), 0o600)
	if code, _, errs := runCLI(t, []string{"generate", "--households", "40", "--months", "8", "--start", "2025-01", "--out", drop, "-q"}); code != 0 {
		t.Fatalf("generate: %d %s", code, errs)
	}
	if code, _, errs := runCLI(t, []string{"ingest", "--drop", drop, "--warehouse", wh, "--key-file", key, "-q"}); code != 0 {
		t.Fatalf("ingest: %d %s", code, errs)
	}
	at := func(s string) time.Time { d, _ := time.Parse("2006-01-02", s); return d }
	for _, c := range checkFreshness(t.Context(), doctorOptions{Warehouse: wh, AsOf: at("2025-08-31")}) {
		if c.Status != "ok" {
			t.Errorf("fresh data: %+v", c)
		}
	}
	cs := checkFreshness(t.Context(), doctorOptions{Warehouse: wh, AsOf: at("2025-12-31")})
	if len(cs) < 3 {
		t.Fatalf("checks %+v: want one per monthly table", cs)
	}
	wantCheck(t, cs[0], "warn", fault.OK, "income_records ends 2025-08-31, 4 months before the as-of 2025-12-31")
	cs = checkFreshness(t.Context(), doctorOptions{Warehouse: wh, AsOf: at("2025-12-31"), MaxStaleMonths: 2})
	wantCheck(t, cs[0], "fail", fault.BadInput, "more than --max-stale-months 2")
	wantCheck(t, checkFreshness(t.Context(), doctorOptions{Warehouse: filepath.Join(dir, "none")})[0], "warn", fault.OK, "no warehouse")
	// The disk check counts the current warehouse version when no night ran yet.
	o := doctorOptions{Warehouse: wh, Runs: filepath.Join(dir, "runs"), FreeBytes: func(string) (int64, error) { return 1 << 40, nil }}
	wantCheck(t, checkDisk(o), "ok", fault.OK, "(warehouse version v000001 ")
}
