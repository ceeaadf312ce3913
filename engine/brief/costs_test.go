package brief

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/povrisk/povrisk/engine/fault"
)

// TestUnitCostsRejected: NaN, infinite, negative and absurd unit costs are
// refused with fault.Policy, and the message names the file, the key and
// the value.
func TestUnitCostsRejected(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, file, body, want string
	}{
		{"nan", "c.toml", "dibao = nan\n", "dibao = NaN is not a finite number"},
		{"inf", "c.toml", "medical_aid = inf\n", "medical_aid = +Inf is not a finite number"},
		{"minus inf", "c.toml", "[unit_costs]\ntekun = -inf\n", "tekun = -Inf is not a finite number"},
		{"negative", "c.toml", "temporary = -1500\n", "temporary = -1500 is negative"},
		{"absurd", "c.json", `{"housing_aid": 1e300}`, "housing_aid = 1e+300 is over 200000 yuan"},
		{"int64 max", "c.toml", "dibao = 9223372036854775807\n", "dibao = 9.223372036854776e+18 is over 200000 yuan"},
		{"just over", "c.json", `{"dibao": 200000.5}`, "dibao = 200000.5 is over"},
		{"not a number", "c.toml", "dibao = true\n", "dibao = true is not a number of yuan"},
		{"table", "c.toml", "dibao = { a = 1 }\n", "is not a number of yuan"},
		{"bad toml", "c.toml", "dibao = = 1\n", "decode"},
		{"missing", "absent.toml", "", "read unit costs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.name+"-"+tc.file)
			if tc.name != "missing" {
				if err := os.WriteFile(path, []byte(tc.body), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			got, err := LoadUnitCosts(path)
			if err == nil {
				t.Fatalf("accepted %q: %v", tc.body, got)
			}
			if k := fault.Of(err); k != fault.Policy {
				t.Errorf("kind %v, want %v (%v)", k, fault.Policy, err)
			}
			for _, want := range []string{path, tc.want} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
		})
	}
	// The bounds themselves are accepted.
	p := filepath.Join(dir, "bounds.toml")
	os.WriteFile(p, []byte("dibao = 0\nhousing_aid = 200000\n"), 0o600)
	got, err := LoadUnitCosts(p)
	if err != nil || got["dibao"] != 0 || got["housing_aid"] != MaxUnitCost {
		t.Errorf("bounds: %v, %v", got, err)
	}
}

// TestOptionsUnitCostsChecked: costs passed in Options get the file's checks.
func TestOptionsUnitCostsChecked(t *testing.T) {
	for _, v := range []float64{math.NaN(), math.Inf(1), -1, 1e19} {
		costs := DefaultUnitCosts()
		costs["dibao"] = v
		_, err := HTML(context.Background(), &bytes.Buffer{}, Options{Run: fixtureRun("2025-12-31"), UnitCosts: costs})
		if !fault.Is(err, fault.Policy) || !strings.Contains(err.Error(), "dibao") {
			t.Errorf("unit cost %v: error %v, want fault.Policy naming dibao", v, err)
		}
	}
}

// TestNoOverflow: whole-yuan and money figures print any float without
// wrapping around (the brief once printed -9,223,372,036,854,775,808 元).
func TestNoOverflow(t *testing.T) {
	for _, tc := range []struct {
		x    float64
		want string
	}{
		// -1e-300 rounds to zero, printed "0" as rules.Thousands (the one
		// thousands format) prints it; the brief's own copy printed "-0".
		{0, "0"}, {1e-300, "0"}, {-1e-300, "0"}, {0.5, "1"}, {1234567.4, "1,234,567"},
		{-4800, "-4,800"}, {1e19, "10,000,000,000,000,000,000"}, {9.223372036854776e18, "9,223,372,036,854,775,808"},
		{math.NaN(), "—"}, {math.Inf(1), "—"}, {math.Inf(-1), "—"},
	} {
		if got := fmtWhole(tc.x); got != tc.want {
			t.Errorf("fmtWhole(%v) = %q, want %q", tc.x, got, tc.want)
		}
	}
	zh, en := lang("zh"), lang("en")
	if got := en.money(1e19); got != "10,000,000,000,000,000,000 yuan" {
		t.Errorf("en.money(1e19) = %q", got)
	}
	if got := zh.money(1e19); got != "1000000000000000.0 万元" {
		t.Errorf("zh.money(1e19) = %q", got)
	}
	if got := zh.yuan(math.NaN()); got != "— 元" {
		t.Errorf("zh.yuan(NaN) = %q", got)
	}
	if got := pct(math.Inf(1)); got != "—" {
		t.Errorf("pct(+Inf) = %q", got)
	}
}

