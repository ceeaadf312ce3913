package rundir

import (
	"encoding/json"
	"strings"
	"testing"
)

func f64(x float64) *float64 { return &x }

// TestMergeOffice: two shards' visits, elimination and watch sum to what
// one night over both counties gives; precision from the sums; a county
// in two shards refused.
func TestMergeOffice(t *testing.T) {
	a := &Visits{Present: true, Since: "2025-11-30", Visited: 3, Confirmed: 2, NoRisk: 1,
		BySource: []SourceVisits{{Source: "model", Visited: 3, Confirmed: 2, NoRisk: 1, Precision: f64(2.0 / 3)}, {Source: "rule"}, {Source: "other"}},
		Counties: []CountyVisits{{Place: Place{Code: "520123"}, Visited: 3, Confirmed: 2, NoRisk: 1,
			BySource: []SourceVisits{{Source: "model", Visited: 3, Confirmed: 2, NoRisk: 1, Precision: f64(2.0 / 3)}, {Source: "rule"}, {Source: "other"}}}}}
	b := &Visits{Present: true, Since: "2025-11-30", Visited: 2, Confirmed: 0, NoRisk: 1, Moved: 1,
		BySource: []SourceVisits{{Source: "model", Visited: 1, NoRisk: 1, Precision: f64(0)}, {Source: "rule", Visited: 1}, {Source: "other"}},
		Counties: []CountyVisits{{Place: Place{Code: "520121"}, Visited: 2, NoRisk: 1, Moved: 1,
			BySource: []SourceVisits{{Source: "model", Visited: 1, NoRisk: 1, Precision: f64(0)}, {Source: "rule", Visited: 1}, {Source: "other"}}}}}
	m, err := MergeVisits(a, nil, b)
	if err != nil {
		t.Fatal(err)
	}
	if m.Visited != 5 || m.Confirmed != 2 || m.NoRisk != 2 || m.Moved != 1 || *m.BySource[0].Precision != 0.5 || m.BySource[1].Precision != nil ||
		m.Counties[0].Code != "520121" || m.Counties[1].Code != "520123" || m.BySource[0].Visited != 4 {
		got, _ := json.Marshal(m)
		t.Errorf("merged visits %s", got)
	}
	if _, err := MergeVisits(a, a); err == nil || !strings.Contains(err.Error(), "520123") {
		t.Errorf("a county in two shards: %v", err)
	}
	if v, err := MergeVisits(nil, nil); v != nil || err != nil {
		t.Errorf("no visits anywhere: %v %v", v, err)
	}
	e, err := MergeElimination(&Elimination{Monitored: 3, Ready: 1, NotMet: 2, Relapses12m: 1, Counties: []CountyElimination{{Place: Place{Code: "2"}, Monitored: 3}}},
		&Elimination{Monitored: 1, Defer: 1, Counties: []CountyElimination{{Place: Place{Code: "1"}, Monitored: 1}}})
	if err != nil || e.Monitored != 4 || e.Ready != 1 || e.Defer != 1 || e.NotMet != 2 || e.Relapses12m != 1 || e.Counties[0].Code != "1" {
		t.Errorf("merged elimination %+v %v", e, err)
	}
	w, err := MergeWatch(&Watch{Eliminated12m: 2, InTopK: 1, Counties: []CountyWatch{{Place: Place{Code: "2"}}}}, &Watch{Eliminated12m: 1, High: 1,
		Counties: []CountyWatch{{Place: Place{Code: "1"}}}})
	if err != nil || w.Eliminated12m != 3 || w.InTopK != 1 || w.High != 1 || w.Counties[0].Code != "1" {
		t.Errorf("merged watch %+v %v", w, err)
	}
	p := MergePlaces([]Place{{"1", ""}, {"3", "c"}}, []Place{{"1", "a"}, {"2", "b"}})
	if got, _ := json.Marshal(p); string(got) != `[{"code":"1","name":"a"},{"code":"2","name":"b"},{"code":"3","name":"c"}]` {
		t.Errorf("places %s", got)
	}
}

// TestDecodeSummaryOfficeChecks: visits or verdicts that do not add up are
// refused.
func TestDecodeSummaryOfficeChecks(t *testing.T) {
	base := `{"schema": 1, "as_of": "2025-12-31", %s}`
	for _, part := range []string{`"visits": {"visited": 3, "confirmed": 1}`, `"elimination": {"monitored": 2, "ready": 1}`,
		`"watch": {"eliminated_12m": 1, "in_top_k": 2}`, `"visits": {"visited": -1, "confirmed": -1}`} {
		if _, err := DecodeSummary([]byte(strings.Replace(base, "%s", part, 1))); err == nil {
			t.Errorf("%s accepted", part)
		}
	}
	if _, err := DecodeSummary([]byte(strings.Replace(base, "%s", `"visits": {"visited": 2, "confirmed": 1, "other": 1}`, 1))); err != nil {
		t.Errorf("good visits refused: %v", err)
	}
}
