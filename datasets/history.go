package datasets

import (
	"math"
)

// This file writes what a household carries from before the data start
// (assets, assistance, earlier monitoring), its snapshot rows, and the
// ground truth.

// assetsAndHistory writes assets, the assistance received at the start and
// the monitoring events from before the start.
func (s *sim) assetsAndHistory(h *household) {
	r := s.r
	cal := s.w.cal
	start := cal.first(0)
	end := cal.last(cal.months - 1)
	rich := math.Max(0, h.wealth-0.8)
	when := func() day {
		// before the start (up to 5 years) or inside the data
		return min(end, start-day(r.IntN(5*365))+day(r.IntN(cal.months*30)))
	}
	ab := s.bufs[tAssets]
	adult := func() *simPerson {
		for _, p := range h.persons {
			if s.age(p, start) >= 18 {
				return p
			}
		}
		return h.persons[0]
	}
	if chance(r, 0.02+0.25*rich) {
		ab.s(h.id).s(adult().id).s("vehicle").date(when()).money(math.Round(60000 * logNormal(r, 0, 0.5)))
		s.dirty.maybe(tAssets)
	}
	if chance(r, 0.01+0.12*rich) {
		ab.s(h.id).s(adult().id).s("property").date(when()).money(math.Round(350000 * logNormal(r, 0, 0.4)))
		s.dirty.maybe(tAssets)
	}
	if chance(r, 0.015+0.1*rich) {
		ab.s(h.id).s(adult().id).s("business").date(when()).null()
		s.dirty.maybe(tAssets)
	}
	payroll := 0.004
	if h.status == "general" {
		payroll = 0.012
	}
	if h.misreg {
		payroll = 0.2
	}
	if chance(r, payroll) {
		ab.s(h.id).s(adult().id).s("public_payroll").date(when()).null()
		s.dirty.maybe(tAssets)
	}
	if chance(r, 0.35+0.3*math.Min(1, rich)) {
		ab.s(h.id).null().s("deposit").date(end).money(math.Round(h.lastNet * uniform(r, 0.1, 2) * h.wealth))
		s.dirty.maybe(tAssets)
	}
	if chance(r, 0.003+0.03*rich) {
		ab.s(h.id).s(adult().id).s("securities").date(end).money(math.Round(50000 * logNormal(r, 0, 1)))
		s.dirty.maybe(tAssets)
	}
	h.propBase = uniform(r, 15, 80*h.wealth)

	// Assistance already running.
	if h.dibao > 0 {
		s.assistanceRow(h, "dibao", start-day(30+r.IntN(4*365)), 0, h.dibao)
	}
	if h.tekun > 0 {
		s.assistanceRow(h, "tekun", start-day(30+r.IntN(6*365)), 0, h.tekun)
	}
	if h.status != "general" && h.farmBase > 0 && chance(r, 0.4) {
		d := start - day(r.IntN(3*365))
		s.assistanceRow(h, "industry_aid", d, d+364, 2000)
	}
	if h.housing == 0 && chance(r, 0.5) {
		d := cal.dayIn(r, r.IntN(cal.months))
		s.assistanceRow(h, "housing_aid", d, 0, 20000)
	}

	// Monitoring before the start.
	switch {
	case h.status == "monitored":
		d := start - day(1+r.IntN(36*30))
		h.events = append(h.events, monEvent{identified: d, risk: h.startRisk()})
		h.monitored = true
		h.monSince = cal.monthOf(d)
		h.monType2 = h.monType
	case h.status == "escaped" && chance(r, 0.04):
		d := start - day(400+r.IntN(3*365))
		h.events = append(h.events, monEvent{identified: d, risk: h.startRisk(), eliminated: min(d+day(200+r.IntN(300)), start-1)})
	}
}

// exportStatus is the household's registry status at export: monitored
// (with the type of its current monitoring) while a monitoring event is
// open, else escaped when it has an escape year, else general.
func (h *household) exportStatus() (status, monType string) {
	switch {
	case h.monitored:
		return "monitored", h.monType2
	case h.escape > 0:
		return "escaped", ""
	}
	return "general", ""
}

// startRisk is the risk type of a monitoring event from before the data.
func (h *household) startRisk() string {
	if h.baseRisk != "" && h.baseRisk != "other" {
		return h.baseRisk
	}
	for _, p := range h.persons {
		if p.major || p.chronic {
			return "illness"
		}
	}
	return "unemployment"
}

