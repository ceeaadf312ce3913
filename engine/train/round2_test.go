package train

import (
	"context"
	"database/sql"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/povrisk/povrisk/engine/civil"
	"github.com/povrisk/povrisk/engine/fault"
	"github.com/povrisk/povrisk/features"
	"github.com/povrisk/povrisk/models"
	"github.com/povrisk/povrisk/models/forest"
	"github.com/povrisk/povrisk/models/registry"
)

func TestMakeRolling(t *testing.T) {
	// Data 2023-01..2025-12, H 6, 6 snapshots, step 3: origins 2025-06-30,
	// 03-31, 2024-12-31, 09-30; the oldest trains on 2023-10-31..2024-03-31,
	// all after the earliest usable 2023-07-31 (data start + 6 months).
	r := MakeRolling(date("2025-12-31"), date("2023-01-01"), 6, 4, 3, 6, 6)
	if got := days(r.Tests); got != "2025-06-30 2025-03-31 2024-12-31 2024-09-30" {
		t.Errorf("tests %s", got)
	}
	for _, tt := range r.Tests {
		tr := r.TrainDates(tt, 6)
		if len(tr) != 6 {
			t.Errorf("origin %s: %d training snapshots", civil.Format(tt), len(tr))
		}
		for _, d := range tr {
			if civil.AddMonths(d, 6).After(tt) {
				t.Errorf("origin %s: training snapshot %s has labels past the test date", civil.Format(tt), civil.Format(d))
			}
		}
	}
	if got := days(r.TrainDates(r.Tests[3], 6)); got != "2023-10-31 2023-11-30 2023-12-31 2024-01-31 2024-02-29 2024-03-31" {
		t.Errorf("oldest origin trains on %s", got)
	}
	if got := days(r.FinalDates(2)); got != "2025-05-31 2025-06-30" {
		t.Errorf("final %s", got)
	}
	// 24 months of data (2024-01..2025-12): the second origin (2025-03-31)
	// trains on 2024-04-30..09-30, of which 2024-07-31.. are usable (3 of 6):
	// fewer than 6, so one origin, with a note.
	r = MakeRolling(date("2025-12-31"), date("2024-01-01"), 6, 4, 3, 6, 6)
	if len(r.Tests) != 1 || len(r.Notes) != 1 || !strings.Contains(r.Notes[0], "1 rolling origins of the 4") {
		t.Errorf("short data: tests %s, notes %v", days(r.Tests), r.Notes)
	}
	if got := days(r.TrainDates(r.Tests[0], 12)); got != "2024-07-31 2024-08-31 2024-09-30 2024-10-31 2024-11-30 2024-12-31" {
		t.Errorf("12 snapshots asked, the usable ones: %s", got)
	}
}

func TestChooseRule(t *testing.T) {
	sel := &registry.Selection{Tolerance: 0.005, Configs: []registry.ConfigScore{
		{Name: "a", Family: "forest", MeanAUC: 0.800, MeanCountyPrecision: 0.20},
		{Name: "b", Family: "forest", MeanAUC: 0.810, MeanCountyPrecision: 0.21}, // best AUC
		{Name: "c", Family: "boost", MeanAUC: 0.806, MeanCountyPrecision: 0.23},  // within 0.005, best precision
		{Name: "d", Family: "forest", MeanAUC: 0.790, MeanCountyPrecision: 0.30}, // best precision, too far in AUC
	}}
	if got := choose(sel); got != 2 {
		t.Fatalf("chose %d, want c (2)", got)
	}
	if sel.Chosen != "c" || sel.BestAUC != "b" || math.Abs(sel.Regret-0.004) > 1e-12 || sel.BestFamily != "boost" {
		t.Errorf("selection %+v", sel)
	}
	// boost's best county precision 0.23 against the forest's 0.30 (d).
	if math.Abs(sel.FamilyMargin-(0.23-0.30)) > 1e-12 {
		t.Errorf("family margin %v", sel.FamilyMargin)
	}
	if !sel.Configs[1].WithinTolerance || !sel.Configs[2].WithinTolerance || sel.Configs[0].WithinTolerance || sel.Configs[3].WithinTolerance {
		t.Errorf("within tolerance: %+v", sel.Configs)
	}
}

