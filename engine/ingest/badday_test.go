package ingest

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/povrisk/povrisk/engine/fault"
	"github.com/povrisk/povrisk/engine/warehouse"
)

// writeDrop makes a drop directory: the clean test drop's files named in
// from, plus files (name -> content; "" content removes nothing).
func writeDrop(t *testing.T, from []string, files map[string]string) string {
	t.Helper()
	d := t.TempDir()
	for _, n := range from {
		b, err := os.ReadFile(filepath.Join("testdata", "clean", n))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, n), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for n, s := range files {
		if err := os.WriteFile(filepath.Join(d, n), []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

var cleanFiles = []string{"households.csv", "persons.csv", "income_records.csv", "social_insurance.csv", "medical_claims.csv", "disasters.csv", "monitoring_events.csv"}

// currentOf is the current version of the warehouse and its drops.
func currentOf(t *testing.T, wh string) (string, []string) {
	t.Helper()
	w, err := warehouse.Open(wh)
	if err != nil {
		t.Fatal(err)
	}
	return w.Version(), w.Manifest().Drops
}

// TestTableFailureCommitsNothing: a table that fails as a whole, optional
// or not, fails the ingest (bad input, naming it) with nothing committed
// and the drop not marked merged, so the rerun fails again instead of
// saying "already ingested".
func TestTableFailureCommitsNothing(t *testing.T) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte("person_id,registered_date,ended_date\nP001,2024-01-01,\n"))
	zw.Close()
	broken := gz.Bytes()[:gz.Len()-9] // the gzip trailer and some data cut off
	pp, _ := os.ReadFile(filepath.Join("testdata", "clean", "persons.csv"))
	cases := []struct {
		name, file, content, table, text string
	}{
		{"empty optional", "education.csv", "", "education", "empty file"},
		{"corrupt gzip", "unemployment.csv.gz", string(broken), "unemployment", "table unemployment not loaded"},
		{"missing column", "social_insurance.csv", "person_id,period,employer_id\nP001,2024-01,\n", "social_insurance", "column contribution_base: required column missing"},
		{"missing required column", "persons.csv", strings.Replace(string(pp), ",sex,", ",gender,", 1), "persons", "column sex: required column missing"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wh := t.TempDir()
			first := ingestT(t, filepath.Join("testdata", "clean"), wh)
			var from []string
			for _, f := range cleanFiles {
				if f != tc.file {
					from = append(from, f)
				}
			}
			drop := writeDrop(t, from, map[string]string{tc.file: tc.content})
			for run := 1; run <= 2; run++ {
				rep, err := Run(context.Background(), openDB(t), Options{Drop: drop, Warehouse: wh, Key: testKey})
				if fault.Of(err) != fault.BadInput || !strings.Contains(err.Error(), tc.text) || !strings.Contains(err.Error(), tc.table) {
					t.Fatalf("run %d: %v (kind %v), want bad input naming %s and %q", run, err, fault.Of(err), tc.table, tc.text)
				}
				if rep.Unchanged || rep.Version != "" {
					t.Fatalf("run %d: unchanged %v version %q, want neither", run, rep.Unchanged, rep.Version)
				}
				v, drops := currentOf(t, wh)
				if v != first.Version || len(drops) != 1 || drops[0] != first.DropID {
					t.Fatalf("run %d committed: current %s drops %v", run, v, drops)
				}
				for _, tr := range rep.Tables {
					if tr.Read != tr.Accepted+tr.Rejected {
						t.Errorf("%s: read %d != accepted %d + rejected %d", tr.Table, tr.Read, tr.Accepted, tr.Rejected)
					}
				}
			}
		})
	}
}

// households20 is a households file of 20 rows of which bad have an
// unknown poverty status, and a persons file with one person per household.
func households20(bad int) (hh, pp string) {
	var h, p strings.Builder
	h.WriteString("household_id,region_code,poverty_status,escape_year,monitor_type,registered_date,housing_safe,water_safe\n")
	p.WriteString("person_id,household_id,birth_date,sex,relation,labor_capacity,disability_grade,chronic_disease,major_disease,schooling,deceased_date\n")
	for i := 1; i <= 20; i++ {
		st := "general"
		if i <= bad {
			st = "rich"
		}
		fmt.Fprintf(&h, "H%03d,520123102201,%s,,,2015-03-01,true,true\n", i, st)
		fmt.Fprintf(&p, "P%03d,H%03d,1980-01-01,M,head,full,0,false,false,compulsory,\n", i, i)
	}
	return h.String(), p.String()
}

