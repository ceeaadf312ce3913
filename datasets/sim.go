package datasets

import (
	"math"
	"math/rand/v2"
	"strconv"
)

// This file simulates one household, month by month, from its own random
// stream. The causal story (see doc.go): shocks (serious illness, accident,
// job loss, death or disability of an earner, disaster, failed business,
// school fees) raise the monthly hazard of being identified as a monitoring
// object 1-4 months later, scaled by the household's vulnerability (low
// per-capita income against the ~8,000 yuan line, no labour, escaped status,
// chronic illness, unsafe housing or water); a latent frailty adds a small
// hazard that no data explains.

const (
	jobNone = iota
	jobMigrantFormal
	jobMigrantInformal
	jobLocal
	jobFarm
)

// Hazard model constants (monthly).
const (
	baseHazard   = 0.00035 // at vulnerability 1, no shock
	maxHazard    = 0.6
	monitorLine  = 8000.0 // yuan per person per year, the reference line
	reemployP    = 0.18   // monthly re-employment chance
	industryRate = 0.001  // monthly business failure chance of farm households
	disabRate    = 0.00006
	industryC    = 0.12
	disabilityC  = 0.30
	deathC       = 0.35
	vulnOffset   = 2.2 // centres the vulnerability
)

// A serious illness costs seriousCostMedian·logNormal(0, seriousCostSigma);
// insurance pays a share drawn uniformly from [seriousShareLo,
// seriousShareLo+seriousShareWidth), plus medicalAidShare for poor
// households. The simulation draws from them (illness), the truth uses
// their means (shockRate).
const (
	seriousCostMedian = 55000.0
	seriousCostSigma  = 0.6
	seriousShareLo    = 0.62
	seriousShareWidth = 0.1
	medicalAidShare   = 0.1
)

// delayProb is the distribution of the delay (months) between a shock and
// the identification it causes; index = months after the shock.
var delayProb = [5]float64{0, 0.2, 0.3, 0.3, 0.2}

// disasterWeight is the shock weight of a disaster by severity (1 worst);
// disasterCut the share of farm business income lost.
var disasterWeight = [5]float64{0, 0.30, 0.14, 0.04, 0.01}
var disasterCut = [5]float64{0, 0.7, 0.45, 0.2, 0.08}
var disasterLossP = [5]float64{0, 0.8, 0.5, 0.2, 0.05}

var farmSeason = [13]float64{0, 0.4, 0.3, 0.4, 0.6, 0.8, 1.0, 1.4, 1.8, 2.0, 1.8, 0.9, 0.6}
var costSeason = [13]float64{0, 0.5, 0.8, 2.0, 2.2, 1.6, 1.0, 0.8, 0.7, 0.7, 0.6, 0.6, 0.5}

var seriousDiag = []string{"C34.9", "C16.9", "C50.9", "C22.0", "I63.9", "I21.9", "N18.5", "K74.6", "I61.9", "C18.9"}
var injuryDiag = []string{"S72.0", "S06.0", "S32.0", "T14.9", "S82.2"}
var inpatientDiag = []string{"J18.9", "K35.8", "K80.2", "I10", "J44.1", "O80", "K29.7", "N20.0"}
var outpatientDiag = []string{"J06.9", "I10", "E11.9", "K29.7", "M54.5", "J20.9", "H10.9"}
var chronicDiag = []string{"I10", "E11.9", "J44.9", "M17.9"}

type simPerson struct {
	id, idNumber, name, phone string
	birth                     day
	birthY, birthM, birthD    int // civil birth date, cached
	male                      bool
	relation                  string
	labor                     string
	disability                int
	chronic, major            bool
	deceased                  day
	path                      int // schooling after compulsory: 0 none, 1 high school, 2 vocational, 3 high school then tertiary
	job                       int
	wage                      float64
	employer                  string
	unemployedUntil           int // month index of re-employment; -1 when not unemployed
	unempReg                  int // index into household unemployment registrations, -1 none
	sickUntil                 int // out of work until this month index
	followUntil               int // follow-up treatment until this month index
	followDiag                string
	farmShare                 float64 // contribution to the farm, in workers

	school  string          // schooling level as of the latest term start
	first   [nFields]string // the dated fields at the data start
	last    [nFields]string // ... as last recorded
	changes []personChange  // dated changes inside the data, in simulation order
}

type shock struct {
	month int
	c     float64
	risk  string
}

type unempReg struct {
	person     int
	registered day
	ended      day
}

// household is the simulator's state of one household.
type household struct {
	idx      int
	id       string
	vill     *village
	status   string
	monType  string
	escape   int
	reg      day
	housing  int // 1 safe, 0 unsafe, -1 null
	water    int
	wealth   float64
	misreg   bool // hidden wealth: evidence of misregistration, lower true risk
	frailty  float64
	persons  []*simPerson
	farmBase float64 // annual gross farm income per farm worker
	propBase float64
	dibao    float64 // yearly amounts
	tekun    float64

	shocks    []shock
	net12     [12]float64 // ring of monthly net incomes
	v         float64     // vulnerability after the latest month
	baseRisk  string      // risk type of the baseline hazard
	monitored bool
	monSince  int
	claimSeq  int
	regs      []unempReg
	disCut    float64
	disUntil  int
	indUntil  int
	lastNet   float64 // annual net income estimate (sum of ring)
	events    []monEvent
	monType2  string  // monitor_type of the current monitoring (export)
	elimMonth int     // month of the latest elimination (-1 none)
	relapseC  float64 // monthly relapse hazard weight after that elimination
}

