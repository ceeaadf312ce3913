package boost

import (
	"slices"
	"testing"

	"github.com/povrisk/povrisk/models/hist"
)

// TestSplitsAhead: with several workers, leaves are split ahead of their
// turn beside the leaf whose turn it is, and the trees are those grown one
// split at a time (node by node, and every leaf's rows).
func TestSplitsAhead(t *testing.T) {
	X, y := synth(20000, 8, 7)
	d := hist.Quantise(X, hist.MaxBins, 2, false)
	par, err := Options{}.resolved()
	if err != nil {
		t.Fatal(err)
	}
	train, _ := holdOut(d.N, 0, 0)
	grad := make([]gh, d.N)
	for i := range grad {
		p := 0.2 + 0.6*float64(i%97)/97
		grad[i] = gh{p - float64(y[i]), p * (1 - p)}
	}
	type tree struct {
		nodes []Node
		rows  [][]int32 // per leaf node, its rows in order
	}
	growTree := func(nw int) (tree, int) {
		tm := newTeam(nw)
		defer tm.close()
		g := newGrower(d, par, nw, train, tm)
		copy(g.grad, grad)
		nodes, leaves := g.grow()
		tr := tree{nodes: slices.Clone(nodes), rows: make([][]int32, len(nodes))}
		for _, l := range leaves {
			tr.rows[l.node] = slices.Sorted(slices.Values(g.rows[l.lo:l.hi]))
		}
		return tr, g.ahead
	}
	want, ahead := growTree(1)
	if ahead != 0 {
		t.Fatalf("one worker split %d leaves ahead of their turn", ahead)
	}
	if len(want.nodes) != 2*par.MaxLeaves-1 {
		t.Fatalf("tree of %d nodes, want %d (a full tree tests more splits)", len(want.nodes), 2*par.MaxLeaves-1)
	}
	for _, nw := range []int{2, 4} {
		got, ahead := growTree(nw)
		if ahead == 0 {
			t.Errorf("workers %d: no leaf split ahead of its turn", nw)
		}
		if !slices.Equal(got.nodes, want.nodes) {
			t.Errorf("workers %d: nodes differ from one worker's", nw)
		}
		for k := range want.rows {
			if !slices.Equal(got.rows[k], want.rows[k]) {
				t.Errorf("workers %d: node %d has other rows than with one worker", nw, k)
			}
		}
	}
}
