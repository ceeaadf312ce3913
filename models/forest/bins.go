package forest

import (
	"math"
	"slices"
	"sync"

	"github.com/povrisk/povrisk/models"
)

// missingBin is the bin code of a missing (NaN) value.
const missingBin = 255

// binned is the training matrix quantised to one byte per value, row-major
// (codes[i*p+j] is feature j of row i) so that a node's histograms of all
// features are filled reading each row's bytes together.
type binned struct {
	n, p     int
	codes    []uint8 // row-major, for histograms of every feature and OOB walks
	colCodes []uint8 // column-major (colCodes[j*n+i]), for one feature's histogram
	cuts     []binCuts
}

// binCuts are one feature's bin edges: value v has bin b, the first b with
// v <= Edges[b] (len(Edges) if none). When Exact, bin b holds the single
// training value Values[b].
type binCuts struct {
	Edges  []float64 `json:"edges"`
	Exact  bool      `json:"exact"`
	Values []float64 `json:"values,omitempty"`
}

func (c *binCuts) bins() int { return len(c.Edges) + 1 }

// code returns the bin code of v.
func (c *binCuts) code(v float64) uint8 {
	if v != v {
		return missingBin
	}
	b, _ := slices.BinarySearch(c.Edges, v) // first edge >= v
	return uint8(b)
}

// threshold returns the raw split value separating occupied bins lo and hi
// (lo < hi, the bins between them empty in the node) and the last bin whose
// values all lie at or below it: the midpoint of the two training values
// when binning is exact (as scikit-learn), else the upper edge of the bin
// half-way across the gap. Rows of every bin then go the same way whether
// they are walked by raw value or by bin code.
func (c *binCuts) threshold(lo, hi int) (float64, int) {
	if c.Exact {
		t := midpoint(c.Values[lo], c.Values[hi])
		b, _ := slices.BinarySearch(c.Values[lo:hi+1], math.Nextafter(t, math.Inf(1))) // first value > t
		return t, lo + b - 1
	}
	m := (lo + hi - 1) / 2
	return c.Edges[m], m
}

// midpoint of a < b, strictly below b (scikit-learn's rule).
func midpoint(a, b float64) float64 {
	m := a/2 + b/2
	if m >= b || math.IsInf(m, 0) {
		m = a
	}
	return m
}

// quantileSample is the most values whose quantiles are computed exactly;
// a longer column is sampled at a fixed stride (deterministic).
const quantileSample = 1 << 18

// makeCuts computes bin edges of one column from its values (NaN ignored):
// one bin per value when there are at most bins distinct values (found in
// one pass that stops at bins+1), else quantile edges.
func makeCuts(col []float64, bins int, buf []float64) binCuts {
	var seen distinctSet
	m := 0
	for _, v := range col {
		if v == v {
			m++
			if seen.n <= bins {
				seen.add(v)
			}
		}
	}
	if seen.n <= bins {
		c := binCuts{Exact: true, Values: seen.values()}
		slices.Sort(c.Values)
		c.Edges = make([]float64, 0, max(0, len(c.Values)-1))
		for i := 1; i < len(c.Values); i++ {
			c.Edges = append(c.Edges, midpoint(c.Values[i-1], c.Values[i]))
		}
		return c
	}
	stride := (m + quantileSample - 1) / quantileSample
	s := buf[:0]
	k := 0
	for _, v := range col {
		if v == v {
			if k%stride == 0 {
				s = append(s, v)
			}
			k++
		}
	}
	slices.Sort(s)
	// Quantile edges: the k-th cut lies after the value at rank k*m/bins,
	// half-way to the next larger value; duplicates collapse, so heavy values
	// get a bin of their own.
	m = len(s)
	var c binCuts
	for k := 1; k < bins; k++ {
		pos := k * m / bins
		if pos == 0 {
			continue
		}
		v := s[pos-1]
		j, _ := slices.BinarySearch(s[pos-1:], math.Nextafter(v, math.Inf(1)))
		j += pos - 1
		if j >= m {
			break
		}
		e := midpoint(v, s[j])
		if len(c.Edges) == 0 || e > c.Edges[len(c.Edges)-1] {
			c.Edges = append(c.Edges, e)
		}
	}
	return c
}

// distinctSet collects up to MaxBins+1 distinct values: an open-addressing
// hash set on the values' bits, much cheaper than a map on this hot path.
type distinctSet struct {
	keys [1024]uint64
	used [1024]bool
	n    int
}

func (s *distinctSet) add(v float64) {
	if v == 0 {
		v = 0 // -0 and +0 are one value
	}
	k := math.Float64bits(v)
	for i := (k * 0x9E3779B97F4A7C15) >> 54; ; i = (i + 1) & 1023 {
		if !s.used[i] {
			s.used[i], s.keys[i] = true, k
			s.n++
			return
		}
		if s.keys[i] == k {
			return
		}
	}
}

func (s *distinctSet) values() []float64 {
	out := make([]float64, 0, s.n)
	for i, u := range s.used {
		if u {
			out = append(out, math.Float64frombits(s.keys[i]))
		}
	}
	return out
}

// quantise bins X, computing the edges of each column in parallel.
func quantise(X models.Matrix, bins, nw int) *binned {
	n, p := X.Rows, len(X.Cols)
	d := &binned{n: n, p: p, codes: make([]uint8, n*p), colCodes: make([]uint8, n*p), cuts: make([]binCuts, p)}
	var wg sync.WaitGroup
	next := make(chan int, p)
	for j := range p {
		next <- j
	}
	close(next)
	for range min(nw, max(p, 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]float64, 0, min(n, quantileSample))
			for j := range next {
				d.cuts[j] = makeCuts(X.Cols[j], bins, buf)
				c := &d.cuts[j]
				col := X.Cols[j]
				cc := d.colCodes[j*n : (j+1)*n]
				for i, v := range col {
					cc[i] = c.code(v)
				}
			}
		}()
	}
	wg.Wait()
	for i := range n {
		for j := range p {
			d.codes[i*p+j] = d.colCodes[j*n+i]
		}
	}
	return d
}
