package kmeans

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"runtime"
	"sort"
	"sync"

	"github.com/povrisk/povrisk/models"
)

// Options configure Fit. The zero value of each field means its default.
type Options struct {
	K        int     // number of clusters; required (>= 1)
	Restarts int     // independent k-means++ starts, best inertia kept; default 4
	MaxIter  int     // Lloyd iterations per start; default 300
	Workers  int     // goroutines; default runtime.GOMAXPROCS(0); never changes the result
	Seed     uint64  // seed of every random choice
	Tol      float64 // stop when the summed squared centre shift <= Tol * mean column variance; default 1e-4
	// SilhouetteSample is the number of rows ChooseK scores with the exact
	// silhouette (a seeded sample without replacement); default 2000.
	SilhouetteSample int
}

func (o Options) withDefaults() Options {
	if o.Restarts <= 0 {
		o.Restarts = 4
	}
	if o.MaxIter <= 0 {
		o.MaxIter = 300
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if o.Tol <= 0 {
		o.Tol = 1e-4
	}
	if o.SilhouetteSample <= 0 {
		o.SilhouetteSample = 2000
	}
	return o
}

// chunk is the number of rows per unit of parallel work. It is fixed so
// that the order of floating-point sums never depends on Workers.
const chunk = 1024

// Model is a fitted k-means clustering.
type Model struct {
	names   []string
	mean    []float64   // per column, for standardising
	sd      []float64   // per column; 1 where the column is constant
	centers [][]float64 // k x d, standardised units
	sizes   []int       // training rows per cluster
	inertia float64     // sum of squared distances of training rows to their centre
	iters   int         // Lloyd iterations of the kept start
}

// K is the number of clusters.
func (m *Model) K() int { return len(m.centers) }

// FeatureNames are the column names the model was fitted on.
func (m *Model) FeatureNames() []string { return append([]string(nil), m.names...) }

// Inertia is the sum of squared (standardised) distances of the training
// rows to their nearest centre.
func (m *Model) Inertia() float64 { return m.inertia }

// Sizes is the number of training rows in each cluster.
func (m *Model) Sizes() []int { return append([]int(nil), m.sizes...) }

// Center returns a copy of cluster c's centre in standardised units.
func (m *Model) Center(c int) []float64 { return append([]float64(nil), m.centers[c]...) }

// Iterations is the number of Lloyd iterations of the start that was kept.
func (m *Model) Iterations() int { return m.iters }

// data is a standardised, row-major copy of a matrix.
type data struct {
	n, d int
	z    []float64 // z[i*d+j]
}

func (d *data) row(i int) []float64 { return d.z[i*d.d : (i+1)*d.d : (i+1)*d.d] }

// standardise computes column means and population deviations of X's
// non-missing values.
func standardise(X models.Matrix) (mean, sd []float64) {
	mean = make([]float64, len(X.Cols))
	sd = make([]float64, len(X.Cols))
	for j, c := range X.Cols {
		var s float64
		var n int
		for _, v := range c {
			if !math.IsNaN(v) {
				s += v
				n++
			}
		}
		if n == 0 {
			sd[j] = 1
			continue
		}
		mu := s / float64(n)
		var ss float64
		for _, v := range c {
			if !math.IsNaN(v) {
				ss += (v - mu) * (v - mu)
			}
		}
		mean[j] = mu
		sd[j] = math.Sqrt(ss / float64(n))
		if sd[j] == 0 || math.IsNaN(sd[j]) || math.IsInf(sd[j], 0) {
			sd[j] = 1
		}
	}
	return mean, sd
}

func toData(X models.Matrix, mean, sd []float64) *data {
	d := len(X.Cols)
	out := &data{n: X.Rows, d: d, z: make([]float64, X.Rows*d)}
	for j, c := range X.Cols {
		mu, s := mean[j], sd[j]
		for i, v := range c {
			z := 0.0
			if !math.IsNaN(v) {
				z = (v - mu) / s
			}
			out.z[i*d+j] = z
		}
	}
	return out
}

func sqdist(a, b []float64) float64 {
	b = b[:len(a)]
	// Four accumulators, so that the additions do not wait on each other.
	var s0, s1, s2, s3 float64
	j := 0
	for ; j+4 <= len(a); j += 4 {
		t0, t1, t2, t3 := a[j]-b[j], a[j+1]-b[j+1], a[j+2]-b[j+2], a[j+3]-b[j+3]
		s0 += t0 * t0
		s1 += t1 * t1
		s2 += t2 * t2
		s3 += t3 * t3
	}
	for ; j < len(a); j++ {
		t := a[j] - b[j]
		s0 += t * t
	}
	return (s0 + s1) + (s2 + s3)
}

// forChunks calls fn for every chunk of [0, n) on up to workers goroutines.
// fn receives the chunk number so that it can write per-chunk results.
func forChunks(n, workers int, fn func(c, lo, hi int)) {
	nc := (n + chunk - 1) / chunk
	if workers > nc {
		workers = nc
	}
	if workers <= 1 {
		for c := 0; c < nc; c++ {
			lo := c * chunk
			fn(c, lo, min(lo+chunk, n))
		}
		return
	}
	var wg sync.WaitGroup
	next := make(chan int, nc)
	for c := 0; c < nc; c++ {
		next <- c
	}
	close(next)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range next {
				lo := c * chunk
				fn(c, lo, min(lo+chunk, n))
			}
		}()
	}
	wg.Wait()
}

