package feedback

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/povrisk/povrisk/engine"
	"github.com/povrisk/povrisk/engine/ingest"
	"github.com/povrisk/povrisk/engine/rundir"
	"github.com/povrisk/povrisk/engine/warehouse"
)

const asOf = "2026-01-31"

// today is the tests' "today": visits after it lie in the future.
func today() time.Time { return time.Date(2026, 2, 20, 12, 0, 0, 0, time.UTC) }

// fixture is a warehouse with households H1..H7 (H1-H6 in county 520123,
// H7 in 520124) and a run directory of 2026-01-31 whose list holds H1,
// H2, H3 (county 520123) and H7 (county 520124); H4 is ranked but not
// on the list, H5 and H6 not ranked.
type fixture struct{ dir, wh, runs string }

func newFixture(t *testing.T) fixture {
	t.Helper()
	dir := t.TempDir()
	f := fixture{dir: dir, wh: filepath.Join(dir, "wh"), runs: filepath.Join(dir, "runs")}
	drop := filepath.Join(dir, "drop")
	os.MkdirAll(drop, 0o700)
	hh := "household_id,region_code,poverty_status,escape_year,monitor_type,registered_date,housing_safe,water_safe\n"
	pp := "person_id,household_id,birth_date,sex,relation,labor_capacity,disability_grade,chronic_disease,major_disease,schooling,deceased_date\n"
	for i := 1; i <= 7; i++ {
		region := "520123102201"
		if i == 7 {
			region = "520124100201"
		}
		hh += fmt.Sprintf("H%d,%s,escaped,2019,,2015-03-01,true,true\n", i, region)
		pp += fmt.Sprintf("P%d,H%d,1980-01-01,M,head,full,0,false,false,compulsory,\n", i, i)
	}
	os.WriteFile(filepath.Join(drop, "households.csv"), []byte(hh), 0o600)
	os.WriteFile(filepath.Join(drop, "persons.csv"), []byte(pp), 0o600)
	db, err := engine.OpenDB("")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := ingest.Run(context.Background(), db, ingest.Options{Drop: drop, Warehouse: f.wh}); err != nil {
		t.Fatal(err)
	}
	w, err := rundir.Begin(f.runs, asOf, rundir.PermsFor(false))
	if err != nil {
		t.Fatal(err)
	}
	rows := []rundir.Row{
		{HouseholdID: "H1", CountyCode: "520123", InTopK: true},
		{HouseholdID: "H2", CountyCode: "520123", InTopK: true},
		{HouseholdID: "H3", CountyCode: "520123", InTopK: true},
		{HouseholdID: "H4", CountyCode: "520123"},
		{HouseholdID: "H7", CountyCode: "520124", InTopK: true},
	}
	for i := range rows {
		rows[i].RegionCode, rows[i].Tier = rows[i].CountyCode+"102201", "high"
	}
	if err := w.Create("ranked.parquet", func(out io.Writer) error { return rundir.WriteRankedParquet(out, rows) }); err != nil {
		t.Fatal(err)
	}
	if err := w.Summary(&rundir.Summary{AsOf: asOf}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Seal(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f fixture) options(files ...string) Options {
	return Options{Warehouse: f.wh, Runs: f.runs, Files: files, Today: today}
}

// cell is a cell value of a test work list: a string, a time.Time (a
// date cell) or a number (an Excel serial or a number typed in).
type listRow struct {
	household, outcome string
	date               any
	visitor, note      string
}

// headers of a township sheet, in the R2 order but for 户编号, which is
// moved after 村 to check that columns are found by their header.
var headers = []string{"序号", "村", "户编号", "风险等级", "新进入", "回头看", "列入原因", "主要风险", "风险原因", "提示", "建议措施", "核查结果", "核查日期", "核查人编号", "备注"}

// writeList writes a work list in the R2 layout: 汇总, one sheet per
// township (title rows 1-3, header at row 4, data from row 5, a drop-down
// on 核查结果, protected), 说明, and the very hidden _povrisk.
func writeList(t testing.TB, path, county string, towns map[string][]listRow, order []string) {
	t.Helper()
	x := excelize.NewFile()
	defer x.Close()
	x.SetSheetName("Sheet1", "汇总")
	x.SetCellValue("汇总", "A1", "乡镇")
	x.SetCellValue("汇总", "B1", "户数")
	for _, town := range order {
		rows := towns[town]
		if _, err := x.NewSheet(town); err != nil {
			t.Fatal(err)
		}
		x.SetCellValue(town, "A1", "修文县 "+town+" 返贫风险核查台账")
		x.SetCellValue(town, "A2", "数据日期："+asOf)
		x.SetCellValue(town, "A3", "内部资料 注意保密")
		for c, h := range headers {
			cell, _ := excelize.CoordinatesToCellName(c+1, 4)
			x.SetCellValue(town, cell, h)
		}
		col := func(h string) int {
			for i, x := range headers {
				if x == h {
					return i + 1
				}
			}
			t.Fatalf("no header %s", h)
			return 0
		}
		for i, r := range rows {
			set := func(h string, v any) {
				if v == nil || v == "" {
					return
				}
				cell, _ := excelize.CoordinatesToCellName(col(h), 5+i)
				if err := x.SetCellValue(town, cell, v); err != nil {
					t.Fatal(err)
				}
			}
			set("序号", i+1)
			set("村", "坪安寨村")
			set("户编号", r.household)
			set("风险等级", "高")
			set("核查结果", r.outcome)
			set("核查日期", r.date)
			set("核查人编号", r.visitor)
			set("备注", r.note)
		}
		dv := excelize.NewDataValidation(true)
		dv.Sqref = fmt.Sprintf("L5:L%d", 5+len(rows))
		dv.SetDropList([]string{"核实存在风险", "核实无风险", "未见到户", "已迁出", "其他"})
		x.AddDataValidation(town, dv)
		x.SetPanes(town, &excelize.Panes{Freeze: true, YSplit: 4, TopLeftCell: "A5", ActivePane: "bottomLeft"})
		x.ProtectSheet(town, &excelize.SheetProtectionOptions{AutoFilter: true, Sort: true})
	}
	x.NewSheet("说明")
	x.SetCellValue("说明", "A1", "核查结果：核实存在风险 confirmed ……")
	x.NewSheet(metaSheet)
	for i, kv := range [][2]string{{"format", "povrisk-worklist/1"}, {"as_of", asOf}, {"county_code", county}, {"run_checksums", ""}} {
		x.SetCellValue(metaSheet, fmt.Sprintf("A%d", i+1), kv[0])
		x.SetCellValue(metaSheet, fmt.Sprintf("B%d", i+1), kv[1])
	}
	if err := x.SetSheetVisible(metaSheet, false, true); err != nil {
		t.Fatal(err)
	}
	if err := x.SaveAs(path); err != nil {
		t.Fatal(err)
	}
}

// readRejects reads a reject file: rows keyed "sheet:row" -> reason_code.
func readRejects(t testing.TB, path string) (map[string]string, string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), "\ufeff") {
		t.Errorf("%s has no BOM", path)
	}
	recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(b), "\ufeff"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(recs[0], ",") != "file,sheet,row,column,reason,reason_code,original" {
		t.Fatalf("reject header %v", recs[0])
	}
	out := map[string]string{}
	for _, r := range recs[1:] {
		out[r[1]+":"+r[2]] = r[5]
	}
	return out, string(b)
}

// stored dumps the warehouse's visit_outcomes as lines
// household|date|outcome|source|visitor|note.
func stored(t testing.TB, wh string) []string {
	t.Helper()
	w, err := warehouse.Open(wh)
	if err != nil {
		t.Fatal(err)
	}
	p, ok := w.TablePath(table)
	if !ok {
		return nil
	}
	return dumpVisits(t, p)
}

func dumpVisits(t testing.TB, path string) []string {
	t.Helper()
	vs, err := readVisits(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, v := range vs {
		out = append(out, strings.Join([]string{v.household, formatDays(v.date), v.outcome, v.source, v.visitor, v.note}, "|"))
	}
	return out
}
