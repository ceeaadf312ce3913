package datasets

import (
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/gonum/stat"
)

// stateOn applies the documented rule (doc.go, "person_events") to one
// person's field: the value of the latest event dated on or before D;
// without one, "false" for the disease registers, "0" for the disability
// grade, "full" for the labour capacity of a person aged 16-59 on D, else
// the persons value. It is written from the rule, not from the simulator.
func stateOn(field string, events [][2]string, d time.Time, birth time.Time, export string) string {
	ds := d.Format("2006-01-02")
	v, found := "", false
	for _, e := range events { // sorted by date
		if e[0] <= ds {
			v, found = e[1], true
		}
	}
	if found {
		return v
	}
	switch field {
	case "chronic_disease", "major_disease":
		return "false"
	case "disability_grade":
		return "0"
	case "labor_capacity":
		age := d.Year() - birth.Year()
		if d.Month() < birth.Month() || (d.Month() == birth.Month() && d.Day() < birth.Day()) {
			age--
		}
		if age >= 16 && age <= 59 {
			return "full"
		}
	}
	return export
}

// TestPersonEventsRebuildPersons: applying the rule at the export date
// gives back persons exactly, for every person and field; events are
// sorted, valid and driven by the shocks (a major-disease registration or
// a labour loss inside the data falls on the day of an inpatient claim of
// the same person; schooling changes on 1 March or 1 September).
func TestPersonEventsRebuildPersons(t *testing.T) {
	rep := gen(t, GenerateOptions{Households: 1500, Months: 24, Seed: 31})
	drop := readDrop(t, filepath.Dir(rep.Tables[0].Path), ".csv", nil)
	ps, pe, mc := drop["persons"], drop["person_events"], drop["medical_claims"]
	events := map[string]map[string][][2]string{}
	prev := ""
	counts := map[string]int{}
	for _, r := range pe.rows {
		pid, d, f, v := r[pe.col("person_id")], r[pe.col("event_date")], r[pe.col("field")], r[pe.col("value")]
		if k := pid + " " + d + " " + f; k <= prev && strings.HasPrefix(prev, pid+" ") {
			t.Fatalf("person_events not sorted by person, date, field: %q after %q", k, prev)
		} else {
			prev = k
		}
		if events[pid] == nil {
			events[pid] = map[string][][2]string{}
		}
		events[pid][f] = append(events[pid][f], [2]string{d, v})
		counts[f]++
	}
	for _, f := range PersonFields() {
		if counts[f] == 0 {
			t.Errorf("no %s events", f)
		}
	}
	inpatient := map[string]bool{}
	for _, r := range mc.rows {
		if r[mc.col("inpatient")] == "true" {
			inpatient[r[mc.col("person_id")]+" "+r[mc.col("service_date")]] = true
		}
	}
	start := rep.Start.Format("2006-01-02")
	cols := map[string]int{}
	for _, f := range PersonFields() {
		name := f
		if f == "schooling" || f == "labor_capacity" || f == "disability_grade" || f == "chronic_disease" || f == "major_disease" {
			cols[f] = ps.col(name)
		}
	}
	checked := 0
	for _, r := range ps.rows {
		pid := r[ps.col("person_id")]
		birth, err := time.Parse("2006-01-02", r[ps.col("birth_date")])
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range PersonFields() {
			want := r[cols[f]]
			if got := stateOn(f, events[pid][f], rep.End, birth, want); got != want {
				t.Errorf("%s %s on the export date: rule gives %q, persons holds %q (events %v)", pid, f, got, want, events[pid][f])
			}
			checked++
			for _, e := range events[pid][f] {
				if e[0] < r[ps.col("birth_date")] {
					t.Errorf("%s %s event on %s before birth", pid, f, e[0])
				}
				if e[0] < start {
					continue
				}
				switch {
				case f == "major_disease" && e[1] == "true", f == "labor_capacity" && e[1] == "lost" && !strings.HasSuffix(e[0], "-01"):
					// a 16th or 60th birthday can also date a labour event;
					// a loss falls on an inpatient claim
					if !inpatient[pid+" "+e[0]] && f == "major_disease" {
						t.Errorf("%s %s=%s on %s: no inpatient claim that day", pid, f, e[1], e[0])
					}
				case f == "schooling":
					if md := e[0][5:]; md != "03-01" && md != "09-01" {
						t.Errorf("%s schooling changes on %s, not a term start", pid, e[0])
					}
				}
			}
		}
	}
	if checked != 5*len(ps.rows) || len(ps.rows) < 3000 {
		t.Errorf("checked %d fields of %d persons", checked, len(ps.rows))
	}
	// Losses of labour inside the data are mostly dated by a claim.
	lost, onClaim := 0, 0
	for pid, fs := range events {
		for _, e := range fs["labor_capacity"] {
			if e[0] >= start && e[1] == "lost" {
				lost++
				if inpatient[pid+" "+e[0]] {
					onClaim++
				}
			}
		}
	}
	if lost < 5 || onClaim < lost*9/10 {
		t.Errorf("%d labour losses inside the data, %d on an inpatient claim day", lost, onClaim)
	}
}