// Fit clusters the rows of X into o.K clusters. X must have at least K rows.
func Fit(ctx context.Context, X models.Matrix, o Options) (*Model, error) {
	if err := X.Check(); err != nil {
		return nil, fmt.Errorf("kmeans: %w", err)
	}
	if o.K < 1 {
		return nil, fmt.Errorf("kmeans: K = %d, want at least 1", o.K)
	}
	if X.Rows < o.K {
		return nil, fmt.Errorf("kmeans: %d rows for %d clusters: need at least as many rows as clusters", X.Rows, o.K)
	}
	if len(X.Cols) == 0 {
		return nil, errors.New("kmeans: matrix has no columns")
	}
	o = o.withDefaults()
	mean, sd := standardise(X)
	dd := toData(X, mean, sd)
	// Tolerance relative to the mean variance of the standardised data
	// (below 1 where values are missing or constant).
	var tv float64
	for j := 0; j < dd.d; j++ {
		var s, ss float64
		for i := 0; i < dd.n; i++ {
			v := dd.z[i*dd.d+j]
			s += v
			ss += v * v
		}
		mu := s / float64(dd.n)
		tv += ss/float64(dd.n) - mu*mu
	}
	tol := o.Tol * tv / float64(dd.d)

	var best *Model
	for r := 0; r < o.Restarts; r++ {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("kmeans: %w", err)
		}
		rng := rand.New(rand.NewPCG(o.Seed, uint64(r)))
		centers := seedPlusPlus(dd, o.K, rng, o.Workers)
		m, err := lloyd(ctx, dd, centers, o, tol)
		if err != nil {
			return nil, err
		}
		if best == nil || m.inertia < best.inertia {
			best = m
		}
	}
	best.names = append([]string(nil), X.Names...)
	if best.names == nil {
		best.names = make([]string, len(X.Cols))
		for j := range best.names {
			best.names[j] = fmt.Sprintf("x%d", j)
		}
	}
	best.mean, best.sd = mean, sd
	return best, nil
}

