package run

import (
	"archive/zip"
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"github.com/povrisk/povrisk/datasets"
	"github.com/povrisk/povrisk/engine"
	"github.com/povrisk/povrisk/engine/audit"
	"github.com/povrisk/povrisk/engine/ingest"
	"github.com/povrisk/povrisk/engine/rundir"
	"github.com/povrisk/povrisk/engine/train"
	"github.com/povrisk/povrisk/engine/warehouse"
	"github.com/povrisk/povrisk/features"
	"github.com/povrisk/povrisk/models/forest"
)

// The end-to-end fixture: a generated drop of e2eHouseholds households,
// ingested, a small model trained on it, and two nights run (the previous
// month-end, then the data end) into one runs directory.
const e2eHouseholds = 3000

type e2eFixture struct {
	dir, drop, wh, models, key, policy, runs string
	asOf, prevAsOf                           time.Time
	res, prevRes                             *Result
	topK                                     map[string]TopK
}

var (
	fixOnce sync.Once
	fix     *e2eFixture
	fixErr  error
	fixRoot string
)

// keyDir holds the audit key made by TestMain.
var keyDir string

func TestMain(m *testing.M) {
	// The audit key of every run of these tests (and of their child
	// processes), outside the runs directories.
	if os.Getenv(audit.KeyEnv) == "" {
		dir, err := os.MkdirTemp("", "povrisk-run-audit-key-")
		if err != nil {
			panic(err)
		}
		keyDir = dir
		path := filepath.Join(dir, "audit.key")
		if err := audit.NewKeyFile(path); err != nil {
			panic(err)
		}
		os.Setenv(audit.KeyEnv, path)
	}
	code := m.Run()
	if keyDir != "" {
		os.RemoveAll(keyDir)
	}
	if fixRoot != "" {
		os.RemoveAll(fixRoot)
	}
	os.Exit(code)
}

func policyPath() string {
	p, _ := filepath.Abs("../../features/rules/policy.sample.toml")
	return p
}

func setupE2E(t *testing.T) *e2eFixture {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end: generates, ingests, trains (about 30 s); skipped with -short")
	}
	fixOnce.Do(func() { fix, fixErr = buildFixture() })
	if fixErr != nil {
		t.Fatal(fixErr)
	}
	return fix
}

func buildFixture() (*e2eFixture, error) {
	ctx := context.Background()
	root, err := os.MkdirTemp("", "povrisk-run-e2e-")
	if err != nil {
		return nil, err
	}
	fixRoot = root
	f := &e2eFixture{dir: root, drop: filepath.Join(root, "drop"), wh: filepath.Join(root, "warehouse"),
		models: filepath.Join(root, "models"), key: filepath.Join(root, "key"), policy: policyPath(), runs: filepath.Join(root, "runs")}
	if _, err := datasets.Generate(ctx, datasets.GenerateOptions{Households: e2eHouseholds, Months: 24, Seed: 1, Out: f.drop}); err != nil {
		return nil, fmt.Errorf("generate: %w", err)
	}
	if err := os.WriteFile(f.key, []byte("e2e-test-key-0123456789abcdef"), 0o600); err != nil {
		return nil, err
	}
	db, err := engine.OpenDB("")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	key, err := ingest.LoadKey(f.key)
	if err != nil {
		return nil, err
	}
	if _, err := ingest.Run(ctx, db, ingest.Options{Drop: f.drop, Warehouse: f.wh, Key: key}); err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	fo := forest.DefaultOptions()
	fo.Trees, fo.Seed = 30, 1
	if _, err := train.Train(ctx, db, train.Options{Warehouse: f.wh, Models: f.models, Snapshots: 3, Forest: fo, Seed: 1, ProfileK: 4}); err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	w, err := openWarehouse(f.wh)
	if err != nil {
		return nil, err
	}
	if f.asOf, err = features.DataEnd(ctx, db, w); err != nil {
		return nil, err
	}
	f.prevAsOf = time.Date(f.asOf.Year(), f.asOf.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, -1)
	f.topK = map[string]TopK{"520123": {K: 7}}
	opts := f.options(f.runs)
	opts.AsOf = f.prevAsOf
	if f.prevRes, err = Run(ctx, db, opts); err != nil {
		return nil, fmt.Errorf("run %s: %w", f.prevAsOf.Format("2006-01-02"), err)
	}
	opts.AsOf = f.asOf
	if f.res, err = Run(ctx, db, opts); err != nil {
		return nil, fmt.Errorf("run %s: %w", f.asOf.Format("2006-01-02"), err)
	}
	return f, nil
}

