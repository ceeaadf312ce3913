package rules

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/povrisk/povrisk/engine/fault"
)

// TestPolicyRefusesAbsurdSettings: each bad value is refused with the key
// and the value named, as a policy error.
func TestPolicyRefusesAbsurdSettings(t *testing.T) {
	line := func(v string) string { return "[[line]]\nprovince = \"53\"\nyear = 2025\nvalue = " + v + "\n" }
	tests := []struct{ name, toml, want string }{
		{"nan factor", "[thresholds]\nnear_line_factor = nan\n", "thresholds.near_line_factor = NaN"},
		{"inf share", "[thresholds]\nincome_drop_share = inf\n", "thresholds.income_drop_share = +Inf"},
		{"negative share", "[thresholds]\nmedical_share_general = -1.0\n", "thresholds.medical_share_general = -1: want a number in (0, 100]"},
		{"percent for share", "[thresholds]\nincome_drop_share = 30.0\n", "thresholds.income_drop_share = 30: want a number in (0, 1]"},
		{"factor below 1", "[thresholds]\nnear_line_factor = 0.5\n", "thresholds.near_line_factor = 0.5: want a number in [1, 10]"},
		{"absurd amount", "[thresholds]\nmedical_large_other = 1e300\n", "thresholds.medical_large_other = 1e+300"},
		{"negative months", "[thresholds]\njob_loss_min_run_months = -6\n", "thresholds.job_loss_min_run_months = -6"},
		{"severity 9", "[thresholds]\ndisaster_max_severity = 9\n", "thresholds.disaster_max_severity = 9: want a number in [1, 4]"},
		{"nan line", line("nan"), "line entry 1 (53/2025): value must be positive, got NaN"},
		{"inf line", line("inf"), "line entry 1 (53/2025): value = +Inf"},
		{"absurd line", line("9e18"), "line entry 1 (53/2025): value = 9e+18"},
		{"negative line", line("-8700.0"), "value must be positive, got -8700"},
		{"reject share above 1", "[health]\nmax_reject_share = 5.0\n", "health.max_reject_share = 5: want a share in (0, 1]"},
		{"reject share negative", "[health]\nmax_reject_share = -0.05\n", "health.max_reject_share = -0.05"},
		{"reject share nan", "[health]\nmax_reject_share = nan\n", "health.max_reject_share = NaN"},
		{"unknown health key", "[health]\nmax_rejected_share = 0.1\n", `unknown key "health.max_rejected_share"`},
		{"unknown section", "[fresh]\nx = 1\n", `unknown key "fresh"`},
		{"unknown table", "[freshness.cadence_months]\nincome = 1\n", `freshness.cadence_months."income": not a table`},
		{"zero cadence", "[freshness.cadence_months]\nincome_records = 0\n", "freshness.cadence_months.income_records = 0: want 1 to 120 months"},
		{"negative staleness", "[freshness]\nmax_stale_months = -1\n", "freshness.max_stale_months = -1"},
		{"wrong type", "[health]\nmax_reject_share = \"5%\"\n", "parse toml"},
	}
	for _, tt := range tests {
		_, err := ParsePolicy([]byte(tt.toml))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err %v, want %q", tt.name, err, tt.want)
			continue
		}
		if fault.Of(err) != fault.Policy {
			t.Errorf("%s: kind %v, want a policy error", tt.name, fault.Of(err))
		}
	}
}

