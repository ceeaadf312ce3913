package features

import (
	"context"
	"testing"
	"time"
)

// TestLabelsFromVisits checks the labels of the person_events_visits case
// for D = 2025-06-30 and H = 6 months (window 2025-07-01 .. 2025-12-31),
// worked by hand from its monitoring_events.csv and visit_outcomes.csv:
//
//	H1 confirmed 07-15, never identified      -> positive from the visit
//	H2 no_risk 08-10, never identified        -> verified negative
//	H3 identified 08-01, no_risk 07-05        -> positive by the event; the
//	                                             visit does not override it
//	H4 confirmed on D (outside), not_reached
//	   07-20, confirmed 2026-01-05 (outside)  -> negative, not verified
//	H5 monitored on D, confirmed 07-10        -> positive from the visit
//	                                             (callers exclude it anyway)
//	H6 identified 07-01, confirmed 07-02      -> positive, verified, not from the visit
func TestLabelsFromVisits(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	w := ingestDrop(t, ctx, db, "testdata/cases/person_events_visits/drop")
	asOf := time.Date(2025, 6, 30, 0, 0, 0, 0, time.UTC)
	labels, err := Labels(ctx, db, w, asOf, 6)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Label{
		"H1": {Positive: true, FromVisit: true, Verified: true},
		"H2": {FromVisit: true, Verified: true},
		"H3": {Positive: true, RiskType: "disability"},
		"H4": {},
		"H5": {Positive: true, MonitoredAtAsOf: true, FromVisit: true, Verified: true},
		"H6": {Positive: true, RiskType: "illness", Verified: true},
	}
	if len(labels) != len(want) {
		t.Errorf("%d labels, want %d: %v", len(labels), len(want), labels)
	}
	for id, l := range want {
		if labels[id] != l {
			t.Errorf("label %s = %+v, want %+v", id, labels[id], l)
		}
	}
	// a 1-month horizon (to 2025-07-31): H2's no_risk visit of 08-10 and
	// H3's identification of 08-01 fall outside; H3's no_risk visit of
	// 07-05 is then a verified negative.
	labels, err = Labels(ctx, db, w, asOf, 1)
	if err != nil {
		t.Fatal(err)
	}
	want1 := map[string]Label{
		"H2": {},
		"H3": {FromVisit: true, Verified: true},
	}
	for id, l := range want1 {
		if labels[id] != l {
			t.Errorf("1 month: label %s = %+v, want %+v", id, labels[id], l)
		}
	}
}

// TestPersonEventsPresent: the case warehouse holds person_events, the
// schooling case's does not; the feature table says which in its metadata.
func TestPersonEventsPresent(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	asOf := time.Date(2025, 6, 30, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		drop  string
		want  bool
		state string
	}{
		{"testdata/cases/person_events_visits/drop", true, "dated"},
		{"testdata/cases/schooling_status_assets/drop", false, "export"},
	} {
		w := ingestDrop(t, ctx, db, c.drop)
		if got := PersonEventsPresent(w); got != c.want {
			t.Errorf("%s: PersonEventsPresent = %v, want %v", c.drop, got, c.want)
		}
		tab, err := Compute(ctx, db, w, asOf, nil)
		if err != nil {
			t.Fatal(err)
		}
		if v, _ := tab.Schema().Metadata().GetValue(PersonStateKey); v != c.state {
			t.Errorf("%s: metadata %s = %q, want %q", c.drop, PersonStateKey, v, c.state)
		}
		tab.Release()
	}
	cols := PersonStateColumns()
	for _, n := range []string{"labor_full", "no_labor", "chronic_members", "working_age_lost_capacity"} {
		found := false
		for _, c := range cols {
			found = found || c == n
		}
		if !found {
			t.Errorf("PersonStateColumns() = %v lacks %s", cols, n)
		}
	}
}
