package features

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/povrisk/povrisk/engine/civil"
)

// DataEnd is the last month-end covered by the warehouse: the latest of
// the last income month's end and the latest dated event (claims,
// monitoring events, contributions' month end; not assistance, whose
// start dates may be planned ahead), taken back to a month-end
// when it falls inside a month.
func DataEnd(ctx context.Context, db *sql.DB, w Tables) (time.Time, error) {
	probes := []struct{ table, expr string }{
		{"income_records", "last_day(max(period))"},
		{"social_insurance", "last_day(max(period))"},
		{"medical_claims", "max(service_date)"},
		{"monitoring_events", "max(identified_date)"},
	}
	var latest time.Time
	for _, p := range probes {
		path, ok := w.TablePath(p.table)
		if !ok {
			continue
		}
		var t sql.NullTime
		if err := db.QueryRowContext(ctx, "SELECT CAST("+p.expr+" AS DATE) FROM read_parquet(?)", path).Scan(&t); err != nil {
			return time.Time{}, fmt.Errorf("find the end of the data in %s: %w", p.table, err)
		}
		if t.Valid && t.Time.After(latest) {
			latest = t.Time.UTC()
		}
	}
	if latest.IsZero() {
		return time.Time{}, errors.New("find the end of the data: no dated rows in the warehouse (income_records, medical_claims, monitoring_events, ...)")
	}
	latest = time.Date(latest.Year(), latest.Month(), latest.Day(), 0, 0, 0, 0, time.UTC)
	if me := civil.MonthEnd(latest); !me.Equal(latest) {
		latest = civil.AddMonths(me, -1)
	}
	return latest, nil
}
