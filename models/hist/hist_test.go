package hist

import (
	"github.com/povrisk/povrisk/models"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestMakeCuts(t *testing.T) {
	cases := []struct {
		name   string
		col    []float64
		bins   int
		edges  []float64
		exact  bool
		values []float64
	}{
		{"exact", col(3, 1, 2, 1, nan, 3), 4, []float64{1.5, 2.5}, true, []float64{1, 2, 3}},
		{"exact at the limit", col(0, 10, 20), 3, []float64{5, 15}, true, []float64{0, 10, 20}},
		// 8 values in 4 bins: cuts after ranks 2, 4, 6, half-way to the next value.
		{"quantile", col(1, 2, 3, 4, 5, 6, 7, 8), 4, []float64{2.5, 4.5, 6.5}, false, nil},
		// 5 distinct values in 4 bins; a heavy value keeps one bin: the cuts
		// after ranks 4 and 6 both fall after a 5 and collapse to 6.5.
		{"heavy value", col(1, 2, 5, 5, 5, 5, 8, 9), 4, []float64{3.5, 6.5}, false, nil},
		{"all missing", col(nan, nan), 4, []float64{}, true, []float64{}},
		{"huge values", col(math.MaxFloat64, -math.MaxFloat64), 4, []float64{0}, true, []float64{-math.MaxFloat64, math.MaxFloat64}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := MakeCuts(c.col, c.bins, nil)
			if !slices.Equal(got.Edges, c.edges) && !(len(got.Edges) == 0 && len(c.edges) == 0) {
				t.Errorf("edges %v, want %v", got.Edges, c.edges)
			}
			if got.Exact != c.exact || (c.exact && !slices.Equal(got.Values, c.values)) {
				t.Errorf("exact %v values %v, want %v %v", got.Exact, got.Values, c.exact, c.values)
			}
			// Codes agree with the edges: v <= Edges[b] iff code(v) <= b.
			for _, v := range c.col {
				k := got.Code(v)
				if math.IsNaN(v) {
					if k != MissingBin {
						t.Errorf("code(NaN) = %d", k)
					}
					continue
				}
				if int(k) < len(got.Edges) && v > got.Edges[k] || k > 0 && v <= got.Edges[k-1] {
					t.Errorf("code(%v) = %d inconsistent with edges %v", v, k, got.Edges)
				}
			}
		})
	}
}

// TestQuantileBalance: distinct values in 255 bins hold about the same
// number of rows each, exactly so below QuantileSample values and within
// 3% above it (edges from a strided sample).
func TestQuantileBalance(t *testing.T) {
	for _, c := range []struct{ n, tol int }{{100_000, 2}, {1_000_000, 120}} {
		v := make([]float64, c.n)
		for i := range v {
			v[i] = math.Sqrt(float64((i * 7919) % c.n)) // uneven spacing, shuffled
		}
		cuts := MakeCuts(v, MaxBins, nil)
		if cuts.Exact || cuts.Bins() != MaxBins {
			t.Fatalf("n=%d: exact %v, %d bins, want quantile bins, %d", c.n, cuts.Exact, cuts.Bins(), MaxBins)
		}
		count := make([]int, cuts.Bins())
		for _, x := range v {
			count[cuts.Code(x)]++
		}
		lo, hi := slices.Min(count), slices.Max(count)
		if want := c.n / MaxBins; lo < want-c.tol || hi > want+c.tol {
			t.Errorf("n=%d: bin counts from %d to %d, want %d +- %d", c.n, lo, hi, want, c.tol)
		}
	}
}

var nan = math.NaN()

func col(v ...float64) []float64 { return v }

// TestRadixSortAndLowerBound: the radix sort sorts as slices.Sort and the
// branch-free search finds slices.BinarySearch's index, on values with
// repeats, both signs, zeros and extremes.
func TestRadixSortAndLowerBound(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 1, 2, 255, 256, 1000, 70_000} {
		s := make([]float64, n)
		for i := range s {
			switch rng.IntN(6) {
			case 0:
				s[i] = float64(rng.IntN(5)) - 2 // repeats, zero
			case 1:
				s[i] = rng.NormFloat64() * 1e300
			case 2:
				s[i] = -math.MaxFloat64 * rng.Float64()
			default:
				s[i] = rng.NormFloat64()
			}
		}
		want := slices.Clone(s)
		slices.Sort(want)
		got := slices.Clone(s)
		radixSort(got)
		if !slices.Equal(got, want) {
			t.Fatalf("n=%d: radix sort differs from slices.Sort", n)
		}
		for _, v := range append(s[:min(n, 500)], -math.MaxFloat64, math.MaxFloat64, 0, 1e-300) {
			w, _ := slices.BinarySearch(want, v)
			if g := lowerBound(want, v); g != w {
				t.Fatalf("n=%d: lowerBound(%v) = %d, BinarySearch %d", n, v, g, w)
			}
			if g := lowerBound(want, math.Nextafter(v, 0)); g != func() int { i, _ := slices.BinarySearch(want, math.Nextafter(v, 0)); return i }() {
				t.Fatalf("n=%d: lowerBound just below %v differs", n, v)
			}
		}
	}
}

// TestQuantiseLayouts: the row-major codes are the column-major codes
// transposed, each the code of its value, whatever the workers.
func TestQuantiseLayouts(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	n := 1300
	X := models.NewMatrix(n, []string{"a", "b", "c"})
	for j, c := range X.Cols {
		for i := range c {
			c[i] = math.Round(rng.NormFloat64() * float64(1+j*100))
			if rng.IntN(10) == 0 {
				c[i] = math.NaN()
			}
		}
	}
	one := Quantise(X, 16, 1, true)
	three := Quantise(X, 16, 3, true)
	if !slices.Equal(one.Codes, three.Codes) || !slices.Equal(one.ColCodes, three.ColCodes) {
		t.Fatal("codes depend on the workers")
	}
	for j, c := range X.Cols {
		for i, v := range c {
			want := one.Cuts[j].Code(v)
			if one.ColCodes[j*n+i] != want || one.Codes[i*3+j] != want {
				t.Fatalf("row %d col %d: codes %d, %d, want %d", i, j, one.ColCodes[j*n+i], one.Codes[i*3+j], want)
			}
		}
	}
	if got := Quantise(X, 16, 2, false); got.Codes != nil {
		t.Error("row-major codes filled when not asked for")
	}
}
