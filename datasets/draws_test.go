package datasets

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestDrawsReadTheStreamAsBefore: the named draws take the same values from
// the same stream as the inline expressions they replaced, so that seeds
// keep giving the same drops.
func TestDrawsReadTheStreamAsBefore(t *testing.T) {
	a := rand.New(rand.NewPCG(7, 9))
	b := rand.New(rand.NewPCG(7, 9))
	for i := 0; i < 20000; i++ {
		p := float64(i%97) / 96
		if got, want := chance(a, p), b.Float64() < p; got != want {
			t.Fatalf("draw %d: chance(%g) = %v, inline %v", i, p, got, want)
		}
		if got, want := logNormal(a, -0.9, 0.35), math.Exp(b.NormFloat64()*0.35-0.9); got != want {
			t.Fatalf("draw %d: logNormal = %v, inline %v", i, got, want)
		}
		if got, want := logNormal(a, 0, 0.5), math.Exp(b.NormFloat64()*0.5); got != want {
			t.Fatalf("draw %d: logNormal(0, 0.5) = %v, inline %v", i, got, want)
		}
		if got, want := normal(a, 1, 0.06), 1+b.NormFloat64()*0.06; got != want {
			t.Fatalf("draw %d: normal = %v, inline %v", i, got, want)
		}
		if got, want := uniform(a, 0.9, 0.2), 0.9+0.2*b.Float64(); got != want {
			t.Fatalf("draw %d: uniform = %v, inline %v", i, got, want)
		}
	}
	// the draws are what their names say: shares and moments
	r := rand.New(rand.NewPCG(1, 1))
	n, hits, sumLog := 200000, 0, 0.0
	for i := 0; i < n; i++ {
		if chance(r, 0.3) {
			hits++
		}
		sumLog += math.Log(logNormal(r, -0.5, 0.4))
	}
	if share := float64(hits) / float64(n); math.Abs(share-0.3) > 0.005 {
		t.Errorf("chance(0.3) came up %.4f of the time", share)
	}
	if m := sumLog / float64(n); math.Abs(m+0.5) > 0.005 {
		t.Errorf("mean log of logNormal(-0.5, 0.4) = %.4f, want -0.5", m)
	}
}

func TestPickIndex(t *testing.T) {
	w := []float64{0.08, 0.22, 0.40}
	for _, c := range []struct {
		u    float64
		want int
	}{{0, 0}, {0.079, 0}, {0.08, 1}, {0.29, 1}, {0.31, 2}, {0.69, 2}, {0.71, 3}, {0.99, 3}} {
		if got := pickIndex(c.u, w); got != c.want {
			t.Errorf("pickIndex(%g) = %d, want %d", c.u, got, c.want)
		}
	}
	if got := pickIndex(0.5, nil); got != 0 {
		t.Errorf("pickIndex with no weights = %d, want 0", got)
	}
}
