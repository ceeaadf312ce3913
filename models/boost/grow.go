package boost

import (
	"github.com/povrisk/povrisk/models/hist"
)

// Node is one node of a flat tree (hist.Node, the layout shared with the
// forest); Value is the the node's Newton value -LearningRate*G/(H+L2), in log-odds. Flags: flagMissingLeft, NaN goes left.
type Node = hist.Node

const flagMissingLeft = 1

// noSubtraction, set by a test only, builds every child's histograms from
// its rows.
var noSubtraction = false

const histStride = 256

// bin is one histogram bin: sums of gradients and hessians, and rows.
type bin struct {
	g, h float64
	n    int64
}

func (a bin) plus(b bin) bin  { return bin{a.g + b.g, a.h + b.h, a.n + b.n} }
func (a bin) minus(b bin) bin { return bin{a.g - b.g, a.h - b.h, a.n - b.n} }

// gh is one row's gradient and hessian.
type gh struct{ g, h float64 }

// split is a candidate split of a leaf.
type split struct {
	f        int
	lo, hi   int // last occupied bin left, first occupied bin right (-1: every value left, NaN right)
	missLeft bool
	left     bin
	gain     float64
}

// leaf is a leaf of the tree being grown, a candidate for splitting.
type leaf struct {
	node   uint32
	lo, hi int // its rows are rows[lo:hi]
	depth  int
	sum    bin
	hist   hists // every feature's histogram, or nil when it cannot split
	best   split
	ok     bool // best is a valid split
}

// grower grows the trees of one Fit; its buffers are reused across rounds.
type grower struct {
	d          *hist.Binned
	o          Params
	nw         int
	team       *team   // the fit's goroutines (nil: one)
	train      []int32 // the training rows (all rows without a validation share)
	rows       []int32 // train, partitioned leaf by leaf
	tmp        []int32
	grad       []gh                // per row
	ord        []gh                // gradients of a node's rows, in its order
	blocks     []fblock            // the features in blocks of histogram work
	items      []nodeItem          // the work of large nodes' histograms
	rootGroups []rootGroup         // the features in groups of root histogram work (without held-out rows)
	rootN      [][histStride]int32 // per feature and bin, the training rows (the root's counts, the same every round)
	mode       []int               // per feature, its most frequent code over the training rows
	dens       []float64           // per feature, the share of the training rows outside its mode
	identity   bool                // the training rows are 0..N-1
	pool       []hists
	nodes      []Node
	bins       []uint8 // bin threshold of each node (for walking binned rows)
	leaves     []leaf
	splits     []split // per feature, for the leaf being scanned
	splits2    []split
	gain       []float64 // per feature, summed over the model
}

func newGrower(d *hist.Binned, o Params, nw int, train []int32, tm *team) *grower {
	g := &grower{d: d, o: o, nw: nw, team: tm, train: train, rows: make([]int32, len(train)), tmp: make([]int32, len(train)),
		grad: make([]gh, d.N), ord: make([]gh, len(train)), splits: make([]split, d.P), splits2: make([]split, d.P), gain: make([]float64, d.P)}
	g.layout(nw)
	return g
}

func (g *grower) getHist() hists {
	if k := len(g.pool); k > 0 {
		h := g.pool[k-1]
		g.pool = g.pool[:k-1]
		return h
	}
	return make(hists, g.d.P)
}

func (g *grower) putHist(h hists) {
	if h != nil {
		g.pool = append(g.pool, h)
	}
}

// value is the Newton step of a node with sums s.
func (g *grower) value(s bin) float64 {
	d := s.h + g.o.L2
	if d <= 0 {
		return 0
	}
	return -g.o.LearningRate * s.g / d
}

func (g *grower) score(s bin) float64 {
	d := s.h + g.o.L2
	if d <= 0 {
		return 0
	}
	return s.g * s.g / d
}

// splittable reports whether a leaf may be split at all.
func (g *grower) splittable(l *leaf) bool {
	if l.sum.n < int64(2*g.o.MinLeaf) || l.sum.h < 2*g.o.MinHessian {
		return false
	}
	return g.o.MaxDepth == 0 || l.depth < g.o.MaxDepth
}

// scan finds feature j's best split of a leaf with sums sum from its
// histogram h.
func (g *grower) scan(j int, h *[histPad]bin, sum bin) split {
	best := split{f: j, gain: 0, lo: -2}
	minLeaf, minH := int64(g.o.MinLeaf), g.o.MinHessian
	parent := g.score(sum)
	miss := h[hist.MissingBin]
	try := func(l bin, lo, hi int, missLeft bool) {
		r := sum.minus(l)
		if l.n < minLeaf || r.n < minLeaf || l.h < minH || r.h < minH {
			return
		}
		if gain := g.score(l) + g.score(r) - parent; gain > best.gain {
			best = split{f: j, lo: lo, hi: hi, missLeft: missLeft, left: l, gain: gain}
		}
	}
	values := sum.minus(miss)
	var cum bin
	prev := -1
	nb := g.d.Cuts[j].Bins()
	for b := range nb {
		if h[b].n == 0 {
			continue
		}
		if prev >= 0 {
			if miss.n == 0 {
				try(cum, prev, b, cum.n >= values.n-cum.n) // NaN follows the larger child
			} else {
				try(cum, prev, b, false)
				try(cum.plus(miss), prev, b, true)
			}
		}
		cum = cum.plus(h[b])
		prev = b
		// No later split leaves MinLeaf rows on the right (and none
		// when every value row is counted): the rest are empty bins or
		// tries that fail.
		if sum.n-cum.n < minLeaf || cum.n == values.n {
			break
		}
	}
	if miss.n > 0 && prev >= 0 {
		try(cum, prev, -1, false) // every value left, NaN right
	}
	return best
}

