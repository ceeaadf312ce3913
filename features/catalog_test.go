package features

import (
	"bytes"
	"context"
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/povrisk/povrisk/engine"
	"github.com/povrisk/povrisk/features/rules"
)

// TestCatalogMatchesOutput: the headers of the SQL files (Catalog) name
// exactly the output columns, in order, with their declared types.
func TestCatalogMatchesOutput(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	w := ingestDrop(t, ctx, db, filepath.Join("testdata/cases/schooling_status_assets/drop"))
	tab, err := Compute(ctx, db, w, time.Date(2025, 6, 30, 0, 0, 0, 0, time.UTC), rules.SamplePolicy())
	if err != nil {
		t.Fatal(err)
	}
	defer tab.Release()
	cat := Catalog()
	fields := tab.Schema().Fields()
	if len(fields) != len(cat) {
		t.Fatalf("output has %d columns, catalog %d", len(fields), len(cat))
	}
	want := map[string]arrow.Type{"VARCHAR": arrow.STRING, "DATE": arrow.DATE32, "INTEGER": arrow.INT32, "DOUBLE": arrow.FLOAT64, "BOOLEAN": arrow.BOOL}
	for i, c := range cat {
		f := fields[i]
		if f.Name != c.Name {
			t.Errorf("column %d: output %s, catalog %s", i, f.Name, c.Name)
			continue
		}
		if f.Type.ID() != want[c.Type] {
			t.Errorf("column %s: output type %s, catalog %s", c.Name, f.Type, c.Type)
		}
		if c.Meaning == "" || c.Unit == "" || len(c.Sources) == 0 && c.Family != "key" {
			t.Errorf("column %s: meaning, unit or sources missing in the header", c.Name)
		}
	}
	seen := map[string]bool{}
	for _, c := range cat {
		if seen[c.Name] {
			t.Errorf("column %s appears twice", c.Name)
		}
		seen[c.Name] = true
	}
	for _, name := range []string{"net_income_pc_12m", "oop_medical_12m", "rule_income_below_line", "rule_medical_burden", "rule_job_loss", "rule_no_labor"} {
		if !seen[name] {
			t.Errorf("required column %s missing", name)
		}
	}
}

func TestParseHeaderErrors(t *testing.T) {
	tests := []struct{ name, text, want string }{
		{"few fields", "-- column: a | DOUBLE | yuan | model | t\nSELECT 1", "want 6 '|'-separated fields, got 5"},
		{"bad flag", "-- column: a | DOUBLE | yuan | maybe | t | m\nSELECT 1", `field 4 is "maybe"`},
		{"bad type", "-- column: a | FLOAT | yuan | model | t | m\nSELECT 1", `type "FLOAT" not supported`},
		{"text model", "-- column: a | VARCHAR | code | model | t | m\nSELECT 1", "model column a must be numeric"},
		{"no columns", "SELECT 1", "no column lines"},
		{"bad flag suffix", "-- column: a | DOUBLE | yuan | model+x | t | m\nSELECT 1", `flag "x" unknown`},
		{"no label", "-- column: a | DOUBLE | yuan | model | t | m\n--   risk: illness\n--   reason: 费%s | fee %s\n", "column a: no label"},
		{"no risk", "-- column: a | DOUBLE | yuan | model | t | m\n--   label: 费 | fee\n--   reason: 费%s | fee %s\n", "needs a risk type"},
		{"no reason", "-- column: a | DOUBLE | yuan | model | t | m\n--   label: 费 | fee\n--   risk: illness\n", "needs a reason"},
		{"unofficial risk", "-- column: a | DOUBLE | yuan | model | t | m\n--   label: 费 | fee\n--   risk: bad_luck\n--   reason: 费%s | fee %s\n", `risk type "bad_luck" is not an official one`},
		{"reason without %s", "-- column: a | DOUBLE | yuan | model | t | m\n--   label: 费 | fee\n--   risk: illness\n--   reason: 费 | fee %s\n", "want exactly one %s"},
		{"flag without reason_not", "-- column: a | BOOLEAN | flag | model | t | m\n--   label: 费 | fee\n--   risk: illness\n--   reason: 有费 | fee\n", "reason_not is given for flags"},
		{"health with a reason", "-- column: a | INTEGER | persons | model+health | t | m\n--   label: 病 | ill\n--   risk: illness\n--   reason: 病%s | ill %s\n", "health data is never a reason"},
		{"unknown profile", "-- column: a | INTEGER | persons | info | t | m\n--   label: 人 | persons\n--   profile: nobody\n", `profile "nobody" is not in the profile table`},
		{"unknown key", "-- column: a | INTEGER | persons | info | t | m\n--   label: 人 | persons\n--   lable: 人 | persons\n", `unknown metadata "lable"`},
		{"one language", "-- column: a | INTEGER | persons | info | t | m\n--   label: 人\n", `want "zh | en"`},
		{"label twice", "-- column: a | INTEGER | persons | info | t | m\n--   label: 人 | persons\n--   label: 人 | persons\n", "label of a given twice"},
		{"meta before column", "--   label: 人 | persons\n-- column: a | INTEGER | persons | info | t | m\n", "label before any column line"},
		{"double without rounding rule", "-- column: a | DOUBLE | persons | info | t | m\n--   label: 人 | persons\n", `no rounding rule for a DOUBLE of unit "persons"`},
	}
	for _, tt := range tests {
		if _, err := parseHeader("x", tt.text); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err %v, want %q", tt.name, err, tt.want)
		}
	}
	cols, err := parseHeader("x", "-- column: a | DOUBLE | yuan | model | t ?u | the a\n--   label: 费 | fee\n--   risk: illness\n--   reason: 费%s | fee %s\n--   a comment: not metadata\n")
	if err != nil || len(cols) != 1 || cols[0].Name != "a" || !cols[0].Model || len(cols[0].Sources) != 2 || len(cols[0].required) != 1 || cols[0].required[0] != "t" ||
		cols[0].Label != (Text{"费", "fee"}) || cols[0].RiskType != "illness" || cols[0].Reason != (Text{"费%s", "fee %s"}) || cols[0].Digits != 2 {
		t.Errorf("parseHeader = %+v, %v", cols, err)
	}
}

