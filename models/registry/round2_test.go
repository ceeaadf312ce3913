package registry

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/povrisk/povrisk/engine/fault"
	"github.com/povrisk/povrisk/models/calib"
	"github.com/povrisk/povrisk/models/eval"
)

func TestCalibratedRoundTrip(t *testing.T) {
	dir := t.TempDir()
	f, km, X := fitSmall(t, 2)
	cal := &calib.Calibrator{Method: calib.Platt, A: -3, B: 1.5, Rows: 200}
	c := card("2025-06-30")
	one := 3
	c.LabelsFromVisits = &one
	c.Fairness = &eval.Fairness{Share: 0.05, Groups: []eval.GroupFairness{{Attribute: "county", Group: "510101", Size: 12, TPR: &eval.Interval{Value: 0.5, Lo: 0.2, Hi: 0.8}}}}
	c.Metrics.Origins = []OriginMetrics{{TestAsOf: "2025-06-30", AUC: 0.8}, {TestAsOf: "2025-03-31", AUC: 0.7}}
	c.Metrics.OriginsMean = map[string]float64{"auc": 0.75}
	c.Selection = &Selection{Rule: "r", Chosen: "a", Configs: []ConfigScore{{Name: "a", Family: FamilyForest, Params: json.RawMessage(`{"min_leaf":5}`)}}}
	id, err := Save(dir, calib.Wrap(f, cal), km, c)
	if err != nil {
		t.Fatal(err)
	}
	m, _, got, err := Load(dir, id)
	if err != nil {
		t.Fatal(err)
	}
	cw, ok := m.(*calib.Calibrated)
	if !ok {
		t.Fatalf("Load returned %T, want *calib.Calibrated", m)
	}
	p, want := make([]float64, X.Rows), make([]float64, X.Rows)
	m.PredictProba(X, p)
	f.PredictProba(X, want)
	for i := range want {
		if p[i] != cal.Apply(want[i]) {
			t.Fatalf("row %d: loaded score %v, want Cal(%v) = %v", i, p[i], want[i], cal.Apply(want[i]))
		}
	}
	if cw.Cal.A != -3 || got.CalibSHA256 == "" || got.Family != FamilyForest || got.ModelFileName() != "forest.bin" {
		t.Errorf("card family %q file %q calib %q", got.Family, got.ModelFileName(), got.CalibSHA256)
	}
	sums := got.Checksums()
	if sums["calib.json"] != got.CalibSHA256 || sums["forest.bin"] != got.ModelSHA256 || sums["profiles.json"] != got.ProfilesSHA256 {
		t.Errorf("checksums %v", sums)
	}
	// The card's new fields survive the round trip.
	if *got.LabelsFromVisits != 3 || !reflect.DeepEqual(got.Fairness, c.Fairness) || len(got.Metrics.Origins) != 2 || got.Selection.Chosen != "a" {
		t.Errorf("card round trip lost fields: %+v", got)
	}
	md, _ := os.ReadFile(filepath.Join(dir, id, "card.md"))
	for _, s := range []string{"## Rolling origins", "## Selection", "## Fairness", "Training labels from visit outcomes: 3"} {
		if !strings.Contains(string(md), s) {
			t.Errorf("card.md lacks %q", s)
		}
	}
	// A calibrator altered after saving is refused.
	path := filepath.Join(dir, id, "calib.json")
	b, _ := os.ReadFile(path)
	os.WriteFile(path, []byte(strings.Replace(string(b), "-3", "-4", 1)), 0o644)
	if _, _, _, err := Load(dir, id); !errors.Is(err, ErrNoModel) || fault.Of(err) != fault.NoModel || !strings.Contains(err.Error(), "calib.json") {
		t.Errorf("altered calib.json: %v", err)
	}
	os.Remove(path)
	if _, _, _, err := Load(dir, id); !errors.Is(err, ErrNoModel) {
		t.Errorf("missing calib.json: %v", err)
	}
}

func TestLatestKind(t *testing.T) {
	dir := t.TempDir()
	f, _, _ := fitSmall(t, 3)
	idID, err := Save(dir, f, nil, card("2025-05-31"))
	if err != nil {
		t.Fatal(err)
	}
	rc := card("2025-06-30")
	rc.Kind = KindRelapse
	relID, err := Save(dir, f, nil, rc)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(relID, "relapse-rf-2025-06-30-") {
		t.Errorf("relapse id %q", relID)
	}
	if c, err := Latest(dir); err != nil || c.ID != idID {
		t.Errorf("Latest = %s, %v; want the identification model %s saved before the relapse one", c.ID, err, idID)
	}
	if c, err := LatestKind(dir, KindRelapse); err != nil || c.ID != relID {
		t.Errorf("LatestKind(relapse) = %s, %v; want %s", c.ID, err, relID)
	}
	if _, _, c, err := Load(dir, "latest"); err != nil || c.ID != idID {
		t.Errorf("Load(latest) = %s, %v", c.ID, err)
	}
	empty := t.TempDir()
	Save(empty, f, nil, card("2025-06-30"))
	if _, err := LatestKind(empty, KindRelapse); !errors.Is(err, ErrNoModel) || !strings.Contains(err.Error(), "--relapse") {
		t.Errorf("no relapse model: %v", err)
	}
	// An old card (no kind) is an identification model.
	if !(Card{}).IsKind(KindIdentification) || (Card{}).IsKind(KindRelapse) {
		t.Error("a card without kind must be an identification model")
	}
}