// pick returns the best of the per-feature splits (the lowest feature on
// a tie, so the choice does not depend on the order work was done).
func pick(splits []split) (split, bool) {
	best := split{gain: 0}
	ok := false
	for _, s := range splits {
		if s.lo != -2 && s.gain > best.gain {
			best, ok = s, true
		}
	}
	return best, ok
}

// grow builds one tree on the gradients in g.grad and returns its nodes
// (g.nodes, reused) and its leaves (g.leaves, reused): the rows of leaf l
// are rows[l.lo:l.hi].
func (g *grower) grow() ([]Node, []leaf) {
	copy(g.rows, g.train)
	n := len(g.rows)
	root := leaf{lo: 0, hi: n}
	for _, r := range g.rows {
		root.sum = root.sum.plus(bin{g.grad[r].g, g.grad[r].h, 1})
	}
	g.nodes = append(g.nodes[:0], Node{Value: g.value(root.sum)})
	g.bins = append(g.bins[:0], 0)
	g.leaves = g.leaves[:0]
	if g.splittable(&root) {
		root.hist = g.getHist()
		if g.identity {
			nw := g.nw
			if n*g.d.P < parallelFill {
				nw = 1
			}
			g.team.run(len(g.rootGroups), nw, func(k int) {
				g.fillRoot(root.hist, k, root.sum)
				for _, j := range g.rootGroups[k].js {
					g.splits[j] = g.scan(j, &root.hist[j], root.sum)
				}
			})
		} else {
			ord := g.gather(g.rows)
			g.nodeHists(root.hist, g.rows, ord, root.sum, func(j int) {
				g.splits[j] = g.scan(j, &root.hist[j], root.sum)
			})
		}
		root.best, root.ok = pick(g.splits)
	}
	g.leaves = append(g.leaves, root)
	for len(g.leaves) < g.o.MaxLeaves {
		k := -1
		for i := range g.leaves {
			if g.leaves[i].ok && (k < 0 || g.leaves[i].best.gain > g.leaves[k].best.gain) {
				k = i
			}
		}
		if k < 0 {
			break
		}
		// The split that makes the last leaf needs no histograms for its
		// children: they will not be split.
		last := len(g.leaves)+1 == g.o.MaxLeaves
		l, r := g.splitLeaf(&g.leaves[k], last)
		g.leaves[k] = l
		g.leaves = append(g.leaves, r)
	}
	for i := range g.leaves {
		g.putHist(g.leaves[i].hist)
		g.leaves[i].hist = nil
	}
	return g.nodes, g.leaves
}

// splitLeaf applies the leaf's best split: partitions its rows, appends
// the two child nodes, and (unless last) gives each child its histograms
// (the smaller's built, the larger's by subtraction in the parent's
// buffer) and best split.
func (g *grower) splitLeaf(p *leaf, last bool) (leaf, leaf) {
	s := p.best
	cuts := &g.d.Cuts[s.f]
	var thr float64
	var b int
	if s.hi < 0 {
		thr, b = posInf, hist.MissingBin-1
	} else {
		thr, b = cuts.Threshold(s.lo, s.hi)
	}
	g.gain[s.f] += s.gain
	nl := g.partition(p.lo, p.hi, s.f, uint8(b), s.missLeft)
	left := uint32(len(g.nodes))
	nd := &g.nodes[p.node]
	nd.Feature, nd.Threshold, nd.Left, nd.Right = uint32(s.f), thr, left, left+1
	if s.missLeft {
		nd.Flags = flagMissingLeft
	}
	g.bins[p.node] = uint8(b)
	rs := p.sum.minus(s.left)
	g.nodes = append(g.nodes, Node{Value: g.value(s.left)}, Node{Value: g.value(rs)})
	g.bins = append(g.bins, 0, 0)
	lc := leaf{node: left, lo: p.lo, hi: p.lo + nl, depth: p.depth + 1, sum: s.left}
	rc := leaf{node: left + 1, lo: p.lo + nl, hi: p.hi, depth: p.depth + 1, sum: rs}
	small, large := &lc, &rc
	if rc.sum.n < lc.sum.n {
		small, large = &rc, &lc
	}
	ss, ls := g.splittable(small) && !last, g.splittable(large) && !last
	if noSubtraction && ls {
		return g.direct(p.hist, &lc, &rc, small, large, ss)
	}
	if !ss && !ls {
		g.putHist(p.hist)
		return lc, rc
	}
	parent := p.hist
	small.hist = g.getHist()
	if ls {
		large.hist = parent
	} else {
		g.putHist(parent)
	}
	rows := g.rows[small.lo:small.hi]
	ord := g.gather(rows)
	g.nodeHists(small.hist, rows, ord, small.sum, func(j int) {
		hs := &small.hist[j]
		if ss {
			g.splits[j] = g.scan(j, hs, small.sum)
		}
		if ls {
			hl := &large.hist[j]
			for k := range g.d.Cuts[j].Bins() {
				hl[k] = hl[k].minus(hs[k])
			}
			hl[hist.MissingBin] = hl[hist.MissingBin].minus(hs[hist.MissingBin])
			g.splits2[j] = g.scan(j, hl, large.sum)
		}
	})
	if ss {
		small.best, small.ok = pick(g.splits)
	} else {
		g.putHist(small.hist)
		small.hist = nil
	}
	if ls {
		large.best, large.ok = pick(g.splits2)
	}
	return lc, rc
}