type monEvent struct {
	identified, eliminated day
	risk                   string
}

// sim holds what one worker needs to simulate households into a chunk.
type sim struct {
	w       *world
	o       *GenerateOptions
	r       *rand.Rand
	pcg     *rand.PCG
	bufs    []*tableBuf
	truth   [][]float64    // per as-of, per household of the chunk
	relapse []relapseTruth // eliminations of the chunk with their relapse truth
	dirty   *dirtier
	stats   *simStats
	comps   []shock   // hazard components, reused
	compW   []float64 // their weights, reused
	// monthEnd, when set (tests), is called after each simulated month.
	monthEnd func(h *household, t int)

	ageAt            day // civil date of ageAt, cached
	ageY, ageM, ageD int
}

// simStats counts what the tests and the report want to know.
type simStats struct {
	Identified int // identifications inside the simulated months
}

// household simulates household idx from its own stream: its status,
// wealth and housing, its members, its income before the data start,
// assistance and earlier monitoring, then the months (with the truth at
// the last 7 month-ends), and writes its rows.
func (s *sim) household(idx int) {
	s.pcg.Seed(s.o.Seed, uint64(idx)<<8|streamSim)
	r := s.r
	cal := s.w.cal
	h := &household{idx: idx, id: householdID(idx), elimMonth: -1}
	h.vill = &s.w.villages[r.IntN(len(s.w.villages))]
	u := r.Float64()
	switch {
	case u < 0.06:
		h.status = "monitored"
		switch v := r.Float64(); {
		case v < 0.5:
			h.monType = "unstable"
			h.escape = 2016 + r.IntN(5)
		case v < 0.85:
			h.monType = "marginal"
		default:
			h.monType = "sudden"
		}
		h.wealth = logNormal(r, -0.9, 0.35)
	case u < 0.42:
		h.status = "escaped"
		h.escape = 2014 + r.IntN(7)
		if r.IntN(3) == 0 {
			h.escape = 2019 + r.IntN(2)
		}
		h.wealth = logNormal(r, -0.45, 0.4)
		h.misreg = chance(r, 0.03)
	default:
		h.status = "general"
		h.wealth = logNormal(r, -0.05, 0.5)
	}
	if h.misreg {
		h.wealth *= 2.5
	}
	h.frailty = 0.00012 * logNormal(r, -0.32, 0.8)
	y0 := 1990 + r.IntN(26)
	h.reg = dayOf(y0, 1+r.IntN(12), 1+r.IntN(28))
	h.housing, h.water = 1, 1
	unsafeP := 0.02
	if h.status == "escaped" {
		unsafeP = 0.008
	}
	if chance(r, unsafeP) {
		h.housing = 0
	} else if chance(r, 0.01) {
		h.housing = -1
	}
	if chance(r, 0.012) {
		h.water = 0
	} else if chance(r, 0.01) {
		h.water = -1
	}
	s.makeMembers(h)
	s.startStates(h)

	// Structural income before the first month fills the 12-month ring.
	for i := range h.net12 {
		h.net12[i] = s.structuralMonthly(h)
	}
	h.lastNet = s.structuralMonthly(h) * 12
	pc := h.lastNet / float64(len(h.persons))
	noLabor := !h.hasLabor(-1)
	switch {
	case len(h.persons) == 1 && noLabor && s.age(h.persons[0], cal.first(0)) >= 60 && chance(r, 0.7):
		h.tekun = 7200
	case (pc < 7000 && chance(r, 0.6)) || (noLabor && chance(r, 0.8)):
		if !h.misreg {
			h.dibao = float64(len(h.persons)) * 12 * 380
		}
	}
	h.v = s.vulnerability(h, -1)

	s.assetsAndHistory(h)

	// The months.
	for t := 0; t < cal.months; t++ {
		s.month(h, t)
		if s.monthEnd != nil {
			s.monthEnd(h, t)
		}
		if k := t - (cal.months - 7); k >= 0 {
			s.truth[k] = append(s.truth[k], s.truthP(h, t, 6))
		}
		if h.elimMonth == t {
			e := h.events[len(h.events)-1]
			s.relapse = append(s.relapse, relapseTruth{household: idx, eliminated: e.eliminated, p: s.truthP(h, t, 12)})
		}
	}
	s.writeHousehold(h)
}

func householdID(idx int) string {
	b := make([]byte, 0, 9)
	b = append(b, 'H')
	return string(appendPad(b, idx+1, 8))
}

