package datasets

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/povrisk/povrisk/engine/fault"
	"github.com/povrisk/povrisk/engine/progress"
)

// gen writes a drop under a fresh temporary directory.
func gen(t testing.TB, o GenerateOptions) *GenerateReport {
	t.Helper()
	if o.Out == "" {
		o.Out = filepath.Join(t.TempDir(), "drop")
	}
	rep, err := Generate(context.Background(), o)
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	return rep
}

// table is a CSV file read back: header and rows, with the line of each row.
type table struct {
	header []string
	rows   [][]string
	lines  []int
}

func (t *table) col(name string) int {
	for i, h := range t.header {
		if h == name {
			return i
		}
	}
	return -1
}

// readCSV reads a table file of a drop, decoding gzip and GB18030 when asked.
func readCSV(t testing.TB, path string, gb bool) *table {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		if raw, err = io.ReadAll(zr); err != nil {
			t.Fatal(err)
		}
	}
	if gb {
		if raw, err = simplifiedchinese.GB18030.NewDecoder().Bytes(raw); err != nil {
			t.Fatal(err)
		}
	}
	raw = bytes.TrimPrefix(raw, []byte("\ufeff"))
	r := csv.NewReader(bytes.NewReader(raw))
	tb := &table{}
	if tb.header, err = r.Read(); err != nil {
		t.Fatalf("%s: header: %v", path, err)
	}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		line, _ := r.FieldPos(0)
		tb.rows = append(tb.rows, rec)
		tb.lines = append(tb.lines, line)
	}
	return tb
}

// readDrop reads every table of a drop; an optional v1.1 table the
// simulator does not write (visit_outcomes) is absent from the map, a v1
// table or a written v1.1 table missing fails the test.
func readDrop(t testing.TB, dir, ext string, gbTables map[string]bool) map[string]*table {
	m := map[string]*table{}
	for _, tt := range Tables() {
		p := filepath.Join(dir, tt.Name+ext)
		if _, err := os.Stat(p); err != nil && tt.Name == "visit_outcomes" {
			continue
		}
		m[tt.Name] = readCSV(t, p, gbTables[tt.Name])
	}
	return m
}

// problem is what the independent checker finds wrong with a row.
type problem struct {
	table  string
	line   int
	column string
	kind   string
}

var moneyRE = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)

// checkField checks one field against the standard's rules (this is an
// independent reading of DATA-STANDARD.md, not the ingest).
func checkField(c Column, v string) string {
	if v == "" {
		if c.Nullable {
			return ""
		}
		return DefectMissingRequired
	}
	switch c.Kind {
	case Date:
		if _, err := time.Parse("2006-01-02", v); err != nil {
			return DefectBadDate
		}
	case Month:
		if _, err := time.Parse("2006-01", v); err != nil {
			return DefectBadDate
		}
	case Money:
		if !moneyRE.MatchString(v) {
			return DefectBadType
		}
	case Int:
		n, err := strconv.Atoi(v)
		if err != nil {
			return DefectBadType
		}
		if (c.Min != 0 || c.Max != 0) && (int64(n) < c.Min || int64(n) > c.Max) {
			return DefectOutOfRange
		}
	case Bool:
		switch v {
		case "true", "false", "1", "0", "是", "否":
		default:
			return DefectBadType
		}
	case Enum:
		for _, x := range c.Values {
			if x == v {
				return ""
			}
		}
		return DefectUnknownCode
	case Region:
		lens := c.RegionLengths
		if lens == nil {
			lens = []int{12}
		}
		ok := false
		for _, l := range lens {
			ok = ok || len(v) == l
		}
		for _, ch := range v {
			ok = ok && ch >= '0' && ch <= '9'
		}
		if !ok {
			return DefectBadRegion
		}
	}
	return ""
}