// TestRejectShare: a table rejecting more than MaxRejectShare of its rows,
// or a required table without rows, fails with the table, the share and
// the most common reason, and nothing is committed; the report keeps
// every count.
func TestRejectShare(t *testing.T) {
	hhHeader := "household_id,region_code,poverty_status,escape_year,monitor_type,registered_date,housing_safe,water_safe\n"
	pp, _ := os.ReadFile(filepath.Join("testdata", "clean", "persons.csv"))
	cases := []struct {
		name  string
		bad   int     // households rows rejected out of 20
		share float64 // Options.MaxRejectShare
		drop  func(t *testing.T) string
		want  string // error text; "" = ok
	}{
		{name: "5% of 20 is allowed", bad: 1, want: ""},
		{name: "10% of 20 is not", bad: 2, want: "table households rejected 2 of 20 rows (10.0%, more than 5.0%), most often poverty_status: unknown code (2 rows)"},
		{name: "10% allowed by the option", bad: 2, share: 0.1, want: ""},
		{name: "15% over the option", bad: 3, share: 0.1, want: "rejected 3 of 20 rows (15.0%, more than 10.0%)"},
		{name: "header-only households", drop: func(t *testing.T) string {
			return writeDrop(t, nil, map[string]string{"households.csv": hhHeader, "persons.csv": string(pp)})
		}, share: 1, want: "table households has no row"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var drop string
			if tc.drop != nil {
				drop = tc.drop(t)
			} else {
				hh, pp := households20(tc.bad)
				drop = writeDrop(t, nil, map[string]string{"households.csv": hh, "persons.csv": pp})
			}
			wh := t.TempDir()
			rep, err := Run(context.Background(), openDB(t), Options{Drop: drop, Warehouse: wh, Key: testKey, MaxRejectShare: tc.share})
			for _, tr := range rep.Tables {
				if tr.Read != tr.Accepted+tr.Rejected {
					t.Errorf("%s: read %d != accepted %d + rejected %d", tr.Table, tr.Read, tr.Accepted, tr.Rejected)
				}
			}
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if rep.Tables[0].Rejected != int64(tc.bad) {
					t.Errorf("households rejected %d, want %d", rep.Tables[0].Rejected, tc.bad)
				}
				return
			}
			if fault.Of(err) != fault.BadInput || !errors.Is(err, ErrUnhealthy) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v (kind %v), want bad input with %q", err, fault.Of(err), tc.want)
			}
			if _, err := warehouse.Open(wh); !errors.Is(err, warehouse.ErrNoVersion) {
				t.Errorf("a failed ingest committed: %v", err)
			}
		})
	}
	for _, s := range []float64{-0.1, 1.5, math.NaN()} {
		_, err := Run(context.Background(), openDB(t), Options{Drop: filepath.Join("testdata", "clean"), Warehouse: t.TempDir(), Key: testKey, MaxRejectShare: s})
		if fault.Of(err) != fault.Usage {
			t.Errorf("MaxRejectShare %v: %v (kind %v), want usage", s, err, fault.Of(err))
		}
	}
}

// TestWrongEncodingCascade: a GB18030 persons file read as UTF-8 rejects
// every person and, by cascade, their claims: the ingest fails naming the
// tables, nothing is committed, every count is kept.
func TestWrongEncodingCascade(t *testing.T) {
	hh, _ := os.ReadFile(filepath.Join("testdata", "enc", "utf8", "households.csv"))
	pp, _ := os.ReadFile(filepath.Join("testdata", "enc", "gb18030", "persons.csv"))
	claims := "claim_id,person_id,service_date,total_cost,insurance_paid,out_of_pocket,inpatient,diagnosis\n" +
		"C1,P001,2024-01-15,12000,9000,3000,true,I63.9\nC2,P002,2024-02-01,800,500,300,false,E11\n"
	drop := writeDrop(t, nil, map[string]string{"households.csv": string(hh), "persons.csv": string(pp), "medical_claims.csv": claims})
	wh := t.TempDir()
	rep, err := Run(context.Background(), openDB(t), Options{Drop: drop, Warehouse: wh, Key: testKey, Encoding: "utf-8"})
	if fault.Of(err) != fault.BadInput || !strings.Contains(err.Error(), "table persons rejected 3 of 3 rows (100.0%, more than 5.0%)") ||
		!strings.Contains(err.Error(), "table medical_claims rejected 2 of 2 rows (100.0%") {
		t.Fatalf("err = %v (kind %v), want bad input: persons and claims 100%% rejected", err, fault.Of(err))
	}
	if _, err := warehouse.Open(wh); !errors.Is(err, warehouse.ErrNoVersion) {
		t.Errorf("committed: %v", err)
	}
	want := map[string][3]int64{"households": {3, 3, 0}, "persons": {3, 0, 3}, "medical_claims": {2, 0, 2}}
	for _, tr := range rep.Tables {
		if got := [3]int64{tr.Read, tr.Accepted, tr.Rejected}; got != want[tr.Table] {
			t.Errorf("%s: read, accepted, rejected = %v, want %v", tr.Table, got, want[tr.Table])
		}
		if tr.Table == "medical_claims" && tr.TopReason != "person_id: reference points nowhere (2 rows)" {
			t.Errorf("claims' top reason %q", tr.TopReason)
		}
	}
}

