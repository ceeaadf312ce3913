package datasets

import (
	"math"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestCausalStory checks, from the files alone, that the simulated drop
// tells the documented story: shocks raise the chance of identification in
// the following months, risk types match their causes, and the rates and the
// ground truth are in the documented bands. One drop serves every check.
func TestCausalStory(t *testing.T) {
	rep := gen(t, GenerateOptions{Households: 6000, Months: 24, Seed: 2})
	st := &story{t: t, rep: rep, drop: readDrop(t, filepath.Dir(rep.Tables[0].Path), ".csv", nil)}
	st.start, st.end = rep.Start, rep.End
	st.asOf = st.date(rep.AsOf[0]) // end - 6 months
	st.outcomes()
	st.shocksRaiseIdentification()
	st.contributionsStop()
	st.seasonsAndFees()
	st.truthRanksOutcomes()
	st.eliminationsAndRelapses()
}

// eliminationsAndRelapses: eliminations inside the data come mostly 6
// months or more after identification, a few earlier; early ones relapse
// (a new identification within 12 months) more often; the relapse truth
// lists every elimination and ranks the relapses.
func (st *story) eliminationsAndRelapses() {
	t, drop, date := st.t, st.drop, st.date
	me := drop["monitoring_events"]
	type ev struct{ id, el time.Time }
	evs := map[string][]ev{}
	for _, r := range me.rows {
		e := ev{id: date(r[me.col("identified_date")])}
		if s := r[me.col("eliminated_date")]; s != "" {
			e.el = date(s)
		}
		evs[r[me.col("household_id")]] = append(evs[r[me.col("household_id")]], e)
	}
	relTruth := map[string]float64{}
	rl := readCSV(t, st.rep.Relapse, false)
	if strings.Join(rl.header, ",") != "household_id,eliminated_date,p_relapse_12m" {
		t.Fatalf("relapse truth header %v", rl.header)
	}
	for _, r := range rl.rows {
		p, err := strconv.ParseFloat(r[2], 64)
		if err != nil || p < 0 || p > 1 {
			t.Fatalf("relapse truth %v", r)
		}
		relTruth[r[0]+" "+r[1]] = p
	}
	n, early := 0, 0
	var relN, relEarly, nLate, nEarly int
	var y []int
	var score []float64
	cut := st.end.AddDate(-1, 0, 0)
	for h, es := range evs {
		sort.Slice(es, func(i, j int) bool { return es[i].id.Before(es[j].id) })
		for i, e := range es {
			if e.el.IsZero() || e.el.Before(st.start) {
				continue
			}
			n++
			p, ok := relTruth[h+" "+e.el.Format("2006-01-02")]
			if !ok {
				t.Errorf("%s eliminated %s: no relapse truth", h, e.el.Format("2006-01-02"))
			}
			isEarly := e.el.Before(e.id.AddDate(0, 6, 0))
			if isEarly {
				early++
			}
			if e.el.After(cut) {
				continue
			}
			rel := i+1 < len(es) && es[i+1].id.Before(e.el.AddDate(1, 0, 0))
			y, score = append(y, b2i(rel)), append(score, p)
			if isEarly {
				nEarly++
				relEarly += b2i(rel)
			} else {
				nLate++
				relN += b2i(rel)
			}
		}
	}
	if n != len(rl.rows) {
		t.Errorf("%d eliminations inside the data, %d relapse truth rows", n, len(rl.rows))
	}
	re, rlate := float64(relEarly)/float64(max(1, nEarly)), float64(relN)/float64(max(1, nLate))
	auc := rocAUC(y, score)
	t.Logf("eliminations %d (%d early); relapse within 12 months: early %d/%d, later %d/%d; relapse truth AUC %.3f", n, early, relEarly, nEarly, relN, nLate, auc)
	if n < 200 || early*100 < n*3 || early*100 > n*20 {
		t.Errorf("%d eliminations, %d of them before 6 months: want 3-20%% early", n, early)
	}
	if nEarly < 10 || re <= 1.3*rlate || rlate < 0.05 || rlate > 0.4 {
		t.Errorf("relapse rates: early %.3f, later %.3f: want later in 5-40%% and early above 1.3x", re, rlate)
	}
	if auc < 0.6 {
		t.Errorf("relapse truth AUC %.3f against realised relapses: want at least 0.6", auc)
	}
}

// story is a simulated drop read back, with the outcomes at its first
// as-of date.
type story struct {
	t                *testing.T
	rep              *GenerateReport
	drop             map[string]*table
	start, end, asOf time.Time
	p2h              map[string]string // person -> household
	eligible         map[string]bool   // not monitored at asOf
	positive         map[string]string // identified within 6 months after asOf -> risk type
	rate             float64           // identification rate among the eligible
}

func (st *story) date(s string) time.Time {
	d, err := time.Parse("2006-01-02", s)
	if err != nil {
		st.t.Fatalf("date %q: %v", s, err)
	}
	return d
}

// outcomes finds the eligible households and those identified in the 6
// months after asOf, and checks the monitoring events and the rate.
func (st *story) outcomes() {
	t, drop, date, asOf, horizon := st.t, st.drop, st.date, st.asOf, st.end
	p2h := map[string]string{}
	st.p2h = p2h
	ps := drop["persons"]
	for _, r := range ps.rows {
		p2h[r[ps.col("person_id")]] = r[ps.col("household_id")]
	}
	// Outcomes at asOf.
	type ev struct {
		id, el time.Time
		risk   string
	}
	events := map[string][]ev{}
	me := drop["monitoring_events"]
	for _, r := range me.rows {
		e := ev{id: date(r[me.col("identified_date")]), risk: r[me.col("risk_type")]}
		if s := r[me.col("eliminated_date")]; s != "" {
			e.el = date(s)
			if !e.el.After(e.id) {
				t.Errorf("event eliminated %s before identified %s", s, e.id.Format("2006-01-02"))
			}
		}
		events[r[me.col("household_id")]] = append(events[r[me.col("household_id")]], e)
	}
	hh := drop["households"]
	eligible := map[string]bool{}
	positive := map[string]string{} // household -> risk type
	for _, r := range hh.rows {
		h := r[hh.col("household_id")]
		monitored := false
		for _, e := range events[h] {
			if !e.id.After(asOf) && (e.el.IsZero() || e.el.After(asOf)) {
				monitored = true
			}
		}
		// households hold the status at export: monitored exactly while an
		// event is open at the end; escaped or general again after an
		// elimination (escaped when the household has an escape year)
		open := false
		for _, e := range events[h] {
			open = open || e.el.IsZero()
		}
		switch status := r[hh.col("poverty_status")]; {
		case status == "monitored" && !open:
			t.Errorf("monitored household %s has no open monitoring event", h)
		case status != "monitored" && open:
			t.Errorf("%s household %s has an open monitoring event", status, h)
		case status == "escaped" && r[hh.col("escape_year")] == "":
			t.Errorf("escaped household %s has no escape year", h)
		case status == "monitored" && r[hh.col("monitor_type")] == "":
			t.Errorf("monitored household %s has no monitor type", h)
		}
		if monitored {
			continue
		}
		eligible[h] = true
		for _, e := range events[h] {
			if e.id.After(asOf) && !e.id.After(horizon) {
				positive[h] = e.risk
			}
		}
	}
	rate := float64(len(positive)) / float64(len(eligible))
	t.Logf("%d eligible, %d identified in 6 months: %.4f", len(eligible), len(positive), rate)
	if rate < 0.01 || rate > 0.035 {
		t.Errorf("identification rate %.4f per 6 months, want 1-3.5%%", rate)
	}

	st.eligible, st.positive, st.rate = eligible, positive, rate
}

// exposures are the households with an out-of-pocket medical spike, a
// registered job loss or a severe disaster in the 3 months up to asOf; it
// checks on the way that claims look like claims.
func (st *story) exposures() (spike, jobLoss, disaster map[string]bool) {
	t, drop, date, asOf, p2h := st.t, st.drop, st.date, st.asOf, st.p2h
	hh := drop["households"]
	// Exposures in the 3 months up to asOf.
	from := asOf.AddDate(0, -3, 0)
	in := func(d time.Time) bool { return d.After(from) && !d.After(asOf) }
	spike = map[string]bool{}
	mc := drop["medical_claims"]
	oop := map[string]float64{}
	var inCost, outCost []float64
	diagRE := regexp.MustCompile(`^[A-Z][0-9]{2}(\.[0-9])?$`)
	for _, r := range mc.rows {
		c, _ := strconv.ParseFloat(r[mc.col("total_cost")], 64)
		if r[mc.col("inpatient")] == "true" {
			inCost = append(inCost, c)
		} else {
			outCost = append(outCost, c)
		}
		if !diagRE.MatchString(r[mc.col("diagnosis")]) {
			t.Fatalf("diagnosis %q is not an ICD-10 code", r[mc.col("diagnosis")])
		}
		if in(date(r[mc.col("service_date")])) {
			o, _ := strconv.ParseFloat(r[mc.col("out_of_pocket")], 64)
			oop[p2h[r[mc.col("person_id")]]] += o
		}
	}
	for h, o := range oop {
		if o >= 8000 {
			spike[h] = true
		}
	}
	if len(outCost) < 5*len(inCost) || median(inCost) < 10*median(outCost) {
		t.Errorf("outpatient claims %d (median %.0f), inpatient %d (median %.0f): want outpatient frequent and small", len(outCost), median(outCost), len(inCost), median(inCost))
	}
	jobLoss = map[string]bool{}
	un := drop["unemployment"]
	for _, r := range un.rows {
		if in(date(r[un.col("registered_date")])) {
			jobLoss[p2h[r[un.col("person_id")]]] = true
		}
	}
	disaster = map[string]bool{}
	ds := drop["disasters"]
	var severe []string
	for _, r := range ds.rows {
		if r[ds.col("household_id")] == "" && in(date(r[ds.col("start_date")])) && r[ds.col("severity")] <= "2" {
			severe = append(severe, r[ds.col("region_code")])
		}
	}
	for _, r := range hh.rows {
		for _, p := range severe {
			if rc := r[hh.col("region_code")]; rc[:len(p)] == p {
				disaster[r[hh.col("household_id")]] = true
			}
		}
	}

	return spike, jobLoss, disaster
}

// shocksRaiseIdentification: households exposed to a medical spike, a job
// loss or a severe disaster in the 3 months up to asOf are identified more
// often afterwards, and with the matching risk type.
func (st *story) shocksRaiseIdentification() {
	t, eligible, positive := st.t, st.eligible, st.positive
	spike, jobLoss, disaster := st.exposures()
	for _, c := range []struct {
		name    string
		exposed map[string]bool
		risk    []string
		minLift float64
	}{
		{"medical spike", spike, []string{"illness", "accident", "disability"}, 3},
		{"job loss", jobLoss, []string{"unemployment"}, 3},
		{"severe disaster", disaster, []string{"disaster"}, 1.3},
	} {
		var ne, pe, nu, pu, matchE, matchU int
		for h := range eligible {
			_, pos := positive[h]
			match := false
			for _, r := range c.risk {
				match = match || positive[h] == r
			}
			if c.exposed[h] {
				ne++
				if pos {
					pe++
					if match {
						matchE++
					}
				}
			} else {
				nu++
				if pos {
					pu++
					if match {
						matchU++
					}
				}
			}
		}
		re, ru := float64(pe)/float64(max(ne, 1)), float64(pu)/float64(max(nu, 1))
		t.Logf("%s: %d exposed, rate %.4f (risk type matches %d of %d); unexposed rate %.4f (%d of %d)", c.name, ne, re, matchE, pe, ru, matchU, pu)
		if ne < 20 || re < c.minLift*ru {
			t.Errorf("%s: rate %.4f among %d exposed, %.4f among unexposed: want %.1fx", c.name, re, ne, ru, c.minLift)
		}
		if pe > 0 && float64(matchE)/float64(pe) <= float64(matchU)/float64(max(pu, 1)) {
			t.Errorf("%s: risk type %v no more frequent among exposed positives (%d/%d) than others (%d/%d)", c.name, c.risk, matchE, pe, matchU, pu)
		}
	}

}

// contributionsStop: social insurance stops after a registered job loss.
func (st *story) contributionsStop() {
	t, drop, date, end := st.t, st.drop, st.date, st.end
	un := drop["unemployment"]
	si := drop["social_insurance"]
	paid := map[string]bool{}
	for _, r := range si.rows {
		paid[r[si.col("person_id")]+r[si.col("period")]] = true
	}
	stopped, regs := 0, 0
	for _, r := range un.rows {
		d := date(r[un.col("registered_date")])
		next := d.AddDate(0, 1, 1-d.Day())
		if next.After(end) {
			continue
		}
		p := r[un.col("person_id")]
		if !paid[p+d.AddDate(0, -1, 1-d.Day()).Format("2006-01")] {
			continue // not an insured job
		}
		regs++
		if !paid[p+next.Format("2006-01")] {
			stopped++
		}
	}
	if regs < 10 || float64(stopped) < 0.75*float64(regs) {
		t.Errorf("contributions stopped the month after %d of %d insured job losses", stopped, regs)
	}

}

// seasonsAndFees: farm business income is seasonal; non-compulsory
// schooling costs more.
func (st *story) seasonsAndFees() {
	t, drop := st.t, st.drop
	ir := drop["income_records"]
	var sep, feb float64
	for _, r := range ir.rows {
		b, _ := strconv.ParseFloat(r[ir.col("business_income")], 64)
		switch r[ir.col("period")][5:] {
		case "09":
			sep += b
		case "02":
			feb += b
		}
	}
	if sep < 3*feb {
		t.Errorf("business income September %.0f, February %.0f: want harvest seasonality", sep, feb)
	}
	ed := drop["education"]
	fees := map[string][]float64{}
	for _, r := range ed.rows {
		f, _ := strconv.ParseFloat(r[ed.col("fees")], 64)
		fees[r[ed.col("level")]] = append(fees[r[ed.col("level")]], f)
	}
	for _, lv := range []string{"high_school", "vocational", "tertiary"} {
		if len(fees[lv]) == 0 || mean(fees[lv]) < 3*mean(fees["compulsory"]) {
			t.Errorf("%s fees %.0f (n %d) vs compulsory %.0f", lv, mean(fees[lv]), len(fees[lv]), mean(fees["compulsory"]))
		}
	}

}

// truthRanksOutcomes: the ground truth at asOf ranks the outcomes and is
// calibrated.
func (st *story) truthRanksOutcomes() {
	t, rep, eligible, positive, rate := st.t, st.rep, st.eligible, st.positive, st.rate
	truth := readCSV(t, rep.Truth, false)
	var ys []int
	var pr []float64
	for _, r := range truth.rows {
		if r[1] != rep.AsOf[0] || !eligible[r[0]] {
			continue
		}
		p, _ := strconv.ParseFloat(r[2], 64)
		_, pos := positive[r[0]]
		ys = append(ys, b2i(pos))
		pr = append(pr, p)
	}
	auc := rocAUC(ys, pr)
	t.Logf("truth: AUC %.3f, mean %.4f vs realised %.4f", auc, mean(pr), rate)
	if auc < 0.78 {
		t.Errorf("truth AUC %.3f, want at least 0.78", auc)
	}
	if m := mean(pr); math.Abs(m-rate) > 0.35*rate {
		t.Errorf("mean truth %.4f, realised %.4f: want within 35%%", m, rate)
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func mean(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(max(1, len(xs)))
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	c := append([]float64(nil), xs...)
	sort.Float64s(c)
	return c[len(c)/2]
}

// rocAUC is the Mann-Whitney statistic with ties counted half.
func rocAUC(y []int, s []float64) float64 {
	idx := make([]int, len(s))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return s[idx[a]] < s[idx[b]] })
	var rankPos, npos float64
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && s[idx[j]] == s[idx[i]] {
			j++
		}
		r := float64(i+j+1) / 2 // mean rank (1-based)
		for k := i; k < j; k++ {
			if y[idx[k]] == 1 {
				rankPos += r
				npos++
			}
		}
		i = j
	}
	nneg := float64(len(y)) - npos
	return (rankPos - npos*(npos+1)/2) / (npos * nneg)
}