// checkDrop checks every row of a drop: fields, references, keys, in the
// standard's table order. It returns the problems and the accepted keys.
func checkDrop(t testing.TB, drop map[string]*table) []problem {
	t.Helper()
	var out []problem
	keys := map[string]map[string]bool{}
	for _, tt := range Tables() {
		tb := drop[tt.Name]
		if tb == nil {
			continue // an optional table not written
		}
		idx := make([]int, len(tt.Columns))
		for i, c := range tt.Columns {
			if idx[i] = tb.col(c.Name); idx[i] < 0 {
				t.Fatalf("%s: column %s missing", tt.Name, c.Name)
			}
		}
		seen := map[string]bool{}
		for ri, row := range tb.rows {
			line := tb.lines[ri]
			bad := ""
			for i, c := range tt.Columns {
				if k := checkField(c, row[idx[i]]); k != "" {
					out = append(out, problem{tt.Name, line, c.Name, k})
					bad = k
					break
				}
			}
			if bad != "" {
				continue
			}
			for i, c := range tt.Columns {
				if v := row[idx[i]]; c.Ref != "" && v != "" && !keys[c.Ref][v] {
					out = append(out, problem{tt.Name, line, c.Name, DefectOrphan})
					bad = DefectOrphan
					break
				}
			}
			if bad != "" || len(tt.Key) == 0 {
				continue
			}
			var k []string
			for _, kc := range tt.Key {
				k = append(k, row[tb.col(kc)])
			}
			ks := strings.Join(k, "\x00")
			if seen[ks] {
				out = append(out, problem{tt.Name, line, strings.Join(tt.Key, "+"), DefectDuplicateKey})
				continue
			}
			seen[ks] = true
		}
		keys[tt.Name] = seen
	}
	return out
}

func TestCleanDropFollowsStandard(t *testing.T) {
	rep := gen(t, GenerateOptions{Households: 600, Months: 18, Seed: 7})
	dir := filepath.Dir(rep.Tables[0].Path)
	drop := readDrop(t, dir, ".csv", nil)
	if ps := checkDrop(t, drop); len(ps) > 0 {
		t.Fatalf("clean drop has %d problems, first %+v", len(ps), ps[0])
	}
	for _, tr := range rep.Tables {
		if got := int64(len(drop[tr.Name].rows)); got != tr.Rows || got == 0 {
			t.Errorf("%s: %d rows in file, report says %d", tr.Name, got, tr.Rows)
		}
	}
	// Nothing in the export happens after its last day.
	last := rep.End.Format("2006-01-02")
	for _, tt := range Tables() {
		tb := drop[tt.Name]
		if tb == nil {
			continue // an optional table not written
		}
		for _, c := range tt.Columns {
			if c.Kind != Date && c.Kind != Month {
				continue
			}
			ci := tb.col(c.Name)
			for _, r := range tb.rows {
				if r[ci] > last {
					t.Fatalf("%s.%s = %s, after the data end %s", tt.Name, c.Name, r[ci], last)
				}
			}
		}
	}
	if got := len(drop["households"].rows); got != 600 {
		t.Errorf("households: %d rows, want 600", got)
	}
	// Persons carry valid ID numbers, 11-digit mobiles and Chinese names.
	ps := drop["persons"]
	idc, phc, nmc := ps.col("id_number"), ps.col("phone"), ps.col("name")
	ids, phones := 0, 0
	for _, r := range ps.rows {
		if id := r[idc]; id != "" {
			ids++
			if c, err := IDCheckDigit(id[:17]); len(id) != 18 || err != nil || c != id[17] {
				t.Fatalf("bad id number %q", id)
			}
			if _, err := time.Parse("20060102", id[6:14]); err != nil || id[6:10]+"-"+id[10:12]+"-"+id[12:14] != r[ps.col("birth_date")] {
				t.Fatalf("id number %q does not carry birth date %s", id, r[ps.col("birth_date")])
			}
		}
		if p := r[phc]; p != "" {
			phones++
			if len(p) != 11 || p[0] != '1' {
				t.Fatalf("bad phone %q", p)
			}
		}
		if n := r[nmc]; utf8.RuneCountInString(n) < 2 || n[0] < 0x80 {
			t.Fatalf("bad name %q", n)
		}
	}
	if ids < len(ps.rows)*9/10 || phones < len(ps.rows)/2 {
		t.Errorf("%d id numbers, %d phones of %d persons", ids, phones, len(ps.rows))
	}
	// Two provinces, several counties, townships and villages.
	prov, county, town, vill := map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]bool{}
	hh := drop["households"]
	for _, r := range hh.rows {
		rc := r[hh.col("region_code")]
		prov[rc[:2]], county[rc[:6]], town[rc[:9]], vill[rc] = true, true, true, true
	}
	if len(prov) != 2 || len(county) < 4 || len(town) < 12 || len(vill) < 50 {
		t.Errorf("regions: %d provinces, %d counties, %d townships, %d villages", len(prov), len(county), len(town), len(vill))
	}
	// Truth: 7 month-ends, every household once per as-of, sorted.
	truth := readCSV(t, rep.Truth, false)
	if strings.Join(truth.header, ",") != "household_id,as_of,p_identified_6m" {
		t.Fatalf("truth header %v", truth.header)
	}
	wantAsOf := []string{"2024-12-31", "2025-01-31", "2025-02-28", "2025-03-31", "2025-04-30", "2025-05-31", "2025-06-30"}
	if strings.Join(rep.AsOf, " ") != strings.Join(wantAsOf, " ") {
		t.Errorf("as-of dates %v, want %v", rep.AsOf, wantAsOf)
	}
	if len(truth.rows) != 7*600 {
		t.Fatalf("truth: %d rows, want %d", len(truth.rows), 7*600)
	}
	for i := 1; i < len(truth.rows); i++ {
		a, b := truth.rows[i-1], truth.rows[i]
		if a[1] > b[1] || (a[1] == b[1] && a[0] >= b[0]) {
			t.Fatalf("truth not sorted at row %d: %v then %v", i, a, b)
		}
	}
}

