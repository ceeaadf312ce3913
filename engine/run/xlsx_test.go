package run

import (
	"archive/zip"
	"bytes"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/povrisk/povrisk/engine/rundir"
)

// testNames names two townships (one too long for a sheet) and a village.
var testNames = map[string]string{"520123": "修文县", "520123101": "龙场镇", "520123102": strings.Repeat("很长的名字", 7), "520123101001": "红岩村"}

func testWorklist(rows []rundir.Row) *worklist {
	ptrs := make([]*rundir.Row, len(rows))
	for i := range rows {
		ptrs[i] = &rows[i]
	}
	return &worklist{county: "520123", asOf: "2025-12-31", k: 2, rows: ptrs, names: func(c string) string { return testNames[c] }}
}

func testRows() []rundir.Row {
	return []rundir.Row{
		{HouseholdID: "H1", RegionCode: "520123102201", TownshipCode: "520123102", Score: 0.81234, RankCounty: 1, Tier: "high", InTopK: true,
			Reasons: "近3个月自付医疗费为平常月份的4.2倍", MeasuresZh: "医疗救助;临时救助", PrimaryRiskType: "illness", Entered: true},
		{HouseholdID: "H2", RegionCode: "520123101001", VillageName: "红岩村", TownshipCode: "520123101", Score: 0.04, RankCounty: 2, Tier: "low",
			InTopK: true, Reasons: "r2", MeasuresZh: "就业帮扶", PrimaryRiskType: "unemployment", Watch: true, EliminatedDate: "2025-06-30",
			Conflicts: "车辆1条记录"},
		{HouseholdID: "H3", RegionCode: "520123101002", TownshipCode: "520123101", Score: 0.01, RankCounty: 3, Tier: "low", InTopK: false},
	}
}

func writeTestWorklist(t *testing.T, wl *worklist) []byte {
	t.Helper()
	var a bytes.Buffer
	if err := writeWorklist(&a, wl); err != nil {
		t.Fatal(err)
	}
	return a.Bytes()
}

func TestWorklistByteStableAndReadable(t *testing.T) {
	a := writeTestWorklist(t, testWorklist(testRows()))
	if b := writeTestWorklist(t, testWorklist(testRows())); !bytes.Equal(a, b) {
		t.Fatal("two writes of the same work list differ")
	}
	f, err := excelize.OpenReader(bytes.NewReader(a))
	if err != nil {
		t.Fatal(err)
	}
	long := testNames["520123102"] + "(520123102)" // 35 + 11 characters: too long for either form
	wantSheets := []string{"汇总", "龙场镇", "520123102", "说明", "_povrisk"}
	if got := f.GetSheetList(); strings.Join(got, ",") != strings.Join(wantSheets, ",") {
		t.Fatalf("sheets %v, want %v (%d runes)", got, wantSheets, len([]rune(long)))
	}
	want := map[string][]map[string]string{
		"龙场镇": {{colSeq: "2", colID: "H2", colVillage: "红岩村", colTier: "低", colNew: "", colWatch: "是",
			colWhy: "县内名额（全县按风险排名前2户均列入）", colRisk: "因务工就业不稳", colReasons: "r2", colHint: "车辆1条记录", colMeasures: "就业帮扶", colOutcome: ""}},
		"520123102": {{colSeq: "1", colID: "H1", colVillage: "520123102201", colTier: "高", colNew: "新", colWatch: "", colWhy: "风险等级高",
			colRisk: "因病", colReasons: "近3个月自付医疗费为平常月份的4.2倍", colMeasures: "医疗救助；临时救助"}},
	}
	for sheet, w := range want {
		header, got := readListSheet(t, f, sheet)
		if strings.Join(header, ",") != strings.Join(worklistHeader(), ",") {
			t.Errorf("%s header %v", sheet, header)
		}
		if len(got) != len(w) {
			t.Fatalf("%s: %d rows, want %d: %q", sheet, len(got), len(w), got)
		}
		for i := range w {
			for col, v := range w[i] {
				if got[i][col] != v {
					t.Errorf("%s row %d %s = %q, want %q", sheet, i, col, got[i][col], v)
				}
			}
		}
		if title, _ := f.GetCellValue(sheet, "A3"); title != "内部资料 注意保密" {
			t.Errorf("%s A3 = %q", sheet, title)
		}
	}
	if v, _ := f.GetCellValue("520123102", "A1"); v != "修文县 "+testNames["520123102"]+" 防返贫监测预警核查台账" {
		t.Errorf("title %q", v)
	}
	// 汇总: per township listed, high, new, watch; then the totals.
	sum, _ := f.GetRows("汇总")
	wantSum := [][]string{{"龙场镇", "520123101", "1", "0", "0", "1", "龙场镇"}, {testNames["520123102"], "520123102", "1", "1", "1", "0", "520123102"},
		{"合计", "", "2", "1", "1", "1"}}
	for i, w := range wantSum {
		if got := strings.Join(sum[headerRow+i], "|"); got != strings.Join(w, "|") {
			t.Errorf("汇总 row %d = %s, want %s", i, got, strings.Join(w, "|"))
		}
	}
	props, _ := f.GetDocProps()
	if props.Created != "2025-12-31T00:00:00Z" || props.Modified != "2025-12-31T00:00:00Z" {
		t.Errorf("doc props dated %s / %s, want the as-of date", props.Created, props.Modified)
	}
}