func (f *e2eFixture) options(runs string) Options {
	return Options{Warehouse: f.wh, Runs: runs, Models: f.models, PolicyPath: f.policy, TopK: f.topK, Command: "povrisk run (test)", User: "tester",
		Now: func() time.Time { return time.Date(2026, 1, 1, 2, 0, 0, 0, time.UTC) }}
}

func (f *e2eFixture) runDir() string { return filepath.Join(f.runs, f.asOf.Format("2006-01-02")) }

// readCSV reads a drop or run CSV (BOM stripped) as a header index and records.
func readCSV(t *testing.T, path string) (map[string]int, [][]string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(b, []byte("\ufeff")))).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	h := map[string]int{}
	for i, n := range recs[0] {
		h[n] = i
	}
	return h, recs[1:]
}

// eligibleFromDrop computes, from the drop's own CSV files, the households
// that must be ranked on asOf: registered on or before asOf and not a
// monitoring object then (an identification on or before asOf not
// eliminated on or before asOf; or status monitored with no event at all).
func eligibleFromDrop(t *testing.T, drop string, asOf time.Time) map[string]string {
	t.Helper()
	day := asOf.Format("2006-01-02")
	hh, hrecs := readCSV(t, filepath.Join(drop, "households.csv"))
	eh, erecs := readCSV(t, filepath.Join(drop, "monitoring_events.csv"))
	// The snapshot status counts only for households without any event
	// record (features/doc.go): households hold the status at export.
	hasEvent, open := map[string]bool{}, map[string]bool{}
	for _, r := range erecs {
		id := r[eh["household_id"]]
		hasEvent[id] = true
		if r[eh["identified_date"]] > day {
			continue
		}
		if el := r[eh["eliminated_date"]]; el == "" || el > day {
			open[id] = true
		}
	}
	out := map[string]string{}
	for _, r := range hrecs {
		id := r[hh["household_id"]]
		if r[hh["registered_date"]] > day || open[id] || (r[hh["poverty_status"]] == "monitored" && !hasEvent[id]) {
			continue
		}
		out[id] = r[hh["region_code"]]
	}
	return out
}

func TestRankedCoversEligibleOnce(t *testing.T) {
	f := setupE2E(t)
	for _, asOf := range []time.Time{f.prevAsOf, f.asOf} {
		day := asOf.Format("2006-01-02")
		t.Run(day, func(t *testing.T) {
			want := eligibleFromDrop(t, f.drop, asOf)
			h, recs := readCSV(t, filepath.Join(f.runs, day, "ranked.csv"))
			seen := map[string]bool{}
			countyN := map[string]int{}
			for _, r := range recs {
				countyN[r[h["county_code"]]]++
			}
			prevScore, prevID := math.Inf(1), ""
			rc, rt := map[string]int{}, map[string]int{}
			for i, r := range recs {
				id := r[h["household_id"]]
				if seen[id] {
					t.Fatalf("household %s ranked twice", id)
				}
				seen[id] = true
				if region, ok := want[id]; !ok {
					t.Errorf("household %s ranked but not eligible", id)
				} else if r[h["region_code"]] != region || r[h["county_code"]] != region[:6] || r[h["township_code"]] != region[:9] {
					t.Errorf("household %s: region %s/%s/%s, want %s", id, r[h["region_code"]], r[h["county_code"]], r[h["township_code"]], region)
				}
				score, _ := strconv.ParseFloat(r[h["score"]], 64)
				if score > prevScore || (score == prevScore && id < prevID) {
					t.Fatalf("rank %d (%s, %v) out of order after %s (%v)", i+1, id, score, prevID, prevScore)
				}
				prevScore, prevID = score, id
				c, tw := r[h["county_code"]], r[h["township_code"]]
				rc[c]++
				rt[tw]++
				wantRank := []string{strconv.Itoa(i + 1), strconv.Itoa(rc[c]), strconv.Itoa(rt[tw])}
				gotRank := []string{r[h["rank"]], r[h["rank_county"]], r[h["rank_township"]]}
				if strings.Join(gotRank, ",") != strings.Join(wantRank, ",") {
					t.Fatalf("%s: ranks %v, want %v", id, gotRank, wantRank)
				}
				// Tier by the documented cut-offs.
				tier := "low"
				if score >= 0.2 {
					tier = "high"
				} else if score >= 0.1 {
					tier = "medium"
				}
				if r[h["tier"]] != tier {
					t.Errorf("%s: tier %s, want %s", id, r[h["tier"]], tier)
				}
				// Health conditions (disease registers) never appear as a reason.
				for _, word := range []string{"慢病", "大病", "chronic", "major-disease", "major disease"} {
					if strings.Contains(r[h["reasons"]], word) || strings.Contains(r[h["reasons_en"]], word) {
						t.Errorf("%s: reasons name a health condition (%q): %q / %q", id, word, r[h["reasons"]], r[h["reasons_en"]])
					}
				}
				if r[h["reasons"]] == "" || r[h["measures"]] == "" || r[h["primary_risk_type"]] == "" {
					t.Errorf("%s: empty reasons %q, measures %q or primary risk type %q", id, r[h["reasons"]], r[h["measures"]], r[h["primary_risk_type"]])
				}
			}
			for id := range want {
				if !seen[id] {
					t.Errorf("eligible household %s not ranked", id)
				}
			}
			if len(recs) != len(want) {
				t.Errorf("%d ranked, %d eligible", len(recs), len(want))
			}
		})
	}
}