// TestExtremeUnitCostsBrief: briefs with the largest and the tiniest unit
// costs state the cost of each measure as households x unit cost, computed
// here by hand, and no wrapped-around figure.
func TestExtremeUnitCostsBrief(t *testing.T) {
	for _, unit := range []float64{MaxUnitCost, 1e-9} {
		costs := map[string]float64{}
		for k := range DefaultUnitCosts() {
			costs[k] = unit
		}
		var buf bytes.Buffer
		if _, err := HTML(context.Background(), &buf, Options{Run: fixtureRun("2025-12-31"), Lang: "en", UnitCosts: costs}); err != nil {
			t.Fatal(err)
		}
		page := buf.String()
		if strings.Contains(page, "-9,223,372") || strings.Contains(page, "NaN") || strings.Contains(page, "Inf") {
			t.Fatalf("unit %v: a figure overflowed", unit)
		}
		// Every measure with a shown count (not "<5") must cost that count
		// times the unit cost, computed here.
		txt := textOf(page)
		rows := regexp.MustCompile(`\n([^|\n]+) \| ([0-9,]+) \| ([0-9,]+) yuan \| ([0-9,]+) yuan`).FindAllStringSubmatch(txt, -1)
		if len(rows) == 0 {
			t.Fatalf("unit %v: no measure row with a count and a cost:\n%s", unit, txt)
		}
		wantUnit := map[float64]string{MaxUnitCost: "200,000", 1e-9: "0"}[unit]
		for _, r := range rows {
			n, _ := strconv.ParseInt(strings.ReplaceAll(r[2], ",", ""), 10, 64)
			want := "0"
			if unit == MaxUnitCost {
				want = commas(n * int64(MaxUnitCost))
			}
			if r[3] != wantUnit || r[4] != want {
				t.Errorf("unit %v: %s: %s households at %s yuan cost %s yuan, want %s at %s", unit, r[1], r[2], r[3], r[4], want, wantUnit)
			}
		}
	}
}

// FuzzLoadUnitCosts: whatever the bytes, LoadUnitCosts returns costs or an
// error marked fault.Policy; it never panics, and every cost it returns is
// finite and within 0..MaxUnitCost.
func FuzzLoadUnitCosts(f *testing.F) {
	for _, s := range []string{"dibao = 5200\n", "[unit_costs]\nhousing_aid = 25000\n", "dibao = nan\n", "x = [1, 2]\n",
		`{"temporary": 2000}`, `{"dibao": -1}`, `{"unit_costs": {"tekun": 1e308}}`, `[1,2,3]`, "\x00\xff"} {
		f.Add([]byte(s), true)
		f.Add([]byte(s), false)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte, asTOML bool) {
		path := filepath.Join(dir, "c.json")
		if asTOML {
			path = filepath.Join(dir, "c.toml")
		}
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		costs, err := LoadUnitCosts(path)
		if err != nil {
			if !fault.Is(err, fault.Policy) {
				t.Fatalf("error not marked fault.Policy: %v", err)
			}
			return
		}
		for k, v := range costs {
			if math.IsNaN(v) || v < 0 || v > MaxUnitCost {
				t.Fatalf("accepted %s = %v", k, v)
			}
		}
	})
}

// TestWriteFailureIsWrite: a brief that cannot be written is fault.Write
// (exit 8), not bad input.
func TestWriteFailureIsWrite(t *testing.T) {
	file := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Write(context.Background(), Options{Run: fixtureRun("2025-12-31"), Out: filepath.Join(file, "brief.html")})
	if !fault.Is(err, fault.Write) {
		t.Errorf("writing under a file gave %v (kind %v), want fault.Write", err, fault.Of(err))
	}
}

// FuzzBriefSummary: whatever summary.json holds (numbers huge, tiny,
// negative, of the wrong type), the brief of the fixture's households is
// written without a panic and without a wrapped-around figure. (The run
// directory's checksums are the run package's to check; this fuzzes what
// the brief does with what it reads.)
func FuzzBriefSummary(f *testing.F) {
	base, err := compute(context.Background(), fixtureRun("2025-12-31"), "", DefaultUnitCosts(), true)
	if err != nil {
		f.Fatal(err)
	}
	seed, err := os.ReadFile(filepath.Join(fixtureRun("2025-12-31"), "summary.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	for _, s := range []string{
		`{"as_of": "2025-12-31", "tiers": {"high": 1e308, "high_county_share": -1e-300}, "validation": {"horizon_months": 1e300, "auc": 1e308, "precision_at": {"x": 1e308, "0.01": -5}}}`,
		`{"as_of": "2025-12-31", "policy": {"lines": [{"province": "52", "year": -1, "line": 1e300}, {"line": -1e300}]}, "model": {"auc": "high"}}`,
		`{"as_of": "2025-12-31", "coverage": [{"table": "medical_claims", "present": true, "rows": -5, "latest": "0000-01-01", "households_share": 1e308, "rejected": 9223372036854775807}]}`,
		`{"as_of": "2025-12-31", "missing_tables": ["<script>", ""], "validation": {"as_of": 5, "rules_precision_at": {"0.01": 1e308}}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var s Summary
		if json.Unmarshal(b, &s) != nil {
			return
		}
		facts := *base
		facts.Summary = &s
		asOf, _ := time.Parse(time.DateOnly, base.AsOf)
		facts.Coverage = coverageRows(&s, asOf)
		for _, l := range []lang{"zh", "en"} {
			var buf bytes.Buffer
			if err := render(&buf, &facts, l); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(buf.String(), "-9,223,372,036,854,775,808") {
				t.Fatalf("a figure wrapped around")
			}
			if strings.Contains(buf.String(), "<script>") {
				t.Fatalf("text from summary.json reached the page unescaped")
			}
		}
	})
}

// commas writes n with a comma every three digits (the test's own
// formatting, independent of the brief's).
func commas(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
