// Package hist quantises a training matrix into one-byte bin codes: the
// binning shared by povrisk's histogram learners (models/forest and
// models/boost), so that both read the same bins.
//
// Each feature gets at most MaxBins value bins whose edges are quantiles of
// the training values; a feature with no more distinct values than the
// bins asked for gets one bin per value (Cuts.Exact). Code MissingBin is
// reserved for NaN. Binned keeps the codes twice, column-major (ColCodes,
// streamed for large nodes) and row-major (Codes, for small nodes whose
// rows are sparse).
package hist

import (
	"math"
	"slices"
	"sync"

	"github.com/povrisk/povrisk/models"
)

// MaxBins is the largest number of value bins per feature: bin code 255 is
// reserved for missing values.
const MaxBins = 255

// MissingBin is the bin code of a missing (NaN) value.
const MissingBin = 255

// Binned is a training matrix quantised to one byte per value.
type Binned struct {
	N, P     int
	Codes    []uint8 // row-major (Codes[i*P+j] is feature j of row i): a node's histograms of all features read each row's bytes together; nil unless asked for
	ColCodes []uint8 // column-major (ColCodes[j*N+i]), for one feature's histogram
	Cuts     []Cuts
}

// Col returns feature j's codes, one per row.
func (d *Binned) Col(j int) []uint8 { return d.ColCodes[j*d.N : (j+1)*d.N : (j+1)*d.N] }

// Cuts are one feature's bin edges: value v has bin b, the first b with
// v <= Edges[b] (len(Edges) if none). When Exact, bin b holds the single
// training value Values[b].
type Cuts struct {
	Edges  []float64 `json:"edges"`
	Exact  bool      `json:"exact"`
	Values []float64 `json:"values,omitempty"`
}

// Bins is the number of value bins.
func (c *Cuts) Bins() int { return len(c.Edges) + 1 }

// Code returns the bin code of v.
func (c *Cuts) Code(v float64) uint8 {
	if v != v {
		return MissingBin
	}
	return uint8(lowerBound(c.Edges, v))
}

// lowerBound is the first index of e (sorted) whose value is >= v, len(e)
// if none: slices.BinarySearch's index, by a search whose steps are
// conditional moves rather than branches (a value's bin is unpredictable,
// so branches would be mispredicted half of the time).
func lowerBound(e []float64, v float64) int {
	n := len(e)
	if n == 0 {
		return 0
	}
	base := 0
	for n > 1 {
		half := n / 2
		base += half * b2i(e[base+half-1] < v)
		n -= half
	}
	return base + b2i(e[base] < v)
}