// checkRegions checks a regions table (header, code order, nesting, name
// endings, names unique within their parent) and returns the names by code.
func checkRegions(t *testing.T, rg *table) map[string]string {
	t.Helper()
	if strings.Join(rg.header, ",") != "region_code,name" {
		t.Fatalf("regions header %v", rg.header)
	}
	names := map[string]string{}
	byParent := map[string]map[string]bool{}
	prev := ""
	for _, r := range rg.rows {
		code, name := r[0], r[1]
		if code <= prev {
			t.Errorf("regions not sorted: %s after %s", code, prev)
		}
		prev = code
		names[code] = name
		var parent string
		var ends []string
		switch len(code) {
		case 6:
			parent, ends = "", []string{"县", "市", "区"}
		case 9:
			parent, ends = code[:6], []string{"镇", "乡", "街道"}
		case 12:
			parent, ends = code[:9], []string{"村", "社区"}
		default:
			t.Fatalf("region code %q", code)
		}
		if parent != "" && names[parent] == "" {
			t.Errorf("%s %s: parent %s has no name (or comes later)", code, name, parent)
		}
		ok := false
		for _, e := range ends {
			ok = ok || strings.HasSuffix(name, e)
		}
		if rs := []rune(name); len(code) > 6 && rs[0] == rs[1] {
			t.Errorf("%s: name %q repeats its first syllable", code, name)
		}
		if !ok || len([]rune(name)) < 3 {
			t.Errorf("%s: name %q does not end in one of %v", code, name, ends)
		}
		if byParent[parent] == nil {
			byParent[parent] = map[string]bool{}
		}
		if byParent[parent][name] {
			t.Errorf("%s: name %q twice under %q", code, name, parent)
		}
		byParent[parent][name] = true
	}
	return names
}

