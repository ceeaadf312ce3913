package rundir

import "io"

// Change is one line of changes.csv.
type Change struct {
	HouseholdID, RegionCode string
	Change                  string  // entered, left or rose
	Score, PreviousScore    float64 // NaN when absent from that run
}

// WriteChanges writes changes.csv (UTF-8, no BOM: it is read by programs;
// text cells neutralised all the same, since offices open it too).
func WriteChanges(w io.Writer, ch []Change) error {
	c := newCSVLines(w)
	for _, h := range []string{"household_id", "region_code", "county_code", "township_code", "change", "score", "previous_score", "delta"} {
		c.raw(h)
	}
	c.end()
	for _, x := range ch {
		for _, s := range []string{x.HouseholdID, x.RegionCode, Prefix(x.RegionCode, 6), Prefix(x.RegionCode, 9)} {
			c.text(s)
		}
		c.raw(x.Change)
		c.float(x.Score)
		c.float(x.PreviousScore)
		c.float(x.Score - x.PreviousScore)
		c.end()
	}
	return c.flush()
}

// Prefix is the first n bytes of a region code (the county: 6, the
// township: 9), or the whole code when shorter.
func Prefix(s string, n int) string {
	if len(s) < n {
		return s
	}
	return s[:n]
}
