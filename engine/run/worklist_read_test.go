package run

import (
	"slices"
	"testing"

	"github.com/xuri/excelize/v2"
)

// readListSheet reads a work-list sheet as povrisk feedback must: the
// header row is the first of the first 20 holding both 户编号 and 核查结果;
// every data row below it becomes a map header text -> cell text.
func readListSheet(t *testing.T, x *excelize.File, sheet string) (header []string, rows []map[string]string) {
	t.Helper()
	all, err := x.GetRows(sheet)
	if err != nil {
		t.Fatal(err)
	}
	at := -1
	for i := 0; i < len(all) && i < 20; i++ {
		if slices.Contains(all[i], colID) && slices.Contains(all[i], colOutcome) {
			at = i
			break
		}
	}
	if at < 0 {
		t.Fatalf("sheet %s has no header row holding %s and %s", sheet, colID, colOutcome)
	}
	header = all[at]
	for _, r := range all[at+1:] {
		m := map[string]string{}
		for j, h := range header {
			if j < len(r) {
				m[h] = r[j]
			} else {
				m[h] = ""
			}
		}
		rows = append(rows, m)
	}
	return header, rows
}
