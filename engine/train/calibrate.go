package train

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/povrisk/povrisk/engine/civil"
	"github.com/povrisk/povrisk/models"
	"github.com/povrisk/povrisk/models/calib"
	"github.com/povrisk/povrisk/models/eval"
	"github.com/povrisk/povrisk/models/registry"
)

// scored is the outcomes and raw scores of one origin's test snapshot.
type scored struct {
	asOf string
	y    []int
	p    []float64
}

// calibrate chooses the calibration method on the origins other than the
// latest and fits it on the latest (runs[0]).
//
// Choice: each method is fitted on the other origins but one and scored
// (log loss, then Brier) on the one left out, for each of them in turn;
// the method with the lower summed log loss wins (ties: Platt, the
// smoother). With one other origin it is fitted and scored on that origin
// (in sample, noted); with none, Platt is used (noted). The reliability
// table (10 quantile bins) and ECE are those of the chosen method's
// held-out scores, pooled over the other origins, when there are at least
// two; else in sample on the latest origin.
func calibrate(runs []scored) (*calib.Calibrator, *registry.CalibrationReport, error) {
	rep := &registry.CalibrationReport{FittedOn: runs[0].asOf, Rows: len(runs[0].y)}
	others := runs[1:]
	held := map[string]*scored{}
	for _, m := range []string{calib.Isotonic, calib.Platt} {
		cand := registry.CalibrationCandidate{Method: m}
		pool := &scored{}
		for j := range others {
			var fy []int
			var fp []float64
			for k := range others {
				if k != j || len(others) == 1 {
					fy, fp = append(fy, others[k].y...), append(fp, others[k].p...)
				}
			}
			c, err := calib.Fit(m, fy, fp)
			if err != nil {
				return nil, nil, err
			}
			q := append([]float64(nil), others[j].p...)
			c.ApplyAll(q)
			cand.LogLoss += eval.LogLoss(others[j].y, q) * float64(len(q))
			cand.Brier += eval.Brier(others[j].y, q) * float64(len(q))
			pool.y, pool.p = append(pool.y, others[j].y...), append(pool.p, q...)
			cand.Evaluations++
		}
		if n := len(pool.y); n > 0 {
			cand.LogLoss /= float64(n)
			cand.Brier /= float64(n)
		}
		held[m] = pool
		rep.Candidates = append(rep.Candidates, cand)
	}
	rep.Method = calib.Platt
	switch {
	case len(others) == 0:
		rep.Notes = append(rep.Notes, "one origin only: Platt scaling used without a comparison")
	default:
		if rep.Candidates[0].LogLoss < rep.Candidates[1].LogLoss {
			rep.Method = calib.Isotonic
		}
		if len(others) == 1 {
			rep.Notes = append(rep.Notes, "two origins only: the methods were compared in sample on the older one")
		}
	}
	c, err := calib.Fit(rep.Method, runs[0].y, runs[0].p)
	if err != nil {
		return nil, nil, err
	}
	in := append([]float64(nil), runs[0].p...)
	c.ApplyAll(in)
	rep.ECEInSample = eval.ECE(eval.CalibrationQuantile(runs[0].y, in, 10))
	y, p := runs[0].y, in
	raw := runs[0].p
	if len(others) >= 2 {
		rep.HeldOut = true
		y, p = held[rep.Method].y, held[rep.Method].p
		raw = nil
		for _, o := range others {
			raw = append(raw, o.p...)
		}
	}
	rep.Bins = eval.CalibrationQuantile(y, p, 10)
	rep.ECE = eval.ECE(rep.Bins)
	rep.ECERaw = eval.ECE(eval.CalibrationQuantile(y, raw, 10))
	return c, rep, nil
}

// Audit is the fairness audit of a county top-share list on a snapshot:
// the groups of AuditGroups (and county) of the snapshot's households,
// scored by score (one per household), the list being each county's top
// share. Notebook 04 calls it on a snapshot and a model's scores, as
// Train does on the latest origin.
func Audit(s *Snapshot, score []float64, share float64, seed uint64) eval.Fairness {
	return eval.AuditTopK(s.Y, score, s.County, s.Groups, share, eval.AuditOptions{
		AsOf: civil.Format(s.AsOf), Seed: seed, Attributes: AuditGroups()})
}

// PermutationImportance is, for each feature of m, the mean drop of ROC
// AUC on (X, y) when that feature's column is shuffled, over repeats
// shuffles (0: 3). Shuffle r of feature j draws from PCG(seed, j<<32|r).
// At most maxRows rows are used (0: all): a seeded sample of them.
func PermutationImportance(ctx context.Context, m models.Classifier, X models.Matrix, y []int, repeats, maxRows int, seed uint64) ([]float64, error) {
	if len(y) != X.Rows {
		return nil, fmt.Errorf("permutation importance: %d labels for %d rows", len(y), X.Rows)
	}
	if repeats <= 0 {
		repeats = 3
	}
	if maxRows > 0 && X.Rows > maxRows {
		idx := rand.New(rand.NewPCG(seed, 0x5eed)).Perm(X.Rows)[:maxRows]
		sortInts(idx)
		X, y = X.Subset(idx), pick(y, idx)
	}
	return eval.PermutationImportance(ctx, m.PredictProba, X, y, repeats, seed)
}
