package datasets

import "math"

// This file is the one owner of school terms: when they start, who attends
// at which level, and what a term costs. The simulation writes the terms
// and their shocks from it (terms); the ground truth expects the same
// shocks in the same months from it (expectedTermShock), so the two cannot
// drift apart (TestTermScheduleAgrees).

// termMonth reports whether a school term starts in calendar month cm
// (1-12): March and September.
func termMonth(cm int) bool { return cm == 3 || cm == 9 }

// termPlan calls f, in member order, for every living member who attends
// school when a term starts in month t, with the level and the mean fees and
// subsidy of the term (compulsory schooling under age 10 is free). It calls
// nothing when no term starts in month t.
func (s *sim) termPlan(h *household, t int, f func(p *simPerson, lv string, fees, sub float64)) {
	if !termMonth(s.w.cal.month(t)) {
		return
	}
	start := s.w.cal.first(t)
	poor := h.poor()
	for _, p := range h.persons {
		if p.deceased != 0 {
			continue
		}
		lv := s.level(p, start)
		if lv == "" {
			continue
		}
		fees, sub := termFees(lv, poor)
		if lv == "compulsory" && s.age(p, start) < 10 {
			fees, sub = 0, 0
		}
		f(p, lv, fees, sub)
	}
}

// shockLevel reports whether a term's net cost at level lv weighs on the
// household (compulsory schooling does not: it is free or subsidised).
func shockLevel(lv string) bool { return lv != "compulsory" }

// terms writes the education rows of a term starting in month t (none when
// no term starts) and returns the net cost of the terms that weigh on the
// household. Fees vary by ±10% around their mean; a household that is not
// poor gets a 30% subsidy one time in ten.
func (s *sim) terms(h *household, t int) float64 {
	r := s.r
	start := s.w.cal.first(t)
	poor := h.poor()
	net := 0.0
	s.termPlan(h, t, func(p *simPerson, lv string, fees, sub float64) {
		if !poor && chance(r, 0.1) {
			sub = math.Round(fees * 0.3)
		}
		fees *= uniform(r, 0.9, 0.2)
		fees = math.Round(fees)
		sub = math.Min(sub, fees)
		if shockLevel(lv) {
			net += fees - sub
		}
		s.bufs[tEducation].s(p.id).date(start).s(lv).money(fees).money(sub)
		s.dirty.maybe(tEducation)
		if poor && s.w.cal.month(t) == 9 && lv != "compulsory" && lv != "preschool" && chance(r, 0.7) {
			s.assistanceRow(h, "education_aid", start, start+364, sub*2)
		}
	})
	return net
}

// expectedTermShock is the education shock weight of a term starting in
// month t (0 when no term starts), from the mean fees: what the truth
// expects terms to weigh.
func (s *sim) expectedTermShock(h *household, t int) float64 {
	if t >= s.w.cal.months+12 {
		return 0
	}
	net := 0.0
	s.termPlan(h, t, func(_ *simPerson, lv string, fees, sub float64) {
		if shockLevel(lv) {
			net += fees - sub
		}
	})
	return educationC(net, math.Max(h.lastNet, 1))
}

// educationC is the shock weight of a term whose net cost is net.
func educationC(net, annualNet float64) float64 {
	if net <= 0 {
		return 0
	}
	return 0.035 * math.Min(3, net*2/math.Max(2000, annualNet*0.15))
}

// termFees are the mean fees and subsidy of a term.
func termFees(lv string, poor bool) (fees, sub float64) {
	switch lv {
	case "preschool":
		fees, sub = 1500, 500
	case "compulsory":
		fees, sub = 300, 625
	case "high_school":
		fees, sub = 2600, 1800
	case "vocational":
		fees, sub = 1800, 1000
	case "tertiary":
		fees, sub = 5500, 2500
	}
	if !poor {
		sub = 0
	}
	return fees, math.Min(sub, fees)
}
