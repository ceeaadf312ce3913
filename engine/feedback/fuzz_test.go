package feedback

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
)

// fuzzChecker checks rows against households H1..H3 and a list holding
// H1 and H2, without a warehouse.
func fuzzChecker() *checker {
	return &checker{ctx: context.Background(), today: days(2026, 2, 20),
		households: map[string]struct{}{"H1": {}, "H2": {}, "H3": {}}, seen: map[visitKey]string{}}
}

// checkAll checks the sheets as checkInput does and returns the counts.
func checkAll(t *testing.T, c *checker, sheets []sheet, workList bool) {
	list := map[string]struct{}{"H1": {}, "H2": {}}
	in := &input{path: "fuzz", format: "csv", sheets: sheets}
	if workList {
		in.format = "xlsx"
		c.lists = map[string]map[string]map[string]struct{}{asOf: {"520123": list}}
		in.asOf, in.county = asOf, "520123"
	}
	if err := c.checkInput(in); err != nil {
		t.Fatal(err)
	}
	var total Counts
	for _, f := range c.files {
		for _, s := range f.Sheets {
			if s.Read != s.Accepted+s.Rejected+s.Blank {
				t.Fatalf("sheet %q: %+v does not add up", s.Sheet, s.Counts)
			}
			total.add(s.Counts)
		}
	}
	if int(total.Accepted) != len(c.accepted) || int(total.Rejected) != len(c.rejects) {
		t.Fatalf("counts %+v, %d accepted and %d rejected rows", total, len(c.accepted), len(c.rejects))
	}
	for _, r := range c.rejects {
		if r.code == "" || r.reason == "" {
			t.Fatalf("reject without a reason: %+v", r)
		}
	}
}

// FuzzFeedbackCSV: whatever the bytes, a CSV file is read or refused
// with an error, never a panic, and its rows add up.
func FuzzFeedbackCSV(f *testing.F) {
	f.Add([]byte("household_id,visit_date,outcome,source,visitor_code,note\nH1,2026-02-03,no_risk,rule,V9,复核\nH2,2026/2/5,核实存在风险,,,\nH3,,,,,\n"))
	f.Add([]byte("\ufeffhousehold_id,visit_date,outcome\nH1,46057,other\nH1,46057.5,other\nH9,20260101,moved\n"))
	f.Add([]byte("household_id,visit_date,outcome\n\"H1\n\",2026年2月3日,其他,x\n"))
	f.Add([]byte{0xb9, 0xfa, ',', '\n'})
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := readCSV(b)
		if err != nil {
			return
		}
		checkAll(t, fuzzChecker(), []sheet{s}, false)
	})
}

// FuzzFeedbackXLSX: whatever the bytes of a workbook, readXLSX returns
// sheets or an error, never a panic, and the rows add up. It is slow
// under coverage instrumentation (excelize parses a whole workbook per
// input) and minimising a 10 kB input takes long: run it with
// -fuzzminimizetime 10s.
func FuzzFeedbackXLSX(f *testing.F) {
	dir := f.TempDir()
	p := filepath.Join(dir, "seed.xlsx")
	towns, order := filledList()
	writeList(f, p, "520123", towns, order)
	seed, err := os.ReadFile(p)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add(seed[:len(seed)/2])
	f.Add(bytes.Replace(seed, []byte("_povrisk"), []byte("_other__"), -1))
	f.Fuzz(func(t *testing.T, b []byte) {
		in := &input{path: "fuzz.xlsx", format: "xlsx"}
		if err := readXLSX(in, b); err != nil {
			return
		}
		checkAll(t, fuzzChecker(), in.sheets, true)
	})
}
