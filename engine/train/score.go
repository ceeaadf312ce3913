package train

import (
	"encoding/csv"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/povrisk/povrisk/engine/civil"
	"github.com/povrisk/povrisk/engine/fault"
	"github.com/povrisk/povrisk/models/eval"
	"github.com/povrisk/povrisk/models/registry"
)

// shares are the top-of-list shares at which precision and recall are
// reported (the keys of Metrics.PrecisionAt, by registry.ShareKey).
func shares() []float64 { return []float64{0.01, 0.05, 0.1} }

// score fills the model, rule and oracle figures for the test snapshot.
func score(test *Snapshot, p []float64, o Options, plan Plan) (*Metrics, error) {
	m := &Metrics{TestAsOf: civil.Format(plan.Test), DataEnd: civil.Format(plan.DataEnd), HorizonMonths: o.HorizonMonths,
		TestRows: len(test.Y), TestPositive: sum(test.Y), CountyShare: o.CountyShare}
	m.BaseRate = float64(m.TestPositive) / float64(m.TestRows)
	y := test.Y
	m.AUC, m.PRAUC, m.Brier = eval.ROCAUC(y, p), eval.PRAUC(y, p), eval.Brier(y, p)
	m.PrecisionAt, m.RecallAt = atShares(y, p)
	m.Counties, m.CountyPrecision = eval.PrecisionByGroup(y, p, test.County, o.CountyShare)
	m.Calibration = eval.Calibration(y, p, 10)
	r := test.RuleScore
	m.RulesAUC, m.RulesPRAUC = eval.ROCAUC(y, r), eval.PRAUC(y, r)
	m.RulesPrecisionAt, m.RulesRecallAt = atShares(y, r)
	_, m.RulesCountyPrecision = eval.PrecisionByGroup(y, r, test.County, o.CountyShare)
	hits := 0
	for i, v := range r {
		if v > 0 {
			m.RulesFlagged++
			hits += y[i]
		}
	}
	if m.RulesFlagged > 0 {
		m.RulesFlaggedPrecision = float64(hits) / float64(m.RulesFlagged)
	}
	if o.Truth != "" {
		if err := oracle(m, test, o, plan); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func atShares(y []int, s []float64) (prec, rec map[string]float64) {
	prec, rec = map[string]float64{}, map[string]float64{}
	for _, sh := range shares() {
		k := registry.ShareKey(sh)
		prec[k] = eval.PrecisionAtShare(y, s, sh)
		rec[k] = eval.RecallAtShare(y, s, sh)
	}
	return prec, rec
}

// ReadTruth reads the ground-truth CSV (household_id,as_of,p_identified_6m)
// rows of one as-of date.
func ReadTruth(path string, asOf time.Time) (map[string]float64, error) {
	m, err := readTruth(path, asOf)
	return m, fault.Wrap(fault.BadInput, err)
}

func readTruth(path string, asOf time.Time) (map[string]float64, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read ground truth: %w", err)
	}
	defer fh.Close()
	r := csv.NewReader(fh)
	head, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("read ground truth %s: %w", path, err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[strings.TrimPrefix(strings.TrimSpace(h), "\ufeff")] = i
	}
	for _, need := range []string{"household_id", "as_of", "p_identified_6m"} {
		if _, ok := col[need]; !ok {
			return nil, fmt.Errorf("ground truth %s: no column %s (want household_id,as_of,p_identified_6m)", path, need)
		}
	}
	want := civil.Format(asOf)
	out := map[string]float64{}
	seen := map[string]bool{}
	for line := 2; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("ground truth %s: %w", path, err)
		}
		if len(rec) != len(head) {
			return nil, fmt.Errorf("ground truth %s line %d: %d fields, the header has %d", path, line, len(rec), len(head))
		}
		a := rec[col["as_of"]]
		seen[a] = true
		if a != want {
			continue
		}
		p, err := strconv.ParseFloat(rec[col["p_identified_6m"]], 64)
		if err != nil {
			return nil, fmt.Errorf("ground truth %s line %d column p_identified_6m: %w", path, line, err)
		}
		out[rec[col["household_id"]]] = p
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("ground truth %s has no rows for as-of %s (it has %s)", path, want, strings.Join(slices.Sorted(maps.Keys(seen)), ", "))
	}
	return out, nil
}

func oracle(m *Metrics, test *Snapshot, o Options, plan Plan) error {
	truth, err := ReadTruth(o.Truth, plan.Test)
	if err != nil {
		return err
	}
	if o.HorizonMonths != 6 {
		m.Notes = append(m.Notes, fmt.Sprintf("ground truth is for a 6-month horizon, the evaluation uses %d months", o.HorizonMonths))
	}
	var y []int
	var p []float64
	missing := 0
	for i, id := range test.IDs {
		v, ok := truth[id]
		if !ok {
			missing++
			continue
		}
		y = append(y, test.Y[i])
		p = append(p, v)
	}
	if missing > 0 {
		m.Notes = append(m.Notes, fmt.Sprintf("%d test households have no ground truth; oracle figures use the other %d", missing, len(y)))
	}
	auc, pr := eval.ROCAUC(y, p), eval.PRAUC(y, p)
	m.OracleAUC, m.OraclePRAUC = &auc, &pr
	m.OraclePrecisionAt, _ = atShares(y, p)
	if auc > 0.5 {
		share := (m.AUC - 0.5) / (auc - 0.5)
		m.AUCShareOfOracle = &share
	}
	if auc > 0 {
		ratio := m.AUC / auc
		m.AUCRatioToOracle = &ratio
	}
	return nil
}