// seedPlusPlus picks k initial centres by greedy k-means++: each new centre
// is the best (lowest potential) of 2+ln(k) candidates drawn with
// probability proportional to the squared distance to the nearest centre.
func seedPlusPlus(dd *data, k int, rng *rand.Rand, workers int) [][]float64 {
	n := dd.n
	trials := 2 + int(math.Log(float64(k)))
	centers := make([][]float64, 0, k)
	first := rng.IntN(n)
	centers = append(centers, append([]float64(nil), dd.row(first)...))
	closest := make([]float64, n)
	forChunks(n, workers, func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			closest[i] = sqdist(dd.row(i), centers[0])
		}
	})
	nc := (n + chunk - 1) / chunk
	cum := make([]float64, n)
	cand := make([]int, trials)
	candDist := make([][]float64, trials)
	for t := range candDist {
		candDist[t] = make([]float64, n)
	}
	partial := make([]float64, nc*trials)
	for len(centers) < k {
		var pot float64
		for i, v := range closest {
			pot += v
			cum[i] = pot
		}
		for t := range cand {
			u := rng.Float64() * pot
			c := sort.SearchFloat64s(cum, u)
			if c >= n {
				c = n - 1
			}
			cand[t] = c
		}
		forChunks(n, workers, func(ci, lo, hi int) {
			for t, c := range cand {
				cr := dd.row(c)
				var s float64
				for i := lo; i < hi; i++ {
					v := math.Min(closest[i], sqdist(dd.row(i), cr))
					candDist[t][i] = v
					s += v
				}
				partial[ci*trials+t] = s
			}
		})
		bestT, bestPot := 0, math.Inf(1)
		for t := range cand {
			var s float64
			for ci := 0; ci < nc; ci++ {
				s += partial[ci*trials+t]
			}
			if s < bestPot {
				bestT, bestPot = t, s
			}
		}
		copy(closest, candDist[bestT])
		centers = append(centers, append([]float64(nil), dd.row(cand[bestT])...))
	}
	return centers
}

// assign computes every row's nearest centre and, per chunk, the sums and
// counts needed for the next centres, reduced in chunk order.
type step struct {
	labels  []int
	dist    []float64 // squared distance of each row to its centre
	sums    []float64 // k*d
	counts  []int
	inertia float64
	changed int
}

func assignStep(dd *data, centers [][]float64, st *step, workers int) {
	k, d := len(centers), dd.d
	nc := (dd.n + chunk - 1) / chunk
	psum := make([]float64, nc*k*d)
	pcnt := make([]int, nc*k)
	pin := make([]float64, nc)
	pch := make([]int, nc)
	forChunks(dd.n, workers, func(ci, lo, hi int) {
		s := psum[ci*k*d : (ci+1)*k*d]
		cnt := pcnt[ci*k : (ci+1)*k]
		var in float64
		ch := 0
		for i := lo; i < hi; i++ {
			r := dd.row(i)
			bc, bd := 0, math.Inf(1)
			for c, cv := range centers {
				if v := sqdist(r, cv); v < bd {
					bc, bd = c, v
				}
			}
			if st.labels[i] != bc {
				ch++
			}
			st.labels[i] = bc
			st.dist[i] = bd
			in += bd
			cnt[bc]++
			row := s[bc*d : (bc+1)*d]
			for j, v := range r {
				row[j] += v
			}
		}
		pin[ci] = in
		pch[ci] = ch
	})
	for j := range st.sums {
		st.sums[j] = 0
	}
	for c := range st.counts {
		st.counts[c] = 0
	}
	st.inertia, st.changed = 0, 0
	for ci := 0; ci < nc; ci++ {
		for j, v := range psum[ci*k*d : (ci+1)*k*d] {
			st.sums[j] += v
		}
		for c, v := range pcnt[ci*k : (ci+1)*k] {
			st.counts[c] += v
		}
		st.inertia += pin[ci]
		st.changed += pch[ci]
	}
}

