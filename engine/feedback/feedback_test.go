package feedback

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/povrisk/povrisk/engine/fault"
	"github.com/povrisk/povrisk/engine/warehouse"
)

// The filled work list of the tests, row by row (data from sheet row 5),
// with what each row must give.
func filledList() (map[string][]listRow, []string) {
	d := func(m, day int) time.Time { return time.Date(2026, time.Month(m), day, 0, 0, 0, 0, time.UTC) }
	return map[string][]listRow{
		"醒狮镇": {
			{"H1", "核实存在风险", d(2, 3), "", ""},                                     // 5 accepted: a date cell
			{"H2", "核实无风险", 46057.0, "GZ01", "户主电话13912345678"},                   // 6 accepted: serial 46057 = 2026-02-04
			{"H3", "", "2026-02-05", "", "没人在家"},                                  // 7 blank: no outcome
			{"H3", " 未见到户 ", "2026/2/5", "", ""},                                  // 8 accepted: spaces trimmed, text date
			{"H4", "其他", "2026-02-06", "", ""},                                    // 9 not_on_list (ranked, not in the top k)
			{"H9", "其他", "2026-02-06", "", ""},                                    // 10 unknown_household
			{"H1", "找到了", "2026-02-06", "", ""},                                   // 11 bad_outcome
			{"H2", "已迁出", "2月5日", "", ""},                                         // 12 bad_date
			{"H2", "已迁出", "2026-03-01", "", ""},                                   // 13 future_date
			{"H2", "已迁出", "2026-01-15", "", ""},                                   // 14 before_as_of
			{"H1", "confirmed", "2026年2月3日", "", ""},                              // 15 duplicate of row 5
			{"H2", "moved", "20260207", "=1+1", ""},                               // 16 bad_visitor_code
			{"H3", "其他", "2026-02-08", "", "身份证52012319800101100X 电话13800000001"}, // 17 accepted, ID number redacted
			{"H9", "其他", "2026-02-09", "", "电话13800000001"},                       // 18 unknown_household, note withheld
			{"", "", "", "", ""},                                                  // 19 no cell: not a row
			{"H1", "", "", "A7", ""},                                              // 20 blank
		},
		"谷堡乡": {
			{"H1", "其他", "2026-02-10", "", ""}, // 5 accepted
			{"H7", "其他", "2026-02-10", "", ""}, // 6 not_on_list: on the list of another county
		},
	}, []string{"醒狮镇", "谷堡乡"}
}

var wantRejects = map[string]string{
	"醒狮镇:9": "not_on_list", "醒狮镇:10": "unknown_household", "醒狮镇:11": "bad_outcome", "醒狮镇:12": "bad_date",
	"醒狮镇:13": "future_date", "醒狮镇:14": "before_as_of", "醒狮镇:15": "duplicate", "醒狮镇:16": "bad_visitor_code",
	"醒狮镇:18": "unknown_household", "谷堡乡:6": "not_on_list",
}

var wantStored = []string{
	"H1|2026-02-03|confirmed|model||",
	"H1|2026-02-10|other|model||",
	"H2|2026-02-04|no_risk|model|GZ01|户主电话13912345678",
	"H3|2026-02-05|not_reached|model||",
	"H3|2026-02-08|other|model||身份证[ID number] 电话13800000001",
}

// clear holds the personal data of the notes, never in a reject file or a report.
var clear = []string{"13912345678", "13800000001", "52012319800101100X", "没人在家", "户主电话"}