func appendPad(b []byte, v, width int) []byte {
	var tmp [20]byte
	s := strconv.AppendInt(tmp[:0], int64(v), 10)
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

func (s *sim) age(p *simPerson, at day) int {
	if p.birthY == 0 {
		p.birthY, p.birthM, p.birthD = p.birth.ymd()
	}
	by, bm, bd := p.birthY, p.birthM, p.birthD
	if at != s.ageAt || s.ageY == 0 {
		s.ageAt = at
		s.ageY, s.ageM, s.ageD = at.ymd()
	}
	y, m, d := s.ageY, s.ageM, s.ageD
	a := y - by
	if m < bm || (m == bm && d < bd) {
		a--
	}
	return a
}

// level is the schooling level a person attends at a date ("" none).
func (s *sim) level(p *simPerson, at day) string {
	a := s.age(p, at)
	switch {
	case a >= 3 && a <= 5:
		return "preschool"
	case a >= 6 && a <= 14:
		return "compulsory"
	case a >= 15 && a <= 17 && (p.path == 1 || p.path == 3):
		return "high_school"
	case a >= 15 && a <= 17 && p.path == 2:
		return "vocational"
	case a >= 18 && a <= 21 && p.path == 3:
		return "tertiary"
	}
	return ""
}

// schooling is the current or highest level at a date.
func (s *sim) schooling(p *simPerson, at day) string {
	if l := s.level(p, at); l != "" {
		return l
	}
	a := s.age(p, at)
	switch {
	case a < 3:
		return "none"
	case a >= 22 && p.path == 3:
		return "tertiary"
	case a >= 18 && p.path == 1:
		return "high_school"
	case a >= 18 && p.path == 2:
		return "vocational"
	case a >= 15:
		if p.path == 0 && p.relation == "parent" {
			return "none"
		}
		return "compulsory"
	}
	return "none"
}

// makeMembers draws the household's size and head, then adds the head, a
// spouse and the other members by the head's age.
func (s *sim) makeMembers(h *household) {
	r := s.r
	size := 1
	for u, cum := r.Float64(), 0.0; size < 7; size++ {
		cum += []float64{0.10, 0.20, 0.20, 0.22, 0.16, 0.09}[size-1]
		if u < cum {
			break
		}
	}
	headAge := 25 + int(math.Abs(normal(r, 0, 18)))
	if headAge > 85 {
		headAge = 85
	}
	if size == 1 && r.IntN(2) == 0 {
		headAge = 60 + r.IntN(25)
	}
	surname := surnames[r.IntN(len(surnames))]
	add := func(rel string, age int, male bool) { s.addMember(h, surname, rel, age, male) }
	headMale := chance(r, 0.85)
	add("head", headAge, headMale)
	if size >= 2 && headAge < 78 && chance(r, 0.85) {
		add("spouse", headAge+r.IntN(9)-4, !headMale)
	}
	for len(h.persons) < size {
		switch {
		case headAge < 52 && chance(r, 0.7):
			add("child", r.IntN(max(1, headAge-20)), r.IntN(2) == 0)
		case headAge < 50:
			add("parent", min(92, headAge+22+r.IntN(10)), r.IntN(2) == 0)
		case headAge >= 50 && chance(r, 0.6):
			add("grandchild", r.IntN(16), r.IntN(2) == 0)
		case headAge >= 45 && chance(r, 0.7):
			add("child", 18+r.IntN(max(1, headAge-40)), r.IntN(2) == 0)
		default:
			add("other", 10+r.IntN(60), r.IntN(2) == 0)
		}
	}
}

// addMember adds a member of relation rel, aged age at the start of the
// data, with their identity (IDs, name, ID number, phone), health,
// schooling path and labour.
func (s *sim) addMember(h *household, surname, rel string, age int, male bool) {
	r := s.r
	at := s.w.cal.first(0)
	y0, _, _ := at.ymd()
	if age < 0 {
		age = 0
	}
	p := &simPerson{relation: rel, male: male, unemployedUntil: -1, unempReg: -1, sickUntil: -1, followUntil: -1}
	p.birth = dayOf(y0-age-1, 1+r.IntN(12), 1+r.IntN(28))
	if s.age(p, at) > age {
		p.birth += 365
		p.birthY = 0 // recompute the cached civil date
	}
	n := len(h.persons)
	pid := make([]byte, 0, 11)
	pid = append(pid, 'P')
	pid = appendPad(pid, h.idx+1, 8)
	pid = appendPad(pid, n+1, 2)
	p.id = string(pid)
	if rel == "spouse" || rel == "other" || (rel == "parent" && !male) {
		p.name = surnames[r.IntN(len(surnames))] + drawGiven(r)
	} else {
		p.name = surname + drawGiven(r)
	}
	if r.Float64() > 0.02 { // 2% have no ID number on file
		p.idNumber = makeIDNumber(r, s.w.counties[h.vill.county].code, p.birth, male)
	}
	if age >= 16 && chance(r, 0.9) {
		p.phone = drawPhone(r)
	}
	s.memberHealthAndSchool(h, p, age)
	h.persons = append(h.persons, p)
	s.assignLabor(h, p, at)
}

// memberHealthAndSchool draws a new member's chronic and major disease,
// disability and schooling path.
func (s *sim) memberHealthAndSchool(h *household, p *simPerson, age int) {
	r := s.r
	a := float64(age)
	pc := 0.03 + math.Max(0, a-45)*0.008
	if h.status != "general" {
		pc *= 1.25
	}
	p.chronic = chance(r, math.Min(pc, 0.45))
	p.major = chance(r, 0.005+math.Max(0, a-50)*0.0006)
	if chance(r, 0.02+math.Max(0, a-50)*0.001) {
		p.disability = 1 + r.IntN(4)
	}
	switch c := r.Float64(); {
	case age >= 15 || c < 0.25:
		p.path = 0
	case c < 0.6:
		p.path = 1
	case c < 0.8:
		p.path = 2
	default:
		p.path = 3
	}
	if age >= 15 && age <= 21 && chance(r, 0.55) {
		// already on a track when the data start
		p.path = 1 + r.IntN(3)
		if age >= 18 && p.path != 3 {
			p.path = 0
		}
	}
}

// assignLabor sets the labour capacity and job of a person at the start.
func (s *sim) assignLabor(h *household, p *simPerson, at day) {
	r := s.r
	a := s.age(p, at)
	switch {
	case a < 16 || s.level(p, at) != "":
		p.labor = "none"
	case p.disability == 1 || p.disability == 2:
		p.labor = "lost"
	case p.major && chance(r, 0.5):
		p.labor = "lost"
	case a >= 70:
		p.labor = "none"
	case a >= 65:
		p.labor = "none"
		if chance(r, 0.5) {
			p.labor = "weak"
		}
	case a >= 60 || p.chronic && chance(r, 0.4) || p.disability > 0 || p.major:
		p.labor = "weak"
	default:
		p.labor = "full"
	}
	if p.labor != "full" && p.labor != "weak" {
		return
	}
	weak := 1.0
	if p.labor == "weak" {
		weak = 0.6
	}
	u := r.Float64()
	switch {
	case p.labor == "full" && a < 50 && u < 0.48:
		if chance(r, 0.55) {
			p.job = jobMigrantFormal
			p.employer = employerID(r)
		} else {
			p.job = jobMigrantInformal
		}
		p.wage = 4300 * logNormal(r, 0, 0.25) * math.Pow(h.wealth, 0.35)
	case u < 0.65 && a < 60:
		p.job = jobLocal
		p.wage = 2200 * logNormal(r, 0, 0.2) * math.Pow(h.wealth, 0.3) * weak
	default:
		p.job = jobFarm
		p.farmShare = weak
		if h.farmBase == 0 {
			h.farmBase = 11000 * logNormal(r, 0, 0.3) * math.Pow(h.wealth, 0.5)
		}
	}
}

func employerID(r *rand.Rand) string {
	return string(appendPad([]byte{'E'}, 100000+r.IntN(900000), 6))
}

// hasLabor: some living member with full or weak capacity (t = -1: start).
func (h *household) hasLabor(t int) bool {
	for _, p := range h.persons {
		if p.deceased == 0 && (p.labor == "full" || p.labor == "weak") {
			return true
		}
	}
	return false
}

func (h *household) living() int {
	n := 0
	for _, p := range h.persons {
		if p.deceased == 0 {
			n++
		}
	}
	return n
}

// farmWorkers is the farm labour available in month t.
func (h *household) farmWorkers(t int) float64 {
	f := 0.0
	for _, p := range h.persons {
		if p.deceased == 0 && p.job == jobFarm && p.sickUntil < t {
			f += p.farmShare
		}
	}
	return f
}

func (s *sim) pensions(h *household, t int) float64 {
	at := s.w.cal.first(t)
	n := 0
	for _, p := range h.persons {
		if p.deceased == 0 && s.age(p, at) >= 60 {
			n++
		}
	}
	return float64(n) * 200
}

// structuralMonthly is the expected monthly net income without shocks.
func (s *sim) structuralMonthly(h *household) float64 {
	wage := 0.0
	for _, p := range h.persons {
		if p.job != jobNone && p.job != jobFarm {
			wage += p.wage
		}
	}
	farm := h.farmBase * h.farmWorkers(0) / 12 * 0.65
	return wage + farm + h.propBase + s.pensions(h, 0) + (h.dibao+h.tekun)/12
}

// vulnerability multiplies every hazard of the household.
func (s *sim) vulnerability(h *household, t int) (v float64) {
	n := float64(max(1, h.living()))
	net := 0.0
	for _, x := range h.net12 {
		net += x
	}
	h.lastNet = net
	ratio := net / n / monitorLine
	lv := 3.0 * math.Min(math.Max(1.8-ratio, 0), 1.8)
	top, topW := "other", 0.15
	if !h.hasLabor(t) {
		lv += 1.2
		top, topW = "labor_shortage", 1.2
	}
	if h.status == "escaped" {
		lv += 0.5
	}
	chronic := 0
	for _, p := range h.persons {
		if p.deceased == 0 && (p.chronic || p.major) {
			chronic++
		}
	}
	if c := 0.4 * math.Min(2, float64(chronic)); c > 0 {
		lv += c
		if c > topW {
			top, topW = "illness", c
		}
	}
	if h.housing == 0 {
		lv += 1.0
		if 1.0 > topW {
			top, topW = "housing", 1.0
		}
	}
	if h.water == 0 {
		lv += 0.7
		if 0.7 > topW {
			top = "water"
		}
	}
	if h.misreg {
		lv -= 1.5
	}
	h.baseRisk = top
	return math.Exp(lv - vulnOffset)
}

// hazard is the monthly identification hazard in month t from the state at
// the end of month t-1, with the components by risk type when comps != nil.
func (s *sim) hazard(h *household, t int, extra float64, comps *[]shock) float64 {
	sum := baseHazard
	if comps != nil {
		*comps = append((*comps)[:0], shock{c: h.v * baseHazard, risk: h.baseRisk}, shock{c: h.frailty, risk: "other"})
	}
	for _, sh := range h.shocks {
		d := t - sh.month
		if d >= 1 && d <= 4 {
			x := sh.c * delayProb[d]
			sum += x
			if comps != nil {
				*comps = append(*comps, shock{c: h.v * x, risk: sh.risk})
			}
		}
	}
	sum += extra
	rel := h.relapseHazard(t)
	if comps != nil && rel > 0 {
		*comps = append(*comps, shock{c: rel, risk: h.events[len(h.events)-1].risk})
	}
	return math.Min(maxHazard, h.v*sum+rel) + h.frailty
}

// relapseHazard is the extra monthly hazard in month t after an
// elimination: relapseC, fading over 18 months.
func (h *household) relapseHazard(t int) float64 {
	k := t - h.elimMonth
	if h.elimMonth < 0 || k < 1 || k > 18 {
		return 0
	}
	return h.relapseC * math.Exp(-float64(k-1)/10)
}

func (s *sim) addShock(h *household, t int, c float64, risk string) {
	// Drop shocks too old to matter.
	k := 0
	for _, sh := range h.shocks {
		if t-sh.month < 4 {
			h.shocks[k] = sh
			k++
		}
	}
	h.shocks = append(h.shocks[:k], shock{month: t, c: c, risk: risk})
}

// illnessC is the shock weight of a serious illness with out-of-pocket oop.
func illnessC(oop, annualNet float64) float64 {
	return 0.15 + 0.35*math.Min(2, oop/math.Max(3000, annualNet*0.4))
}

func unemploymentC(wage, annualNet float64) float64 {
	return 0.08 + 0.3*math.Min(1, wage*12/math.Max(6000, annualNet))
}

// Monthly event rates of a person.
func seriousRate(age int, chronic bool) float64 {
	r := 0.0004 * (1 + math.Max(0, float64(age-40))/12)
	if chronic {
		r *= 2.5
	}
	return r
}

func deathRate(age int, major bool) float64 {
	var r float64
	switch {
	case age < 40:
		r = 0.00005
	case age < 60:
		r = 0.0002
	case age < 75:
		r = 0.0012
	default:
		r = 0.005
	}
	if major {
		r *= 4
	}
	return r
}

func jobLossRate(job int) float64 {
	switch job {
	case jobMigrantFormal:
		return 0.005
	case jobMigrantInformal:
		return 0.008
	case jobLocal:
		return 0.006
	}
	return 0
}

// month simulates month t of a household, in this order (the order of the
// draws is part of the output): identification or elimination from the
// state at the end of month t-1, each living member's events and wage, the
// village's disasters, the failure of the farm business, school terms, and
// the income of the month, from which the vulnerability is updated.
func (s *sim) month(h *household, t int) {
	s.schoolStep(h, t)
	s.monitoringStep(h, t)
	wage := 0.0
	for pi, p := range h.persons {
		if p.deceased != 0 {
			continue
		}
		wage += s.personMonth(h, pi, p, t)
	}
	farm := h.farmBase * h.farmWorkers(t)
	annualNet := math.Max(h.lastNet, 1)
	s.disasterStep(h, t, farm, annualNet)
	// failure of the farm business
	if farm > 0 && h.indUntil < t && chance(s.r, industryRate) {
		h.indUntil = t + 6
		s.addShock(h, t, industryC, "industry")
	}
	// school terms (termMonth)
	if c := educationC(s.terms(h, t), annualNet); c > 0 {
		s.addShock(h, t, c, "education")
	}
	s.incomeStep(h, t, wage, farm)
}

// monitoringStep eliminates a monitored household's risk (after at least 6
// months) or identifies the household, with the hazard of the state at the
// end of month t-1; the risk type is drawn in proportion to the hazard's
// components.
func (s *sim) monitoringStep(h *household, t int) {
	r := s.r
	cal := s.w.cal
	if h.monitored {
		m := t - h.monSince
		if chance(r, s.eliminationP(h, t, m)) {
			h.monitored = false
			h.elimMonth, h.relapseC = t, s.relapseWeight(h, t, m)
			s.closeEvent(h, max(cal.dayIn(r, t), h.events[len(h.events)-1].identified+1))
		}
		return
	}
	hz := s.hazard(h, t, 0, &s.comps)
	if !chance(r, hz) {
		return
	}
	s.compW = s.compW[:0]
	tot := 0.0
	for _, c := range s.comps {
		tot += c.c
		s.compW = append(s.compW, c.c)
	}
	risk := "other"
	if i := pickIndex(r.Float64()*tot, s.compW); i < len(s.comps) {
		risk = s.comps[i].risk
	}
	d := cal.dayIn(r, t)
	h.monitored, h.monSince = true, t
	switch {
	case h.escape > 0:
		h.monType2 = "unstable"
	case h.lastNet/float64(max(1, h.living())) < 1.5*monitorLine:
		h.monType2 = "marginal"
	default:
		h.monType2 = "sudden"
	}
	s.openEvent(h, d, risk)
	s.stats.Identified++
	amt := 1000 + float64(r.IntN(4))*500
	s.assistanceRow(h, "temporary", d+day(r.IntN(20)), d+day(r.IntN(20))+90, amt)
}

// personMonth simulates month t of living member pi and returns the wage
// paid to them: death or a new disability end the month for them;
// otherwise illness, ordinary care and work.
func (s *sim) personMonth(h *household, pi int, p *simPerson, t int) float64 {
	age := s.age(p, s.w.cal.first(t))
	earner := p.job != jobNone
	if s.deathOrDisability(h, p, t, age, earner) {
		return 0
	}
	s.illness(h, p, t, age, earner)
	s.ordinaryCare(h, p, t, age)
	return s.work(h, pi, p, t)
}

// deathOrDisability draws the member's death and, for a working-age
// member, a new disability dated by an inpatient claim; either makes an
// earner's loss a shock. It reports whether one happened.
func (s *sim) deathOrDisability(h *household, p *simPerson, t, age int, earner bool) bool {
	r := s.r
	cal := s.w.cal
	if chance(r, deathRate(age, p.major)) {
		p.deceased = cal.dayIn(r, t)
		if earner {
			s.addShock(h, t, deathC, "labor_shortage")
		}
		p.job = jobNone
		return true
	}
	if age >= 16 && age <= 75 && p.labor != "lost" && chance(r, disabRate) {
		p.disability = 1 + r.IntN(2)
		p.labor = "lost"
		d := cal.dayIn(r, t)
		p.record(fDisability, d)
		p.record(fLabor, d)
		diag := injuryDiag[r.IntN(len(injuryDiag))]
		if r.IntN(2) == 0 {
			diag = "I63.9"
		}
		cost := 20000 * logNormal(r, 0, 0.5)
		s.claim(h, p, d, cost, 0.7, true, diag)
		if earner || age < 60 {
			s.addShock(h, t, disabilityC, "disability")
		}
		p.job = jobNone
		p.sickUntil = -1
		return true
	}
	return false
}

// illness draws a serious illness or accident (an inpatient claim, time
// off work, a shock weighted by the out-of-pocket cost, medical aid for
// poor households), or else a follow-up claim of an earlier illness.
func (s *sim) illness(h *household, p *simPerson, t, age int, earner bool) {
	r := s.r
	cal := s.w.cal
	if !chance(r, seriousRate(age, p.chronic)) {
		if t <= p.followUntil && chance(r, 0.55) {
			s.claim(h, p, cal.dayIn(r, t), 6000*logNormal(r, 0, 0.5), 0.65, r.IntN(3) == 0, p.followDiag)
		}
		return
	}
	d := cal.dayIn(r, t)
	accident := chance(r, 0.2)
	diag := seriousDiag[r.IntN(len(seriousDiag))]
	if accident {
		diag = injuryDiag[r.IntN(len(injuryDiag))]
	}
	cost := seriousCostMedian * logNormal(r, 0, seriousCostSigma)
	share := uniform(r, seriousShareLo, seriousShareWidth)
	if h.poor() {
		share += medicalAidShare
	}
	oop := s.claim(h, p, d, cost, share, true, diag)
	if !accident {
		p.major = true
		p.followUntil, p.followDiag = t+2+r.IntN(6), diag
		if chance(r, 0.3) {
			p.chronic = true
		}
		p.record(fMajor, d) // the register is dated by the claim
		p.record(fChronic, d)
	}
	if earner {
		p.sickUntil = t + 2 + r.IntN(8)
	}
	s.aftermath(p, d, age, accident)
	risk := "illness"
	if accident {
		risk = "accident"
	}
	s.addShock(h, t, illnessC(oop, h.lastNet), risk)
	if h.poor() && chance(r, 0.6) {
		s.assistanceRow(h, "medical_aid", d+day(10+r.IntN(30)), 0, math.Round(oop*0.3))
	}
}

// ordinaryCare draws the member's ordinary inpatient and outpatient claims.
func (s *sim) ordinaryCare(h *household, p *simPerson, t, age int) {
	r := s.r
	cal := s.w.cal
	if chance(r, 0.006*(1+math.Max(0, float64(age-50))/20)*(1+b2f(p.chronic))) {
		s.claim(h, p, cal.dayIn(r, t), 5000*logNormal(r, 0, 0.5), 0.6, true, inpatientDiag[r.IntN(len(inpatientDiag))])
	}
	op := 0.06
	if p.chronic {
		op += 0.35
	}
	if age >= 60 {
		op += 0.08
	}
	if chance(r, op) {
		diag := outpatientDiag[r.IntN(len(outpatientDiag))]
		if p.chronic && r.IntN(2) == 0 {
			diag = chronicDiag[r.IntN(len(chronicDiag))]
		}
		s.claim(h, p, cal.dayIn(r, t), 180*logNormal(r, 0, 0.7), 0.5, false, diag)
	}
}

// work returns the member's wage of month t: re-employment of the
// unemployed, a job loss (a shock, maybe a registration, part of the
// month paid), sick leave, or a month's work with its seasonal swing for
// migrants; formal migrants' contributions are written while employed.
func (s *sim) work(h *household, pi int, p *simPerson, t int) float64 {
	if p.job != jobMigrantFormal && p.job != jobMigrantInformal && p.job != jobLocal {
		return 0
	}
	r := s.r
	cal := s.w.cal
	if p.unemployedUntil >= 0 {
		if !chance(r, reemployP) {
			return 0
		}
		p.unemployedUntil = -1
		d := cal.dayIn(r, t)
		if p.unempReg >= 0 {
			h.regs[p.unempReg].ended = d
			p.unempReg = -1
		}
		if p.job == jobMigrantFormal {
			p.employer = employerID(r)
		}
	} else if p.sickUntil < t && chance(r, jobLossRate(p.job)) {
		p.unemployedUntil = t + 1
		regP := 0.35
		if p.job == jobMigrantFormal {
			regP = 0.7
		}
		if chance(r, regP) {
			h.regs = append(h.regs, unempReg{person: pi, registered: cal.dayIn(r, t)})
			p.unempReg = len(h.regs) - 1
		}
		s.addShock(h, t, unemploymentC(p.wage, h.lastNet), "unemployment")
		if h.status != "general" && chance(r, 0.5) {
			s.assistanceRow(h, "employment_aid", cal.first(t+1)+day(r.IntN(20)), 0, 0)
		}
		return p.wage * 0.4 // paid for part of the month
	}
	if p.sickUntil >= t {
		if p.job == jobMigrantFormal {
			s.social(p, t)
		}
		return 0
	}
	mult := normal(r, 1, 0.06)
	if p.job != jobLocal {
		switch cal.month(t) {
		case 1:
			mult += 0.3
		case 2:
			mult -= 0.4
		}
	}
	if p.job == jobMigrantFormal {
		s.social(p, t)
	}
	return p.wage * mult
}

// disasterStep applies the disasters of the household's village in month
// t: a cut of farm business income for a few months, a recorded loss, and
// a shock weighted by the household's dependence on farming.
func (s *sim) disasterStep(h *household, t int, farm, annualNet float64) {
	r := s.r
	farmShare := math.Min(1, farm*0.65/annualNet)
	for _, ei := range s.w.byVillage[h.vill.idx] {
		e := &s.w.disasters[ei]
		if e.month != t {
			continue
		}
		sev := e.severity
		if farm > 0 {
			if disasterCut[sev] > h.disCut || h.disUntil < t {
				h.disCut = disasterCut[sev]
			}
			h.disUntil = t + 3 + r.IntN(3)
		}
		if chance(r, disasterLossP[sev]*(0.3+0.7*b2f(farm > 0))) {
			loss := (farm*disasterCut[sev] + 3000*b2f(sev <= 2)) * uniform(r, 0.6, 0.8)
			if loss > 0 {
				s.disasterRow(h, e, loss)
			}
		}
		s.addShock(h, t, disasterWeight[sev]*(0.3+0.7*farmShare), "disaster")
	}
}

// incomeStep writes the income row of month t, keeps the month's net
// income in the 12-month ring and updates the vulnerability.
func (s *sim) incomeStep(h *household, t int, wage, farm float64) {
	r := s.r
	cal := s.w.cal
	cm := cal.month(t)
	bus, cost := 0.0, 0.0
	if farm > 0 {
		bus = farm / 12 * farmSeason[cm] * logNormal(r, 0, 0.1)
		cost = h.farmBase * h.farmWorkers(t) * 0.35 / 12 * costSeason[cm]
		if h.disUntil >= t {
			bus *= 1 - h.disCut
		}
		if h.indUntil >= t {
			bus *= 0.4
		}
	}
	prop := h.propBase * logNormal(r, 0, 0.1)
	transfer := s.pensions(h, t) + (h.dibao+h.tekun)/12
	if h.status != "general" {
		transfer += 40
	}
	s.bufs[tIncome].s(h.id).month(cal, t).money(wage).money(bus).money(prop).money(transfer).money(cost)
	s.dirty.maybe(tIncome)
	h.net12[t%12] = wage + bus + prop + transfer - cost
	h.v = s.vulnerability(h, t)
}

// claim writes a medical claim and returns its out-of-pocket amount.
func (s *sim) claim(h *household, p *simPerson, d day, cost, share float64, inpatient bool, diag string) float64 {
	cost = math.Round(cost*100) / 100
	paid := math.Round(cost*math.Min(share, 0.95)*100) / 100
	h.claimSeq++
	id := make([]byte, 0, 14)
	id = append(id, 'C')
	id = appendPad(id, h.idx+1, 8)
	id = appendPad(id, h.claimSeq, 5)
	s.bufs[tMedical].s(string(id)).s(p.id).date(d).money(cost).money(paid).money(cost - paid).bool(inpatient).s(diag)
	s.dirty.maybe(tMedical)
	return cost - paid
}

func (s *sim) social(p *simPerson, t int) {
	base := math.Round(p.wage/100) * 100
	s.bufs[tSocial].s(p.id).month(s.w.cal, t).s(p.employer).money(base)
	s.dirty.maybe(tSocial)
}

func (s *sim) disasterRow(h *household, e *disasterEvent, loss float64) {
	s.bufs[tDisasters].s(e.id).s(h.vill.code).s(h.id).date(e.start).s(e.kind).int(e.severity).money(loss)
	s.dirty.maybe(tDisasters)
}

// assistanceRow writes a programme; a start after the data's end is not
// written (the export does not know it yet), an end after it is left null.
func (s *sim) assistanceRow(h *household, program string, start, end day, amount float64) {
	last := s.w.cal.last(s.w.cal.months - 1)
	if start > last {
		return
	}
	if end > last {
		end = 0
	}
	b := s.bufs[tAssistance].s(h.id).s(program).date(start).dateOrNull(end)
	if amount > 0 {
		b.money(amount)
	} else {
		b.null()
	}
	s.dirty.maybe(tAssistance)
}

func (s *sim) openEvent(h *household, d day, risk string) {
	h.events = append(h.events, monEvent{identified: d, risk: risk})
}

// closeEvent sets the eliminated_date of the household's open event.
func (s *sim) closeEvent(h *household, d day) {
	h.events[len(h.events)-1].eliminated = d
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// poor: the household is registered (escaped or monitored) or receives
// dibao; it gets subsidies and medical assistance.
func (h *household) poor() bool { return h.status != "general" || h.dibao > 0 }

// aftermath: a serious illness or accident can leave a working-age member's
// labour capacity lost (an accident also a disability of grade 3 or 4) or
// weakened, dated by the claim.
func (s *sim) aftermath(p *simPerson, d day, age int, accident bool) {
	if age < 16 || age > 64 || (p.labor != "full" && p.labor != "weak") {
		return
	}
	r := s.r
	lostP := 0.04
	if accident {
		lostP = 0.08
	}
	switch u := r.Float64(); {
	case u < lostP:
		p.labor = "lost"
		p.job = jobNone
		p.farmShare = 0
		if accident && p.disability == 0 {
			p.disability = 3 + r.IntN(2)
			p.record(fDisability, d)
		}
	case u < lostP+0.2 && p.labor == "full":
		p.labor = "weak"
		p.wage *= 0.7
		p.farmShare = math.Min(p.farmShare, 0.6)
	}
	p.record(fLabor, d)
}

// eliminationP is the monthly chance that a household monitored for m
// months has its risk eliminated in month t: mostly from 6 months on and
// when its income per head of the last 12 months is back above the line
// (the further above, the likelier); rarely below the line or earlier (an
// early elimination); half as likely for a household without labour.
func (s *sim) eliminationP(h *household, t, m int) float64 {
	ratio := h.lastNet / float64(max(1, h.living())) / monitorLine
	var p float64
	switch {
	case m < 1:
		return 0
	case m < 6 && ratio >= 1.15:
		p = 0.02
	case m < 6:
		p = 0.004
	case ratio >= 1.4:
		p = 0.22
	case ratio >= 1.05:
		p = 0.14
	default:
		p = 0.018
	}
	if !h.hasLabor(t) {
		p *= 0.5
	}
	return p
}

// relapseWeight is the monthly relapse hazard right after an elimination
// in month t of a household monitored for m months, from what the data
// show: its income margin above the line, no labour, chronic or major
// illness, an elimination before 6 months.
func (s *sim) relapseWeight(h *household, t, m int) float64 {
	margin := h.lastNet/float64(max(1, h.living()))/monitorLine - 1
	x := 1.8 * math.Min(math.Max(0.5-margin, 0), 1.5)
	if !h.hasLabor(t) {
		x += 0.9
	}
	for _, p := range h.persons {
		if p.deceased == 0 && (p.chronic || p.major) {
			x += 0.5
			break
		}
	}
	if m < 6 {
		x += 1.0
	}
	return relapseBase * math.Exp(x)
}

// relapseBase is the monthly relapse hazard of a household eliminated
// after 6 months with a comfortable margin, labour and no illness.
const relapseBase = 0.006

// relapseTruth is the relapse truth of one elimination.
type relapseTruth struct {
	household  int
	eliminated day
	p          float64
}
