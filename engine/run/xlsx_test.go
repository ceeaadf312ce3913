package run

import (
	"archive/zip"
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/povrisk/povrisk/engine/rundir"
)

func TestWorklistByteStableAndReadable(t *testing.T) {
	rows := []rundir.Row{
		{HouseholdID: "H1", RegionCode: "520123102201", TownshipCode: "520123102", Score: 0.81234, RankCounty: 1, Tier: "high", InTopK: true, Reasons: "近3个月自付医疗费为平常月份的4.2倍", MeasuresZh: "医疗救助;临时救助"},
		{HouseholdID: "H2", RegionCode: "520123101001", TownshipCode: "520123101", Score: 0.4, RankCounty: 2, Tier: "medium", InTopK: true, Reasons: "r2", MeasuresZh: "就业帮扶"},
		{HouseholdID: "H3", RegionCode: "520123101002", TownshipCode: "520123101", Score: 0.1, RankCounty: 3, Tier: "low", InTopK: false},
	}
	ptrs := []*rundir.Row{&rows[0], &rows[1], &rows[2]}
	var a, b bytes.Buffer
	if err := writeWorklist(&a, ptrs); err != nil {
		t.Fatal(err)
	}
	if err := writeWorklist(&b, ptrs); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("two writes of the same work list differ")
	}
	f, err := excelize.OpenReader(bytes.NewReader(a.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if got := f.GetSheetList(); len(got) != 2 || got[0] != "520123101" || got[1] != "520123102" {
		t.Fatalf("sheets %v, want [520123101 520123102]", got)
	}
	want := map[string][][]string{
		"520123101": {worklistHeader, {"2", "H2", "520123101001", "0.4000", "中", "r2", "就业帮扶"}},
		"520123102": {worklistHeader, {"1", "H1", "520123102201", "0.8123", "高", "近3个月自付医疗费为平常月份的4.2倍", "医疗救助;临时救助"}},
	}
	for sheet, w := range want {
		got, err := f.GetRows(sheet)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(w) {
			t.Fatalf("%s: %d rows, want %d: %q", sheet, len(got), len(w), got)
		}
		for i := range w {
			if len(got[i]) != len(w[i]) {
				t.Fatalf("%s row %d = %q, want %q", sheet, i, got[i], w[i])
			}
			for j := range w[i] {
				if got[i][j] != w[i][j] {
					t.Errorf("%s row %d col %d = %q, want %q", sheet, i, j, got[i][j], w[i][j])
				}
			}
		}
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
	var buf bytes.Buffer
	if err := writeWorklist(&buf, []*rundir.Row{&rows[0]}); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
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
	f, err := excelize.OpenReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	for cell, want := range map[string]string{"B2": evil, "F2": rows[0].Reasons, "G2": "@SUM(1)"} {
		got, _ := f.GetCellValue("520123102", cell)
		formula, _ := f.GetCellFormula("520123102", cell)
		typ, _ := f.GetCellType("520123102", cell)
		if got != want || formula != "" || (typ != excelize.CellTypeSharedString && typ != excelize.CellTypeInlineString) {
			t.Errorf("%s = %q (formula %q, type %v), want the text %q", cell, got, formula, typ, want)
		}
	}
}
