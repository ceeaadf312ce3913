package ingest

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestV11DatesAhead: visit and person-event dates may not lie after the
// export date (kept out of the golden files, whose text would then
// change with the day they run); a visit's note holding a phone is
// accepted (the standard stores notes) and a rejected row's note is
// withheld in the reject file.
func TestV11DatesAhead(t *testing.T) {
	dir := t.TempDir()
	r := &refs{households: newKeySet(), persons: newKeySet()}
	r.households.add([]byte("H1"), false)
	r.persons.add([]byte("P1"), false)
	vo := writeFile(t, filepath.Join(dir, "visit_outcomes.csv"), []byte("household_id,visit_date,outcome,source,visitor_code,note\n"+
		"H1,2099-01-01,confirmed,model,A1,\n"+
		"H1,2025-01-01,confirmed,model,A1,phone 13912345678\n"+
		"H1,2099-01-02,no_risk,model,A1,call 13912345678\n"))
	got := loadOne(t, "visit_outcomes", vo, "", testKey, r)
	if got.err != nil || got.read != 3 || got.accepted != 1 || got.rejected != 2 {
		t.Fatalf("visit_outcomes: %+v, want 3 read, 1 accepted, 2 rejected", got)
	}
	for _, line := range []int{2, 4} {
		rec := got.reject(line)
		if rec == nil || rec[2] != "visit_date" || !strings.Contains(rec[3], "may not lie ahead") {
			t.Errorf("line %d: reject %q, want visit_date after the export date", line, rec)
		}
	}
	if rec := got.reject(4); rec == nil || !strings.HasSuffix(rec[4], ",***") {
		t.Errorf("line 4: original %q, want the note withheld as ***", rec)
	}
	if strings.Contains(got.rejectText, "13912345678") {
		t.Errorf("a phone of a note reached the reject file:\n%s", got.rejectText)
	}
	pe := writeFile(t, filepath.Join(dir, "person_events.csv"), []byte("person_id,event_date,field,value\n"+
		"P1,2099-01-01,schooling,none\nP1,2024-01-01,schooling, none \nP1,2024-01-02,chronic_disease,否\n"))
	got = loadOne(t, "person_events", pe, "", testKey, r)
	if got.err != nil || got.read != 3 || got.accepted != 2 || got.rejected != 1 {
		t.Fatalf("person_events: %+v, want 3 read, 2 accepted, 1 rejected", got)
	}
	if rec := got.reject(2); rec == nil || rec[2] != "event_date" {
		t.Errorf("line 2: reject %q, want event_date after the export date", rec)
	}
}

// FuzzV11Tables: rows of the optional v1.1 tables are checked without
// panic, read = accepted + rejected (loadOne), and no long digit run (an
// ID number in a note) reaches the reject file.
func FuzzV11Tables(f *testing.F) {
	tables := []struct{ name, header string }{
		{"regions", "region_code,name\n"},
		{"person_events", "person_id,event_date,field,value\n"},
		{"visit_outcomes", "household_id,visit_date,outcome,source,visitor_code,note\n"},
	}
	f.Add(uint8(0), []byte("520123,修文县\n520123102, \n5201231,x\n"))
	f.Add(uint8(1), []byte("P1,2024-01-01,disability_grade, 3\nP1,2024-01-02,chronic_disease,是\nP2,2024-01-01,schooling,none\n"))
	f.Add(uint8(2), []byte("H1,2025-01-01,confirmed,model,A1,电话13800000001 52012319800101100X\nH1,2025-01-01,other,,,\"a\nb\"\n"))
	f.Fuzz(func(t *testing.T, which uint8, rows []byte) {
		tb := tables[int(which)%len(tables)]
		r := &refs{households: newKeySet(), persons: newKeySet()}
		r.households.add([]byte("H1"), false)
		r.persons.add([]byte("P1"), false)
		p := writeFile(t, filepath.Join(t.TempDir(), tb.name+".csv"), append([]byte(tb.header), rows...))
		got := loadOne(t, tb.name, p, "", testKey, r)
		if longDigits(got.rejectText) {
			t.Fatalf("reject file holds a long digit run:\n%q", got.rejectText)
		}
	})
}