func TestDeterministic(t *testing.T) {
	cases := []GenerateOptions{
		{Households: 400, Months: 12, Seed: 3},
		{Households: 400, Months: 12, Seed: 3, Format: "csv.gz", Dirty: 0.02, Encoding: "gb18030"},
		{Households: 400, Months: 12, Seed: 3, Format: "parquet"},
	}
	for _, o := range cases {
		t.Run(o.Format+o.Encoding, func(t *testing.T) {
			o1, o2 := o, o
			o1.Workers, o2.Workers = 1, 2
			a, b := hashFiles(t, gen(t, o1)), hashFiles(t, gen(t, o2))
			if len(a) != 16 && len(a) != 15 { // 13 tables, truth, relapse truth (, defects)
				t.Fatalf("%d files: %v", len(a), a)
			}
			for name, h := range a {
				if b[name] != h {
					t.Errorf("%s differs between two runs with the same seed", name)
				}
			}
			o3 := o
			o3.Seed++
			c := hashFiles(t, gen(t, o3))
			if c["households"+ext(o)] == a["households"+ext(o)] {
				t.Errorf("a different seed gave the same households file")
			}
		})
	}
}

func ext(o GenerateOptions) string {
	if o.Format == "" {
		return ".csv"
	}
	return "." + o.Format
}

// hashFiles returns the sha256 of every file of the drop, the truth and the
// sidecar, by base name (the drop directory differs between runs).
func hashFiles(t testing.TB, rep *GenerateReport) map[string]string {
	m := map[string]string{}
	paths := []string{rep.Truth, rep.Relapse}
	if rep.Defects != "" {
		paths = append(paths, rep.Defects)
	}
	for _, tr := range rep.Tables {
		paths = append(paths, tr.Path)
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(p)
		if p == rep.Truth {
			name = "truth"
		} else if p == rep.Relapse {
			name = "relapse"
		} else if p == rep.Defects {
			name = "defects"
		}
		m[name] = fmt.Sprintf("%x", sha256.Sum256(b))
	}
	return m
}

func TestDirtyDrop(t *testing.T) {
	for _, rate := range []float64{0.01, 0.05} {
		t.Run(fmt.Sprint(rate), func(t *testing.T) {
			o := GenerateOptions{Households: 800, Months: 12, Seed: 11, Dirty: rate}
			rep := gen(t, o)
			dir := filepath.Dir(rep.Tables[0].Path)
			drop := readDrop(t, dir, ".csv", nil)
			got := checkDrop(t, drop)
			side := readCSV(t, rep.Defects, false)
			var want []problem
			for _, r := range side.rows {
				line, _ := strconv.Atoi(r[1])
				want = append(want, problem{r[0], line, r[2], r[3]})
			}
			sortProblems(got)
			sortProblems(want)
			if len(got) != len(want) {
				t.Fatalf("checker found %d problems, sidecar lists %d", len(got), len(want))
			}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("problem %d: checker %+v, sidecar %+v", i, got[i], want[i])
				}
			}
			// Every kind appears; per table the count matches the rate.
			kinds := map[string]int{}
			for _, p := range want {
				kinds[p.kind]++
			}
			for _, k := range DefectKinds() {
				if rate >= 0.05 && kinds[k] == 0 {
					t.Errorf("no %s defect", k)
				}
			}
			for _, tr := range rep.Tables {
				genuine := float64(tr.Rows - tr.Defects)
				exp := genuine * rate
				if math.Abs(float64(tr.Defects)-exp) > 4*math.Sqrt(exp)+3 {
					t.Errorf("%s: %d defects in %.0f genuine rows, expected about %.0f", tr.Name, tr.Defects, genuine, exp)
				}
			}
			// The genuine rows are exactly the clean drop.
			o.Dirty = 0
			clean := readDrop(t, filepath.Dir(gen(t, o).Tables[0].Path), ".csv", nil)
			bad := map[problem]bool{}
			for _, p := range want {
				bad[problem{p.table, p.line, "", ""}] = true
			}
			for _, tt := range Tables() {
				var rows []string
				d := drop[tt.Name]
				if d == nil {
					continue
				}
				for i, r := range d.rows {
					if !bad[problem{tt.Name, d.lines[i], "", ""}] {
						rows = append(rows, strings.Join(r, ","))
					}
				}
				var crow []string
				for _, r := range clean[tt.Name].rows {
					crow = append(crow, strings.Join(r, ","))
				}
				if strings.Join(rows, "\n") != strings.Join(crow, "\n") {
					t.Errorf("%s: genuine rows of the dirty drop differ from the clean drop (%d vs %d rows)", tt.Name, len(rows), len(crow))
				}
			}
		})
	}
}

