package datasets

import (
	"slices"
	"testing"
)

// TestStandardIsImmutable: what Tables, Lookup and the code lists return
// are copies; spoiling them changes neither the next copy nor the drop.
func TestStandardIsImmutable(t *testing.T) {
	a := Tables()
	if len(a) != 14 || a[0].Name != "households" || a[10].Name != "monitoring_events" || a[11].Name != "regions" || a[13].Name != "visit_outcomes" {
		t.Fatalf("Tables: %d tables, first %q", len(a), a[0].Name)
	}
	a[0].Name = "spoiled"
	a[0].Key[0] = "spoiled"
	a[0].Columns[2].Values[0] = "spoiled"
	a[7].Columns[1].RegionLengths[0] = 99
	b := Tables()
	if b[0].Name != "households" || b[0].Key[0] != "household_id" || b[0].Columns[2].Values[0] != "escaped" || b[7].Columns[1].RegionLengths[0] != 6 {
		t.Errorf("changing a copy changed the standard: %q %q %q %d", b[0].Name, b[0].Key[0], b[0].Columns[2].Values[0], b[7].Columns[1].RegionLengths[0])
	}
	h, ok := Lookup("households")
	if !ok {
		t.Fatal("Lookup(households) not found")
	}
	h.Columns[0].Name = "spoiled"
	if h2, _ := Lookup("households"); h2.Columns[0].Name != "household_id" {
		t.Errorf("changing a looked-up table changed the standard")
	}
	if _, ok := Lookup("nope"); ok {
		t.Errorf("Lookup(nope) found a table")
	}
	p := Programs()
	p[0] = "spoiled"
	if Programs()[0] != "dibao" {
		t.Errorf("Programs()[0] = %q after spoiling a copy", Programs()[0])
	}
	r := RiskTypes()
	if r[len(r)-1] != "other" {
		t.Errorf("RiskTypes ends with %q, want other", r[len(r)-1])
	}
	k := DefectKinds()
	k[0] = "spoiled"
	if DefectKinds()[0] != DefectBadType {
		t.Errorf("DefectKinds()[0] changed")
	}
	// each code list is the one its column uses
	for _, c := range []struct {
		table, col string
		list       []string
	}{
		{"households", "poverty_status", PovertyStatuses()}, {"households", "monitor_type", MonitorTypes()},
		{"persons", "sex", Sexes()}, {"persons", "relation", Relations()}, {"persons", "labor_capacity", LaborCapacities()},
		{"persons", "schooling", SchoolingLevels()}, {"education", "level", SchoolingLevels()},
		{"disasters", "kind", DisasterKinds()}, {"assets", "kind", AssetKinds()},
		{"assistance", "program", Programs()}, {"monitoring_events", "risk_type", RiskTypes()},
	} {
		tb, _ := Lookup(c.table)
		col, ok := tb.Column(c.col)
		if !ok || !slices.Equal(col.Values, c.list) {
			t.Errorf("%s.%s: values %v, code list %v", c.table, c.col, col.Values, c.list)
		}
	}
}
