package run

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/povrisk/povrisk/engine/civil"
	"github.com/povrisk/povrisk/engine/fault"
	"github.com/povrisk/povrisk/engine/rundir"
	"github.com/povrisk/povrisk/features/rules"
)

// cadences are how often, in months, each source table is expected to
// bring new rows, as the policy's [freshness] section says (its defaults:
// rules.DefaultCadence): a table is stale when its last date is more
// months behind the as-of date than its cadence. Tables it does not list
// (households dated by registration, persons undated, rare events) are
// not judged.
func cadences(p *rules.Policy) map[string]int {
	m := map[string]int{}
	for _, t := range p.CadenceTables() {
		m[t] = p.Cadence(t)
	}
	return m
}

// staleTables lists the present tables whose latest date is more months
// behind asOf than their cadence, in the order of cov.
func staleTables(cov []rundir.Coverage, asOf time.Time, cadence map[string]int) []rundir.Warning {
	out := []rundir.Warning{}
	for _, c := range cov {
		every, judged := cadence[c.Table]
		if !c.Present || !judged || every <= 0 {
			continue
		}
		w := rundir.Warning{Table: c.Table, LastDate: c.Latest, CadenceMonths: every}
		if last, err := civil.Parse(c.Latest); err == nil {
			w.MonthsBehind = max(0, civil.MonthsBetween(last, asOf))
		} else {
			w.LastDate, w.MonthsBehind = "", every+1 // no dated row: as stale as can be said
		}
		if w.MonthsBehind > every {
			out = append(out, w)
		}
	}
	return out
}

// tooStale is the error of kind fault.BadInput naming every table more
// than maxMonths behind; nil when maxMonths is 0 (warn only) or none is.
func tooStale(ws []rundir.Warning, maxMonths int) error {
	if maxMonths <= 0 {
		return nil
	}
	var bad []string
	for _, w := range ws {
		if w.MonthsBehind > maxMonths {
			bad = append(bad, w.String())
		}
	}
	if len(bad) == 0 {
		return nil
	}
	return fault.Wrap(fault.BadInput, fmt.Errorf("%w (more than --max-stale-months %d): %s; ingest a fresher drop or run an earlier as-of date",
		errStale, maxMonths, strings.Join(bad, "; ")))
}

var errStale = errors.New("stale data")