func checkWorkListImport(t *testing.T, f fixture, list string) *Report {
	t.Helper()
	o := f.options(list)
	o.MaxRejectShare = 1
	rep, err := Import(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	want := Counts{Read: 17, Accepted: 5, Rejected: 10, Blank: 2}
	if rep.Counts != want {
		t.Errorf("counts %+v, want %+v", rep.Counts, want)
	}
	if len(rep.Files) != 1 || len(rep.Files[0].Sheets) != 2 {
		t.Fatalf("files %+v, want one file with two township sheets", rep.Files)
	}
	sheets := map[string]Counts{}
	for _, s := range rep.Files[0].Sheets {
		sheets[s.Sheet] = s.Counts
	}
	wantSheets := map[string]Counts{"醒狮镇": {Read: 15, Accepted: 4, Rejected: 9, Blank: 2}, "谷堡乡": {Read: 2, Accepted: 1, Rejected: 1}}
	if !reflect.DeepEqual(sheets, wantSheets) {
		t.Errorf("sheets %+v, want %+v", sheets, wantSheets)
	}
	if rep.Files[0].AsOf != asOf || rep.Files[0].County != "520123" {
		t.Errorf("file as_of %q county %q", rep.Files[0].AsOf, rep.Files[0].County)
	}
	got, text := readRejects(t, rep.RejectFile)
	if !reflect.DeepEqual(got, wantRejects) {
		t.Errorf("rejects %v\nwant %v", got, wantRejects)
	}
	if !strings.Contains(text, "备注=***") {
		t.Errorf("the note of a rejected row is not withheld:\n%s", text)
	}
	js, _ := json.Marshal(rep)
	for _, c := range clear {
		if strings.Contains(text, c) || strings.Contains(string(js), c) {
			t.Errorf("%q in clear in the reject file or the report", c)
		}
	}
	if g := stored(t, f.wh); !reflect.DeepEqual(g, wantStored) {
		t.Errorf("stored\n%s\nwant\n%s", strings.Join(g, "\n"), strings.Join(wantStored, "\n"))
	}
	return rep
}

// TestWorkListImport: every kind of row of a work list, counted and
// stored as worked out by hand above; then a CSV import replaces one key
// and the first import's rows stay in its history; the same files again
// change nothing.
func TestWorkListImport(t *testing.T) {
	f := newFixture(t)
	list := filepath.Join(f.dir, "520123.xlsx")
	towns, order := filledList()
	writeList(t, list, "520123", towns, order)
	rep := checkWorkListImport(t, f, list)
	if rep.WarehouseVersion != "v000002" || rep.Replaced != 0 || rep.RejectFile != filepath.Join(f.wh, "drops", rep.ImportID, "rejects.csv") {
		t.Errorf("version %s replaced %d reject file %s", rep.WarehouseVersion, rep.Replaced, rep.RejectFile)
	}
	first := rep.ImportID

	csvPath := filepath.Join(f.dir, "visits.csv")
	os.WriteFile(csvPath, []byte("\ufeffhousehold_id,visit_date,outcome,source,visitor_code,note\n"+
		"H1,2026-02-03,no_risk,rule,V9,复核\n"+ // replaces H1 2026-02-03
		"H5,2026/2/11,核实存在风险,,,\n"+ // not on any list: a CSV has none to check
		"H5,2026-02-12,,other,,\n"+ // blank
		"H6,2026-02-12,other,app,,\n"), 0o600) // bad_source
	o := f.options(csvPath)
	o.MaxRejectShare = 0.5
	rep, err := Import(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Counts{Read: 4, Accepted: 2, Rejected: 1, Blank: 1}); rep.Counts != want || rep.Replaced != 1 || rep.WarehouseVersion != "v000003" {
		t.Errorf("csv: counts %+v replaced %d version %s, want %+v, 1, v000003", rep.Counts, rep.Replaced, rep.WarehouseVersion, want)
	}
	if got, _ := readRejects(t, rep.RejectFile); !reflect.DeepEqual(got, map[string]string{":5": "bad_source"}) {
		t.Errorf("csv rejects %v", got)
	}
	want := append([]string{"H1|2026-02-03|no_risk|rule|V9|复核"}, wantStored[1:]...)
	want = append(want, "H5|2026-02-11|confirmed||||")
	want[len(want)-1] = "H5|2026-02-11|confirmed|||"
	if g := stored(t, f.wh); !reflect.DeepEqual(g, want) {
		t.Errorf("after the CSV\n%s\nwant\n%s", strings.Join(g, "\n"), strings.Join(want, "\n"))
	}
	// History: the first import's rows, the replaced one included.
	if g := dumpVisits(t, filepath.Join(f.wh, "drops", first, table+".parquet")); !reflect.DeepEqual(g, wantStored) {
		t.Errorf("history of the first import\n%s", strings.Join(g, "\n"))
	}
	// The same file again: nothing written.
	rep, err = Import(context.Background(), o)
	if err != nil || !rep.Unchanged || rep.WarehouseVersion != "v000003" {
		t.Errorf("again: %v unchanged %v version %s", err, rep.Unchanged, rep.WarehouseVersion)
	}
}

// TestTooManyRejects: above the share, nothing is stored, the reject file
// is there to read, and the error is bad input.
func TestTooManyRejects(t *testing.T) {
	f := newFixture(t)
	list := filepath.Join(f.dir, "520123.xlsx")
	towns, order := filledList()
	writeList(t, list, "520123", towns, order)
	rep, err := Import(context.Background(), f.options(list))
	if fault.Of(err) != fault.BadInput || !errors.Is(err, ErrTooManyRejects) {
		t.Fatalf("err %v (kind %v), want too many rejects, bad input", err, fault.Of(err))
	}
	if w, _ := warehouse.Open(f.wh); w.Version() != "v000001" {
		t.Errorf("version %s after a failed import", w.Version())
	}
	if got, _ := readRejects(t, rep.RejectFile); len(got) != 10 {
		t.Errorf("%d rejects in %s, want 10", len(got), rep.RejectFile)
	}
	if rep.Read != rep.Accepted+rep.Rejected+rep.Blank || rep.Rejected != 10 {
		t.Errorf("counts %+v", rep.Counts)
	}
}

// TestMissingRun: a work list of a run the runs directory does not hold
// is bad input naming the directory; nothing is stored.
func TestMissingRun(t *testing.T) {
	f := newFixture(t)
	list := filepath.Join(f.dir, "520123.xlsx")
	towns, order := filledList()
	writeList(t, list, "520123", towns, order)
	o := f.options(list)
	o.Runs = filepath.Join(f.dir, "elsewhere")
	_, err := Import(context.Background(), o)
	if fault.Of(err) != fault.BadInput || !errors.Is(err, ErrNoRun) || !strings.Contains(err.Error(), filepath.Join(o.Runs, asOf)) {
		t.Fatalf("err %v (kind %v), want a missing run directory named, bad input", err, fault.Of(err))
	}
	if w, _ := warehouse.Open(f.wh); w.Version() != "v000001" {
		t.Errorf("version %s", w.Version())
	}
}

// TestGB18030CSV: a CSV saved by Chinese office software in GB18030.
func TestGB18030CSV(t *testing.T) {
	f := newFixture(t)
	text := "household_id,visit_date,outcome,source,visitor_code,note\nH2,2026年2月9日,核实无风险,model,甲01,已核\n"
	b, err := simplifiedchinese.GB18030.NewEncoder().Bytes([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(f.dir, "gbk.csv")
	os.WriteFile(p, b, 0o600)
	rep, err := Import(context.Background(), f.options(p))
	if err != nil || rep.Accepted != 1 || rep.Read != 1 {
		t.Fatalf("%v %+v", err, rep)
	}
	if g := stored(t, f.wh); !reflect.DeepEqual(g, []string{"H2|2026-02-09|no_risk|model|甲01|已核"}) {
		t.Errorf("stored %v", g)
	}
}

// TestNotAWorkList: whole-file problems are bad input, before anything
// is locked or written.
func TestNotAWorkList(t *testing.T) {
	f := newFixture(t)
	for name, body := range map[string][]byte{
		"zip.xlsx":   []byte("PK\x03\x04 not really a zip"),
		"nohead.csv": []byte("a,b\n1,2\n"),
		"empty.csv":  {},
		"quote.csv":  []byte("household_id,visit_date,outcome\n\"H1,2026-02-01,other\n"),
		"twice.csv":  []byte("household_id,household_id,visit_date,outcome\n"),
	} {
		p := filepath.Join(f.dir, name)
		os.WriteFile(p, body, 0o600)
		if _, err := Import(context.Background(), f.options(p)); fault.Of(err) != fault.BadInput {
			t.Errorf("%s: %v (kind %v), want bad input", name, err, fault.Of(err))
		}
	}
}

// failWriter fails every write, as a full disk does.
type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, syscall.ENOSPC }

// TestWriteFailure: a disk that fails while the new visit_outcomes, the
// import's manifest, the reject file or the version's manifest is written
// is "could not write" (fault.Write), and the previous version stays.
func TestWriteFailure(t *testing.T) {
	for _, name := range []string{"visit_outcomes.parquet", "manifest.json", "rejects.csv", "CURRENT"} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			p := filepath.Join(f.dir, "visits.csv")
			os.WriteFile(p, []byte("household_id,visit_date,outcome\nH1,2026-02-01,other\nH9,2026-02-01,other\n"), 0o600)
			o := f.options(p)
			o.MaxRejectShare = 1
			o.WrapWriter = func(path string, w io.Writer) io.Writer {
				if filepath.Base(path) == name {
					return failWriter{}
				}
				return w
			}
			_, err := Import(context.Background(), o)
			if fault.Of(err) != fault.Write {
				t.Fatalf("err %v (kind %v), want could not write", err, fault.Of(err))
			}
			if w, _ := warehouse.Open(f.wh); w.Version() != "v000001" {
				t.Errorf("version %s after a failed write", w.Version())
			}
		})
	}
}