func TestSampleRows(t *testing.T) {
	// 2 positives; county A 60 negatives, county B 30: 92 rows, bound 32 ->
	// 30 negatives to keep, rate 30/90 = 1/3: A keeps 20 (weight 3), B 10.
	var y []int
	var county []string
	for i := 0; i < 92; i++ {
		c, v := "A", 0
		if i >= 60 {
			c = "B"
		}
		if i == 5 || i == 70 {
			v = 1
		}
		y, county = append(y, v), append(county, c)
	}
	// rows 5 (A) and 70 (B) are positive: A has 59 negatives, B 31.
	idx, w, rec := sampleRows(y, county, 32, 7)
	if !rec.Applied || rec.Positives != 2 || len(rec.Counties) != 2 {
		t.Fatalf("record %+v", rec)
	}
	// rate 30/90; A: round(59/3) = 20, B: round(31/3) = 10.
	if rec.Counties[0].Kept != 20 || rec.Counties[1].Kept != 10 || rec.Kept != 32 || len(idx) != 32 {
		t.Errorf("kept %+v, total %d", rec.Counties, rec.Kept)
	}
	var wsum float64
	pos := 0
	for k, i := range idx {
		wsum += w[k]
		if y[i] == 1 {
			pos++
			if w[k] != 1 {
				t.Errorf("positive row %d weighs %v", i, w[k])
			}
		}
		if k > 0 && idx[k-1] >= i {
			t.Fatal("rows not ascending")
		}
	}
	// Weighted counts equal the full data's: 92 rows.
	if pos != 2 || math.Abs(wsum-92) > 1e-9 {
		t.Errorf("%d positives kept, weights sum %v, want 2 and 92", pos, wsum)
	}
	idx2, _, _ := sampleRows(y, county, 32, 7)
	if len(idx2) != len(idx) || idx2[3] != idx[3] || idx2[20] != idx[20] {
		t.Error("same seed, another sample")
	}
	if idx, w, rec := sampleRows(y, county, 100, 7); idx != nil || w != nil || rec.Applied {
		t.Error("under the bound: no sampling")
	}
}

