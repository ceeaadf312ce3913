package datasets

import (
	"math/rand/v2"
	"testing"
)

// TestTermScheduleAgrees: the ground truth expects an education shock in
// exactly the months in which the simulation writes school terms that cost
// the household something, of about the size the simulation gives it; and
// terms start in March and September only (DATA-STANDARD, doc.go). It fails
// if the truth's term schedule and the simulated one disagree.
func TestTermScheduleAgrees(t *testing.T) {
	cal := calendar{y0: 2024, m0: 1, months: 36}
	w := newWorld(1, cal, 0)
	s := &sim{w: w, o: &GenerateOptions{Seed: 1}, stats: &simStats{}}
	s.pcg = rand.NewPCG(1, 2)
	s.r = rand.New(s.pcg)
	s.bufs = newBufs()
	for _, status := range []string{"escaped", "general"} {
		// members born so that, over three years, someone enters and
		// leaves every level: preschool, free and paid compulsory, high
		// school, vocational, tertiary, and someone out of school.
		h := &household{id: "H1", vill: &w.villages[0], status: status, lastNet: 30000}
		for i, m := range []struct {
			born int
			path int
		}{{2020, 0}, {2016, 0}, {2011, 1}, {2008, 2}, {2007, 3}, {2005, 3}, {1980, 0}} {
			h.persons = append(h.persons, &simPerson{id: "P" + string(rune('1'+i)), birth: dayOf(m.born, 6, 15), path: m.path})
		}
		edu := s.bufs[tEducation]
		termsSeen := 0
		for mi := 0; mi < cal.months; mi++ {
			want := s.expectedTermShock(h, mi)
			before := edu.rows()
			c := educationC(s.terms(h, mi), h.lastNet)
			rows := edu.rows() - before
			cm := cal.month(mi)
			if (rows > 0) != (cm == 3 || cm == 9) {
				t.Errorf("%s month %d (calendar %d): %d term rows written; terms start in March and September", status, mi, cm, rows)
			}
			for r := before; r < edu.rows(); r++ {
				if got, want := string(edu.field(r, 1)), string(appendDate(nil, cal.first(mi))); got != want {
					t.Errorf("%s month %d: term_start %s, want %s", status, mi, got, want)
				}
			}
			if rows > 0 {
				termsSeen++
			}
			// the truth expects a shock exactly when the simulation gives one
			if (want > 0) != (c > 0) {
				t.Errorf("%s month %d: truth expects education shock %.4f, simulation gave %.4f", status, mi, want, c)
			}
			// of about the same size: fees vary by ±10%, a rare extra subsidy
			if want > 0 && c > 0 && (c < 0.6*want || c > 1.25*want) {
				t.Errorf("%s month %d: simulated education shock %.4f, truth expects %.4f", status, mi, c, want)
			}
		}
		if termsSeen != 6 {
			t.Errorf("%s: %d terms in 36 months, want 6", status, termsSeen)
		}
	}
}