// b2i is 1 for true: compiled to a flag set, not a branch.
func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Threshold returns the raw split value separating occupied bins lo and hi
// (lo < hi, the bins between them empty in the node) and the last bin whose
// values all lie at or below it: the midpoint of the two training values
// when binning is exact (as scikit-learn), else the upper edge of the bin
// half-way across the gap. Rows of every bin then go the same way whether
// they are walked by raw value or by bin code.
func (c *Cuts) Threshold(lo, hi int) (float64, int) {
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

// QuantileSample is the most values whose quantiles are computed exactly;
// a longer column is sampled at a fixed stride (deterministic).
const QuantileSample = 1 << 18

// MakeCuts computes bin edges of one column from its values (NaN ignored):
// one bin per value when there are at most bins distinct values (found in
// one pass that stops at bins+1), else quantile edges.
func MakeCuts(col []float64, bins int, buf []float64) Cuts {
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
		c := Cuts{Exact: true, Values: seen.values()}
		slices.Sort(c.Values)
		c.Edges = make([]float64, 0, max(0, len(c.Values)-1))
		for i := 1; i < len(c.Values); i++ {
			c.Edges = append(c.Edges, midpoint(c.Values[i-1], c.Values[i]))
		}
		return c
	}
	stride := (m + QuantileSample - 1) / QuantileSample
	s := buf[:0]
	k := 0
	for _, v := range col {
		if v == v {
			if k%stride == 0 {
				s = append(s, v+0) // v+0: -0 becomes +0, one value as in the exact bins
			}
			k++
		}
	}
	radixSort(s)
	// Quantile edges: the k-th cut lies after the value at rank k*m/bins,
	// half-way to the next larger value; duplicates collapse, so heavy values
	// get a bin of their own.
	m = len(s)
	var c Cuts
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

// Quantise bins X with at most bins value bins per column, computing the
// edges of each column on nw goroutines (the result does not depend on
// nw). rowMajor also fills Codes.
func Quantise(X models.Matrix, bins, nw int, rowMajor bool) *Binned {
	n, p := X.Rows, len(X.Cols)
	d := &Binned{N: n, P: p, ColCodes: make([]uint8, n*p), Cuts: make([]Cuts, p)}
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
			buf := make([]float64, 0, min(n, QuantileSample))
			for j := range next {
				d.Cuts[j] = MakeCuts(X.Cols[j], bins, buf)
				c := &d.Cuts[j]
				cc := d.ColCodes[j*n : (j+1)*n]
				for i, v := range X.Cols[j] {
					cc[i] = c.Code(v)
				}
			}
		}()
	}
	wg.Wait()
	if rowMajor {
		d.Codes = make([]uint8, n*p)
		// Transpose in blocks of rows whose row-major bytes stay in cache,
		// the blocks spread over the workers.
		const block = 512
		nb := (n + block - 1) / block
		next := make(chan int, nb)
		for b := range nb {
			next <- b
		}
		close(next)
		for range min(nw, nb) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for b := range next {
					lo, hi := b*block, min((b+1)*block, n)
					for j := range p {
						cc := d.ColCodes[j*n+lo : j*n+hi]
						for k, c := range cc {
							d.Codes[(lo+k)*p+j] = c
						}
					}
				}
			}()
		}
		wg.Wait()
	}
	return d
}

// radixBuf is radixSort's two key buffers, reused across columns (a fit
// on 200,000 x 60 would otherwise allocate 190 MB of them).
type radixBuf struct{ a, b []uint64 }

var radixBufs = sync.Pool{New: func() any { return new(radixBuf) }}

// radixSort sorts s (no NaN, no -0) ascending: an LSD radix sort on the
// order-preserving bits of each float64, 11 bits a pass, passes where every
// key has the same byte skipped. It gives what slices.Sort gives, several
// times faster on the long columns quantile bins are cut from.
func radixSort(s []float64) {
	n := len(s)
	if n < 256 {
		slices.Sort(s)
		return
	}
	rb := radixBufs.Get().(*radixBuf)
	defer radixBufs.Put(rb)
	rb.a, rb.b = slices.Grow(rb.a[:0], n)[:n], slices.Grow(rb.b[:0], n)[:n]
	keys, other := rb.a, rb.b
	for i, v := range s {
		b := math.Float64bits(v)
		if b>>63 != 0 {
			b = ^b
		} else {
			b |= 1 << 63
		}
		keys[i] = b
	}
	// 11-bit digits: 6 passes over the keys instead of 8 for bytes, the
	// counts (16 KB a digit) still in cache.
	const digit, passes = 11, (64 + 10) / 11
	var count [passes][1 << digit]int32
	for _, k := range keys {
		for p := range passes {
			count[p][(k>>(digit*p))&(1<<digit-1)]++
		}
	}
	for p := range passes {
		c := &count[p]
		shift := digit * p
		if int(c[(keys[0]>>shift)&(1<<digit-1)]) == n {
			continue // every key has this digit
		}
		var sum int32
		for b := range c {
			c[b], sum = sum, sum+c[b]
		}
		for _, k := range keys {
			b := (k >> shift) & (1<<digit - 1)
			other[c[b]] = k
			c[b]++
		}
		keys, other = other, keys
	}
	for i, b := range keys {
		if b>>63 != 0 {
			b &^= 1 << 63
		} else {
			b = ^b
		}
		s[i] = math.Float64frombits(b)
	}
}
