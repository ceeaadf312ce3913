package rundir

import (
	"encoding/csv"
	"io"
)

// Change is one line of changes.csv.
type Change struct {
	HouseholdID, RegionCode string
	Change                  string  // entered, left or rose
	Score, PreviousScore    float64 // NaN when absent from that run
}

// WriteChanges writes changes.csv (UTF-8, no BOM: it is read by programs;
// text cells neutralised all the same, since offices open it too).
func WriteChanges(w io.Writer, ch []Change) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"household_id", "region_code", "county_code", "township_code", "change", "score", "previous_score", "delta"}); err != nil {
		return err
	}
	for _, c := range ch {
		delta := c.Score - c.PreviousScore
		if err := cw.Write([]string{Cell(c.HouseholdID), Cell(c.RegionCode), Cell(Prefix(c.RegionCode, 6)), Cell(Prefix(c.RegionCode, 9)), c.Change,
			FormatFloat(c.Score), FormatFloat(c.PreviousScore), FormatFloat(delta)}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// Prefix is the first n bytes of a region code (the county: 6, the
// township: 9), or the whole code when shorter.
func Prefix(s string, n int) string {
	if len(s) < n {
		return s
	}
	return s[:n]
}