// lloyd runs Lloyd iterations from centers: assign every row to its
// nearest centre, move each centre to the mean of its rows, until no row
// changes cluster, the centres move less than tol, or MaxIter. The
// assignment skips rows that provably keep their centre (Hamerly's bounds:
// an upper bound on the distance to the own centre, a lower bound on the
// distance to any other), which gives the same labels as a full scan
// without computing most distances once the centres settle.
func lloyd(ctx context.Context, dd *data, centers [][]float64, o Options, tol float64) (*Model, error) {
	l := newLloyd(dd, centers, o.Workers)
	iters := 0
	for it := 0; it < o.MaxIter; it++ {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("kmeans: %w", err)
		}
		iters = it + 1
		if changed := l.assign(it); it > 0 && changed == 0 {
			break // strict convergence: the centres are the means of the labels
		}
		l.full = false
		l.accumulate()
		tot, maxShift, second := l.moveCenters()
		if tot <= tol {
			break
		}
		if !l.full {
			l.loosenBounds(maxShift, second)
		}
	}
	// Labels, counts and inertia for the final centres.
	assignStep(dd, centers, l.st, o.Workers)
	sizes := append([]int(nil), l.st.counts...)
	return &Model{centers: centers, sizes: sizes, inertia: l.st.inertia, iters: iters}, nil
}

// lloydState is the working state of lloyd: the labels, Hamerly's bounds
// on each row's distance to its own (upper) and second-nearest (lower)
// centre, and per-chunk partial sums reduced in chunk order, so that the
// result never depends on the number of workers.
type lloydState struct {
	dd          *data
	centers     [][]float64
	workers     int
	st          *step
	upper       []float64
	lower       []float64
	psum        []float64
	pcnt, pch   []int
	shift       []float64
	half        []float64 // half the distance from each centre to its nearest other centre
	full        bool      // the next assignment scans every centre for every row
	k, d, n, nc int
}

func newLloyd(dd *data, centers [][]float64, workers int) *lloydState {
	k, d, n := len(centers), dd.d, dd.n
	nc := (n + chunk - 1) / chunk
	return &lloydState{dd: dd, centers: centers, workers: workers,
		st:    &step{labels: make([]int, n), dist: make([]float64, n), sums: make([]float64, k*d), counts: make([]int, k)},
		upper: make([]float64, n), lower: make([]float64, n),
		psum: make([]float64, nc*k*d), pcnt: make([]int, nc*k), pch: make([]int, nc),
		shift: make([]float64, k), half: make([]float64, k), full: true, k: k, d: d, n: n, nc: nc}
}

// assign gives every row its nearest centre, skipping the rows whose
// bounds prove it unchanged, and returns how many rows changed (the first
// full scan, it == 0, counts none).
func (l *lloydState) assign(it int) int {
	centers, st, full := l.centers, l.st, l.full
	if !full {
		for c := range l.half {
			l.half[c] = math.Inf(1)
			for c2 := range centers {
				if c2 != c {
					l.half[c] = math.Min(l.half[c], math.Sqrt(sqdist(centers[c], centers[c2]))/2)
				}
			}
		}
	}
	forChunks(l.n, l.workers, func(ci, lo, hi int) {
		ch := 0
		for i := lo; i < hi; i++ {
			r := l.dd.row(i)
			a := st.labels[i]
			if !full {
				m := math.Max(l.half[a], l.lower[i])
				if l.upper[i] <= m {
					continue
				}
				l.upper[i] = math.Sqrt(sqdist(r, centers[a]))
				if l.upper[i] <= m {
					continue
				}
			}
			b1, d1, d2 := -1, math.Inf(1), math.Inf(1)
			for c, cv := range centers {
				v := sqdist(r, cv)
				if v < d1 {
					d2 = d1
					b1, d1 = c, v
				} else if v < d2 {
					d2 = v
				}
			}
			if (full || b1 != a) && (!full || it > 0) {
				ch++
			}
			st.labels[i] = b1
			l.upper[i] = math.Sqrt(d1)
			l.lower[i] = math.Sqrt(d2)
		}
		l.pch[ci] = ch
	})
	changed := 0
	for _, v := range l.pch {
		changed += v
	}
	return changed
}

