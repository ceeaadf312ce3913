package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// TestFeedbackCommand: a CSV import stores its rows and prints the
// counts as JSON (never a note); no FILE is a usage error; a work list
// of a run the runs directory lacks, and too many rejects, are bad input.
func TestFeedbackCommand(t *testing.T) {
	t.Setenv("POVRISK_KEY", "cmd-test-key-0123456789")
	t.Setenv("POVRISK_KEY_FILE", "")
	dir := t.TempDir()
	wh := filepath.Join(dir, "w")
	if code, _, errs := runCLI(t, []string{"ingest", "--drop", "../../engine/ingest/testdata/clean", "--warehouse", wh, "-q"}); code != 0 {
		t.Fatalf("ingest: exit %d: %s", code, errs)
	}
	visits := filepath.Join(dir, "visits.csv")
	writeTestFile(t, visits, "household_id,visit_date,outcome,source,visitor_code,note\n"+
		"H001,2025-06-01,confirmed,rule,,电话13912345678\nH002,2025/6/2,核实无风险,,,\nH003,,,,,\n")
	code, out, errs := runCLI(t, []string{"feedback", "--warehouse", wh, "--json", visits})
	if code != 0 {
		t.Fatalf("feedback: exit %d: %s", code, errs)
	}
	var rep struct {
		Read, Accepted, Rejected, Blank int
		Files                           []json.RawMessage
		RejectFile                      *string `json:"reject_file"`
		WarehouseVersion                string  `json:"warehouse_version"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if rep.Read != 3 || rep.Accepted != 2 || rep.Rejected != 0 || rep.Blank != 1 || len(rep.Files) != 1 || rep.RejectFile == nil || *rep.RejectFile != "" || rep.WarehouseVersion != "v000002" {
		t.Errorf("report %+v from\n%s", rep, out)
	}
	if strings.Contains(out+errs, "13912345678") {
		t.Errorf("a note was printed:\n%s%s", out, errs)
	}
	if !strings.Contains(errs, "2 visit outcomes stored (0 replacing earlier ones): warehouse version v000002") {
		t.Errorf("stderr: %s", errs)
	}

	list := filepath.Join(dir, "520123.xlsx")
	x := excelize.NewFile()
	x.SetSheetName("Sheet1", "醒狮镇")
	x.SetSheetRow("醒狮镇", "A4", &[]any{"户编号", "核查结果", "核查日期"})
	x.SetSheetRow("醒狮镇", "A5", &[]any{"H001", "其他", "2026-02-01"})
	x.NewSheet("_povrisk")
	x.SetSheetRow("_povrisk", "A1", &[]any{"format", "povrisk-worklist/1"})
	x.SetSheetRow("_povrisk", "A2", &[]any{"as_of", "2026-01-31"})
	x.SetSheetRow("_povrisk", "A3", &[]any{"county_code", "520123"})
	if err := x.SaveAs(list); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.csv")
	writeTestFile(t, bad, "household_id,visit_date,outcome\nH404,2025-06-01,other\nH001,2025-06-03,other\n")
	for _, tc := range []struct {
		name string
		args []string
		code int
		text string
	}{
		{"no file", []string{"feedback", "--warehouse", wh}, 2, "no FILE given"},
		{"no run", []string{"feedback", "--warehouse", wh, "--runs", filepath.Join(dir, "runs"), list}, 3, filepath.Join(dir, "runs", "2026-01-31") + " does not exist"},
		{"too many rejects", []string{"feedback", "--warehouse", wh, bad}, 3, "too many rejected rows: 1 of 2"},
		{"share allows", []string{"feedback", "--warehouse", wh, "--max-reject-share", "0.5", bad}, 0, "warehouse version v000003"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errs := runCLI(t, tc.args)
			if code != tc.code || !strings.Contains(errs, tc.text) {
				t.Errorf("exit %d, want %d with %q\nstderr: %s", code, tc.code, tc.text, errs)
			}
		})
	}
}