// TestKeyFingerprint: the warehouse records HMAC(key, label), refuses a
// drop with another key, and a warehouse without a fingerprint takes the
// key of its next ingest.
func TestKeyFingerprint(t *testing.T) {
	wh := t.TempDir()
	first := ingestT(t, filepath.Join("testdata", "clean"), wh)
	m := hmac.New(sha256.New, testKey)
	m.Write([]byte("povrisk warehouse key fingerprint v1"))
	want := hex.EncodeToString(m.Sum(nil))
	w, err := warehouse.Open(wh)
	if err != nil {
		t.Fatal(err)
	}
	plain := sha256.Sum256(testKey)
	if got := w.Manifest().KeyFingerprint; got != want || got == hex.EncodeToString(plain[:]) {
		t.Fatalf("fingerprint %q, want HMAC of the label %q", got, want)
	}
	mb, _ := os.ReadFile(filepath.Join(w.Dir(), "manifest.json"))
	if bytes.Contains(mb, testKey) {
		t.Fatal("manifest holds the key")
	}
	other := []byte("another-key-of-the-same-size-000")
	later := filepath.Join("testdata", "later")
	_, err = Run(context.Background(), openDB(t), Options{Drop: later, Warehouse: wh, Key: other})
	if fault.Of(err) != fault.BadInput || !strings.Contains(err.Error(), "another pseudonymisation key") || !strings.Contains(err.Error(), "--key-file") {
		t.Fatalf("other key: %v (kind %v), want bad input saying so", err, fault.Of(err))
	}
	if v, _ := currentOf(t, wh); v != first.Version {
		t.Fatalf("other key committed %s", v)
	}
	// A warehouse made before fingerprints: remove it from the manifest.
	var raw map[string]any
	if err := json.Unmarshal(mb, &raw); err != nil {
		t.Fatal(err)
	}
	delete(raw, "key_fingerprint")
	nb, _ := json.MarshalIndent(raw, "", "  ")
	if err := os.WriteFile(filepath.Join(w.Dir(), "manifest.json"), nb, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), openDB(t), Options{Drop: later, Warehouse: wh, Key: other}); err != nil {
		t.Fatalf("old warehouse, new key: %v", err)
	}
	w, _ = warehouse.Open(wh)
	if w.Manifest().KeyFingerprint != warehouse.KeyFingerprint(other) || w.Manifest().KeyFingerprint == want {
		t.Fatalf("fingerprint after the next ingest %q, want the new key's", w.Manifest().KeyFingerprint)
	}
	_, err = Run(context.Background(), openDB(t), Options{Drop: filepath.Join("testdata", "enc", "utf8"), Warehouse: wh, Key: testKey})
	if fault.Of(err) != fault.BadInput {
		t.Fatalf("first key after takeover: %v, want refused", err)
	}
}

// TestKeylessCorrectedDrop: a later drop of a table without a key replaces
// the earlier drop's rows of the months it covers, keeps the other months,
// keeps identical rows of one drop, and never doubles rows.
func TestKeylessCorrectedDrop(t *testing.T) {
	head := "event_id,region_code,household_id,start_date,kind,severity,loss_amount\n"
	a := head + "D0,520123,,2024-06-10,drought,3,\n" +
		"D1,520123,,2024-07-01,flood,2,\n" +
		"D1,520123102201,H001,2024-07-01,flood,2,5000\n"
	b := head + "D1,520123102201,H001,2024-07-01,flood,2,6000\n" +
		"D3,520123102,,2024-07-20,hail,4,\n" +
		"D3,520123102,,2024-07-20,hail,4,\n"
	base := []string{"households.csv", "persons.csv"}
	wh := t.TempDir()
	ingestT(t, writeDrop(t, base, map[string]string{"disasters.csv": a}), wh)
	ingestT(t, writeDrop(t, base, map[string]string{"disasters.csv": b}), wh)
	want := head + "D0,520123,,2024-06-10,drought,3,\n" +
		"D1,520123102201,H001,2024-07-01,flood,2,6000\n" +
		"D3,520123102,,2024-07-20,hail,4,\n" +
		"D3,520123102,,2024-07-20,hail,4,\n"
	if got := dumpTable(t, wh, "disasters"); got != want {
		t.Fatalf("disasters after the corrected drop:\n%s\nwant\n%s", got, want)
	}
	// The same disasters in another drop (other files change its id):
	// nothing doubles.
	r := ingestT(t, writeDrop(t, append(base, "income_records.csv"), map[string]string{"disasters.csv": b}), wh)
	if r.Unchanged {
		t.Fatal("the third drop was taken for the second")
	}
	if got := dumpTable(t, wh, "disasters"); got != want {
		t.Fatalf("disasters after the repeated drop:\n%s\nwant\n%s", got, want)
	}
}