// accumulate sums the rows of each cluster (per chunk, then in chunk
// order) into st.sums and st.counts, and relocates empty clusters.
func (l *lloydState) accumulate() {
	k, d, st := l.k, l.d, l.st
	forChunks(l.n, l.workers, func(ci, lo, hi int) {
		s := l.psum[ci*k*d : (ci+1)*k*d]
		cnt := l.pcnt[ci*k : (ci+1)*k]
		clear(s)
		clear(cnt)
		for i := lo; i < hi; i++ {
			c := st.labels[i]
			cnt[c]++
			row := s[c*d : (c+1)*d]
			for j, v := range l.dd.row(i) {
				row[j] += v
			}
		}
	})
	clear(st.sums)
	clear(st.counts)
	for ci := 0; ci < l.nc; ci++ {
		for j, v := range l.psum[ci*k*d : (ci+1)*k*d] {
			st.sums[j] += v
		}
		for c, v := range l.pcnt[ci*k : (ci+1)*k] {
			st.counts[c] += v
		}
	}
	for _, cnt := range st.counts {
		if cnt == 0 {
			// Rare: give empty clusters the farthest rows, then scan
			// every row afresh.
			for i := 0; i < l.n; i++ {
				st.dist[i] = sqdist(l.dd.row(i), l.centers[st.labels[i]])
			}
			relocateEmpty(l.dd, st)
			l.full = true
			break
		}
	}
}

// moveCenters moves every centre to the mean of its rows and returns the
// summed squared shift, the largest shift and the second largest.
func (l *lloydState) moveCenters() (tot, maxShift, second float64) {
	for c := 0; c < l.k; c++ {
		cen := l.centers[c]
		var sh float64
		for j := 0; j < l.d; j++ {
			nv := l.st.sums[c*l.d+j] / float64(l.st.counts[c])
			t := nv - cen[j]
			sh += t * t
			cen[j] = nv
		}
		tot += sh
		l.shift[c] = math.Sqrt(sh)
		if l.shift[c] > maxShift {
			maxShift, second = l.shift[c], maxShift
		} else if l.shift[c] > second {
			second = l.shift[c]
		}
	}
	return tot, maxShift, second
}

// loosenBounds widens each row's bounds by the centres' shifts.
func (l *lloydState) loosenBounds(maxShift, second float64) {
	for i := 0; i < l.n; i++ {
		a := l.st.labels[i]
		l.upper[i] += l.shift[a]
		if l.shift[a] == maxShift {
			l.lower[i] -= second
		} else {
			l.lower[i] -= maxShift
		}
	}
}

// relocateEmpty gives every empty cluster the row farthest from its own
// centre (ties to the lower index), moving that row's contribution.
func relocateEmpty(dd *data, st *step) {
	d := dd.d
	for c, cnt := range st.counts {
		if cnt > 0 {
			continue
		}
		far, fd := -1, -1.0
		for i, v := range st.dist {
			if v > fd && st.counts[st.labels[i]] > 1 {
				far, fd = i, v
			}
		}
		if far < 0 {
			continue
		}
		old := st.labels[far]
		r := dd.row(far)
		for j, v := range r {
			st.sums[old*d+j] -= v
			st.sums[c*d+j] += v
		}
		st.counts[old]--
		st.counts[c]++
		st.labels[far] = c
		st.dist[far] = 0
	}
}

// standardised returns X in the model's standardised units, row-major.
func (m *Model) standardised(X models.Matrix) *data {
	if len(X.Cols) != len(m.mean) {
		panic(fmt.Sprintf("kmeans: matrix has %d columns, model %d", len(X.Cols), len(m.mean)))
	}
	return toData(X, m.mean, m.sd)
}

// Assign writes the nearest cluster of each row of X into out (len X.Rows).
// X must have the model's columns in the model's order.
func (m *Model) Assign(X models.Matrix, out []int) {
	if len(out) != X.Rows {
		panic(fmt.Sprintf("kmeans: Assign: out has %d entries for %d rows", len(out), X.Rows))
	}
	dd := m.standardised(X)
	for i := 0; i < dd.n; i++ {
		r := dd.row(i)
		bc, bd := 0, math.Inf(1)
		for c, cv := range m.centers {
			if v := sqdist(r, cv); v < bd {
				bc, bd = c, v
			}
		}
		out[i] = bc
	}
}

// Trait is a feature that sets a cluster centre apart: Z is the centre's
// value in standard deviations from the overall mean (signed).
type Trait struct {
	Feature string  `json:"feature"`
	Z       float64 `json:"z"`
}

