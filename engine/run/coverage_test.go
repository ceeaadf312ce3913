package run

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/povrisk/povrisk/engine/civil"
	"github.com/povrisk/povrisk/engine/rundir"
)

// TestCoverageShares checks summary.json's coverage shares, which the
// night counts per county group (groupCoverage) and the merge sums,
// against shares computed from the drop's own CSV files: the households
// with at least one row dated in the 12 months to the as-of date (persons:
// with a member; medical claims: through the person; disasters: exposed
// through their village, township or county), over every household. The
// night in small county groups, split and filtered, writes the same
// summary (TestShardsMergeSameBytes), so this holds for the groups' sums.
func TestCoverageShares(t *testing.T) {
	f := setupE2E(t)
	s, err := rundir.ReadSummary(f.runDir())
	if err != nil {
		t.Fatal(err)
	}
	from, to := civil.Format(civil.Date(f.asOf.Year()-1, f.asOf.Month(), f.asOf.Day())), civil.Format(f.asOf)
	inWindow := func(d string) bool { return d > from && d <= to }
	hh, hrecs := readCSV(t, filepath.Join(f.drop, "households.csv"))
	region := map[string]string{}
	for _, r := range hrecs {
		region[r[hh["household_id"]]] = r[hh["region_code"]]
	}
	ph, precs := readCSV(t, filepath.Join(f.drop, "persons.csv"))
	home := map[string]string{}
	withMember := map[string]bool{}
	for _, r := range precs {
		home[r[ph["person_id"]]] = r[ph["household_id"]]
		withMember[r[ph["household_id"]]] = true
	}
	// byHousehold: households of a household-linked table's dated rows.
	byHousehold := func(table, date string) map[string]bool {
		h, recs := readCSV(t, filepath.Join(f.drop, table+".csv"))
		out := map[string]bool{}
		for _, r := range recs {
			if inWindow(r[h[date]]) {
				out[r[h["household_id"]]] = true
			}
		}
		return out
	}
	claims := map[string]bool{}
	ch, crecs := readCSV(t, filepath.Join(f.drop, "medical_claims.csv"))
	for _, r := range crecs {
		if inWindow(r[ch["service_date"]]) {
			claims[home[r[ch["person_id"]]]] = true
		}
	}
	exposed := map[string]bool{}
	dh, drecs := readCSV(t, filepath.Join(f.drop, "disasters.csv"))
	for _, r := range drecs {
		if !inWindow(r[dh["start_date"]]) {
			continue
		}
		code := r[dh["region_code"]]
		for id, reg := range region {
			if strings.HasPrefix(reg, code) && (len(code) == 6 || len(code) == 9 || code == reg) {
				exposed[id] = true
			}
		}
	}
	all := map[string]bool{}
	for id := range region {
		all[id] = true
	}
	want := map[string]map[string]bool{
		"households":     all,
		"persons":        withMember,
		"medical_claims": claims,
		"disasters":      exposed,
		"assets":         byHousehold("assets", "event_date"),
		"assistance":     byHousehold("assistance", "start_date"),
	}
	seen := 0
	for _, c := range s.Coverage {
		w, ok := want[c.Table]
		if !ok {
			continue
		}
		seen++
		share := math.Round(float64(len(w))/float64(len(region))*1e4) / 1e4
		if c.HouseholdsShare != share {
			t.Errorf("%s: households share %v, want %v (%d of %d households)", c.Table, c.HouseholdsShare, share, len(w), len(region))
		}
		if share == 0 && c.Table != "households" {
			t.Errorf("%s: the fixture covers no household, so the check proves nothing", c.Table)
		}
	}
	if seen != len(want) {
		t.Errorf("summary.json has %d of the %d tables checked", seen, len(want))
	}
}
