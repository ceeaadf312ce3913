package ingest

import (
	"fmt"

	"github.com/povrisk/povrisk/datasets"
)

// Checks of the optional v1.1 tables that span columns (the per-column
// checks of the standard's kinds run first, in row):
//
//   - regions.name: not empty once spaces are trimmed (stored trimmed);
//   - person_events.value: valid in the encoding of persons' column named
//     by field: labor_capacity and schooling by their code lists,
//     disability_grade a whole number 0..4, chronic_disease and
//     major_disease a boolean. Surrounding spaces are trimmed; booleans are
//     stored as true/false and grades as their digit, so that a reader
//     compares the value with persons' text form without parsing it again.
//
// visit_outcomes needs nothing here: its household reference, enums,
// visitor_code (an identifier: *_code), note (free text, withheld in
// reject files) and visit_date (not after the export date) are column
// checks.

// special selects the cross-column check of a table.
type special int8

const (
	noSpecial special = iota
	specialRegions
	specialPersonEvents
)

func specialOf(table string) special {
	switch table {
	case "regions":
		return specialRegions
	case "person_events":
		return specialPersonEvents
	}
	return noSpecial
}

// withheldColumn names the standard's free-text columns that may hold
// personal details (a diagnosis is a health condition; a visit's note may
// name a person or a phone): a reject file shows *** in their place.
func withheldColumn(name string) bool { return name == "diagnosis" || name == "note" }

// The stored forms of person_events values (static: no allocation per row).
var (
	storedTrue   = []byte("true")
	storedFalse  = []byte("false")
	storedGrades = [...][]byte{[]byte("0"), []byte("1"), []byte("2"), []byte("3"), []byte("4")}
)

// checkSpecial runs the table's cross-column check on the decoded row
// (l.vals); it returns the column to blame and the reason.
func (l *tableLoader) checkSpecial() (string, error) {
	switch l.special {
	case specialRegions:
		j := l.colIndex("name")
		v := &l.vals[j]
		if v.null {
			return "", nil
		}
		v.s = trimSpace(v.s)
		if len(v.s) == 0 {
			return "name", fmt.Errorf("%w: the name holds only spaces", ErrMissing)
		}
	case specialPersonEvents:
		f, val := &l.vals[l.colIndex("field")], &l.vals[l.colIndex("value")]
		if f.null || val.null {
			return "", nil
		}
		b := trimSpace(val.s)
		if err := personValue(string(f.s), b, val); err != nil {
			return "value", err
		}
	}
	return "", nil
}

// colIndex is the index in l.cols of the standard's column name (the
// tables of checkSpecial hold each of theirs: a missing one is a bug).
func (l *tableLoader) colIndex(name string) int {
	for j := range l.cols {
		if l.cols[j].col.Name == name {
			return j
		}
	}
	panic("ingest: no column " + name + " in " + l.t.Name)
}

// The code lists of the persons columns that person_events may change.
var (
	laborCodes     = codes(datasets.LaborCapacities())
	schoolingCodes = codes(datasets.SchoolingLevels())
)

func codes(v []string) [][]byte {
	out := make([][]byte, len(v))
	for i, s := range v {
		out[i] = []byte(s)
	}
	return out
}

// personValue checks b, the value of a person_events row whose field is
// field, and sets v.s to its stored form.
func personValue(field string, b []byte, v *value) error {
	switch field {
	case "labor_capacity", "schooling":
		list, names := laborCodes, datasets.LaborCapacities
		if field == "schooling" {
			list, names = schoolingCodes, datasets.SchoolingLevels
		}
		for _, c := range list {
			if string(c) == string(b) {
				v.s = c
				return nil
			}
		}
		return fmt.Errorf("%w: value %s is not a %s code (%s)", ErrCode, quoteVal(b), field, joinCodes(names()))
	case "disability_grade":
		g, err := parseInt(b, 0, 4)
		if err != nil {
			return fmt.Errorf("disability_grade value: %w", err)
		}
		v.s = storedGrades[g]
	case "chronic_disease", "major_disease":
		t, err := parseBool(b)
		if err != nil {
			return fmt.Errorf("%s value: %w", field, err)
		}
		v.s = storedFalse
		if t {
			v.s = storedTrue
		}
	}
	return nil
}

func joinCodes(v []string) string {
	s := ""
	for i, c := range v {
		if i > 0 {
			s += "|"
		}
		s += c
	}
	return s
}