// Distinguishing returns the n features whose standardised centre value
// deviates most from 0 in cluster c, by |Z| descending (ties by column
// order). n <= 0 or n > columns returns every column.
func (m *Model) Distinguishing(c, n int) []Trait {
	cen := m.centers[c]
	idx := make([]int, len(cen))
	for j := range idx {
		idx[j] = j
	}
	sort.SliceStable(idx, func(a, b int) bool { return math.Abs(cen[idx[a]]) > math.Abs(cen[idx[b]]) })
	if n <= 0 || n > len(idx) {
		n = len(idx)
	}
	out := make([]Trait, n)
	for k := 0; k < n; k++ {
		out[k] = Trait{Feature: m.names[idx[k]], Z: cen[idx[k]]}
	}
	return out
}

// modelJSON is the serialised form of a Model.
type modelJSON struct {
	Format     string      `json:"format"`
	Features   []string    `json:"features"`
	Mean       []float64   `json:"mean"`
	SD         []float64   `json:"sd"`
	Centers    [][]float64 `json:"centers"`
	Sizes      []int       `json:"sizes"`
	Inertia    float64     `json:"inertia"`
	Iterations int         `json:"iterations"`
}

const format = "povrisk-kmeans-1"

// MarshalJSON encodes the model (feature names, standardisation, centres).
func (m *Model) MarshalJSON() ([]byte, error) {
	return json.Marshal(modelJSON{Format: format, Features: m.names, Mean: m.mean, SD: m.sd,
		Centers: m.centers, Sizes: m.sizes, Inertia: m.inertia, Iterations: m.iters})
}

// UnmarshalJSON decodes a model written by MarshalJSON and checks its shape.
func (m *Model) UnmarshalJSON(b []byte) error {
	var j modelJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return fmt.Errorf("kmeans: decode model: %w", err)
	}
	if j.Format != format {
		return fmt.Errorf("kmeans: model format %q, want %q", j.Format, format)
	}
	d := len(j.Features)
	if len(j.Mean) != d || len(j.SD) != d || len(j.Centers) == 0 || len(j.Sizes) != len(j.Centers) {
		return fmt.Errorf("kmeans: malformed model: %d features, %d means, %d sds, %d centres, %d sizes",
			d, len(j.Mean), len(j.SD), len(j.Centers), len(j.Sizes))
	}
	for c, cen := range j.Centers {
		if len(cen) != d {
			return fmt.Errorf("kmeans: malformed model: centre %d has %d values for %d features", c, len(cen), d)
		}
		if !finite(cen...) {
			return fmt.Errorf("kmeans: malformed model: centre %d has a value that is not a finite number", c)
		}
		if j.Sizes[c] < 0 {
			return fmt.Errorf("kmeans: malformed model: cluster %d has size %d", c, j.Sizes[c])
		}
	}
	if !finite(j.Mean...) || !finite(j.SD...) {
		return errors.New("kmeans: malformed model: a mean or deviation is not a finite number")
	}
	for k, v := range j.SD {
		if v <= 0 {
			return fmt.Errorf("kmeans: malformed model: deviation of %s is %v, want > 0", j.Features[k], v)
		}
	}
	*m = Model{names: j.Features, mean: j.Mean, sd: j.SD, centers: j.Centers, sizes: j.Sizes, inertia: j.Inertia, iters: j.Iterations}
	return nil
}

func finite(v ...float64) bool {
	for _, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}

// WriteTo writes the model as JSON.
func (m *Model) WriteTo(w io.Writer) (int64, error) {
	b, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		return 0, err
	}
	b = append(b, '\n')
	n, err := w.Write(b)
	return int64(n), err
}

// Read reads a model written by WriteTo.
func Read(r io.Reader) (*Model, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("kmeans: read model: %w", err)
	}
	m := new(Model)
	if err := m.UnmarshalJSON(b); err != nil {
		return nil, err
	}
	return m, nil
}