// TestWorklistFormat checks the parts of the 台账 format that the sheet
// values do not show: the very hidden _povrisk sheet, the drop-down of
// exactly the five outcome labels, the date check, the frozen header,
// the autofilter, the protection with only the visit cells unlocked,
// the print setup.
func TestWorklistFormat(t *testing.T) {
	b := writeTestWorklist(t, testWorklist(testRows()))
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	meta, _ := f.GetRows("_povrisk")
	wantMeta := [][]string{{"format", "povrisk-worklist/1"}, {"as_of", "2025-12-31"}, {"county_code", "520123"}, {"run_checksums"}}
	for i, w := range wantMeta {
		if i >= len(meta) || strings.Join(meta[i], "=") != strings.Join(w, "=") {
			t.Errorf("_povrisk row %d = %v, want %v", i+1, meta, w)
		}
	}
	if vis, _ := f.GetSheetVisible("_povrisk"); vis {
		t.Error("_povrisk is visible")
	}
	wb := zipFile(t, b, "xl/workbook.xml")
	if !strings.Contains(wb, `name="_povrisk" sheetId="5" state="veryHidden"`) && !strings.Contains(wb, `state="veryHidden"`) {
		t.Errorf("_povrisk is not very hidden: %s", wb)
	}
	if !strings.Contains(wb, "_xlnm.Print_Titles") || !strings.Contains(wb, "$4:$4") {
		t.Errorf("no print titles of row 4: %s", wb)
	}
	const sheet = "龙场镇"
	dvs, err := f.GetDataValidations(sheet)
	if err != nil {
		t.Fatal(err)
	}
	var list, date bool
	for _, dv := range dvs {
		switch dv.Type {
		case "list":
			list = dv.Sqref == "L5:L5" && dv.Formula1 == `"核实存在风险,核实无风险,未见到户,已迁出,其他"`
		case "date":
			date = dv.Sqref == "M5:M5"
		}
	}
	if !list || !date {
		t.Errorf("validations %+v: want the outcome list on L5 and a date check on M5", dvs)
	}
	xml := zipFile(t, b, "xl/worksheets/sheet2.xml")
	for _, want := range []string{`state="frozen" topLeftCell="A5" ySplit="4"`, `<autoFilter ref="$A$4:$O$5"`,
		`orientation="landscape"`, `paperSize="9"`, `fitToWidth="1"`, `fitToHeight="0"`, `<pageSetUpPr fitToPage="true"`, `<sheetProtection sheet="true"`,
		`autoFilter="false"`, `sort="false"`} {
		if !strings.Contains(xml, want) {
			t.Errorf("sheet %s XML lacks %s", sheet, want)
		}
	}
	for cell, locked := range map[string]bool{"A5": true, "I5": true, "K5": true, "L5": false, "M5": false, "N5": false, "O5": false, "A4": true} {
		id, _ := f.GetCellStyle(sheet, cell)
		st, err := f.GetStyle(id)
		if err != nil {
			t.Fatal(err)
		}
		got := st.Protection == nil || st.Protection.Locked
		if got != locked {
			t.Errorf("%s locked %v, want %v", cell, got, locked)
		}
	}
}

func zipFile(t *testing.T, b []byte, name string) string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	for _, zf := range zr.File {
		if zf.Name == name {
			rc, _ := zf.Open()
			x, _ := io.ReadAll(rc)
			rc.Close()
			return string(x)
		}
	}
	t.Fatalf("no %s in the workbook", name)
	return ""
}

func TestSheetNames(t *testing.T) {
	names := map[string]string{"1": "甲镇", "2": "乙镇", "3": "乙镇", "4": "", "5": "说明", "6": "a/b"}
	got := sheetNames([]string{"1", "2", "3", "4", "5", "6"}, func(c string) string { return names[c] })
	want := map[string]string{"1": "甲镇", "2": "乙镇(2)", "3": "乙镇(3)", "4": "4", "5": "说明(5)", "6": "6"}
	for c, w := range want {
		if got[c] != w {
			t.Errorf("township %s: sheet %q, want %q", c, got[c], w)
		}
	}
}

