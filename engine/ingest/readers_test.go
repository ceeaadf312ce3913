package ingest

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/klauspost/compress/gzip"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/povrisk/povrisk/datasets"
	"github.com/povrisk/povrisk/engine/fault"
)

// loaded is the outcome of loading one file through the row checks.
type loaded struct {
	read, accepted, rejected int64
	rejects                  [][]string // the reject CSV, header first
	rejectText               string
	personal                 []PersonalColumn
	err                      error
}

// loadOne loads one drop file as table (CSV, CSV.gz or Parquet) through
// the same readers and checks as an ingest, writing no warehouse. r gives
// the referenced keys (nil: none); key nil validates without a key.
func loadOne(t testing.TB, table, path, enc string, key []byte, r *refs) loaded {
	t.Helper()
	tb, ok := datasets.Lookup(table)
	if !ok {
		t.Fatalf("no table %s", table)
	}
	if r == nil {
		r = &refs{households: newKeySet(), persons: newKeySet()}
	}
	name := filepath.Base(path)
	var (
		l     *tableLoader
		err   error
		rr    *rowReader
		fr    *pqarrow.FileReader
		names []string
	)
	if strings.HasSuffix(strings.ToLower(path), ".parquet") {
		pfr, prdr, n, err := openParquet(path)
		if err != nil {
			return loaded{err: err}
		}
		defer prdr.Close()
		fr, names = pfr, n
	} else {
		src, err := openCSV(path, enc)
		if err != nil {
			return loaded{err: err}
		}
		defer src.Close()
		rr = newRowReader(src.r)
		if err := rr.next(); err != nil {
			return loaded{err: err}
		}
		for i := 0; i < rr.numFields(); i++ {
			names = append(names, string(rr.field(i)))
		}
	}
	if l, err = newTableLoader(tb, name, names, r, key, key == nil); err != nil {
		return loaded{err: err}
	}
	var rej bytes.Buffer
	if err := l.open("", &rej); err != nil {
		t.Fatal(err)
	}
	if rr != nil {
		err = l.loadCSV(context.Background(), rr)
	} else {
		err = l.loadParquet(context.Background(), fr)
	}
	if err != nil {
		l.abort()
		return loaded{err: err, read: l.read}
	}
	if err := l.close(); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(rej.Bytes())).ReadAll()
	if err != nil {
		t.Fatalf("reject file is not CSV: %v\n%s", err, rej.String())
	}
	if l.read != l.accepted+l.rejected || int64(len(recs)-1) != l.rejected {
		t.Errorf("%s: read %d accepted %d rejected %d, %d reject rows", name, l.read, l.accepted, l.rejected, len(recs)-1)
	}
	return loaded{read: l.read, accepted: l.accepted, rejected: l.rejected, rejects: recs, rejectText: rej.String(), personal: l.personalColumns()}
}

// reject returns the reject row of line (nil when the line was accepted).
func (r loaded) reject(line int) []string {
	for _, rec := range r.rejects[1:] {
		if rec[1] == fmt.Sprint(line) {
			return rec
		}
	}
	return nil
}

func writeFile(t testing.TB, path string, b []byte) string {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func gzipped(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

const hhHeader = "household_id,region_code,poverty_status,escape_year,monitor_type,registered_date,housing_safe,water_safe\n"

// hhRows returns n valid household rows H0001...
func hhRows(n int) string {
	var sb strings.Builder
	sb.WriteString(hhHeader)
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&sb, "H%04d,520123102201,escaped,2019,,2015-03-01,true,false\n", i)
	}
	return sb.String()
}

