package run

import (
	"bytes"
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