// TestWorklistElimSheet: a county with monitored households gets the
// 风险消除评估 sheet before 说明, one line per household with its verdict.
func TestWorklistElimSheet(t *testing.T) {
	wl := testWorklist(testRows())
	wl.elim = []rundir.ElimRow{{HouseholdID: "M1", RegionCode: "520123101001", VillageName: "红岩村", IdentifiedDate: "2025-01-31",
		MonthsSinceIdentified: 11, IncomePC6m: 9000, IncomePC12m: 8800.4, Line: 7000, Relapse: 0.123, Verdict: "ready",
		Conditions: []rundir.ElimCondition{{Name: "收入", Met: true, Fact: "近12个月人均8800元，高于监测线7000元"}}}}
	f, err := excelize.OpenReader(bytes.NewReader(writeTestWorklist(t, wl)))
	if err != nil {
		t.Fatal(err)
	}
	if got := f.GetSheetList(); !slices.Equal(got[len(got)-3:], []string{sheetElim, sheetHelp, sheetMeta}) {
		t.Fatalf("sheets %v", got)
	}
	rows, _ := f.GetRows(sheetElim)
	got := strings.Join(rows[headerRow], "|")
	want := "1|M1|红岩村|2025-01-31|11|9000|8800|7000|0|12%|可消除||收入：满足（近12个月人均8800元，高于监测线7000元）"
	if got != want {
		t.Errorf("elimination line\n got %s\nwant %s", got, want)
	}
}

// TestWorklistFormulaCellsStayText: excelize writes string values as
// strings, never as formulas, so a hostile household id or reason reaches
// the office as text: the sheet XML holds no <f> element, and the cell
// reads back with its text and no formula.
func TestWorklistFormulaCellsStayText(t *testing.T) {
	evil := `=HYPERLINK("http://evil/","click")`
	rows := []rundir.Row{{HouseholdID: evil, RegionCode: "520123102201", TownshipCode: "520123102", Score: 0.5, RankCounty: 1,
		Tier: "high", InTopK: true, Reasons: "+cmd|' /C calc'!A0", MeasuresZh: "@SUM(1)"}}
	wl := testWorklist(rows)
	wl.names = nil
	buf := writeTestWorklist(t, wl)
	zr, err := zip.NewReader(bytes.NewReader(buf), int64(len(buf)))
	if err != nil {
		t.Fatal(err)
	}
	for _, zf := range zr.File {
		if !strings.HasPrefix(zf.Name, "xl/worksheets/") {
			continue
		}
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		if bytes.Contains(b, []byte("<f>")) || bytes.Contains(b, []byte("<f ")) {
			t.Errorf("%s holds a formula element:\n%s", zf.Name, b)
		}
	}
	f, err := excelize.OpenReader(bytes.NewReader(buf))
	if err != nil {
		t.Fatal(err)
	}
	for cell, want := range map[string]string{"B5": evil, "I5": rows[0].Reasons, "K5": "@SUM(1)"} {
		got, _ := f.GetCellValue("520123102", cell)
		formula, _ := f.GetCellFormula("520123102", cell)
		typ, _ := f.GetCellType("520123102", cell)
		if got != want || formula != "" || (typ != excelize.CellTypeSharedString && typ != excelize.CellTypeInlineString) {
			t.Errorf("%s = %q (formula %q, type %v), want the text %q", cell, got, formula, typ, want)
		}
	}
}

// FuzzSheetNames: whatever the regions table names the townships, every
// sheet name is unique, at most 31 characters, free of the characters a
// sheet name may not hold, and accepted by excelize.
func FuzzSheetNames(f *testing.F) {
	f.Add("龙场镇", "龙场镇", "")
	f.Add(strings.Repeat("长", 40), "说明", "a[b]")
	f.Add("汇总", "_povrisk", "x(520123102)")
	f.Fuzz(func(t *testing.T, a, b, c string) {
		names := map[string]string{"520123101": a, "520123102": b, "520123103": c}
		got := sheetNames([]string{"520123101", "520123102", "520123103"}, func(code string) string { return names[code] })
		seen := map[string]bool{sheetSummary: true, sheetElim: true, sheetHelp: true, sheetMeta: true}
		x := excelize.NewFile()
		defer x.Close()
		for code, n := range got {
			if seen[n] || len([]rune(n)) > 31 || strings.ContainsAny(n, `:\/?*[]'`) || n == "" {
				t.Fatalf("township %s: sheet name %q (names %q)", code, n, names)
			}
			seen[n] = true
			if _, err := x.NewSheet(n); err != nil {
				t.Fatalf("excelize refuses %q: %v", n, err)
			}
		}
	})
}

// TestRowHeight: one line for short cells, wrapped lines for long ones
// (CJK wider than digits), explicit line breaks counted, capped at
// Excel's largest row height.
func TestRowHeight(t *testing.T) {
	w := []float64{11, 11}
	cases := []struct {
		vals []any
		want float64
	}{
		{[]any{1, "短"}, lineHeight + 3},
		{[]any{"一二三四五六七八九十", ""}, 2*lineHeight + 3}, // 17 units in 10
		{[]any{"0123456789", "a\nb\nc"}, 3*lineHeight + 3},
		{[]any{strings.Repeat("长", 10000), ""}, excelize.MaxRowHeight},
	}
	for _, c := range cases {
		if got := rowHeight(c.vals, w); got != c.want {
			t.Errorf("rowHeight(%q) = %v, want %v", c.vals, got, c.want)
		}
	}
}