func TestModelColumnsAndHash(t *testing.T) {
	mc := ModelColumns()
	for _, name := range mc {
		for _, c := range Catalog() {
			if c.Name == name && (c.Type == "VARCHAR" || c.Type == "DATE") {
				t.Errorf("model column %s is %s", name, c.Type)
			}
		}
	}
	for _, evidence := range []string{"asset_vehicle_count", "monitored_at_as_of", "household_id", "rule_medical_burden"} {
		for _, name := range mc {
			if name == evidence {
				t.Errorf("%s must not be a model column", evidence)
			}
		}
	}
	for _, c := range Catalog() {
		if c.Health != (c.Name == "chronic_members" || c.Name == "major_disease_members") {
			t.Errorf("%s: Health = %v", c.Name, c.Health)
		}
	}
	if h := CatalogHash(); len(h) != 64 || h != CatalogHash() {
		t.Errorf("CatalogHash %q not a stable sha256", h)
	}
}

// TestNumericAndLabels checks Numeric against the hand-computed values of
// the schooling_status_assets case, and Labels for a 6-month horizon:
// H4 identified 2025-08-01 (positive, illness), H3 monitored on D (excluded),
// H1 and H2 negative.
func TestNumericAndLabels(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	w := ingestDrop(t, ctx, db, "testdata/cases/schooling_status_assets/drop")
	asOf := time.Date(2025, 6, 30, 0, 0, 0, 0, time.UTC)
	tab, err := Compute(ctx, db, w, asOf, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tab.Release()
	vals, ids, err := Numeric(tab, []string{"edu_fees_net_12m", "escaped_household", "years_since_escape"})
	if err != nil {
		t.Fatal(err)
	}
	nan := math.NaN()
	want := [][]float64{{5800, 0, 0, 0, 0}, {1, 1, 0, 0, 0}, {5, 6, nan, nan, nan}}
	if len(ids) != 5 || ids[0] != "H1" || ids[4] != "H5" {
		t.Fatalf("ids %v", ids)
	}
	for j := range want {
		for i := range want[j] {
			g, w := vals[j][i], want[j][i]
			if !(g == w || math.IsNaN(g) && math.IsNaN(w)) {
				t.Errorf("matrix[%d][%d] = %v, want %v", i, j, g, w)
			}
		}
	}
	if _, _, err := Numeric(tab, []string{"status_on_as_of"}); err == nil {
		t.Error("Numeric accepted a string column")
	}
	labels, err := Labels(ctx, db, w, asOf, 6)
	if err != nil {
		t.Fatal(err)
	}
	wantL := map[string]Label{
		"H1": {}, "H2": {},
		"H3": {MonitoredAtAsOf: true},
		"H4": {Positive: true, RiskType: "illness"},
		"H5": {MonitoredAtAsOf: true}, // snapshot status, no event record
	}
	if len(labels) != len(wantL) {
		t.Errorf("labels %v", labels)
	}
	for id, l := range wantL {
		if labels[id] != l {
			t.Errorf("label %s = %+v, want %+v", id, labels[id], l)
		}
	}
	// horizon 1 month: H4 (2025-08-01) is outside (2025-06-30, 2025-07-31]
	labels, err = Labels(ctx, db, w, asOf, 1)
	if err != nil {
		t.Fatal(err)
	}
	if labels["H4"].Positive {
		t.Error("H4 positive with a 1-month horizon")
	}
	if err := materialize(ctx, db, tab, "feat"); err != nil {
		t.Fatal(err)
	}
	var n int
	var s float64
	if err := db.QueryRow("SELECT count(*), sum(edu_fees_net_12m) FROM feat").Scan(&n, &s); err != nil {
		t.Fatal(err)
	}
	if n != 5 || s != 5800 {
		t.Errorf("materialized: %d rows, sum %v; want 5, 5800", n, s)
	}
}

func TestAddMonths(t *testing.T) {
	d := func(s string) time.Time { x, _ := time.Parse("2006-01-02", s); return x }
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"2025-06-30", 6, "2025-12-31"},
		{"2025-08-31", 1, "2025-09-30"},
		{"2025-01-31", 1, "2025-02-28"},
		{"2025-06-15", 6, "2025-12-15"},
		{"2024-02-29", 12, "2025-02-28"},
		{"2025-11-30", 3, "2026-02-28"},
	}
	for _, tt := range tests {
		if got := addMonths(d(tt.in), tt.n).Format("2006-01-02"); got != tt.want {
			t.Errorf("addMonths(%s, %d) = %s, want %s", tt.in, tt.n, got, tt.want)
		}
	}
}