func TestPermutationImportanceNoSignal(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	n := 3000
	draw := func() (models.Matrix, []int) {
		X := models.NewMatrix(n, []string{"signal", "noise"})
		y := make([]int, n)
		for i := 0; i < n; i++ {
			X.Cols[0][i], X.Cols[1][i] = rng.Float64(), rng.Float64()
			if rng.Float64() < X.Cols[0][i]*0.6 {
				y[i] = 1
			}
		}
		return X, y
	}
	X, y := draw()
	o := forest.DefaultOptions()
	o.Trees, o.Seed, o.MinLeaf = 30, 1, 20
	f, err := forest.Fit(context.Background(), X, y, o)
	if err != nil {
		t.Fatal(err)
	}
	// Measured on rows the forest has not seen, as Train does on the
	// latest origin's test snapshot (in sample, trees fit the noise).
	X, y = draw()
	imp, err := PermutationImportance(context.Background(), f, X, y, 3, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	if imp[0] < 0.1 || math.Abs(imp[1]) > 0.02 {
		t.Errorf("importances %v: want the signal's drop above 0.1 and the noise's near 0", imp)
	}
	again, _ := PermutationImportance(context.Background(), f, X, y, 3, 0, 1)
	if again[0] != imp[0] || again[1] != imp[1] {
		t.Error("same seed, other importances")
	}
}

func TestReadGrid(t *testing.T) {
	dir := t.TempDir()
	tomlPath := filepath.Join(dir, "g.toml")
	os.WriteFile(tomlPath, []byte(`
[[config]]
min_leaf = 20
max_features = "0.3"
snapshots = 12

[[config]]
family = "boost"
[config.boost]
learning_rate = 0.1
`), 0o644)
	g, err := ReadGrid(tomlPath)
	if err != nil {
		t.Fatal(err)
	}
	if len(g) != 2 || g[0].MinLeaf != 20 || g[0].Snapshots != 12 || g[1].family() != familyBoost || compactJSON(g[1].Boost) != `{"learning_rate":0.1}` {
		t.Errorf("grid %+v", g)
	}
	if mf, _ := g[0].maxFeatures(40); mf != 12 {
		t.Errorf("max_features 0.3 of 40 = %d, want 12", mf)
	}
	jsonPath := filepath.Join(dir, "g.json")
	os.WriteFile(jsonPath, []byte(`{"configs":[{"min_leaf":5,"max_features":"2sqrt","max_depth":12}]}`), 0o644)
	g, err = ReadGrid(jsonPath)
	if err != nil || len(g) != 1 || g[0].MaxDepth != 12 {
		t.Fatalf("json grid %+v %v", g, err)
	}
	if mf, _ := g[0].maxFeatures(40); mf != 12 { // 2 * floor(sqrt(40)) = 12
		t.Errorf("2sqrt of 40 = %d, want 12", mf)
	}
	for _, bad := range []string{`{"configs":[{"family":"svm"}]}`, `{"configs":[{"max_features":"lots"}]}`, `{"configs":[]}`, `{"configs":[{"min_leaf":-1}]}`, `{"configs":[{"family":"boost","min_leaf":5}]}`, `{"configs":[{"family":"boost","boost":{"learning_rat":0.05}}]}`} {
		os.WriteFile(jsonPath, []byte(bad), 0o644)
		if _, err := ReadGrid(jsonPath); err == nil {
			t.Errorf("grid %s accepted", bad)
		}
	}
	g = DefaultGrid()
	fams := map[string]int{}
	for _, c := range g {
		fams[c.family()]++
		if err := c.check(); err != nil {
			t.Errorf("default configuration %s: %v", c.label(), err)
		}
	}
	if len(g) != 16 || fams[familyForest] != 13 || fams[familyBoost] != 3 {
		t.Errorf("default grid has %d configurations, by family %v; want 13 forests and 3 boosted", len(g), fams)
	}
}

// checkRound2Card checks the rolling origins, selection, calibration,
// fairness and permutation importances of a trained card.
func checkRound2Card(t *testing.T, card registry.Card, dir string) {
	t.Helper()
	m := card.Metrics
	if len(m.Origins) < 2 || m.Origins[0].TestAsOf != m.TestAsOf || m.Origins[0].AUC != m.AUC {
		t.Fatalf("origins %+v: want at least 2, the first the headline's", m.Origins)
	}
	for _, o := range m.Origins {
		for _, d := range o.TrainAsOf {
			td, _ := civil.Parse(d)
			od, _ := civil.Parse(o.TestAsOf)
			if civil.AddMonths(td, card.HorizonMonths).After(od) {
				t.Errorf("origin %s trains on %s, whose labels reach past it", o.TestAsOf, d)
			}
		}
		k := registry.ShareKey(0.05)
		if o.PrecisionAtLo[k] > o.PrecisionAt[k] || o.PrecisionAt[k] > o.PrecisionAtHi[k] {
			t.Errorf("origin %s: P@5%% %v outside its tie bounds [%v, %v]", o.TestAsOf, o.PrecisionAt[k], o.PrecisionAtLo[k], o.PrecisionAtHi[k])
		}
	}
	mean := (m.Origins[0].AUC + m.Origins[1].AUC) / 2
	if len(m.Origins) == 2 && math.Abs(m.OriginsMean["auc"]-mean) > 1e-12 {
		t.Errorf("mean AUC %v, want %v", m.OriginsMean["auc"], mean)
	}
	s := card.Selection
	if s == nil || len(s.Configs) != 2 || s.Chosen == "" || s.Regret < 0 || len(s.Configs[0].AUC) != len(m.Origins) {
		t.Errorf("selection %+v", s)
	}
	c := card.Calibration
	if c == nil || c.Method == "" || len(c.Bins) == 0 || card.CalibSHA256 == "" {
		t.Errorf("calibration %+v", c)
	} else {
		t.Logf("calibration %s: ECE %.4f (raw %.4f, in sample %.4f)", c.Method, c.ECE, c.ECERaw, c.ECEInSample)
	}
	if f := card.Fairness; f == nil || len(f.Groups) == 0 || f.Groups[0].Attribute != "county" {
		t.Errorf("fairness %+v", f)
	} else {
		attrs := map[string]bool{}
		for _, g := range f.Groups {
			attrs[g.Attribute] = true
		}
		for _, a := range append([]string{"county"}, AuditGroups()...) {
			if !attrs[a] {
				t.Errorf("fairness lacks attribute %s", a)
			}
		}
	}
	if len(card.PermutationImportance) == 0 || card.PermutationImportance[0].Importance <= 0 {
		t.Errorf("permutation importance %+v", card.PermutationImportance)
	}
	if _, err := os.Stat(filepath.Join(dir, card.ID, "calib.json")); err != nil {
		t.Error(err)
	}
}

// TestTrainRelapseWiring trains the relapse model with a stand-in for
// features.RelapseLabels: every third household not
// monitored on the date counts as eliminated that month, positive when
// identified within the horizon. It checks the kind, the id, that only the
// labelled households are rows, and LatestKind.
func TestTrainRelapseWiring(t *testing.T) {
	fixture(t)
	db := openDB(t)
	saved := relapseLabels
	defer func() { relapseLabels = saved }()
	relapseLabels = func(ctx context.Context, db *sql.DB, w features.Tables, asOf time.Time, h int) (map[string]features.Label, error) {
		all, err := features.Labels(ctx, db, w, asOf, h)
		if err != nil {
			return nil, err
		}
		out := map[string]features.Label{}
		for id, l := range all {
			if !l.MonitoredAtAsOf && id[len(id)-1]%3 == 0 {
				out[id] = l
			}
		}
		return out, nil
	}
	dir := t.TempDir()
	idCard, err := Train(context.Background(), db, Options{Warehouse: fix.wh, Models: dir, Snapshots: 2, Seed: 1, Grid: []Config{{}}, Forest: smallForest()})
	if err != nil {
		t.Fatal(err)
	}
	card, err := TrainRelapse(context.Background(), db, Options{Warehouse: fix.wh, Models: dir, Snapshots: 3, Seed: 1, Forest: smallForest(), MinHistory: 3})
	if err != nil {
		t.Fatal(err)
	}
	if card.Kind != registry.KindRelapse || !strings.HasPrefix(card.ID, "relapse-rf-") || card.Fairness != nil || len(card.Profiles) != 0 || card.Calibration == nil {
		t.Errorf("relapse card: kind %q id %s fairness %v profiles %d calibration %v", card.Kind, card.ID, card.Fairness != nil, len(card.Profiles), card.Calibration != nil)
	}
	// About a third of the identification model's rows per snapshot.
	if r := float64(card.Metrics.TestRows) / float64(idCard.Metrics.TestRows); r < 0.25 || r > 0.42 {
		t.Errorf("relapse test rows %d of %d households", card.Metrics.TestRows, idCard.Metrics.TestRows)
	}
	if c, err := registry.Latest(dir); err != nil || c.ID != idCard.ID {
		t.Errorf("Latest = %s %v, want the identification model %s", c.ID, err, idCard.ID)
	}
	if c, err := registry.LatestKind(dir, registry.KindRelapse); err != nil || c.ID != card.ID {
		t.Errorf("LatestKind(relapse) = %s %v", c.ID, err)
	}
	// With the real labels (features.RelapseLabels: the fixture's own
	// eliminations), a relapse model, or data too thin to learn from
	// (bad input, exit 3), never another failure.
	relapseLabels = features.RelapseLabels
	real, err := TrainRelapse(context.Background(), db, Options{Warehouse: fix.wh, Models: dir, Snapshots: 3, Seed: 1, Forest: smallForest(), MinHistory: 3})
	switch {
	case err == nil && (real.Kind != registry.KindRelapse || real.Metrics.TestRows == 0):
		t.Errorf("relapse model on real labels: kind %q, %d test rows", real.Kind, real.Metrics.TestRows)
	case err != nil && fault.Of(err) != fault.BadInput:
		t.Errorf("relapse model on real labels: %v (kind %v)", err, fault.Of(err))
	}
}

// TestBoundedSnapshots: with a small MaxRows the training-only snapshots
// keep a weighted sample of their negatives and the test snapshots stay
// whole; every positive is kept and the weights restore the row count.
func TestBoundedSnapshots(t *testing.T) {
	fixture(t)
	db := openDB(t)
	o := Options{Warehouse: fix.wh, Models: t.TempDir(), Snapshots: 2, Seed: 1, Grid: []Config{{}}, Forest: smallForest(), MaxRows: 3000}
	card, err := Train(context.Background(), db, o)
	if err != nil {
		t.Fatal(err)
	}
	full, err := Evaluate(context.Background(), db, Options{Warehouse: fix.wh, Snapshots: 2, Seed: 1, Forest: smallForest(), Origins: 1})
	if err != nil {
		t.Fatal(err)
	}
	s := card.Sampling
	if s == nil || !s.Applied || s.Kept != card.TrainRows || s.Positives != card.TrainPositive {
		t.Fatalf("sampling %+v, train rows %d (%d positive)", s, card.TrainRows, card.TrainPositive)
	}
	// The test snapshot is whole: as many rows as an unsampled evaluation's.
	if card.Metrics.TestRows != full.TestRows || card.Metrics.TestPositive != full.TestPositive {
		t.Errorf("test rows %d (%d positive), unsampled %d (%d)", card.Metrics.TestRows, card.Metrics.TestPositive, full.TestRows, full.TestPositive)
	}
	// The final stack: 2 snapshots, the training-only one sampled to about
	// 1500 rows, the latest (a test date) whole: fewer rows than unsampled.
	if card.TrainRows >= 2*full.TestRows {
		t.Errorf("final training rows %d, not sampled (test snapshot %d)", card.TrainRows, full.TestRows)
	}

	snap := &Snapshot{AsOf: date("2025-01-31"), IDs: []string{"a", "b", "c"}, County: []string{"1", "1", "2"}, Status: []string{"g", "e", "g"},
		RuleScore: []float64{0, 1, 2}, RuleTypes: []string{"", "x", "y"}, Y: []int{0, 1, 0}, RiskType: []string{"", "illness", ""},
		X: models.Matrix{Rows: 3, Cols: [][]float64{{1, 2, 3}}, Names: []string{"f"}}, Rules: models.Matrix{Rows: 3, Cols: [][]float64{{0, 1, 1}}, Names: []string{"r"}},
		Groups: map[string][]string{"no_labour": {"no", "yes", "no"}}}
	sub := snap.subset([]int{0, 2})
	if strings.Join(sub.IDs, ",") != "a,c" || sub.X.Cols[0][1] != 3 || sub.Rules.Cols[0][1] != 1 || sub.RuleScore[1] != 2 || sub.Groups["no_labour"][1] != "no" || sub.Y[1] != 0 || sub.County[1] != "2" {
		t.Errorf("subset %+v", sub)
	}
}