// TestWorklistsHoldTopK checks every county work list against ranked.csv:
// the county's top k (k = 7 for 520123 from the per-county setting, else
// ceil(5% of its eligible households)), one sheet per township, the same
// values as ranked.csv.
func TestWorklistsHoldTopK(t *testing.T) {
	f := setupE2E(t)
	h, recs := readCSV(t, filepath.Join(f.runDir(), "ranked.csv"))
	byCounty := map[string][][]string{}
	for _, r := range recs {
		byCounty[r[h["county_code"]]] = append(byCounty[r[h["county_code"]]], r)
	}
	files, _ := filepath.Glob(filepath.Join(f.runDir(), "worklists", "*.xlsx"))
	if len(files) != len(byCounty) {
		t.Fatalf("%d work lists for %d counties", len(files), len(byCounty))
	}
	tierZh := map[string]string{"high": "高", "medium": "中", "low": "低"}
	// Counties with monitored households get the elimination sheet.
	monitoredIn := map[string]bool{}
	eh, elim := readCSV(t, filepath.Join(f.runDir(), "elimination.csv"))
	for _, r := range elim {
		monitoredIn[r[eh["county_code"]]] = true
	}
	if len(monitoredIn) == 0 {
		t.Fatal("elimination.csv assesses no household: the fixture has monitored households")
	}
	for county, rows := range byCounty {
		k := int(math.Ceil(0.05 * float64(len(rows))))
		if county == "520123" {
			k = 7
		}
		// Expected sheets: the first k rows of the county by rank, by
		// township (named by the township's name, from the drop's regions
		// table, in the order of the codes), the same values as
		// ranked.csv, no score.
		want := map[string][]map[string]string{}
		sheetOf := map[string]string{}
		for _, r := range rows[:k] {
			village := r[h["village_name"]]
			if village == "" {
				village = r[h["region_code"]]
			}
			sheet := r[h["township_name"]]
			if sheet == "" {
				sheet = r[h["township_code"]]
			}
			sheetOf[r[h["township_code"]]] = sheet
			want[sheet] = append(want[sheet], map[string]string{colSeq: r[h["rank_county"]],
				colID: r[h["household_id"]], colVillage: village, colTier: tierZh[r[h["tier"]]], colReasons: r[h["reasons"]],
				colRisk: riskTypeZh(r[h["primary_risk_type"]]), colMeasures: strings.ReplaceAll(r[h["measures_zh"]], ";", "；"),
				colHint: r[h["conflicts"]], colOutcome: ""})
		}
		for _, r := range rows {
			rk, _ := strconv.Atoi(r[h["rank_county"]])
			if (r[h["in_top_k"]] == "true") != (rk <= k) {
				t.Errorf("%s: in_top_k %s with county rank %d, k %d", r[h["household_id"]], r[h["in_top_k"]], rk, k)
			}
		}
		x, err := excelize.OpenFile(filepath.Join(f.runDir(), "worklists", county+".xlsx"))
		if err != nil {
			t.Fatal(err)
		}
		sheets := x.GetSheetList()
		wantSheets := []string{sheetSummary}
		for _, code := range slices.Sorted(maps.Keys(sheetOf)) {
			wantSheets = append(wantSheets, sheetOf[code])
		}
		if monitoredIn[county] {
			wantSheets = append(wantSheets, sheetElim)
		}
		wantSheets = append(wantSheets, sheetHelp, sheetMeta)
		if strings.Join(sheets, ",") != strings.Join(wantSheets, ",") {
			t.Errorf("county %s: sheets %v, want %v", county, sheets, wantSheets)
		}
		for _, s := range slices.Sorted(maps.Keys(want)) {
			header, got := readListSheet(t, x, s)
			if strings.Join(header, ",") != strings.Join(worklistHeader(), ",") || slices.Contains(header, "风险评分") {
				t.Errorf("%s/%s header %v", county, s, header)
			}
			if len(got) != len(want[s]) {
				t.Errorf("%s/%s: %d rows, want %d", county, s, len(got), len(want[s]))
				continue
			}
			for i, w := range want[s] {
				for col, v := range w {
					if got[i][col] != v {
						t.Errorf("%s/%s row %d %s = %q, want %q", county, s, i+1, col, got[i][col], v)
					}
				}
			}
		}
		x.Close()
	}
}

