package datasets

import (
	"slices"
	"strconv"
	"strings"
)

// This file dates the changes of a person's labour capacity, disability,
// disease registers and schooling (the v1.1 table person_events), so that
// a reader can rebuild each person's state on any date of the data from
// persons (the state at export) and the events, by the rule of
// PersonStateRule (doc.go, "person_events").

// Dated person fields: indexes into personFields.
const (
	fLabor = iota
	fDisability
	fChronic
	fMajor
	fSchooling
	nFields
)

// personChange is one dated change of a person's field to val.
type personChange struct {
	d     day
	field int
	val   string
}

// value is the person's current state of field f in the persons encoding.
func (p *simPerson) value(f int) string {
	switch f {
	case fLabor:
		return p.labor
	case fDisability:
		return strconv.Itoa(p.disability)
	case fChronic:
		return strconv.FormatBool(p.chronic)
	case fMajor:
		return strconv.FormatBool(p.major)
	}
	return p.school
}

// record dates a change of field f on day d, when its value changed since
// it was last recorded. A second change of the same field on the same day
// replaces the first.
func (p *simPerson) record(f int, d day) {
	v := p.value(f)
	if v == p.last[f] {
		return
	}
	p.last[f] = v
	if n := len(p.changes); n > 0 && p.changes[n-1].field == f && p.changes[n-1].d == d {
		p.changes[n-1].val = v
		return
	}
	p.changes = append(p.changes, personChange{d: d, field: f, val: v})
}

// latestTermStart is the latest term start (1 March or 1 September) on or
// before d.
func latestTermStart(d day) day {
	y, m, _ := d.ymd()
	switch {
	case m >= 9:
		return dayOf(y, 9, 1)
	case m >= 3:
		return dayOf(y, 3, 1)
	}
	return dayOf(y-1, 9, 1)
}

// startStates sets every member's schooling as of the latest term start
// before the data and remembers the state at the start.
func (s *sim) startStates(h *household) {
	ts := latestTermStart(s.w.cal.first(0))
	for _, p := range h.persons {
		p.school = s.schooling(p, ts)
		for f := 0; f < nFields; f++ {
			p.first[f] = p.value(f)
			p.last[f] = p.first[f]
		}
	}
}

// schoolStep moves every living member's schooling on when a term starts
// in month t (no draws).
func (s *sim) schoolStep(h *household, t int) {
	if !termMonth(s.w.cal.month(t)) {
		return
	}
	d := s.w.cal.first(t)
	for _, p := range h.persons {
		if p.deceased != 0 {
			continue
		}
		p.school = s.schooling(p, d)
		p.record(fSchooling, d)
	}
}

// defaultState is the rule's value of field f on day at for a person
// without an event of f on or before at (see doc.go): "false" for the
// disease registers, "0" for the disability grade, "full" for the labour
// capacity of a person aged 16 to 59 on that day, else the export value.
func (s *sim) defaultState(p *simPerson, f int, at day, export string) string {
	switch f {
	case fChronic, fMajor:
		return "false"
	case fDisability:
		return "0"
	case fLabor:
		if a := s.age(p, at); a >= 16 && a <= 59 {
			return "full"
		}
	}
	return export
}

// birthday is the person's a-th birthday (births are on days 1-28).
func (p *simPerson) birthday(a int) day {
	y, m, d := p.birth.ymd()
	return dayOf(y+a, m, d)
}

// personEvents returns the person's events in date then field-name order: the
// changes inside the data, and, per field, an event holding the state at
// the start when the rule's default would otherwise differ from it before
// the field's first change: dated before the data start (a registration
// date drawn, the latest term start for schooling) when it differs at the
// start, or on the 16th or 60th birthday where the labour default turns.
func (s *sim) personEvents(p *simPerson) []personChange {
	cal := s.w.cal
	start, end := cal.first(0), cal.last(cal.months-1)
	out := slices.Clone(p.changes)
	for f := 0; f < nFields; f++ {
		until := end + 1
		for _, c := range p.changes {
			if c.field == f {
				until = c.d
				break
			}
		}
		if until <= start {
			continue
		}
		v0, export := p.first[f], p.last[f]
		div := day(0)
		switch {
		case s.defaultState(p, f, start, export) != v0:
			div = start
		case f == fLabor:
			for _, a := range []int{16, 60} {
				if b := p.birthday(a); b > start && b < until && s.defaultState(p, f, b, export) != v0 {
					div = b
					break
				}
			}
		}
		switch {
		case div == 0:
			continue
		case div == start && f == fSchooling:
			div = latestTermStart(start)
			if div == start {
				div = latestTermStart(start - 1)
			}
		case div == start:
			div = start - day(31+s.r.IntN(3*365))
		}
		out = append(out, personChange{d: max(div, p.birth), field: f, val: v0})
	}
	slices.SortStableFunc(out, func(a, b personChange) int {
		if a.d != b.d {
			return int(a.d - b.d)
		}
		return strings.Compare(personFields[a.field], personFields[b.field])
	})
	return out
}
