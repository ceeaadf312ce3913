package ingest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/povrisk/povrisk/datasets"
	"github.com/povrisk/povrisk/engine/progress"
	"github.com/povrisk/povrisk/engine/warehouse"
)

func ingestT(t *testing.T, drop, wh string) *Report {
	t.Helper()
	return ingestShare(t, drop, wh, 0)
}

// ingestRows ingests a drop built to test row-level rejects: the
// whole-table health threshold is off (share 1), so that a small table
// with one bad row of three is not refused as a whole.
func ingestRows(t *testing.T, drop, wh string) *Report {
	t.Helper()
	return ingestShare(t, drop, wh, 1)
}

// ingestShare ingests with Options.MaxRejectShare = share.
func ingestShare(t *testing.T, drop, wh string, share float64) *Report {
	t.Helper()
	rep, err := Run(context.Background(), openDB(t), Options{Drop: drop, Warehouse: wh, Key: testKey, MaxRejectShare: share})
	if err != nil {
		t.Fatalf("ingest %s: %v", drop, err)
	}
	return rep
}

// copyDropWithout copies the files of drop into a new directory, except
// the named ones.
func copyDropWithout(t *testing.T, drop string, except ...string) string {
	t.Helper()
	dst := t.TempDir()
	ents, err := os.ReadDir(drop)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if e.IsDir() || slices.Contains(except, e.Name()) {
			continue
		}
		b, err := os.ReadFile(filepath.Join(drop, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func dumpTable(t *testing.T, wh, table string) string {
	t.Helper()
	w, err := warehouse.Open(wh)
	if err != nil {
		t.Fatal(err)
	}
	p, ok := w.TablePath(table)
	if !ok {
		t.Fatalf("no table %s", table)
	}
	return dumpParquet(t, p)
}

// TestEncodingTwins: the BOM and GB18030 twins of a UTF-8 drop (made by
// testdata/enc/mk.py) load to the same rows, with the encoding detected.
func TestEncodingTwins(t *testing.T) {
	want := map[string]string{}
	for _, enc := range []string{"utf8", "bom", "gb18030"} {
		t.Run(enc, func(t *testing.T) {
			wh := t.TempDir()
			rep := ingestT(t, filepath.Join("testdata", "enc", enc), wh)
			wantEnc := map[string]string{"utf8": "utf-8", "bom": "utf-8-bom", "gb18030": "gb18030"}[enc]
			for _, tr := range rep.Tables {
				if tr.Encoding != wantEnc || tr.Rejected != 0 || tr.Accepted != 3 {
					t.Errorf("%s: encoding %q accepted %d rejected %d; want %q, 3, 0", tr.Table, tr.Encoding, tr.Accepted, tr.Rejected, wantEnc)
				}
			}
			for _, tb := range []string{"households", "persons"} {
				got := dumpTable(t, wh, tb)
				if enc == "utf8" {
					want[tb] = got
				} else if got != want[tb] {
					t.Errorf("%s from %s:\n%s\nwant (from utf8):\n%s", tb, enc, got, want[tb])
				}
			}
		})
	}
	wantHH := "household_id,region_code,poverty_status,escape_year,monitor_type,registered_date,housing_safe,water_safe\n" +
		"H001,520123102201,escaped,2019,,2015-03-01,true,false\n" +
		"H002,520123102201,general,,,2016-07-15,false,true\n" +
		"H003,520123102202,monitored,2020,unstable,2010-01-01,true,true\n"
	if want["households"] != wantHH {
		t.Errorf("households from utf8:\n%s\nwant\n%s", want["households"], wantHH)
	}
	// Forcing the wrong encoding: the GB18030 booleans are not 是/否 in UTF-8.
	rep, err := Run(context.Background(), openDB(t), Options{Drop: filepath.Join("testdata", "enc", "gb18030"), ValidateOnly: true, Encoding: "utf-8"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Tables[0].Rejected != 3 {
		t.Errorf("households read as UTF-8: rejected %d, want 3", rep.Tables[0].Rejected)
	}
}

// TestLaterDropWins: a second drop replaces rows with the same key, keeps
// the others, resolves references against the previous version, and a
// re-ingest of the same drop changes nothing.
func TestLaterDropWins(t *testing.T) {
	wh := t.TempDir()
	r1 := ingestT(t, filepath.Join("testdata", "clean"), wh)
	r2 := ingestT(t, filepath.Join("testdata", "later"), wh)
	if r1.Version != "v000001" || r2.Version != "v000002" {
		t.Fatalf("versions %s, %s; want v000001, v000002", r1.Version, r2.Version)
	}
	want := map[string]string{
		"households": `household_id,region_code,poverty_status,escape_year,monitor_type,registered_date,housing_safe,water_safe
H001,520123102201,general,,,2015-03-01,true,false
H002,520123102201,monitored,2020,marginal,2016-07-15,true,true
H003,520123102202,general,,,2010-01-01,false,false
H004,520123103001,escaped,2018,,2014-12-31,,
H005,520123102203,general,,,2024-06-01,true,true
`,
		"persons": `person_id,household_id,id_number_hash,birth_date,sex,relation,labor_capacity,disability_grade,chronic_disease,major_disease,schooling,deceased_date
P001,H001,330beaacb7bfe31e37d6d305049704667cce320010f402624b00f0ec1ff13500,1980-01-01,M,head,lost,1,true,true,compulsory,
P002,H001,4dced4407a279b8718619166c55bd8c39bec9e0b41d27f4777900b2901314800,1982-03-03,F,spouse,weak,0,true,false,compulsory,
P003,H001,,2010-09-09,M,child,none,0,false,false,compulsory,
P004,H002,070732aeb9875cece2a2e4d5e02f6965dc84c0a85c102923fcf2e43e1d2ec4d6,1955-05-05,M,head,lost,2,true,true,none,
P005,H003,da078c30ea45fa3b62f87e4e30da1bec423a3daac5d397990b662c2a5cd9f23f,1990-01-01,F,head,full,0,false,false,high_school,
P006,H004,5e26b13c042b8b7dea6f4d97e32b1da0f2bed8730cb5c15626d9efe123f3579c,1940-02-02,M,head,none,1,true,true,none,2024-05-06
P007,H003,,2012-02-02,F,child,none,0,false,false,compulsory,
P008,H005,,1975-05-05,M,head,full,0,false,false,none,
`,
		"income_records": `household_id,period,wage_income,business_income,property_income,transfer_income,production_cost
H001,2024-01-01,999,0,0,0,0
H001,2024-02-01,1600,0,0,100,0
H002,2024-01-01,0,300.25,10,800,120.75
H003,2024-01-01,3000,0,0,0,0
H004,2024-01-01,0,0,0,1200,0
H005,2024-01-01,100,0,0,0,0
`,
		// keyless: the second drop speaks for July and August 2024, so
		// the first drop's July row for H001, which it no longer lists, is
		// gone (it was kept, stale, before months replaced months).
		"disasters": `event_id,region_code,household_id,start_date,kind,severity,loss_amount
D1,520123,,2024-07-01,flood,2,
D2,520123102,,2024-08-01,hail,3,
`,
		// not in the second drop: carried over as it was
		"monitoring_events": "household_id,identified_date,risk_type,eliminated_date\nH002,2023-06-01,illness,\n",
	}
	for tb, w := range want {
		if got := dumpTable(t, wh, tb); got != w {
			t.Errorf("%s:\n%s\nwant\n%s", tb, got, w)
		}
	}
	w, err := warehouse.Open(wh)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(w.Manifest().Drops, ","); got != r1.DropID+","+r2.DropID {
		t.Errorf("drops %s, want %s,%s", got, r1.DropID, r2.DropID)
	}
	// Re-ingest: same checksums, no new version.
	r3 := ingestT(t, filepath.Join("testdata", "later"), wh)
	if !r3.Unchanged || r3.Version != "v000002" {
		t.Errorf("re-ingest: unchanged %v version %s; want true, v000002", r3.Unchanged, r3.Version)
	}
	ents, _ := filepath.Glob(filepath.Join(wh, "v*"))
	if len(ents) != 2 {
		t.Errorf("versions kept: %v, want v000001 and v000002", ents)
	}
	// A third version prunes the first.
	ingestT(t, filepath.Join("testdata", "enc", "utf8"), wh)
	ents, _ = filepath.Glob(filepath.Join(wh, "v*"))
	if len(ents) != 2 || filepath.Base(ents[0]) != "v000002" || filepath.Base(ents[1]) != "v000003" {
		t.Errorf("versions kept: %v, want v000002 and v000003", ents)
	}
}

// TestParquetDrop: the clean drop converted to Parquet by DuckDB (with its
// own type detection) loads to the same rows as the CSV drop.
func TestParquetDrop(t *testing.T) {
	db := openDB(t)
	drop := t.TempDir()
	ents, _ := filepath.Glob(filepath.Join("testdata", "clean", "*.csv"))
	for _, e := range ents {
		out := filepath.Join(drop, strings.TrimSuffix(filepath.Base(e), ".csv")+".parquet")
		if _, err := db.Exec("COPY (SELECT * FROM read_csv(?, header=true)) TO '"+out+"' (FORMAT parquet)", e); err != nil {
			t.Fatal(err)
		}
	}
	wh := t.TempDir()
	rep := ingestT(t, drop, wh)
	for _, tr := range rep.Tables {
		if tr.Rejected != 0 {
			t.Errorf("%s: %d rejected", tr.Table, tr.Rejected)
		}
		want, err := os.ReadFile(filepath.Join("testdata", "clean.golden", tr.Table+".csv"))
		if err != nil {
			t.Fatal(err)
		}
		if got := dumpTable(t, wh, tr.Table); got != string(want) {
			t.Errorf("%s from parquet:\n%s\nwant\n%s", tr.Table, got, want)
		}
	}
}

// TestRequired: a drop without persons, or with persons lacking a required
// column, ingests nothing; ID numbers without a key are refused.
func TestRequired(t *testing.T) {
	mk := func(t *testing.T, files map[string]string) string {
		d := t.TempDir()
		for n, s := range files {
			if err := os.WriteFile(filepath.Join(d, n), []byte(s), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		return d
	}
	hh, err := os.ReadFile(filepath.Join("testdata", "clean", "households.csv"))
	if err != nil {
		t.Fatal(err)
	}
	pp, err := os.ReadFile(filepath.Join("testdata", "clean", "persons.csv"))
	if err != nil {
		t.Fatal(err)
	}
	noSex := strings.Replace(string(pp), ",sex,", ",gender,", 1)
	tests := []struct {
		name  string
		files map[string]string
		key   []byte
		want  error
		text  string
	}{
		{"no persons", map[string]string{"households.csv": string(hh)}, testKey, ErrRequiredTable, "persons.csv"},
		{"persons without sex", map[string]string{"households.csv": string(hh), "persons.csv": noSex}, testKey, ErrRequiredTable, "persons.csv: column sex: required column missing"},
		{"no key", map[string]string{"households.csv": string(hh), "persons.csv": string(pp)}, nil, ErrNoKey, "id_number"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wh := t.TempDir()
			_, err := Run(context.Background(), openDB(t), Options{Drop: mk(t, tc.files), Warehouse: wh, Key: tc.key})
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.text) {
				t.Fatalf("err = %v; want %v mentioning %q", err, tc.want, tc.text)
			}
			if _, err := warehouse.Open(wh); !errors.Is(err, warehouse.ErrNoVersion) {
				t.Errorf("warehouse after failed ingest: %v, want ErrNoVersion", err)
			}
		})
	}
}

func TestLoadKey(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good", "0123456789abcdef0123\n", 0o600)
	tests := []struct {
		name, path, envFile, envKey string
		want                        string // key, or error substring after "!"
	}{
		{"file 600", good, "", "", "0123456789abcdef0123"},
		{"file 644", write("open", "0123456789abcdef0123", 0o644), "", "", "!chmod 600 " + filepath.Join(dir, "open")},
		{"file 640", write("group", "0123456789abcdef0123", 0o640), "", "", "!chmod 600"},
		{"file 400", write("ro", "0123456789abcdef-ro", 0o400), "", "", "0123456789abcdef-ro"},
		{"short", write("short", "abc", 0o600), "", "", "!at least 16"},
		{"missing", filepath.Join(dir, "nope"), "", "", "!no such file"},
		{"env file", "", good, "", "0123456789abcdef0123"},
		{"env key", "", "", "key-from-env-0123456", "key-from-env-0123456"},
		{"flag wins over env", good, "", "other-key-from-env-000", "0123456789abcdef0123"},
		{"none", "", "", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("POVRISK_KEY_FILE", tc.envFile)
			t.Setenv("POVRISK_KEY", tc.envKey)
			k, err := LoadKey(tc.path)
			if strings.HasPrefix(tc.want, "!") {
				if err == nil || !strings.Contains(err.Error(), tc.want[1:]) {
					t.Fatalf("err = %v, want it to mention %q", err, tc.want[1:])
				}
				return
			}
			if err != nil || string(k) != tc.want {
				t.Fatalf("LoadKey = %q, %v; want %q", k, err, tc.want)
			}
		})
	}
}

// TestValidateOnly: validation without a key checks ID numbers, writes no
// warehouse, and sends reject rows (masked) to Options.Rejects.
func TestValidateOnly(t *testing.T) {
	var rej strings.Builder
	wh := filepath.Join(t.TempDir(), "w")
	rep, err := Run(context.Background(), openDB(t), Options{Drop: filepath.Join("testdata", "dirty"), Warehouse: wh, ValidateOnly: true, Rejects: &rej})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Tables[1].Table != "persons" || rep.Tables[1].Rejected != 8 || rep.Tables[1].Accepted != 3 {
		t.Errorf("persons: %+v, want 3 accepted, 8 rejected", rep.Tables[1])
	}
	if _, err := os.Stat(wh); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("validate created the warehouse: %v", err)
	}
	// Without a key there is no pseudonym: the ID number is a placeholder,
	// no digit of it is kept (it used to be 5201*********1123).
	want := "persons,persons.csv,4,id_number,\"wrong type: ID number has 17 characters, want 18 (or a 15-digit legacy number)\",\"P003,H001,[ID number],1980-01-01,M,child,full,0,false,false,compulsory,,***,***\"\n"
	if !strings.Contains(rej.String(), want) {
		t.Errorf("rejects lack %q:\n%s", want, rej.String())
	}
	if strings.Contains(rej.String(), "52012319800101123") || strings.Contains(rej.String(), "13800000003") {
		t.Errorf("rejects hold personal data in clear:\n%s", rej.String())
	}
}

// recorder is a progress.Reporter that keeps what it was told.
type recorder struct {
	mu     sync.Mutex
	added  map[string]int64
	done   map[string]int
	totals map[string]int64 // the last total given with SetTotal
}

func (r *recorder) Start(stage string, total int64) progress.Task {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.done[stage]; dup {
		panic("stage started twice: " + stage)
	}
	r.done[stage] = 0
	return &recTask{r, stage}
}

type recTask struct {
	r     *recorder
	stage string
}

func (t *recTask) Add(n int64) { t.r.mu.Lock(); t.r.added[t.stage] += n; t.r.mu.Unlock() }
func (t *recTask) Done()       { t.r.mu.Lock(); t.r.done[t.stage]++; t.r.mu.Unlock() }
func (t *recTask) SetTotal(n int64) {
	t.r.mu.Lock()
	if t.r.totals == nil {
		t.r.totals = map[string]int64{}
	}
	t.r.totals[t.stage] = n
	t.r.mu.Unlock()
}

// TestReporter: each table is a stage whose count is its rows read, ended
// once; the merge is a stage counting the standard's tables.
func TestReporter(t *testing.T) {
	rec := &recorder{added: map[string]int64{}, done: map[string]int{}}
	var lines strings.Builder
	rep, err := Run(context.Background(), openDB(t), Options{Drop: filepath.Join("testdata", "clean"), Warehouse: t.TempDir(), Key: testKey,
		Reporter: rec, Progress: &lines})
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range rep.Tables {
		if rec.added[tr.Table] != tr.Read || rec.done[tr.Table] != 1 {
			t.Errorf("%s: reported %d rows, done %d times; want %d, once", tr.Table, rec.added[tr.Table], rec.done[tr.Table], tr.Read)
		}
		// A small CSV file is read whole in its first batch: the estimate
		// of its rows from the bytes read is then exact (the bar's total,
		// for its time left).
		if tr.Read > 0 && rec.totals[tr.Table] != tr.Read {
			t.Errorf("%s: total estimated %d rows, want %d", tr.Table, rec.totals[tr.Table], tr.Read)
		}
		if want := fmt.Sprintf("%s: %d read, %d accepted, %d rejected\n", tr.Table, tr.Read, tr.Accepted, tr.Rejected); !strings.Contains(lines.String(), want) {
			t.Errorf("progress lines lack %q:\n%s", want, lines.String())
		}
	}
	if rec.added["merge"] != int64(len(datasets.Tables())) || rec.done["merge"] != 1 {
		t.Errorf("merge stage: %d of %d, done %d", rec.added["merge"], len(datasets.Tables()), rec.done["merge"])
	}
	if len(rec.done) != len(rep.Tables)+1 {
		t.Errorf("stages %v, want one per table and the merge", rec.done)
	}
}

// TestManifestHashedAsWritten: the rows, size and SHA-256 that the
// manifest records for tables hashed while they were written (first
// ingest: every table) and for merged ones (second ingest) equal those of
// the files read back (tableState, the reference), and the hashed ones
// are the ones the loader reported.
func TestManifestHashedAsWritten(t *testing.T) {
	wh := t.TempDir()
	r1 := ingestT(t, filepath.Join("testdata", "clean"), wh)
	hashed := 0
	for _, tr := range r1.Tables {
		if tr.stored != nil {
			hashed++
		}
	}
	check := func(n int) {
		w, err := warehouse.Open(wh)
		if err != nil {
			t.Fatal(err)
		}
		if len(w.Manifest().Tables) < n {
			t.Fatalf("%d tables in the manifest, want at least %d", len(w.Manifest().Tables), n)
		}
		for _, ts := range w.Manifest().Tables {
			want, err := tableState(filepath.Join(w.Dir(), ts.File))
			if err != nil {
				t.Fatal(err)
			}
			want.Name = ts.Name
			if ts != want {
				t.Errorf("manifest %+v, read back %+v", ts, want)
			}
		}
	}
	if hashed < 5 {
		t.Fatalf("%d tables hashed as written, want every loaded table", hashed)
	}
	check(hashed)
	ingestT(t, filepath.Join("testdata", "later"), wh)
	check(hashed)
}