// TestWriteRoundTrip: the Parquet file, read back by DuckDB, and the CSV
// file hold the same rows; two computations give byte-identical files.
func TestWriteRoundTrip(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	w := ingestDrop(t, ctx, db, "testdata/cases/schooling_status_assets/drop")
	asOf := time.Date(2025, 6, 30, 0, 0, 0, 0, time.UTC)
	dir := t.TempDir()
	var files [2][2][]byte
	for run := 0; run < 2; run++ {
		tab, err := Compute(ctx, db, w, asOf, nil)
		if err != nil {
			t.Fatal(err)
		}
		pq, cs := filepath.Join(dir, "f.parquet"), filepath.Join(dir, "f.csv")
		if err := WriteParquet(tab, pq); err != nil {
			t.Fatal(err)
		}
		if err := WriteCSV(tab, cs); err != nil {
			t.Fatal(err)
		}
		tab.Release()
		files[run][0], files[run][1] = readTestFile(t, pq), readTestFile(t, cs)
		if run == 0 {
			var n int
			var ids string
			var facts string
			q := "SELECT count(*), string_agg(household_id, ',' ORDER BY household_id), max(rule_facts_en) FROM read_parquet(" + engine.QuoteString(pq) + ")"
			if err := db.QueryRow(q).Scan(&n, &ids, &facts); err != nil {
				t.Fatal(err)
			}
			if n != 5 || ids != "H1,H2,H3,H4,H5" || !strings.Contains(facts, "above 30% of the net income of 10,000 yuan") {
				t.Errorf("parquet read back: %d rows %q facts %q", n, ids, facts)
			}
		}
	}
	if !bytes.Equal(files[0][0], files[1][0]) || !bytes.Equal(files[0][1], files[1][1]) {
		t.Error("two computations gave different files")
	}
	if !strings.HasPrefix(string(files[0][1]), "household_id,region_code,as_of,household_size,") {
		t.Errorf("csv header: %.80s", files[0][1])
	}
}

// TestNoPersonalData: an ID number and diagnoses present in the drop never
// reach the feature table.
func TestNoPersonalData(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	w := ingestDrop(t, ctx, db, "testdata/cases/rules_policy/drop")
	pol, err := rules.LoadPolicy("testdata/cases/rules_policy/policy.toml")
	if err != nil {
		t.Fatal(err)
	}
	b := computeCSV(t, ctx, db, w, time.Date(2025, 6, 30, 0, 0, 0, 0, time.UTC), pol)
	for _, secret := range []string{"110101198001010010", "C50"} {
		if strings.Contains(b, secret) {
			t.Errorf("%q appears in the feature table", secret)
		}
	}
	if !strings.Contains(b, "20,001") {
		t.Error("the medical fact with its figure is missing (the test would pass vacuously)")
	}
}

// TestViewsTakeNoParameters pins the reason for the quoted literal (doc.go): DuckDB
// refuses a bound parameter in a view definition. If a DuckDB upgrade makes
// this pass, bind the warehouse paths instead.
func TestViewsTakeNoParameters(t *testing.T) {
	db := openDB(t)
	path := filepath.Join(t.TempDir(), "it's.parquet")
	if _, err := db.Exec("COPY (SELECT 1 AS x) TO " + engine.QuoteString(path) + " (FORMAT parquet)"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("CREATE VIEW v1 AS SELECT * FROM read_parquet(?)", path); err == nil {
		t.Error("DuckDB accepted a parameter in CREATE VIEW: bind paths instead of quoting them")
	}
	var x int
	if _, err := db.Exec("CREATE VIEW v2 AS SELECT * FROM read_parquet(" + engine.QuoteString(path) + ")"); err != nil {
		t.Fatalf("quoted path: %v", err)
	}
	if err := db.QueryRow("SELECT x FROM v2").Scan(&x); err != nil || x != 1 {
		t.Errorf("view over a quoted path: %d, %v", x, err)
	}
	if got, want := engine.QuoteString("/w/it's.parquet"), "'/w/it''s.parquet'"; got != want {
		t.Errorf("engine.QuoteString = %s, want %s", got, want)
	}
}

func TestComputeCancelled(t *testing.T) {
	db := openDB(t)
	w := ingestDrop(t, context.Background(), db, "testdata/cases/medical/drop")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Compute(ctx, db, w, time.Date(2025, 6, 30, 0, 0, 0, 0, time.UTC), nil)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err %v, want context.Canceled", err)
	}
}
