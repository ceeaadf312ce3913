package rundir

import (
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
	cw, err := NewChangesWriter(w)
	if err != nil {
		return err
	}
	for _, c := range ch {
		if err := cw.Write(c); err != nil {
			return err
		}
	}
	return cw.Close()
}

// Prefix is the first n bytes of a region code (the county: 6, the
// township: 9), or the whole code when shorter.
func Prefix(s string, n int) string {
	if len(s) < n {
		return s
	}
	return s[:n]
}
