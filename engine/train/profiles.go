package train

import (
	"context"
	"fmt"
	"sort"

	"github.com/povrisk/povrisk/models"
	"github.com/povrisk/povrisk/models/eval"
	"github.com/povrisk/povrisk/models/kmeans"
)

// fitProfiles clusters the top ProfileShare of the snapshot by the
// model's score; nil when fewer than 30 households are in it.
func fitProfiles(ctx context.Context, f models.Classifier, s *Snapshot, o Options) (*kmeans.Model, error) {
	task := o.Reporter.Start("profiles", 0)
	defer task.Done()
	p := make([]float64, s.X.Rows)
	f.PredictProba(s.X, p)
	k := eval.TopK(len(p), o.ProfileShare)
	idx := make([]int, len(p))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return p[idx[a]] > p[idx[b]] })
	top := idx[:k]
	sort.Ints(top)
	if len(top) < 30 {
		o.logf("profiles: only %d households in the top %.0f%%, none fitted", len(top), o.ProfileShare*100)
		return nil, nil
	}
	X := s.X.Subset(top)
	ko := kmeans.Options{K: o.ProfileK, Seed: o.Seed, Restarts: 4}
	if ko.K == 0 {
		kk, _, err := kmeans.ChooseK(ctx, X, 3, 6, ko)
		if err != nil {
			return nil, fmt.Errorf("choose profile count: %w", err)
		}
		ko.K = kk
	}
	m, err := kmeans.Fit(ctx, X, ko)
	if err != nil {
		return nil, fmt.Errorf("fit profiles: %w", err)
	}
	o.logf("profiles: %d clusters on the top %d households", ko.K, len(top))
	return m, nil
}