// TestLoadPolicyNamesTheFile: the error names the file, the key and the
// value, and is a policy error; a missing file is one too.
func TestLoadPolicyNamesTheFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "policy.toml")
	if err := os.WriteFile(path, []byte("[thresholds]\neducation_share = -0.3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := LoadPolicy(path)
	want := "policy " + path + ": thresholds.education_share = -0.3: want a number in (0, 10]"
	if err == nil || err.Error() != want || fault.Of(err) != fault.Policy {
		t.Errorf("LoadPolicy = %v (kind %v), want %q, a policy error", err, fault.Of(err), want)
	}
	if _, err := LoadPolicy(filepath.Join(dir, "missing.toml")); err == nil || fault.Of(err) != fault.Policy || !strings.Contains(err.Error(), "missing.toml") {
		t.Errorf("missing file: %v (kind %v)", err, fault.Of(err))
	}
}

func TestHealthAndFreshnessSettings(t *testing.T) {
	p := SamplePolicy()
	if p.MaxRejectShare() != 0.05 || p.MaxStaleMonths() != 0 {
		t.Errorf("sample: max reject share %v, max stale %d; want 0.05, 0", p.MaxRejectShare(), p.MaxStaleMonths())
	}
	for table, want := range map[string]int{"income_records": 1, "monitoring_events": 3, "households": 0, "assets": 0} {
		if got := p.Cadence(table); got != want {
			t.Errorf("sample Cadence(%s) = %d, want %d", table, got, want)
		}
	}
	p, err := ParsePolicy([]byte("[health]\nmax_reject_share = 0.2\n[freshness]\nmax_stale_months = 6\n[freshness.cadence_months]\ndisasters = 12\nincome_records = 2\n"))
	if err != nil {
		t.Fatal(err)
	}
	if p.MaxRejectShare() != 0.2 || p.MaxStaleMonths() != 6 || p.Cadence("disasters") != 12 || p.Cadence("income_records") != 2 || p.Cadence("medical_claims") != 1 {
		t.Errorf("parsed: %v %d %d %d %d", p.MaxRejectShare(), p.MaxStaleMonths(), p.Cadence("disasters"), p.Cadence("income_records"), p.Cadence("medical_claims"))
	}
	if got := strings.Join(p.CadenceTables(), ","); got != "disasters,income_records,medical_claims,monitoring_events,social_insurance" {
		t.Errorf("CadenceTables() = %s", got)
	}
	// defaults: a file without the sections
	p, err = ParsePolicy([]byte(""))
	if err != nil || p.MaxRejectShare() != DefaultMaxRejectShare || p.Cadence("social_insurance") != 1 {
		t.Errorf("empty file: %v, %v", p, err)
	}
	// Validate catches a threshold set in code after loading
	p.Thresholds.EducationShare = math.NaN()
	if err := p.Validate(); err == nil || !strings.Contains(err.Error(), "thresholds.education_share = NaN") {
		t.Errorf("Validate after a NaN threshold: %v", err)
	}
}

// FuzzLoadPolicy: whatever the bytes, parsing returns an error or a
// policy that passes its own validation and can be used; it never panics.
func FuzzLoadPolicy(f *testing.F) {
	f.Add(samplePolicy)
	f.Add([]byte("[thresholds]\nnear_line_factor = nan\n"))
	f.Add([]byte("[[line]]\nprovince = \"53\"\nyear = 2025\nvalue = 1e308\n"))
	f.Add([]byte("[health]\nmax_reject_share = 1.0\n[freshness.cadence_months]\ndisasters = 12\n"))
	f.Add([]byte("[[line]\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParsePolicy(b)
		if err != nil {
			if fault.Of(err) != fault.Policy {
				t.Fatalf("error %v is not a policy error", err)
			}
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("parsed policy fails its own validation: %v", err)
		}
		if s := p.MaxRejectShare(); !(s > 0 && s <= 1) {
			t.Fatalf("max reject share %v", s)
		}
		for _, v := range append(append([]Value(nil), p.Lines...), p.Rurals...) {
			if !(v.Value > 0) || math.IsInf(v.Value, 0) {
				t.Fatalf("entry %+v", v)
			}
		}
		if _, err := p.Screen(busy(), asOf2025); err != nil && !strings.Contains(err.Error(), "no policy entry") {
			t.Fatalf("screen: %v", err)
		}
	})
}

// TestLoadPolicyWithoutEntries: an empty, cut-short or wrong policy file
// is refused when loaded, naming the file and the missing section, instead
// of failing the first household's rule screen without naming any file
// (issue 11 review).
func TestLoadPolicyWithoutEntries(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"empty.toml":   "",
		"cut.toml":     "[thresholds]\nnear_line_factor = 1.5\n",
		"norural.toml": "[[line]]\nprovince = \"national\"\nyear = 2021\nvalue = 6000.0\n",
	} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		want := "[[line]]"
		if name == "norural.toml" {
			want = "[[rural_income]]"
		}
		_, err := LoadPolicy(path)
		if fault.Of(err) != fault.Policy || err == nil || !strings.Contains(err.Error(), "policy "+path+": no "+want+" entry") {
			t.Errorf("%s: %v (kind %v), want a policy error naming the file and %s", name, err, fault.Of(err), want)
		}
	}
}

// TestEliminationSection: the sample file's [elimination] equals the
// defaults; a key left out takes its default; bad values are refused
// naming the key.
func TestEliminationSection(t *testing.T) {
	if got := SamplePolicy().Elimination; got != DefaultElimination() {
		t.Errorf("sample [elimination] %+v, want the defaults %+v", got, DefaultElimination())
	}
	lines := "[[line]]\nprovince = \"national\"\nyear = 2021\nvalue = 6000.0\n[[rural_income]]\nprovince = \"national\"\nyear = 2021\nvalue = 18931.0\n"
	p, err := ParsePolicy([]byte("[elimination]\nrelapse_defer = 0.5\nmin_months_since_identified = 3\n" + lines))
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultElimination()
	want.RelapseDefer, want.MinMonthsSinceIdentified = 0.5, 3
	if p.Elimination != want {
		t.Errorf("[elimination] %+v, want %+v", p.Elimination, want)
	}
	for _, bad := range []struct{ text, key string }{
		{"relapse_defer = 1.5", "elimination.relapse_defer"},
		{"relapse_defer = -0.1", "elimination.relapse_defer"},
		{"income_months = 13", "elimination.income_months"},
		{"rigid_income_share = nan", "elimination.rigid_income_share"},
		{"compulsory_age_min = 16\ncompulsory_age_max = 15", "compulsory_age_min"},
		{"relapse = 0.3", "relapse"},
	} {
		_, err := ParsePolicy([]byte("[elimination]\n" + bad.text + "\n" + lines))
		if err == nil || !strings.Contains(err.Error(), bad.key) {
			t.Errorf("%q: err %v, want one naming %s", bad.text, err, bad.key)
		}
	}
}