// TestCSVDamagedFiles: truncated and corrupt gzip, a gzip file named .csv,
// an empty file and a BOM: errors (never panics) or the right rows.
func TestCSVDamagedFiles(t *testing.T) {
	dir := t.TempDir()
	good := []byte(hhRows(3000))
	gz := gzipped(t, good)

	trunc := loadOne(t, "households", writeFile(t, filepath.Join(dir, "t.csv.gz"), gz[:len(gz)/2]), "", nil, nil)
	if trunc.err == nil || !strings.Contains(trunc.err.Error(), "gzip") || fault.Of(trunc.err) != fault.BadInput {
		t.Errorf("truncated gzip: %v (kind %v), want a bad-input error naming the file", trunc.err, fault.Of(trunc.err))
	}
	bad := append([]byte(nil), gz...)
	for i := len(bad) / 3; i < len(bad)/3+64; i++ {
		bad[i] ^= 0x5a
	}
	if r := loadOne(t, "households", writeFile(t, filepath.Join(dir, "c.csv.gz"), bad), "", nil, nil); r.err == nil || fault.Of(r.err) != fault.BadInput {
		t.Errorf("corrupt gzip: %v, want a bad-input error", r.err)
	}
	trailer := append([]byte(nil), gz...)
	trailer[len(trailer)-5] ^= 1 // the CRC-32 of the content
	if r := loadOne(t, "households", writeFile(t, filepath.Join(dir, "crc.csv.gz"), trailer), "", nil, nil); r.err == nil {
		t.Errorf("gzip with a wrong checksum: read %d rows without error", r.read)
	}
	if r := loadOne(t, "households", writeFile(t, filepath.Join(dir, "h.gz"), gz[:5]), "", nil, nil); r.err == nil || fault.Of(r.err) != fault.BadInput {
		t.Errorf("gzip header cut: %v", r.err)
	}
	// A compressed file named .csv is read by its content.
	if r := loadOne(t, "households", writeFile(t, filepath.Join(dir, "z.csv"), gz), "", nil, nil); r.err != nil || r.accepted != 3000 {
		t.Errorf("gzip named .csv: accepted %d, %v; want 3000", r.accepted, r.err)
	}
	if r := loadOne(t, "households", writeFile(t, filepath.Join(dir, "bom.csv"), append([]byte("\xEF\xBB\xBF"), good...)), "", nil, nil); r.err != nil || r.accepted != 3000 {
		t.Errorf("BOM: accepted %d, %v", r.accepted, r.err)
	}
	if r := loadOne(t, "households", writeFile(t, filepath.Join(dir, "e.csv"), nil), "", nil, nil); !errors.Is(r.err, io.EOF) {
		t.Errorf("empty file: %v, want EOF before the header", r.err)
	}
}