// writeHousehold writes the snapshot rows at export (households, persons),
// the persons' dated changes and the rows collected during the months
// (unemployment, monitoring events).
func (s *sim) writeHousehold(h *household) {
	hb := s.bufs[tHouseholds]
	status, monType := h.exportStatus()
	hb.s(h.id).s(h.vill.code).s(status)
	if h.escape > 0 {
		hb.int(h.escape)
	} else {
		hb.null()
	}
	hb.s(monType).date(h.reg)
	for _, v := range []int{h.housing, h.water} {
		if v < 0 {
			hb.null()
		} else {
			hb.bool(v == 1)
		}
	}
	s.dirty.maybe(tHouseholds)

	pb := s.bufs[tPersons]
	for _, p := range h.persons {
		sex := "F"
		if p.male {
			sex = "M"
		}
		pb.s(p.id).s(h.id).s(p.idNumber).date(p.birth).s(sex).s(p.relation).s(p.labor).int(p.disability).
			bool(p.chronic).bool(p.major).s(p.school).dateOrNull(p.deceased).s(p.name).s(p.phone)
		s.dirty.maybe(tPersons)
	}
	eb := s.bufs[tPersonEvents]
	for _, p := range h.persons {
		for _, e := range s.personEvents(p) {
			eb.s(p.id).date(e.d).s(personFields[e.field]).s(e.val)
			s.dirty.maybe(tPersonEvents)
		}
	}
	ub := s.bufs[tUnemployment]
	for _, g := range h.regs {
		ub.s(h.persons[g.person].id).date(g.registered).dateOrNull(g.ended)
		s.dirty.maybe(tUnemployment)
	}
	mb := s.bufs[tMonitoring]
	for _, e := range h.events {
		mb.s(h.id).date(e.identified).s(e.risk).dateOrNull(e.eliminated)
		s.dirty.maybe(tMonitoring)
	}
}

// truthP is the probability, given the simulator's state at the end of
// month t, that the household is identified in months t+1..t+horizon
// (horizon at most 12): known shocks enter the hazard with their delay
// distribution, future shocks with their expected monthly weight
// (scheduled school terms exactly), the relapse hazard of a recent
// elimination as it fades, the vulnerability held at its value at t.
// Households monitored at t get 0 (they cannot be identified; they are
// outside the label's population).
func (s *sim) truthP(h *household, t, horizon int) float64 {
	if h.monitored {
		return 0
	}
	lam := s.shockRate(h, t)
	var sched [13]float64
	for k := 1; k <= horizon; k++ {
		sched[k] = lam + s.expectedTermShock(h, t+k)
	}
	q := 1.0
	for k := 1; k <= horizon; k++ {
		extra := 0.0
		for j := 1; j < k; j++ {
			if d := k - j; d <= 4 {
				extra += sched[j] * delayProb[d]
			}
		}
		q *= 1 - s.hazard(h, t+k, extra, nil)
	}
	return 1 - q
}

// shockRate is the expected shock weight per month after month t, from the
// rates that drive the simulation (school terms excluded).
func (s *sim) shockRate(h *household, t int) float64 {
	at := s.w.cal.first(t + 1)
	poor := h.poor()
	share := seriousShareLo + seriousShareWidth/2 // the mean share
	if poor {
		share += medicalAidShare
	}
	// the mean cost of a serious illness: median·exp(σ²/2)
	ill := illnessC(seriousCostMedian*math.Exp(seriousCostSigma*seriousCostSigma/2)*(1-share), h.lastNet)
	lam := 0.0
	for _, p := range h.persons {
		if p.deceased != 0 {
			continue
		}
		age := s.age(p, at)
		earner := p.job != jobNone
		lam += seriousRate(age, p.chronic) * ill
		if earner {
			lam += deathRate(age, p.major) * deathC
		}
		if age >= 16 && age <= 75 && p.labor != "lost" && (earner || age < 60) {
			lam += disabRate * disabilityC
		}
		if p.job != jobNone && p.job != jobFarm && p.unemployedUntil < 0 && p.sickUntil < t+1 {
			lam += jobLossRate(p.job) * unemploymentC(p.wage, h.lastNet)
		}
	}
	farm := h.farmBase * h.farmWorkers(t+1)
	farmShare := math.Min(1, farm*0.65/math.Max(h.lastNet, 1))
	lam += s.w.disasterRate[h.vill.idx] * (0.3 + 0.7*farmShare)
	if farm > 0 && h.indUntil < t+1 {
		lam += industryRate * industryC
	}
	return lam
}