// personalData returns every id_number, name and phone of the drop.
func personalData(t *testing.T, drop string) (numbers map[string]bool, names map[string]bool) {
	t.Helper()
	h, recs := readCSV(t, filepath.Join(drop, "persons.csv"))
	numbers, names = map[string]bool{}, map[string]bool{}
	for _, r := range recs {
		for _, c := range []string{"id_number", "phone"} {
			if v := r[h[c]]; v != "" {
				numbers[v] = true
			}
		}
		if v := r[h["name"]]; v != "" {
			names[v] = true
		}
	}
	if len(numbers) < 1000 || len(names) < 100 {
		t.Fatalf("drop has %d id numbers and phones, %d names: the generator changed", len(numbers), len(names))
	}
	// A person's name that is also part of a place name (石云 and 石云镇)
	// is not looked for: place names are public and printed on purpose.
	if _, err := os.Stat(filepath.Join(drop, "regions.csv")); err == nil {
		rh, places := readCSV(t, filepath.Join(drop, "regions.csv"))
		for n := range names {
			for _, p := range places {
				if strings.Contains(p[rh["name"]], n) {
					delete(names, n)
					break
				}
			}
		}
		if len(names) < 100 {
			t.Fatalf("only %d names left once place names are set aside", len(names))
		}
	}
	return numbers, names
}

// findPersonal reports the personal values found in text: every run of
// digits (and X) is looked up among the numbers, every run of 2 to 4 Han
// characters among the names.
func findPersonal(text string, numbers, names map[string]bool) []string {
	var hits []string
	// Digit runs.
	for i := 0; i < len(text); {
		j := i
		for j < len(text) && (text[j] >= '0' && text[j] <= '9' || text[j] == 'X' || text[j] == 'x') {
			j++
		}
		if j > i {
			if numbers[text[i:j]] {
				hits = append(hits, text[i:j])
			}
			// Also 18- and 11-character windows inside longer runs, except
			// in the fraction of a number (a score's digits are not a phone).
			for _, n := range []int{11, 18} {
				if i > 0 && text[i-1] == '.' {
					break
				}
				for k := i; k+n <= j && j-i > n; k++ {
					if numbers[text[k:k+n]] {
						hits = append(hits, text[k:k+n])
					}
				}
			}
			i = j
			continue
		}
		i++
	}
	// Han substrings of 2-4 runes.
	runes := []rune(text)
	for i := range runes {
		for n := 2; n <= 4 && i+n <= len(runes); n++ {
			if s := string(runes[i : i+n]); names[s] {
				hits = append(hits, s)
			}
		}
	}
	return hits
}

