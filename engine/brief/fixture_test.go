package brief

import (
	"fmt"
	"os"
	"testing"

	"github.com/povrisk/povrisk/engine/run/nighttest"
)

// fixtureRuns is the runs directory the brief tests read, made by the real
// night on a small generated drop (nighttest.Build, in TestMain): generate,
// ingest, train, and the nights of nighttest.Nights, in order, so that the
// brief reads exactly what `povrisk run` writes. The 2025-12-30 night (not
// a month-end, run with AnyDay) gives the brief a "previous run" a day
// before the last; the claims stop at nighttest.StaleClaimsFrom, so the
// last nights see stale claims data.
var fixtureRuns string

func TestMain(m *testing.M) {
	root, err := os.MkdirTemp("", "povrisk-brief-fixture-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "brief fixture:", err)
		os.Exit(1)
	}
	if fixtureRuns, err = nighttest.Build(root); err != nil {
		os.RemoveAll(root)
		fmt.Fprintln(os.Stderr, "brief fixture:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(root)
	os.Exit(code)
}
