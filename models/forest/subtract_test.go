package forest

import (
	"context"
	"github.com/povrisk/povrisk/models/hist"
	"testing"
)

// TestSubtractionMatchesDirect: trees grown with every feature's histogram
// kept and the larger child's obtained by subtraction are the trees grown
// by filling each drawn feature's histogram directly, exactly (counts are
// integers), with and without missing values, weights and bootstrap.
func TestSubtractionMatchesDirect(t *testing.T) {
	X, y := synth(3000, 6, 12)
	cases := []struct {
		name string
		o    Options
	}{
		{"all features", Options{MaxFeatures: 6, MinLeaf: 1, NoBootstrap: true}},
		{"bootstrap balanced", Options{MaxFeatures: 5, MinLeaf: 3, ClassWeight: "balanced"}},
		{"shallow", Options{MaxFeatures: 6, MaxDepth: 4, MinLeaf: 1, NoBootstrap: true}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o, err := c.o.resolved(6)
			if err != nil {
				t.Fatal(err)
			}
			d := hist.Quantise(X, o.Bins, 1, true)
			yb := make([]uint8, len(y))
			for i, v := range y {
				yb[i] = uint8(v)
			}
			cw := [2]float64{1, 1}
			if o.ClassWeight == "balanced" {
				cw = [2]float64{1.3, 2.7}
			}
			for tree := range 3 {
				gs, gd := newGrower(d, yb, cw, nil, o), newGrower(d, yb, cw, nil, o)
				if !gs.full {
					t.Fatal("grower does not use subtraction with MaxFeatures near p")
				}
				gd.full = false
				rs, err := gs.grow(context.Background(), tree)
				if err != nil {
					t.Fatal(err)
				}
				rd, _ := gd.grow(context.Background(), tree)
				if len(rs.nodes) != len(rd.nodes) {
					t.Fatalf("tree %d: %d nodes with subtraction, %d without", tree, len(rs.nodes), len(rd.nodes))
				}
				if len(rs.nodes) < 20 {
					t.Fatalf("tree %d has only %d nodes: test data too easy", tree, len(rs.nodes))
				}
				for k := range rs.nodes {
					a, b := rs.nodes[k], rd.nodes[k]
					if a.Feature != b.Feature || a.Left != b.Left || a.Right != b.Right || a.Flags != b.Flags ||
						a.Threshold != b.Threshold || a.Value != b.Value {
						t.Fatalf("tree %d node %d: %+v with subtraction, %+v without", tree, k, a, b)
					}
				}
			}
		})
	}
}