func sortProblems(ps []problem) {
	sort.Slice(ps, func(i, j int) bool {
		if ps[i].table != ps[j].table {
			return ps[i].table < ps[j].table
		}
		return ps[i].line < ps[j].line
	})
}

// genBoth writes the drop of o, then the drop of o changed by change.
func genBoth(t *testing.T, o GenerateOptions, change func(*GenerateOptions)) (*GenerateReport, *GenerateReport) {
	t.Helper()
	a := gen(t, o)
	change(&o)
	return a, gen(t, o)
}

func TestGB18030(t *testing.T) {
	utf, gb := genBoth(t, GenerateOptions{Households: 300, Months: 8, Seed: 5}, func(o *GenerateOptions) { o.Encoding = "gb18030" })
	for i, tr := range gb.Tables {
		gbRaw, _ := os.ReadFile(tr.Path)
		uRaw, _ := os.ReadFile(utf.Tables[i].Path)
		switch {
		case tr.Name == "households" && gbTables[tr.Name]:
			// no Chinese text left in households (names are in regions):
			// GB18030 and UTF-8 agree on ASCII
			if !bytes.Equal(gbRaw, uRaw) || !isASCII(uRaw) {
				t.Errorf("%s: want the same ASCII bytes in both encodings", tr.Name)
			}
		case gbTables[tr.Name]:
			if utf8.Valid(gbRaw) {
				t.Errorf("%s: GB18030 file is valid UTF-8: not encoded", tr.Name)
			}
			dec, err := simplifiedchinese.GB18030.NewDecoder().Bytes(gbRaw)
			if err != nil || !bytes.Equal(dec, uRaw) {
				t.Errorf("%s: decoded GB18030 differs from the UTF-8 run (err %v)", tr.Name, err)
			}
		case tr.Name == bomTable:
			if !bytes.Equal(gbRaw, append([]byte("\ufeff"), uRaw...)) {
				t.Errorf("%s: want the UTF-8 bytes after a BOM", tr.Name)
			}
		default:
			if !bytes.Equal(gbRaw, uRaw) {
				t.Errorf("%s: want the same UTF-8 bytes", tr.Name)
			}
		}
	}
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

// TestParquetMatchesCSV reads the Parquet drop with pqarrow and renders every
// value as the CSV drop writes it: the two must hold the same rows.
func TestParquetMatchesCSV(t *testing.T) {
	csvRep, pq := genBoth(t, GenerateOptions{Households: 300, Months: 9, Seed: 9}, func(o *GenerateOptions) { o.Format = "parquet" })
	for i, tr := range pq.Tables {
		want := readCSV(t, csvRep.Tables[i].Path, false)
		f, err := file.OpenParquetFile(tr.Path, false)
		if err != nil {
			t.Fatal(err)
		}
		r, err := pqarrow.NewFileReader(f, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
		if err != nil {
			t.Fatal(err)
		}
		tbl, err := r.ReadTable(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		tt := Tables()[i]
		if got := strings.Join(fieldNames(tbl.Schema()), ","); got != strings.Join(want.header, ",") {
			t.Fatalf("%s: parquet columns %s, csv %s", tr.Name, got, strings.Join(want.header, ","))
		}
		for ci := 0; ci < len(tt.Columns); ci++ {
			if got, w := tbl.Schema().Field(ci).Type, tt.Columns[ci].ArrowType(); !arrow.TypeEqual(got, w) {
				t.Errorf("%s.%s: type %s, want %s", tr.Name, tt.Columns[ci].Name, got, w)
			}
		}
		if int(tbl.NumRows()) != len(want.rows) {
			t.Fatalf("%s: %d parquet rows, %d csv rows", tr.Name, tbl.NumRows(), len(want.rows))
		}
		for ci := 0; ci < int(tbl.NumCols()); ci++ {
			kind := String
			if ci < len(tt.Columns) {
				kind = tt.Columns[ci].Kind
			}
			row := 0
			for _, chunk := range tbl.Column(ci).Data().Chunks() {
				for j := 0; j < chunk.Len(); j++ {
					got := render(chunk, j, kind)
					if w := want.rows[row][ci]; got != w {
						t.Fatalf("%s row %d %s: parquet %q, csv %q", tr.Name, row, want.header[ci], got, w)
					}
					row++
				}
			}
		}
		tbl.Release()
		checkParquetSettings(t, f, tt)
		f.Close()
	}
}

// checkParquetSettings: the drop is written with engine/pqfile's settings:
// no dictionary for amounts, unique keys and personal identifiers, a
// dictionary for code lists, the Arrow schema stored.
func checkParquetSettings(t *testing.T, f *file.Reader, tt Table) {
	t.Helper()
	md := f.MetaData()
	if got := md.GetCreatedBy(); got != "povrisk datasets" {
		t.Errorf("%s: created_by %q", tt.Name, got)
	}
	if md.KeyValueMetadata().FindValue("ARROW:schema") == nil {
		t.Errorf("%s: the Arrow schema is not stored", tt.Name)
	}
	if md.NumRowGroups() == 0 {
		return
	}
	rg := md.RowGroup(0)
	for ci, c := range tt.Columns {
		cc, err := rg.ColumnChunk(ci)
		if err != nil {
			t.Fatal(err)
		}
		unique := len(tt.Key) == 1 && tt.Key[0] == c.Name
		noDict := c.Kind == Money || unique || c.Name == "id_number"
		if noDict && cc.HasDictionaryPage() {
			t.Errorf("%s.%s: dictionary-encoded, want plain", tt.Name, c.Name)
		}
		if c.Kind == Enum && !cc.HasDictionaryPage() {
			t.Errorf("%s.%s: code list without a dictionary", tt.Name, c.Name)
		}
	}
}

func fieldNames(s *arrow.Schema) []string {
	var n []string
	for _, f := range s.Fields() {
		n = append(n, f.Name)
	}
	return n
}

func render(a arrow.Array, j int, k Kind) string {
	if a.IsNull(j) {
		return ""
	}
	switch a := a.(type) {
	case *array.Date32:
		tm := a.Value(j).ToTime()
		if k == Month {
			return tm.Format("2006-01")
		}
		return tm.Format("2006-01-02")
	case *array.Float64:
		return strconv.FormatFloat(a.Value(j), 'f', 2, 64)
	case *array.Int32:
		return strconv.Itoa(int(a.Value(j)))
	case *array.Boolean:
		return strconv.FormatBool(a.Value(j))
	case *array.String:
		return a.Value(j)
	}
	return fmt.Sprintf("?%T", a)
}

func TestIDCheckDigit(t *testing.T) {
	// Check characters computed by hand with the GB 11643-1999 weights.
	for _, id := range []string{"11010519491231002X", "440524188001010014", "520123200002291234"} {
		if got, err := IDCheckDigit(id[:17]); err != nil || got != id[17] {
			t.Errorf("IDCheckDigit(%s) = %c, %v; want %c", id[:17], got, err, id[17])
		}
		if got, err := IDCheckDigit([]byte(id[:17])); err != nil || got != id[17] {
			t.Errorf("IDCheckDigit([]byte %s) = %c, %v; want %c", id[:17], got, err, id[17])
		}
	}
	// Not 17 digits: an error naming the problem, never the digits, and no panic.
	for in, want := range map[string]string{
		"":                   "ID check digit: 0 characters, want the first 17 digits of an ID number",
		"1101051949123100":   "ID check digit: 16 characters, want the first 17 digits of an ID number",
		"11010519491231002X": "ID check digit: 18 characters, want the first 17 digits of an ID number",
		"1101051949123100X":  "ID check digit: character 17 is not a digit",
		"1101a519491231002":  "ID check digit: character 5 is not a digit",
	} {
		if c, err := IDCheckDigit(in); err == nil || err.Error() != want {
			t.Errorf("IDCheckDigit(%q) = %c, %v; want error %q", in, c, err, want)
		}
	}
}

func TestCalendar(t *testing.T) {
	// days since 1970 against the time package over 250 years
	for tm := time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC); tm.Year() < 2150; tm = tm.AddDate(0, 0, 13) {
		d := dayOf(tm.Year(), int(tm.Month()), tm.Day())
		if want := tm.Unix() / 86400; int64(d) != want {
			t.Fatalf("dayOf(%s) = %d, want %d", tm.Format("2006-01-02"), d, want)
		}
		if got := string(appendDate(nil, d)); got != tm.Format("2006-01-02") {
			t.Fatalf("appendDate(%d) = %s, want %s", d, got, tm.Format("2006-01-02"))
		}
	}
	c := calendar{y0: 2024, m0: 11, months: 5}
	for i, want := range []string{"2024-09", "2024-10", "2024-11", "2024-12", "2025-01", "2025-02"} {
		if got := string(c.appendMonth(nil, i-2)); got != want {
			t.Errorf("month %d = %s, want %s", i-2, got, want)
		}
	}
}

func TestOptionErrors(t *testing.T) {
	cases := []struct {
		name string
		o    GenerateOptions
		want string
	}{
		{"no out", GenerateOptions{}, "no output directory"},
		{"few months", GenerateOptions{Out: "x", Months: 6}, "months 6 out of range"},
		{"dirty", GenerateOptions{Out: "x", Dirty: 1.5}, "dirty rate 1.5 out of range"},
		{"format", GenerateOptions{Out: "x", Format: "xlsx"}, `unknown format "xlsx"`},
		{"encoding", GenerateOptions{Out: "x", Encoding: "big5"}, `unknown encoding "big5"`},
		{"dirty parquet", GenerateOptions{Out: "x", Format: "parquet", Dirty: 0.1}, "dirty drops are CSV only"},
		{"negative counties", GenerateOptions{Out: "x", Counties: -1}, "counties -1 out of range 1..3000"},
		{"too many counties", GenerateOptions{Out: "x", Counties: 3001}, "counties 3001 out of range 1..3000"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Generate(context.Background(), c.o)
			if !errors.Is(err, ErrOptions) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one containing %q", err, c.want)
			}
			if k := fault.Of(err); k != fault.Usage {
				t.Errorf("error %v is of kind %s, want usage", err, k)
			}
		})
	}
}

func TestCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Generate(ctx, GenerateOptions{Households: 5000, Months: 12, Out: filepath.Join(t.TempDir(), "d")})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context canceled", err)
	}
}

func TestProgress(t *testing.T) {
	for _, tc := range []struct {
		households int
		want       string // the last progress line: all households done
	}{{50, "\rgenerate: 50/50 households (100%)\n"}, {1, "\rgenerate: 1/1 households (100%)\n"}} {
		var buf bytes.Buffer
		gen(t, GenerateOptions{Households: tc.households, Months: 7, Progress: &buf})
		if got := buf.String(); !strings.HasSuffix(got, tc.want) || !strings.HasPrefix(got, "\rgenerate: ") {
			t.Errorf("%d households: progress %q, want it to end with %q", tc.households, got, tc.want)
		}
	}
}

// countingReporter records the stages started and the work counted.
type countingReporter struct {
	stages []string
	totals []int64
	added  int64
	done   int
}

func (c *countingReporter) Start(stage string, total int64) progress.Task {
	c.stages = append(c.stages, stage)
	c.totals = append(c.totals, total)
	return c
}
func (c *countingReporter) Add(n int64) { c.added += n }
func (c *countingReporter) Done()       { c.done++ }

// TestReporter: Generate reports one stage "generate" over the households,
// counts every household once, and ends the stage.
func TestReporter(t *testing.T) {
	for _, n := range []int{1, 300, 1000} {
		r := &countingReporter{}
		gen(t, GenerateOptions{Households: n, Months: 7, Reporter: r})
		if len(r.stages) != 1 || r.stages[0] != "generate" || r.totals[0] != int64(n) {
			t.Errorf("%d households: stages %v totals %v, want [generate] [%d]", n, r.stages, r.totals, n)
		}
		if r.added != int64(n) || r.done != 1 {
			t.Errorf("%d households: added %d, done %d times; want %d, once", n, r.added, r.done, n)
		}
	}
}
