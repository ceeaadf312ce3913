package forest

import (
	"context"
	"github.com/povrisk/povrisk/models/hist"
	"slices"
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

// TestCompactMatchesGlobal: trees grown with subtrees compacted (their
// rows' codes copied to the worker's buffer, at several sizes, with and
// without every feature's histogram kept) and large nodes' features filled
// in batches (of two, three, five, four, four and three, four and five:
// MaxFeatures 2, 3, 5, 4, 7 and 9 of 8 and 12 features) are the trees grown
// reading the training codes one feature at a time,
// node for node, with the same out-of-bag sums.
func TestCompactMatchesGlobal(t *testing.T) {
	cases := []struct {
		name string
		p    int // features
		o    Options
		at   []int
	}{
		{"bootstrap", 8, Options{MinLeaf: 1}, []int{30, 700, 2500}},
		{"balanced subtraction", 8, Options{MaxFeatures: 7, MinLeaf: 3, ClassWeight: "balanced"}, []int{200, 3000}},
		{"no bootstrap", 8, Options{MaxFeatures: 3, MinLeaf: 2, NoBootstrap: true}, []int{1500}},
		{"batch of five", 12, Options{MaxFeatures: 5, MinLeaf: 5}, []int{1200, 4000}},
		{"batch of four", 12, Options{MaxFeatures: 4, MinLeaf: 5}, []int{1200, 4000}},
		{"batch of four and three", 12, Options{MaxFeatures: 7, MinLeaf: 5}, []int{1200, 4000}},
		{"batch of four and five", 12, Options{MaxFeatures: 9, MinLeaf: 5}, []int{1200, 4000}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			X, y := synth(6000, c.p, 21)
			o, err := c.o.resolved(c.p)
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
			for _, at := range c.at {
				gg, gc := newGrower(d, yb, cw, nil, o), newGrower(d, yb, cw, nil, o)
				gg.compactAt, gc.compactAt = 0, at
				gg.noBatch = true
				compacted := 0
				for tree := range 3 {
					rg, err := gg.grow(context.Background(), tree)
					if err != nil {
						t.Fatal(err)
					}
					rc, _ := gc.grow(context.Background(), tree)
					if len(rg.nodes) != len(rc.nodes) || len(rg.nodes) < 50 {
						t.Fatalf("compact at %d, tree %d: %d nodes reading the training codes, %d compacted", at, tree, len(rg.nodes), len(rc.nodes))
					}
					for k := range rg.nodes {
						if rg.nodes[k] != rc.nodes[k] {
							t.Fatalf("compact at %d, tree %d node %d: %+v reading the training codes, %+v compacted", at, tree, k, rg.nodes[k], rc.nodes[k])
						}
					}
					if len(gc.local) > 0 {
						compacted++
					}
				}
				if compacted == 0 {
					t.Fatalf("compact at %d: no subtree was compacted", at)
				}
				if !slices.Equal(gg.oobSum, gc.oobSum) || !slices.Equal(gg.oobCnt, gc.oobCnt) {
					t.Fatalf("compact at %d: out-of-bag sums differ", at)
				}
			}
		})
	}
}

// TestKnownConstant: the set of features known constant holds features
// below 128 and ignores the others (which are then tested at every node).
func TestKnownConstant(t *testing.T) {
	var k known
	for _, j := range []int{0, 63, 64, 127, 128, 200} {
		k.add(j)
	}
	for j := range 256 {
		want := j == 0 || j == 63 || j == 64 || j == 127
		if k.has(j) != want {
			t.Errorf("feature %d: has %v, want %v", j, k.has(j), want)
		}
	}
}