// partition reorders rows[lo:hi] stably so the rows going left come first
// and returns their number. Branch-free: every row is written to both
// sides and only the side it goes to advances (which side is
// unpredictable, so a branch would be mispredicted half of the time).
func (g *grower) partition(lo, hi, f int, b uint8, missLeft bool) int {
	var goLeft [histStride]uint8
	for c := range int(b) + 1 {
		goLeft[c] = 1
	}
	if missLeft {
		goLeft[hist.MissingBin] = 1
	}
	col := g.d.Col(f)
	n := hi - lo
	if g.nw <= 1 || n < parallelPartition {
		return partitionRows(g.rows[lo:hi], g.tmp[:n], col, &goLeft)
	}
	// In chunks, one per worker, each partitioned in place; then the
	// chunks' left parts, in order, and their right parts are copied
	// together through tmp (the same order as one pass).
	nc := g.nw
	left := make([]int, nc)
	g.team.run(nc, nc, func(c int) {
		a, b := lo+c*n/nc, lo+(c+1)*n/nc
		left[c] = partitionRows(g.rows[a:b], g.tmp[a-lo:b-lo], col, &goLeft)
	})
	offL, offR := make([]int, nc), make([]int, nc)
	k := 0
	for c := range nc {
		offL[c] = k
		k += left[c]
	}
	r := k
	for c := range nc {
		offR[c] = r
		r += (c+1)*n/nc - c*n/nc - left[c]
	}
	g.team.run(nc, nc, func(c int) {
		a, b := lo+c*n/nc, lo+(c+1)*n/nc
		copy(g.tmp[offL[c]:], g.rows[a:a+left[c]])
		copy(g.tmp[offR[c]:], g.rows[a+left[c]:b])
	})
	if n < 1<<15 {
		copy(g.rows[lo:hi], g.tmp[:n])
		return k
	}
	g.team.run(nc, nc, func(c int) {
		a, b := c*n/nc, (c+1)*n/nc
		copy(g.rows[lo+a:lo+b], g.tmp[a:b])
	})
	return k
}

// parallelPartition is the fewest rows partitioned in chunks by several
// workers.
const parallelPartition = 1 << 12

// partitionRows reorders rows stably, those whose code in col has goLeft
// first, with tmp (len(rows)) as scratch, and returns their number.
func partitionRows(rows, tmp []int32, col []uint8, goLeft *[histStride]uint8) int {
	k, m := 0, 0
	for _, r := range rows {
		l := int(goLeft[col[r]])
		rows[k] = r
		tmp[m] = r
		k += l
		m += 1 - l
	}
	copy(rows[k:], tmp[:m])
	return k
}

// walkBinned returns the leaf value of binned row i of a tree grown now.
func (g *grower) walkBinned(nodes []Node, i int) float64 {
	k := uint32(0)
	for nodes[k].Left != 0 {
		nd := &nodes[k]
		c := g.d.ColCodes[int(nd.Feature)*g.d.N+i]
		switch {
		case c == hist.MissingBin:
			if nd.Flags&flagMissingLeft != 0 {
				k = nd.Left
			} else {
				k = nd.Right
			}
		case c <= g.bins[k]:
			k = nd.Left
		default:
			k = nd.Right
		}
	}
	return nodes[k].Value
}

// direct gives the children histograms built from their rows (the test
// of the subtraction trick).
func (g *grower) direct(parent hists, lc, rc, small, large *leaf, ss bool) (leaf, leaf) {
	g.putHist(parent)
	for _, c := range []*leaf{small, large} {
		if c == small && !ss {
			continue
		}
		c.hist = g.getHist()
		rows := g.rows[c.lo:c.hi]
		g.nodeHists(c.hist, rows, g.gather(rows), c.sum, func(j int) {
			g.splits[j] = g.scan(j, &c.hist[j], c.sum)
		})
		c.best, c.ok = pick(g.splits)
	}
	return *lc, *rc
}
