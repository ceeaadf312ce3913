package features

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/povrisk/povrisk/features/rules"
)

// TestScreenTableReproducesTheNight: the rules_policy case's feature table,
// written to Parquet and read back, rescreened under its own policy, gives
// the rule columns the computation wrote, household by household.
func TestScreenTableReproducesTheNight(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	dir := "testdata/cases/rules_policy"
	w := ingestDrop(t, ctx, db, filepath.Join(dir, "drop"))
	asOf := readAsOf(t, filepath.Join(dir, "as_of"))
	pol, err := rules.LoadPolicy(filepath.Join(dir, "policy.toml"))
	if err != nil {
		t.Fatal(err)
	}
	tab, err := Compute(ctx, db, w, asOf, pol)
	if err != nil {
		t.Fatal(err)
	}
	defer tab.Release()
	path := filepath.Join(t.TempDir(), "features.parquet")
	if err := WriteParquet(tab, path); err != nil {
		t.Fatal(err)
	}
	back, err := ReadParquet(path)
	if err != nil {
		t.Fatal(err)
	}
	defer back.Release()
	got, err := ScreenTable(back, asOf, pol)
	if err != nil {
		t.Fatal(err)
	}
	rows, order := tableRows(tab)
	if len(got) != len(order) {
		t.Fatalf("%d rows rescreened, want %d", len(got), len(order))
	}
	for k, g := range got {
		r := rows[order[k]]
		if g.HouseholdID != order[k] {
			t.Fatalf("row %d: %s, want %s", k, g.HouseholdID, order[k])
		}
		for name, want := range map[string]string{
			"rules_tripped":          strings.Join(g.Result.Names, ";"),
			"rule_risk_types":        strings.Join(g.Result.RiskTypes, ";"),
			"rule_primary_risk_type": g.Result.Primary,
			"rule_facts":             strings.Join(g.Result.Facts, "；"),
		} {
			if c := r[name]; str(c.a, c.i) != want {
				t.Errorf("%s %s: computed %q, rescreened %q", g.HouseholdID, name, str(c.a, c.i), want)
			}
		}
	}
	if _, err := ReadParquet(filepath.Join(dir, "as_of")); err == nil {
		t.Error("ReadParquet read a text file")
	}
}