// TestGB18030ReadAsUTF8: a GB18030 households file forced to UTF-8 rejects
// its rows with a reason that says what to do; detected, it loads.
func TestGB18030ReadAsUTF8(t *testing.T) {
	dir := t.TempDir()
	text := hhHeader + "H1,520123102201,escaped,2019,,2015-03-01,是,否\nH2,520123102201,general,,,2015-03-01,否,是\n"
	gb, err := simplifiedchinese.GB18030.NewEncoder().Bytes([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	p := writeFile(t, filepath.Join(dir, "households.csv"), gb)
	r := loadOne(t, "households", p, "utf-8", nil, nil)
	if r.err != nil || r.read != 2 || r.rejected != 2 {
		t.Fatalf("read %d rejected %d, %v; want both rejected", r.read, r.rejected, r.err)
	}
	for _, line := range []int{2, 3} {
		rec := r.reject(line)
		if rec == nil || rec[2] != "housing_safe" || !strings.Contains(rec[3], "not valid UTF-8") || !strings.Contains(rec[3], "--encoding gb18030") {
			t.Errorf("line %d: %q, want an encoding reason naming housing_safe", line, rec)
		}
	}
	if r := loadOne(t, "households", p, "", nil, nil); r.accepted != 2 {
		t.Errorf("detected: accepted %d, want 2", r.accepted)
	}
	// UTF-8 read as GB18030: the decoder's U+FFFD is explained too.
	p2 := writeFile(t, filepath.Join(dir, "u.csv"), []byte(hhHeader+"H1,520123102201,escaped,2019,,2015-03-01,是,否\n"))
	r2 := loadOne(t, "households", p2, "gb18030", nil, nil)
	if rec := r2.reject(2); rec == nil || !strings.Contains(rec[3], "invalid text encoding") {
		t.Errorf("UTF-8 read as GB18030: %q, want an encoding reason", rec)
	}
}

// TestKeyAndValueBounds: hostile identifiers, dates out of the window and
// absurd amounts are rejected with file, line, column and reason; a 10 MB
// key does not reach the reject file whole.
func TestKeyAndValueBounds(t *testing.T) {
	dir := t.TempDir()
	future := time.Now().AddDate(1, 1, 0).Format("2006-01-02")
	rows := []string{
		"H1,520123102201,escaped,2019,,2015-03-01,true,true",                       // 2 ok
		strings.Repeat("H", 10<<20) + ",520123102201,escaped,2019,,2015-03-01,,",   // 3
		"H\x00X,520123102201,escaped,2019,,2015-03-01,,",                           // 4
		"\x1b[31mH,520123102201,escaped,2019,,2015-03-01,,",                        // 5
		`"=HYPERLINK(""http://x"",""y"")",520123102201,escaped,2019,,2015-03-01,,`, // 6
		"H7,520123102201,escaped,2019,,2015-03-01,,",                               // 7 ok
		"H8,520123102201,escaped,2019,," + future + ",,",                           // 8
		"H9,520123102201,escaped,2019,,1899-12-31,,",                               // 9
		"520123198001011237,520123102201,escaped,2019,,2015-03-01,,",               // 10: an ID number as key
		"\"H\tB\",520123102201,escaped,2019,,2015-03-01,,",                         // 11
		"-H12,520123102201,escaped,2019,,2015-03-01,,",                             // 12
		"H13,520123102201,escaped,2019,,2015-03-01,,",                              // 13 ok
	}
	p := writeFile(t, filepath.Join(dir, "households.csv"), []byte(hhHeader+strings.Join(rows, "\n")+"\n"))
	r := loadOne(t, "households", p, "", testKey, nil)
	if r.err != nil || r.read != 12 || r.accepted != 3 {
		t.Fatalf("read %d accepted %d, %v; want 12 read, 3 accepted", r.read, r.accepted, r.err)
	}
	want := map[int][2]string{
		3: {"household_id", "longer than 64"}, 4: {"household_id", "control"}, 5: {"household_id", "control"},
		6: {"household_id", "formula"}, 8: {"registered_date", "after " + time.Now().In(time.FixedZone("", 14*3600)).Format("2006-01-02")},
		9: {"registered_date", "between 1900 and 2100"}, 10: {"household_id", "looks like a resident ID number"},
		11: {"household_id", "control"}, 12: {"household_id", "formula"},
	}
	for line, w := range want {
		rec := r.reject(line)
		if rec == nil || rec[0] != "households.csv" || rec[2] != w[0] || !strings.Contains(rec[3], w[1]) {
			t.Errorf("line %d: %q, want column %s and %q", line, rec, w[0], w[1])
		}
	}
	if len(r.rejectText) > 64<<10 {
		t.Errorf("reject file of %d bytes: the 10 MB key went in whole", len(r.rejectText))
	}
	if strings.ContainsAny(r.rejectText, "\x00\x1b") || strings.Contains(r.rejectText, "520123198001011237") {
		t.Errorf("reject file holds a NUL, an escape or the ID number:\n%q", r.rejectText)
	}
	if rec := r.reject(12); rec == nil || rec[4] != "'-H12,520123102201,escaped,2019,,2015-03-01,," {
		t.Errorf("formula cell not neutralised: %q", rec)
	}
	for _, rec := range r.rejects {
		for _, cell := range rec {
			if cell != "" && strings.IndexByte("=+-@", cell[0]) >= 0 {
				t.Errorf("cell %q would be read as a formula", cell)
			}
		}
	}

	hh := &refs{households: newKeySet(), persons: newKeySet()}
	hh.households.add([]byte("H1"), true)
	inc := "household_id,period,wage_income,business_income,property_income,transfer_income,production_cost\n" +
		"H1,2024-01,1e300,0,0,0,0\n" + // 2: exponent refused
		"H1,2024-02,100000000000000000000000000000000000000000000000000,0,0,0,0\n" + // 3: beyond the bound
		"H1,2024-03,-5,0,0,0,0\n" + // 4: negative
		"H1,2024-04,999999999.99,0,0,0,0\n" + // 5: ok
		"H1,2024-05,0,1000000000.01,0,0,0\n" + // 6: beyond the bound
		"H1," + future[:7] + ",0,0,0,0,0\n" // 7: a month ahead
	ri := loadOne(t, "income_records", writeFile(t, filepath.Join(dir, "income_records.csv"), []byte(inc)), "", nil, hh)
	wantInc := map[int][2]string{2: {"wage_income", "not a decimal"}, 3: {"wage_income", "beyond the bound"}, 4: {"wage_income", "negative"},
		6: {"business_income", "beyond the bound"}, 7: {"period", "after"}}
	if ri.accepted != 1 {
		t.Errorf("income: accepted %d, want 1", ri.accepted)
	}
	for line, w := range wantInc {
		if rec := ri.reject(line); rec == nil || rec[2] != w[0] || !strings.Contains(rec[3], w[1]) {
			t.Errorf("income line %d: %q, want %v", line, rec, w)
		}
	}
	// A planned end of assistance may lie ahead; its start may not.
	as := "household_id,program,start_date,end_date,amount\nH1,dibao,2024-01-01," + future + ",1200\nH1,dibao," + future + ",,1200\n"
	ra := loadOne(t, "assistance", writeFile(t, filepath.Join(dir, "assistance.csv"), []byte(as)), "", nil, hh)
	if ra.accepted != 1 || ra.reject(3) == nil || ra.reject(3)[2] != "start_date" {
		t.Errorf("assistance: accepted %d, rejects %q; want the future end accepted, the future start rejected", ra.accepted, ra.rejects)
	}
}

const personsHeader = "person_id,household_id,id_number,birth_date,sex,relation,labor_capacity,disability_grade,chronic_disease,major_disease,schooling,deceased_date"

// TestPersonalDataInRejects: ID numbers in id_number, in a misspelled
// column, in a Chinese-named extra column and in an innocently named one
// never reach the reject file as digits; the report names the columns and
// counts, not the values.
func TestPersonalDataInRejects(t *testing.T) {
	dir := t.TempDir()
	hh := &refs{households: newKeySet(), persons: newKeySet()}
	hh.households.add([]byte("H1"), true)
	ids := []string{"11010519491231002X", "520123198001011237", "110105491231002", "52012319800101100X"}
	head := strings.Replace(personsHeader, "id_number", "id_numbr", 1) + ",户主身份证号码,remark,name,phone\n"
	body := ""
	for i, id := range ids {
		sex := "M"
		if i%2 == 1 {
			sex = "Q" // rejected: the row goes to the reject file
		}
		body += fmt.Sprintf("P%d,H1,%s,1980-01-01,%s,head,full,0,false,false,none,,%s,%s,张三,13800000001\n", i, id, sex, ids[(i+1)%4], ids[(i+2)%4])
	}
	body += "P9,H1,520123198001011237,1980-01-01,M,head,full,0,false,false,none,,x,\"y\n" // malformed: unclosed quote
	r := loadOne(t, "persons", writeFile(t, filepath.Join(dir, "persons.csv"), []byte(head+body)), "", testKey, hh)
	if r.err != nil || r.read != 5 || r.rejected != 3 {
		t.Fatalf("read %d rejected %d, %v", r.read, r.rejected, r.err)
	}
	for _, id := range ids {
		for _, part := range []string{id, id[:10], id[len(id)-8:]} {
			if strings.Contains(r.rejectText, part) {
				t.Errorf("reject file holds %q (of ID %s):\n%s", part, id, r.rejectText)
			}
		}
	}
	for _, clear := range []string{"张三", "13800000001", "1380000"} {
		if strings.Contains(r.rejectText, clear) {
			t.Errorf("reject file holds %q", clear)
		}
	}
	if !strings.Contains(r.rejectText, "id:") {
		t.Errorf("reject file shows no pseudonym:\n%s", r.rejectText)
	}
	got := map[string]PersonalColumn{}
	for _, p := range r.personal {
		got[p.Column] = p
	}
	for col, n := range map[string]int64{"id_numbr": 4, "户主身份证号码": 4, "remark": 4, "name": 0, "phone": 0} {
		if p, ok := got[col]; !ok || p.IDNumbers != n || p.ByHeader != (col != "remark") {
			t.Errorf("personal column %s: %+v (found %v), want %d ID numbers", col, p, ok, n)
		}
	}
	tr := TableReport{Personal: r.personal}
	if s := tr.PersonalSummary(); !strings.Contains(s, "column remark: 4 ID numbers") || strings.Contains(s, "1101") {
		t.Errorf("summary %q", s)
	}
}

// TestIDNumbersInPersons: a 15-digit legacy number is accepted and stored
// as the pseudonym of its 18-digit form, with the rows that depend on the
// person; a bad checksum is rejected with its reason.
func TestIDNumbersInPersons(t *testing.T) {
	drop := t.TempDir()
	writeFile(t, filepath.Join(drop, "households.csv"), []byte(hhHeader+"H1,520123102201,escaped,2019,,2015-03-01,true,true\n"))
	writeFile(t, filepath.Join(drop, "persons.csv"), []byte(personsHeader+"\n"+
		"P1,H1,110105491231002,1949-12-31,M,head,full,0,false,false,none,\n"+
		"P2,H1,11010519491231002X,1949-12-31,M,spouse,full,0,false,false,none,\n"+ // the same person: same pseudonym
		"P3,H1,520123198001011234,1980-01-01,F,child,full,0,false,false,none,\n"))
	writeFile(t, filepath.Join(drop, "social_insurance.csv"), []byte("person_id,period,employer_id,contribution_base\nP1,2024-01,E1,3000\nP1,2024-02,E1,3000\n"))
	wh := filepath.Join(t.TempDir(), "w")
	rep := ingestShare(t, drop, wh, 1) // one bad row of three: more than 5% on purpose
	if tr := rep.Tables[1]; tr.Accepted != 2 || tr.Rejected != 1 {
		t.Fatalf("persons: %+v", tr)
	}
	if tr := rep.Tables[2]; tr.Table != "social_insurance" || tr.Accepted != 2 {
		t.Errorf("dependent rows: %+v, want 2 accepted", tr)
	}
	h := newPseudonymizer(testKey).sum([]byte("11010519491231002X"))
	want := personsHeader[:len("person_id,household_id,")] + "id_number_hash" + personsHeader[len("person_id,household_id,id_number"):] + "\n" +
		"P1,H1," + string(h) + ",1949-12-31,M,head,full,0,false,false,none,\n" +
		"P2,H1," + string(h) + ",1949-12-31,M,spouse,full,0,false,false,none,\n"
	if got := dumpTable(t, wh, "persons"); got != want {
		t.Errorf("persons:\n%s\nwant\n%s", got, want)
	}
	rej, err := os.ReadFile(filepath.Join(wh, strings.Replace(rep.Tables[1].RejectFile, "DROPID", rep.DropID, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(rej), "persons.csv,4,id_number,wrong type: ID number fails the GB 11643 checksum") || strings.Contains(string(rej), "5201231980") {
		t.Errorf("reject file:\n%s", rej)
	}
	assertNoClear(t, wh, []string{"110105491231002", "11010519491231002X", "520123198001011234"})
}

// TestDropFiles: symbolic links are refused, in or out of the drop;
// upper-case extensions are recognised; a directory under a table's name
// is an error.
func TestDropFiles(t *testing.T) {
	outside := t.TempDir()
	writeFile(t, filepath.Join(outside, "secret.csv"), []byte(hhRows(1)))
	for _, tc := range []struct{ name, target string }{{"out", filepath.Join(outside, "secret.csv")}, {"in", "real.csv"}} {
		drop := t.TempDir()
		writeFile(t, filepath.Join(drop, "real.csv"), []byte(hhRows(1)))
		if err := os.Symlink(tc.target, filepath.Join(drop, "households.csv")); err != nil {
			t.Fatal(err)
		}
		_, _, _, err := findFiles(drop)
		if err == nil || !strings.Contains(err.Error(), "households.csv is a symbolic link") || fault.Of(err) != fault.BadInput {
			t.Errorf("%s: %v, want a bad-input error naming households.csv", tc.name, err)
		}
		if _, err := openNoFollow(filepath.Join(drop, "households.csv")); err == nil {
			t.Errorf("%s: openNoFollow followed the link", tc.name)
		}
	}
	drop := t.TempDir()
	writeFile(t, filepath.Join(drop, "households.csv"), []byte(hhRows(2)))
	writeFile(t, filepath.Join(drop, "persons.CSV"), []byte(personsHeader+"\nP1,H0001,,1980-01-01,M,head,full,0,false,false,none,\n"))
	writeFile(t, filepath.Join(drop, "income_records.CSV.GZ"), gzipped(t, []byte("household_id,period,wage_income,business_income,property_income,transfer_income,production_cost\nH0001,2024-01,1,0,0,0,0\n")))
	writeFile(t, filepath.Join(drop, "notes.txt"), []byte("x"))
	files, missing, unknown, err := findFiles(drop)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range files {
		got = append(got, f.table.Name+":"+f.format+":"+filepath.Base(f.path))
	}
	if strings.Join(got, " ") != "households:csv:households.csv persons:csv:persons.CSV income_records:csv.gz:income_records.CSV.GZ" ||
		len(missing) != len(datasets.Tables())-3 || strings.Join(unknown, ",") != "notes.txt" {
		t.Errorf("files %v missing %v unknown %v", got, missing, unknown)
	}
	rep := ingestT(t, drop, filepath.Join(t.TempDir(), "w"))
	if rep.Tables[2].Table != "income_records" || rep.Tables[2].Accepted != 1 {
		t.Errorf("income_records.CSV.GZ: %+v", rep.Tables[2])
	}
	writeFile(t, filepath.Join(drop, "income_records.csv"), []byte("x"))
	if _, _, _, err := findFiles(drop); err == nil || !strings.Contains(err.Error(), "both") {
		t.Errorf("two files for one table: %v", err)
	}
	os.Remove(filepath.Join(drop, "income_records.csv"))
	if err := os.Mkdir(filepath.Join(drop, "assets.csv"), 0o700); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := findFiles(drop); err == nil || !strings.Contains(err.Error(), "assets.csv is not a regular file") {
		t.Errorf("a directory named assets.csv: %v", err)
	}
}
