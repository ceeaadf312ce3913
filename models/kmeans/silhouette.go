package kmeans

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"github.com/povrisk/povrisk/models"
)

// SilhouetteScore is the mean silhouette of the points (rows, each a slice
// of coordinates) under labels, computed exactly with Euclidean distances:
// for point i with a = mean distance to the other points of its cluster and
// b = the smallest mean distance to the points of another cluster,
// s(i) = (b - a) / max(a, b), and s(i) = 0 when i is alone in its cluster.
// NaN when there are fewer than 2 clusters or than 2 points.
func SilhouetteScore(points [][]float64, labels []int) float64 {
	if len(points) != len(labels) {
		panic(fmt.Sprintf("kmeans: SilhouetteScore: %d points, %d labels", len(points), len(labels)))
	}
	n := len(points)
	k := 0
	for _, l := range labels {
		if l+1 > k {
			k = l + 1
		}
	}
	size := make([]int, k)
	for _, l := range labels {
		size[l]++
	}
	nonEmpty := 0
	for _, s := range size {
		if s > 0 {
			nonEmpty++
		}
	}
	if n < 2 || nonEmpty < 2 {
		return math.NaN()
	}
	sum := make([]float64, k)
	var total float64
	for i := 0; i < n; i++ {
		for c := range sum {
			sum[c] = 0
		}
		for j := 0; j < n; j++ {
			if j != i {
				sum[labels[j]] += math.Sqrt(sqdist(points[i], points[j]))
			}
		}
		li := labels[i]
		if size[li] == 1 {
			continue
		}
		a := sum[li] / float64(size[li]-1)
		b := math.Inf(1)
		for c := range sum {
			if c != li && size[c] > 0 {
				b = math.Min(b, sum[c]/float64(size[c]))
			}
		}
		if m := math.Max(a, b); m > 0 {
			total += (b - a) / m
		}
	}
	return total / float64(n)
}

// Silhouette is the exact mean silhouette, in the model's standardised
// units, of a sample of up to sample rows of X (drawn without replacement
// with a PCG seeded by seed; all rows when sample <= 0 or >= X.Rows),
// each labelled by Assign.
func (m *Model) Silhouette(X models.Matrix, sample int, seed uint64) float64 {
	labels := make([]int, X.Rows)
	m.Assign(X, labels)
	dd := m.standardised(X)
	idx := sampleRows(X.Rows, sample, seed)
	pts := make([][]float64, len(idx))
	lab := make([]int, len(idx))
	for k, i := range idx {
		pts[k] = dd.row(i)
		lab[k] = labels[i]
	}
	return SilhouetteScore(pts, lab)
}

func sampleRows(n, sample int, seed uint64) []int {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	if sample <= 0 || sample >= n {
		return idx
	}
	rng := rand.New(rand.NewPCG(seed, 0x5111))
	// Partial Fisher-Yates, then sorted so that the sample reads in row order.
	for i := 0; i < sample; i++ {
		j := i + rng.IntN(n-i)
		idx[i], idx[j] = idx[j], idx[i]
	}
	idx = idx[:sample]
	sort.Ints(idx)
	return idx
}

// ChooseK fits a model for every k in [kmin, kmax] (o.K is ignored) and
// returns the k with the highest silhouette on a seeded sample of
// o.SilhouetteSample rows (the smallest such k on ties), with the scores
// in order of k. kmin must be at least 2.
func ChooseK(ctx context.Context, X models.Matrix, kmin, kmax int, o Options) (int, []float64, error) {
	if kmin < 2 || kmax < kmin {
		return 0, nil, fmt.Errorf("kmeans: ChooseK range [%d, %d]: want 2 <= kmin <= kmax", kmin, kmax)
	}
	o = o.withDefaults()
	scores := make([]float64, 0, kmax-kmin+1)
	best, bestS := 0, math.Inf(-1)
	for k := kmin; k <= kmax; k++ {
		o.K = k
		m, err := Fit(ctx, X, o)
		if err != nil {
			return 0, nil, fmt.Errorf("kmeans: choose k, fit k=%d: %w", k, err)
		}
		s := m.Silhouette(X, o.SilhouetteSample, o.Seed)
		scores = append(scores, s)
		if s > bestS {
			best, bestS = k, s
		}
	}
	if best == 0 {
		return 0, scores, fmt.Errorf("kmeans: choose k: no k in [%d, %d] has a defined silhouette", kmin, kmax)
	}
	return best, scores, nil
}