// TestRegions: every county, township and village of the households has a
// name, codes nest (6, 9, 12 digits), names end as they should and are
// unique within their parent; the same seed gives the same names, another
// seed others.
func TestRegions(t *testing.T) {
	rep := gen(t, GenerateOptions{Households: 800, Months: 8, Seed: 41})
	drop := readDrop(t, filepath.Dir(rep.Tables[0].Path), ".csv", nil)
	rg := drop["regions"]
	names := checkRegions(t, rg)
	if want := 6 + 6*6 + 6*6*8; len(rg.rows) != want {
		t.Errorf("%d regions, want %d", len(rg.rows), want)
	}
	hh := drop["households"]
	if hh.col("village") >= 0 {
		t.Errorf("households still has a village column")
	}
	for _, r := range hh.rows {
		rc := r[hh.col("region_code")]
		for _, c := range []string{rc[:6], rc[:9], rc} {
			if names[c] == "" {
				t.Fatalf("household %s: region %s has no name", r[0], c)
			}
		}
	}
	if names["520121"] != "开阳县" {
		t.Errorf("520121 named %q, want 开阳县", names["520121"])
	}
	other := readDrop(t, filepath.Dir(gen(t, GenerateOptions{Households: 50, Months: 8, Seed: 42}).Tables[0].Path), ".csv", nil)["regions"]
	same := readDrop(t, filepath.Dir(gen(t, GenerateOptions{Households: 50, Months: 8, Seed: 41}).Tables[0].Path), ".csv", nil)["regions"]
	diff := 0
	for i, r := range rg.rows {
		if same.rows[i][1] != r[1] {
			t.Fatalf("same seed, %s named %q then %q", r[0], r[1], same.rows[i][1])
		}
		if other.rows[i][1] != r[1] {
			diff++
		}
	}
	if diff < len(rg.rows)/2 {
		t.Errorf("another seed renamed only %d of %d regions", diff, len(rg.rows))
	}
}

// TestPersonEventsEveryMonthEnd: the rule gives the simulator's own state
// of every person and field at every month-end of the data, not only at
// export (the events are read from the rows written, the state from the
// simulation).
func TestPersonEventsEveryMonthEnd(t *testing.T) {
	cal := calendar{y0: 2024, m0: 1, months: 30}
	w := newWorld(9, cal, 0)
	s := &sim{w: w, o: &GenerateOptions{Seed: 9}, stats: &simStats{}}
	s.pcg = rand.NewPCG(0, 0)
	s.r = rand.New(s.pcg)
	s.truth = make([][]float64, 7)
	type key struct {
		pid string
		f   int
		t   int
	}
	checked, changed := 0, 0
	for idx := 0; idx < 1500; idx++ {
		s.bufs = newBufs()
		s.dirty = newDirtier(0, 9, cal, s.bufs)
		state := map[key]string{}
		var members []*simPerson
		s.monthEnd = func(h *household, mt int) {
			members = h.persons
			for _, p := range h.persons {
				for f := 0; f < nFields; f++ {
					state[key{p.id, f, mt}] = p.value(f)
				}
			}
		}
		s.household(idx)
		eb := s.bufs[tPersonEvents]
		events := map[string]map[string][][2]string{}
		for r := 0; r < eb.rows(); r++ {
			pid, f := string(eb.field(r, 0)), string(eb.field(r, 2))
			if events[pid] == nil {
				events[pid] = map[string][][2]string{}
			}
			events[pid][f] = append(events[pid][f], [2]string{string(eb.field(r, 1)), string(eb.field(r, 3))})
		}
		for _, p := range members {
			birth := p.birth.time()
			for f := 0; f < nFields; f++ {
				export := p.value(f)
				for mt := 0; mt < cal.months; mt++ {
					want := state[key{p.id, f, mt}]
					if got := stateOn(personFields[f], events[p.id][personFields[f]], cal.last(mt).time(), birth, export); got != want {
						t.Fatalf("%s %s on %s: rule gives %q, the simulation had %q (events %v)", p.id, personFields[f], cal.last(mt).time().Format("2006-01-02"), got, want, events[p.id][personFields[f]])
					}
					if mt > 0 && want != state[key{p.id, f, mt - 1}] {
						changed++
					}
					checked++
				}
			}
		}
	}
	if changed < 100 {
		t.Errorf("only %d month-to-month changes in %d states checked", changed, checked)
	}
	t.Logf("%d person-field-month states checked, %d changes", checked, changed)
}

