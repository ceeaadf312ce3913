package datasets

import (
	"archive/zip"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// testWorklist writes a work list in the R2 layout (docs/contracts.md): 汇总,
// township sheets with a title block and the header at row 4 (the second
// sheet with its header at row 2 and its columns in another order, to prove
// the reader goes by header text), 说明, and the very hidden _povrisk sheet.
// rows[i] lists the household ids of township sheet i.
func testWorklist(t *testing.T, path, asOf string, rows [][]string) {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	f.SetSheetName("Sheet1", "汇总")
	f.SetCellStr("汇总", "A1", "乡镇")
	headers := [][]string{
		{"序号", "户编号", "村", "风险等级", "新进入", "回头看", "列入原因", "主要风险", "风险原因", "提示", "建议措施", "核查结果", "核查日期", "核查人编号", "备注"},
		{"核查人编号", "序号", "核查结果", "户编号", "备注", "村", "风险等级", "核查日期"},
	}
	for si, ids := range rows {
		name := []string{"醒狮镇", "青松乡"}[si]
		f.NewSheet(name)
		hr := 4
		if si == 1 {
			hr = 2
		} else {
			f.SetCellStr(name, "A1", "开阳县 醒狮镇 返贫致贫风险核查台账")
			f.SetCellStr(name, "A2", "数据截至 "+asOf)
			f.SetCellStr(name, "A3", "内部资料 注意保密")
		}
		for c, h := range headers[si] {
			cell, _ := excelize.CoordinatesToCellName(c+1, hr)
			f.SetCellStr(name, cell, h)
		}
		unlocked, _ := f.NewStyle(&excelize.Style{Protection: &excelize.Protection{Locked: false}, Alignment: &excelize.Alignment{WrapText: true}})
		for c, h := range headers[si] {
			if h == "核查结果" && len(ids) > 0 {
				from, _ := excelize.CoordinatesToCellName(c+1, hr+1)
				to, _ := excelize.CoordinatesToCellName(c+1, hr+len(ids))
				dv := excelize.NewDataValidation(true)
				dv.Sqref = from + ":" + to
				dv.SetDropList(visitLabelsZh)
				f.AddDataValidation(name, dv)
			}
		}
		for i, id := range ids {
			for c, h := range headers[si] {
				cell, _ := excelize.CoordinatesToCellName(c+1, hr+1+i)
				if h == "核查结果" || h == "核查日期" || h == "核查人编号" || h == "备注" {
					f.SetCellStyle(name, cell, cell, unlocked)
				}
				switch h {
				case "序号":
					f.SetCellInt(name, cell, int64(i+1))
				case "户编号":
					f.SetCellStr(name, cell, id)
				case "村":
					f.SetCellStr(name, cell, "坪安寨村")
				case "风险等级":
					f.SetCellStr(name, cell, "高")
				}
			}
		}
	}
	for _, name := range []string{"醒狮镇", "青松乡"}[:len(rows)] {
		f.ProtectSheet(name, &excelize.SheetProtectionOptions{AutoFilter: true, Sort: true, SelectLockedCells: true, SelectUnlockedCells: true})
	}
	f.NewSheet("说明")
	f.NewSheet("_povrisk")
	for i, kv := range [][2]string{{"format", "povrisk-worklist/1"}, {"as_of", asOf}, {"county_code", "520121"}, {"run_checksums", ""}} {
		f.SetCellStr("_povrisk", fmt.Sprintf("A%d", i+1), kv[0])
		f.SetCellStr("_povrisk", fmt.Sprintf("B%d", i+1), kv[1])
	}
	f.SetSheetVisible("_povrisk", false, true)
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
}

// visitRow is a filled work-list row read back.
type visitRow struct {
	sheet, id, outcome, date, visitor, note, village string
	serial                                           bool // the date is a number (a date cell)
}

// readVisits reads back every list row of a work list by header text.
func readVisits(t *testing.T, path string) []visitRow {
	t.Helper()
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []visitRow
	for _, sheet := range f.GetSheetList() {
		if sheet != "醒狮镇" && sheet != "青松乡" {
			continue
		}
		rows, err := f.GetRows(sheet)
		if err != nil {
			t.Fatal(err)
		}
		hr := -1
		col := map[string]int{}
		for i, r := range rows {
			if strings.Join(r, "|") != "" && strings.Contains(strings.Join(r, "|"), "户编号") {
				hr = i
				for j, v := range r {
					col[v] = j
				}
				break
			}
		}
		for ri := hr + 1; ri < len(rows); ri++ {
			get := func(h string) string {
				if j := col[h]; j < len(rows[ri]) {
					return rows[ri][j]
				}
				return ""
			}
			dc, _ := excelize.CoordinatesToCellName(col["核查日期"]+1, ri+1)
			raw, _ := f.GetCellValue(sheet, dc, excelize.Options{RawCellValue: true})
			_, numErr := strconv.ParseFloat(raw, 64)
			ct, _ := f.GetCellType(sheet, dc)
			out = append(out, visitRow{sheet: sheet, id: get("户编号"), outcome: get("核查结果"), date: get("核查日期"),
				visitor: get("核查人编号"), note: get("备注"), village: get("村"), serial: raw != "" && numErr == nil && ct != excelize.CellTypeSharedString && ct != excelize.CellTypeInlineString})
		}
	}
	return out
}

// sheetXML returns one part of an xlsx file.
func sheetXML(t *testing.T, path, part string) string {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	for _, f := range zr.File {
		if f.Name == part {
			rc, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(rc)
			rc.Close()
			return string(b)
		}
	}
	t.Fatalf("%s has no %s", path, part)
	return ""
}

func writeFile(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestSimulateVisitsExact: with every chance rate off, each row holds the
// true state: confirmed for a household identified in the drop within 6
// months after the as-of or with p_identified_6m 1 at the latest truth
// as-of on or before the list's, no_risk otherwise; a date cell within the
// 8 days up to as-of + 20; a visitor code; the other columns unchanged.
func TestSimulateVisitsExact(t *testing.T) {
	dir := t.TempDir()
	run := filepath.Join(dir, "runs", "2025-06-30")
	wl := filepath.Join(run, "worklists")
	os.MkdirAll(wl, 0o755)
	testWorklist(t, filepath.Join(wl, "520121.xlsx"), "2025-06-30", [][]string{{"H01", "H02", "H03"}, {"H04", "H05", "H06"}})
	// H01: p 1 at 2025-06-30 (0 at the earlier as-of, 0 at the later one);
	// H05: identified 2025-08-01; H06: identified after 6 months.
	writeFile(t, filepath.Join(dir, "drop.truth.csv"), "household_id,as_of,p_identified_6m\n"+
		"H01,2025-05-31,0\nH02,2025-05-31,1\nH03,2025-05-31,1\nH04,2025-05-31,1\nH05,2025-05-31,0\nH06,2025-05-31,0\n"+
		"H01,2025-06-30,1\nH02,2025-06-30,0\nH03,2025-06-30,0\nH04,2025-06-30,1\nH05,2025-06-30,0\nH06,2025-06-30,0\n"+
		"H01,2025-07-31,0\nH02,2025-07-31,1\nH03,2025-07-31,1\nH04,2025-07-31,0\nH05,2025-07-31,0\nH06,2025-07-31,0\n")
	os.MkdirAll(filepath.Join(dir, "drop"), 0o755)
	writeFile(t, filepath.Join(dir, "drop", "monitoring_events.csv"), "household_id,identified_date,risk_type,eliminated_date\n"+
		"H05,2025-08-01,illness,\nH06,2026-02-01,illness,\nH02,2025-06-30,illness,\n")
	ranked := "household_id,rules,in_top_k\nH01,,true\nH10,income_drop,false\nH11,,false\nH12,medical,true\n"
	writeFile(t, filepath.Join(run, "ranked.csv"), ranked)
	o := VisitOptions{Run: run, Truth: filepath.Join(dir, "drop.truth.csv"), Drop: filepath.Join(dir, "drop"), Seed: 5,
		NotReached: -1, Moved: -1, Other: -1, Blank: -1, RuleShare: 1, RuleVisits: filepath.Join(dir, "rule.csv")}
	rep, err := SimulateVisits(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"H01": "核实存在风险", "H02": "核实无风险", "H03": "核实无风险", "H04": "核实存在风险", "H05": "核实存在风险", "H06": "核实无风险"}
	got := readVisits(t, filepath.Join(wl, "520121.xlsx"))
	if len(got) != 6 || rep.Rows != 6 || rep.Sheets != 2 || rep.Visited() != 6 || rep.ByOutcome["confirmed"] != 3 || rep.ByOutcome["no_risk"] != 3 || rep.AsOf != "2025-06-30" {
		t.Fatalf("%d rows read back, report %+v", len(got), rep)
	}
	visitor := regexp.MustCompile(`^V[0-9]{4}$`)
	notes := map[string]bool{"": true}
	for _, ns := range visitNotes {
		for _, n := range ns {
			notes[n] = true
		}
	}
	for _, r := range got {
		if r.outcome != want[r.id] {
			t.Errorf("%s: 核查结果 %q, want %q", r.id, r.outcome, want[r.id])
		}
		if !r.serial {
			t.Errorf("%s: 核查日期 %q is not a date cell", r.id, r.date)
		}
		d, err := time.Parse("2006-01-02", r.date)
		if err != nil || d.Before(time.Date(2025, 7, 13, 0, 0, 0, 0, time.UTC)) || d.After(time.Date(2025, 7, 20, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("%s: 核查日期 %q, want a yyyy-mm-dd day in 2025-07-13..20", r.id, r.date)
		}
		if !visitor.MatchString(r.visitor) || !notes[r.note] || r.village != "坪安寨村" {
			t.Errorf("%s: visitor %q, note %q, village %q", r.id, r.visitor, r.note, r.village)
		}
	}
	// The sheet stays protected, its drop-down stays, the visit cells stay
	// unlocked (the date format is added to their style, not swapped in).
	wb, err := excelize.OpenFile(filepath.Join(wl, "520121.xlsx"))
	if err != nil {
		t.Fatal(err)
	}
	dvs, _ := wb.GetDataValidations("醒狮镇")
	if len(dvs) != 1 || dvs[0].Sqref != "L5:L7" {
		t.Errorf("data validations after the fill: %+v", dvs)
	}
	for _, cell := range []string{"L5", "M5", "M7", "N6"} {
		sid, _ := wb.GetCellStyle("醒狮镇", cell)
		st, err := wb.GetStyle(sid)
		if err != nil || st.Protection == nil || st.Protection.Locked {
			t.Errorf("%s: style %+v (err %v), want unlocked", cell, st, err)
		}
	}
	if xml := sheetXML(t, filepath.Join(wl, "520121.xlsx"), "xl/worksheets/sheet2.xml"); !strings.Contains(xml, "<sheetProtection") {
		t.Errorf("醒狮镇 lost its protection")
	}
	wb.Close()
	// Rule-only visits: H10 only (flagged, not in the top k).
	raw, err := os.ReadFile(o.RuleVisits)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	if len(lines) != 2 || lines[0] != "household_id,visit_date,outcome,source,visitor_code,note" || !strings.HasPrefix(lines[1], "H10,2025-07-") || !strings.Contains(lines[1], ",no_risk,rule,R") {
		t.Errorf("rule visits:\n%s", raw)
	}
	// A second pass leaves filled rows alone.
	rep2, err := SimulateVisits(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if rep2.Filled != 6 || len(rep2.ByOutcome) != 0 {
		t.Errorf("second pass: %+v", rep2)
	}
	if again := readVisits(t, filepath.Join(wl, "520121.xlsx")); fmt.Sprint(again) != fmt.Sprint(got) {
		t.Errorf("second pass changed the rows:\n%v\n%v", got, again)
	}
}

// TestSimulateVisitsRates: with the default rates, the outcomes come in
// about the documented shares, a few rows stay blank, and the same seed
// fills the same values (another seed others).
func TestSimulateVisitsRates(t *testing.T) {
	dir := t.TempDir()
	var ids []string
	truth := "household_id,as_of,p_identified_6m\n"
	for i := 0; i < 600; i++ {
		id := fmt.Sprintf("H%05d", i)
		ids = append(ids, id)
		truth += id + ",2025-06-30,0.2\n"
	}
	writeFile(t, filepath.Join(dir, "truth.csv"), truth)
	fill := func(name string, seed uint64) []visitRow {
		wl := filepath.Join(dir, name)
		os.MkdirAll(wl, 0o755)
		testWorklist(t, filepath.Join(wl, "520121.xlsx"), "2025-06-30", [][]string{ids[:300], ids[300:]})
		if _, err := SimulateVisits(context.Background(), VisitOptions{Worklists: wl, Truth: filepath.Join(dir, "truth.csv"), Seed: seed}); err != nil {
			t.Fatal(err)
		}
		return readVisits(t, filepath.Join(wl, "520121.xlsx"))
	}
	a, b, c := fill("a", 1), fill("b", 1), fill("c", 2)
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("same seed, different visits")
	}
	if fmt.Sprint(a) == fmt.Sprint(c) {
		t.Errorf("another seed, the same visits")
	}
	n := map[string]int{}
	for _, r := range a {
		n[r.outcome]++
	}
	within := func(k string, lo, hi int) {
		if n[k] < lo || n[k] > hi {
			t.Errorf("%q: %d of 600 rows, want %d-%d (%v)", k, n[k], lo, hi, n)
		}
	}
	within("", 5, 40)         // blank 3%
	within("未见到户", 25, 80)    // 8%
	within("核实存在风险", 80, 140) // 0.2 of the ~88% visited and reached
	within("核实无风险", 350, 480)
	if n["已迁出"]+n["其他"] > 30 {
		t.Errorf("moved and other: %v", n)
	}
}

// FuzzSimulateVisitsInputs: whatever the truth, the drop's
// monitoring_events and the run's ranked.csv hold, SimulateVisits returns
// an error or a report, never panics; with an error the work list is left
// as it was.
func FuzzSimulateVisitsInputs(f *testing.F) {
	f.Add([]byte("household_id,as_of,p_identified_6m\nH01,2025-06-30,1\n"), []byte("household_id,identified_date\nH02,2025-07-01\n"), []byte("household_id,rules,in_top_k\nH09,x,false\n"))
	f.Add([]byte("household_id,as_of\nH01"), []byte("\"unterminated"), []byte(""))
	f.Add([]byte("\ufeffhousehold_id,as_of,p_identified_6m\nH01,2025-06-30,abc\n"), []byte("household_id,identified_date\n"), []byte("household_id,rules,in_top_k\n,,\n"))
	dir := f.TempDir()
	run := filepath.Join(dir, "2025-06-30")
	wl := filepath.Join(run, "worklists")
	os.MkdirAll(wl, 0o755)
	os.MkdirAll(filepath.Join(dir, "drop"), 0o755)
	list := filepath.Join(wl, "520121.xlsx")
	f.Fuzz(func(t *testing.T, truth, events, ranked []byte) {
		testWorklist(t, list, "2025-06-30", [][]string{{"H01", "H02"}, {"H03"}})
		before, _ := os.ReadFile(list)
		writeFile(t, filepath.Join(dir, "truth.csv"), string(truth))
		writeFile(t, filepath.Join(dir, "drop", "monitoring_events.csv"), string(events))
		writeFile(t, filepath.Join(run, "ranked.csv"), string(ranked))
		_, err := SimulateVisits(context.Background(), VisitOptions{Run: run, Truth: filepath.Join(dir, "truth.csv"), Drop: filepath.Join(dir, "drop"),
			RuleVisits: filepath.Join(dir, "rule.csv"), Seed: 1})
		if after, _ := os.ReadFile(list); err != nil && string(after) != string(before) {
			t.Errorf("error %v, and the work list changed", err)
		}
	})
}

// TestSimulatedFutureExtendsDrop: a longer simulation with the same seed
// repeats the drop's months exactly (its monitoring events up to the drop's
// end are the drop's), so SimulateVisits with Sim finds at risk exactly the
// households the longer run identifies in the 6 months after the as-of.
func TestSimulatedFutureExtendsDrop(t *testing.T) {
	short := gen(t, GenerateOptions{Households: 700, Months: 14, Seed: 13})
	long := gen(t, GenerateOptions{Households: 700, Months: 20, Seed: 13})
	end := short.End.Format("2006-01-02")
	events := func(rep *GenerateReport, until string) []string {
		me := readDrop(t, filepath.Dir(rep.Tables[0].Path), ".csv", nil)["monitoring_events"]
		var out []string
		for _, r := range me.rows {
			if r[1] <= until {
				out = append(out, r[0]+" "+r[1]+" "+r[2])
			}
		}
		return out
	}
	a, b := events(short, end), events(long, end)
	if strings.Join(a, "\n") != strings.Join(b, "\n") || len(a) < 50 {
		t.Fatalf("the 20-month run's identifications up to %s differ from the 14-month drop's (%d vs %d)", end, len(a), len(b))
	}
	// Households the long run identifies in the 6 months after the short end.
	want := map[string]bool{}
	me := readDrop(t, filepath.Dir(long.Tables[0].Path), ".csv", nil)["monitoring_events"]
	for _, r := range me.rows {
		if r[1] > end && r[1] <= long.End.Format("2006-01-02") {
			want[r[0]] = true
		}
	}
	hh := readDrop(t, filepath.Dir(short.Tables[0].Path), ".csv", nil)["households"]
	var ids []string
	for _, r := range hh.rows {
		ids = append(ids, r[0])
	}
	dir := t.TempDir()
	wl := filepath.Join(dir, "worklists")
	os.MkdirAll(wl, 0o755)
	testWorklist(t, filepath.Join(wl, "520121.xlsx"), end, [][]string{ids})
	rep, err := SimulateVisits(context.Background(), VisitOptions{Worklists: wl, Seed: 3, NotReached: -1, Moved: -1, Other: -1, Blank: -1,
		Sim: &GenerateOptions{Households: 700, Months: 14, Seed: 13}})
	if err != nil {
		t.Fatal(err)
	}
	got := readVisits(t, filepath.Join(wl, "520121.xlsx"))
	confirmed := 0
	for _, r := range got {
		if (r.outcome == "核实存在风险") != want[r.id] {
			t.Errorf("%s: %s, identified in the next 6 months: %v", r.id, r.outcome, want[r.id])
		}
		if want[r.id] {
			confirmed++
		}
	}
	if confirmed < 5 || rep.ByOutcome["confirmed"] != confirmed {
		t.Errorf("%d confirmed (report %v)", confirmed, rep.ByOutcome)
	}
}