// runText returns the text of every file of a run directory: text files as
// they are, Parquet files dumped through DuckDB, XLSX files entry by entry.
func runText(t *testing.T, db *sql.DB, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		switch {
		case strings.HasSuffix(path, ".parquet"):
			rows, err := db.Query("SELECT * FROM read_parquet(?)", path)
			if err != nil {
				return err
			}
			cols, err := rows.Columns()
			if err != nil {
				return err
			}
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			var b strings.Builder
			b.WriteString(strings.Join(cols, ",") + "\n")
			for rows.Next() {
				if err := rows.Scan(ptrs...); err != nil {
					return err
				}
				for _, v := range vals {
					fmt.Fprintf(&b, "%v,", v)
				}
				b.WriteByte('\n')
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return fmt.Errorf("read %s: %w", path, err)
			}
			out[rel] = b.String()
		case strings.HasSuffix(path, ".xlsx"):
			zr, err := zip.OpenReader(path)
			if err != nil {
				return err
			}
			for _, zf := range zr.File {
				rc, err := zf.Open()
				if err != nil {
					return err
				}
				b, err := io.ReadAll(rc)
				rc.Close()
				if err != nil {
					return err
				}
				out[rel+"!"+zf.Name] = string(b)
			}
			zr.Close()
		default:
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			if !utf8.Valid(b) {
				return fmt.Errorf("%s is not UTF-8 text", rel)
			}
			out[rel] = string(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestNoPersonalDataInRun(t *testing.T) {
	f := setupE2E(t)
	numbers, names := personalData(t, f.drop)
	db, err := engine.OpenDB("")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	texts := runText(t, db, f.runDir())
	if len(texts) < 8 {
		t.Fatalf("only %d files read", len(texts))
	}
	// The check can fail: a planted name, phone and id number are found.
	var sample string
	for n := range names {
		if sample == "" || n < sample {
			sample = n
		}
	}
	var num string
	for n := range numbers {
		if len(n) == 18 && (num == "" || n < num) {
			num = n
		}
	}
	if hits := findPersonal("原因："+sample+"，号码"+num+"。", numbers, names); len(hits) != 2 {
		t.Fatalf("planted personal data not found: %v", hits)
	}
	for _, file := range slices.Sorted(maps.Keys(texts)) {
		if hits := findPersonal(texts[file], numbers, names); len(hits) > 0 {
			t.Errorf("%s holds personal data: %d values, e.g. %q", file, len(hits), hits[0])
		}
	}
}

func TestRunFilesAndPerms(t *testing.T) {
	f := setupE2E(t)
	// checksums.sha256 lists every other file with its sha256, sorted.
	b, err := os.ReadFile(filepath.Join(f.runDir(), "checksums.sha256"))
	if err != nil {
		t.Fatal(err)
	}
	sums, err := rundir.Sums(f.runDir())
	if err != nil {
		t.Fatal(err)
	}
	delete(sums, "checksums.sha256")
	var want strings.Builder
	for _, k := range slices.Sorted(maps.Keys(sums)) {
		fmt.Fprintf(&want, "%s  %s\n", sums[k], k)
	}
	if string(b) != want.String() {
		t.Errorf("checksums.sha256:\n%s\nwant:\n%s", b, want.String())
	}
	for _, must := range []string{"ranked.parquet", "ranked.csv", "features.parquet", "contributions.parquet", "changes.csv", "summary.json"} {
		if _, ok := sums[must]; !ok {
			t.Errorf("run directory lacks %s", must)
		}
	}
	err = filepath.WalkDir(f.runs, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		st, err := d.Info()
		if err != nil {
			return err
		}
		want := os.FileMode(0o600)
		if d.IsDir() {
			want = 0o700
		}
		if st.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", path, st.Mode().Perm(), want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := audit.Verify(f.runs, testAuditKey(t))
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || len(rep.Lines) != 2 {
		t.Errorf("audit: %d records, problems %v", len(rep.Lines), rep.Problems)
	}
	// changes.csv against the previous run: entered = in the top k now and
	// not before, computed here from the two ranked.csv files.
	h0, prev := readCSV(t, filepath.Join(f.runs, f.prevAsOf.Format("2006-01-02"), "ranked.csv"))
	h1, cur := readCSV(t, filepath.Join(f.runDir(), "ranked.csv"))
	wasTop := map[string]bool{}
	for _, r := range prev {
		wasTop[r[h0["household_id"]]] = r[h0["in_top_k"]] == "true"
	}
	var wantEntered []string
	for _, r := range cur {
		if r[h1["in_top_k"]] == "true" && !wasTop[r[h1["household_id"]]] {
			wantEntered = append(wantEntered, r[h1["household_id"]])
		}
	}
	hc, ch := readCSV(t, filepath.Join(f.runDir(), "changes.csv"))
	var gotEntered []string
	rises := 0
	for _, r := range ch {
		switch r[hc["change"]] {
		case "entered":
			gotEntered = append(gotEntered, r[hc["household_id"]])
		case "rose":
			rises++
			if d, _ := strconv.ParseFloat(r[hc["delta"]], 64); d <= 0 {
				t.Errorf("rise with delta %v", d)
			}
		}
	}
	if strings.Join(gotEntered, ",") != strings.Join(wantEntered, ",") {
		t.Errorf("entered: got %d %v\nwant %d %v", len(gotEntered), gotEntered, len(wantEntered), wantEntered)
	}
	if rises != MaxRises {
		t.Errorf("%d rises listed, want %d", rises, MaxRises)
	}
}

func openWarehouse(dir string) (*warehouse.Warehouse, error) { return warehouse.Open(dir) }

// testAuditKey is the audit key TestMain set up.
func testAuditKey(t testing.TB) *audit.Key {
	k, err := audit.LoadKey("")
	if err != nil {
		t.Fatal(err)
	}
	return k
}