// TestCounties: a world of 40 counties keeps the six real counties of the
// default world with their townships, villages and names, adds 34
// simulated ones alternately in Guizhou and Yunnan with 3 to 12 townships,
// spreads households over counties in proportion to their townships, draws
// disasters in them, and gives every member an ID number of the
// household's county. Fewer counties than six keep the first real ones.
func TestCounties(t *testing.T) {
	const n = 40
	rep := gen(t, GenerateOptions{Households: 4000, Months: 8, Seed: 41, Counties: n})
	drop := readDrop(t, filepath.Dir(rep.Tables[0].Path), ".csv", nil)
	if ps := checkDrop(t, drop); len(ps) > 0 {
		t.Fatalf("drop of %d counties has %d problems, first %+v", n, len(ps), ps[0])
	}
	names := checkRegions(t, drop["regions"])
	towns := map[string]int{} // county -> townships
	perProvince := map[string]int{}
	countyNames := map[string]bool{}
	for code, name := range names {
		switch len(code) {
		case 6:
			perProvince[code[:2]]++
			if countyNames[name] {
				t.Errorf("county name %q twice", name)
			}
			countyNames[name] = true
		case 9:
			towns[code[:6]]++
		}
	}
	if len(towns) != n || perProvince["52"] != n/2 || perProvince["53"] != n/2 {
		t.Fatalf("%d counties with townships, per province %v; want %d, half each", len(towns), perProvince, n)
	}
	small := readDrop(t, filepath.Dir(gen(t, GenerateOptions{Households: 50, Months: 8, Seed: 41}).Tables[0].Path), ".csv", nil)["regions"]
	for _, r := range small.rows {
		if names[r[0]] != r[1] {
			t.Errorf("default world's %s %s is %q in the larger world", r[0], r[1], names[r[0]])
		}
	}
	real := map[string]bool{}
	for _, c := range simCounties {
		real[c.code] = true
	}
	sizes := map[int]bool{}
	for c, k := range towns {
		if real[c] && k != townshipsPerCounty || !real[c] && (k < minTowns || k > maxTowns) {
			t.Errorf("county %s has %d townships", c, k)
		}
		sizes[k] = true
	}
	if len(sizes) < 4 {
		t.Errorf("simulated counties have only township counts %v", sizes)
	}
	// Households per county follow townships: correlation above 0.8
	// (expected counts 4000*k/T of 50-170 against Poisson noise of ~10).
	hh := drop["households"]
	county := map[string]string{} // household -> county
	count := map[string]float64{}
	for _, r := range hh.rows {
		c := r[hh.col("region_code")][:6]
		county[r[hh.col("household_id")]] = c
		count[c]++
	}
	var xs, ys []float64
	for c, k := range towns {
		xs, ys = append(xs, float64(k)), append(ys, count[c])
	}
	if r := stat.Correlation(xs, ys, nil); r < 0.8 {
		t.Errorf("households per county against townships: correlation %.2f", r)
	}
	ps := drop["persons"]
	for _, r := range ps.rows {
		if id := r[ps.col("id_number")]; id != "" && id[:6] != county[r[ps.col("household_id")]] {
			t.Fatalf("person %s of county %s has ID number of %s", r[ps.col("person_id")], county[r[ps.col("household_id")]], id[:6])
		}
	}
	simulated := 0
	ds := drop["disasters"]
	for _, r := range ds.rows {
		if !real[r[ds.col("region_code")][:6]] {
			simulated++
		}
	}
	if simulated == 0 {
		t.Errorf("no disaster in the %d simulated counties (of %d)", n-6, len(ds.rows))
	}
	few := readDrop(t, filepath.Dir(gen(t, GenerateOptions{Households: 300, Months: 8, Seed: 41, Counties: 2}).Tables[0].Path), ".csv", nil)
	got := map[string]bool{}
	for _, r := range few["regions"].rows {
		if len(r[0]) == 6 {
			got[r[0]] = true
		}
	}
	if len(got) != 2 || !got["520121"] || !got["520123"] {
		t.Errorf("2 counties: %v, want 520121 and 520123", got)
	}
}
