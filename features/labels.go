package features

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/povrisk/povrisk/engine/civil"
	"github.com/povrisk/povrisk/features/rules"
)

// Label is the training outcome of a household for an as-of date D and a
// horizon of H months.
type Label struct {
	// Positive: identified as a monitoring object in (D, D+H] and not a
	// monitoring object on D.
	Positive bool
	// MonitoredAtAsOf: already a monitoring object on D (the
	// monitored_at_as_of feature); callers exclude these households.
	MonitoredAtAsOf bool
	// RiskType of the first identification in (D, D+H] ("" none), even when
	// MonitoredAtAsOf.
	RiskType string
	// FromVisit: the label was decided by a home visit (visit_outcomes):
	// a confirmed visit in (D, D+H] made the household positive although
	// the monitoring events alone would not (no identification in the
	// window, or already monitored on D), or a no_risk visit in the window
	// made it a verified negative.
	FromVisit bool
	// Verified: a visit in (D, D+H] checked the label: a confirmed visit
	// of a positive, or a no_risk visit of a negative without any
	// identification in the window (a verified negative).
	Verified bool
}

// addMonths returns d plus n calendar months: a month-end maps to the
// target month's end (2025-06-30 + 6 = 2025-12-31, engine/civil's rule),
// another day keeps its day number, clamped to the target month's length
// (2025-06-15 + 6 = 2025-12-15), so that the horizon (D, D+H] of an
// as-of date inside a month is H months long too.
func addMonths(d time.Time, n int) time.Time {
	if civil.IsMonthEnd(d) {
		return civil.AddMonths(d, n)
	}
	last := civil.AddMonths(d, n)
	return civil.Date(last.Year(), last.Month(), min(d.Day(), last.Day()))
}

// Labels returns the label of every household registered on or before asOf,
// for a horizon of horizonMonths months after it (docs/labels.md):
// positive when identified in (D, D+H] and not a monitoring object on D,
// or when a visit dated in (D, D+H] found the risk confirmed (even when the
// monitoring event is recorded later, or never); a no_risk visit in the
// window without any identification in it is a verified negative. Without
// a visit_outcomes table the labels come from monitoring_events alone.
func Labels(ctx context.Context, db *sql.DB, w Tables, asOf time.Time, horizonMonths int) (map[string]Label, error) {
	if horizonMonths < 1 {
		return nil, fmt.Errorf("labels: horizon %d months: want 1 or more", horizonMonths)
	}
	end := civil.Format(addMonths(asOf, horizonMonths))
	out := map[string]Label{}
	err := withSession(ctx, db, w, asOf, rules.SamplePolicy(), Options{}, func(conn *sql.Conn, present map[string]bool) error {
		if !present["monitoring_events"] {
			return errors.New("labels: the warehouse has no monitoring_events table: ingest a drop with it")
		}
		if _, err := conn.ExecContext(ctx, "CREATE OR REPLACE TEMP TABLE f_status AS\n"+familySQL("status")); err != nil {
			return fmt.Errorf("labels: monitoring state: %w", err)
		}
		rows, err := conn.QueryContext(ctx, `
SELECT s.household_id, s.monitored_at_as_of, e.rt,
       coalesce(v.confirmed, false), coalesce(v.no_risk, false)
FROM f_status s
LEFT JOIN (
    SELECT m.household_id,
           arg_min(m.risk_type, strftime(m.identified_date, '%Y%m%d') || m.risk_type) AS rt
    FROM monitoring_events m CROSS JOIN params p
    WHERE m.identified_date > p.as_of AND m.identified_date <= CAST(? AS DATE)
    GROUP BY m.household_id
) e ON e.household_id = s.household_id
LEFT JOIN (
    SELECT o.household_id,
           bool_or(o.outcome = 'confirmed') AS confirmed,
           bool_or(o.outcome = 'no_risk')   AS no_risk
    FROM visit_outcomes o CROSS JOIN params p
    WHERE o.visit_date > p.as_of AND o.visit_date <= CAST(? AS DATE)
    GROUP BY o.household_id
) v ON v.household_id = s.household_id`, end, end)
		if err != nil {
			return fmt.Errorf("labels: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			var mon, confirmed, noRisk bool
			var rt sql.NullString
			if err := rows.Scan(&id, &mon, &rt, &confirmed, &noRisk); err != nil {
				return fmt.Errorf("labels: %w", err)
			}
			out[id] = visitLabel(mon, rt, confirmed, noRisk)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// visitLabel combines the monitoring events and the visits of the window
// (D, D+H] into a label: mon = monitored on D, rt = risk type of the first
// identification in the window (invalid: none), confirmed / noRisk = a
// visit of that outcome in the window. A confirmed visit wins over a
// no_risk one (the later visit may have found what the earlier missed,
// and a positive is what the office acts on).
func visitLabel(mon bool, rt sql.NullString, confirmed, noRisk bool) Label {
	l := Label{MonitoredAtAsOf: mon, RiskType: rt.String}
	byEvent := rt.Valid && !mon
	switch {
	case confirmed:
		l.Positive, l.Verified, l.FromVisit = true, true, !byEvent
	case byEvent:
		l.Positive = true
	case noRisk && !rt.Valid:
		l.Verified, l.FromVisit = true, true
	}
	return l
}
