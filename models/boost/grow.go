package boost

import (
	"slices"

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

func (l *leaf) rows() int { return l.hi - l.lo }

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
	prep       []prepared // per leaf, its split when worked out ahead of its turn
	lanes      []lane     // per split worked out at once, its scratch (lane 0: splits, splits2 and the blocks' own)
	gain       []float64  // per feature, summed over the model
	ahead      int        // splits worked out ahead of their turn (tests)
}

// lane is the scratch of one of the splits worked out at the same time:
// per feature, the best splits of the smaller and the larger child; per
// block, the pointers to its features' histograms.
type lane struct {
	splits, splits2 []split
	dp, sp          [][]*[histPad]bin
}

// prepared is a leaf's split worked out before its turn (rows
// partitioned, children's sums, histograms and best splits), or at its
// turn; commit then numbers the nodes, so that the tree is the same
// whatever order the work was done in.
type prepared struct {
	done   bool
	lc, rc leaf
}

func newGrower(d *hist.Binned, o Params, nw int, train []int32, tm *team) *grower {
	g := &grower{d: d, o: o, nw: nw, team: tm, train: train, rows: make([]int32, len(train)), tmp: make([]int32, len(train)),
		grad: make([]gh, d.N), ord: make([]gh, len(train)), gain: make([]float64, d.P)}
	g.layout(nw)
	g.lanes = make([]lane, max(1, min(nw, maxLanes)))
	for k := range g.lanes {
		ln := &g.lanes[k]
		ln.splits, ln.splits2 = make([]split, d.P), make([]split, d.P)
		for b := range g.blocks {
			bl := &g.blocks[b]
			if k == 0 {
				ln.dp, ln.sp = append(ln.dp, bl.dp), append(ln.sp, bl.sp)
				continue
			}
			ln.dp = append(ln.dp, make([]*[histPad]bin, len(bl.dp)))
			ln.sp = append(ln.sp, make([]*[histPad]bin, len(bl.sp)))
		}
	}
	return g
}

// maxLanes is the most splits worked out at the same time.
const maxLanes = 4

// specRows: a leaf of fewer rows x features than this is split by one
// goroutine, beside the next best leaves split by the others ahead of
// their turn; a larger one by the whole team (its partition and
// histograms in parallel).
const specRows = 1 << 19

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
	ln0 := &g.lanes[0]
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
					ln0.splits[j] = g.scan(j, &root.hist[j], root.sum)
				}
			})
		} else {
			ord := g.gather(g.rows, 0, g.nw)
			g.nodeHists(root.hist, g.rows, ord, root.sum, g.nw, ln0, func(j int) {
				ln0.splits[j] = g.scan(j, &root.hist[j], root.sum)
			})
		}
		root.best, root.ok = pick(ln0.splits)
	}
	g.leaves = append(g.leaves, root)
	g.prep = append(g.prep[:0], prepared{})
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
		if !g.prep[k].done {
			g.prepareStep(k, last)
		}
		g.commit(k)
	}
	for i := range g.leaves {
		g.putHist(g.leaves[i].hist)
		g.leaves[i].hist = nil
		if pr := &g.prep[i]; pr.done {
			g.putHist(pr.lc.hist)
			g.putHist(pr.rc.hist)
			*pr = prepared{}
		}
	}
	return g.nodes, g.leaves
}

// prepareStep works out the split of leaf k, whose turn it is. A small
// leaf is split by one goroutine while the others split the next best
// leaves not yet worked out (they are likely to come next, and their
// splits do not depend on the splits before them: their rows, and so
// their children, stay the same); a large leaf is split by the whole
// team. Leaves worked out ahead of their turn that do not get one before
// the tree is full are wasted work, not a different tree.
func (g *grower) prepareStep(k int, last bool) {
	tasks := [maxLanes]int{k}
	nt := 1
	if len(g.lanes) > 1 && !last && !noSubtraction && (g.leaves[k].hi-g.leaves[k].lo)*g.d.P < specRows {
		// The next best leaves, as grow would rank them; no more than
		// the leaves the tree still has room for.
		for nt < len(g.lanes) && len(g.leaves)+nt < g.o.MaxLeaves {
			c := -1
			for i := range g.leaves {
				l := &g.leaves[i]
				if !l.ok || g.prep[i].done || slices.Contains(tasks[:nt], i) {
					continue
				}
				if c < 0 || l.best.gain > g.leaves[c].best.gain {
					c = i
				}
			}
			// Worth it only beside a split of about the same work.
			if c < 0 || 4*g.leaves[c].rows() < 3*g.leaves[k].rows() || 3*g.leaves[c].rows() > 4*g.leaves[k].rows() {
				break
			}
			tasks[nt] = c
			nt++
		}
	}
	if nt == 1 {
		g.prep[k] = g.prepare(&g.leaves[k], last, g.nw, &g.lanes[0], g.getHist, g.putHist)
		return
	}
	// The pool is the caller's: each task gets one spare buffer (a split
	// builds one histogram) and hands back what it frees (at most two).
	var spare [maxLanes]hists
	var free [maxLanes][3]hists
	for t := range nt {
		spare[t] = g.getHist()
	}
	g.ahead += nt - 1
	g.team.run(nt, nt, func(t int) {
		nf := 0
		get := func() hists {
			h := spare[t]
			spare[t] = nil
			return h
		}
		put := func(h hists) {
			free[t][nf] = h
			nf++
		}
		g.prep[tasks[t]] = g.prepare(&g.leaves[tasks[t]], false, 1, &g.lanes[t], get, put)
	})
	for t := range nt {
		g.putHist(spare[t])
		for _, h := range free[t] {
			g.putHist(h)
		}
	}
}

// commit applies leaf k's prepared split: appends the two child nodes
// and replaces the leaf by its children.
func (g *grower) commit(k int) {
	p := &g.leaves[k]
	pr := g.prep[k]
	s := p.best
	var thr float64
	var b int
	if s.hi < 0 {
		thr, b = posInf, hist.MissingBin-1
	} else {
		thr, b = g.d.Cuts[s.f].Threshold(s.lo, s.hi)
	}
	g.gain[s.f] += s.gain
	left := uint32(len(g.nodes))
	nd := &g.nodes[p.node]
	nd.Feature, nd.Threshold, nd.Left, nd.Right = uint32(s.f), thr, left, left+1
	if s.missLeft {
		nd.Flags = flagMissingLeft
	}
	g.bins[p.node] = uint8(b)
	g.nodes = append(g.nodes, Node{Value: g.value(pr.lc.sum)}, Node{Value: g.value(pr.rc.sum)})
	g.bins = append(g.bins, 0, 0)
	pr.lc.node, pr.rc.node = left, left+1
	g.leaves[k] = pr.lc
	g.leaves = append(g.leaves, pr.rc)
	g.prep[k] = prepared{}
	g.prep = append(g.prep, prepared{})
}

// prepare works out leaf p's best split on nw goroutines with lane ln's
// scratch: partitions its rows and (unless last) gives each child its
// histograms (the smaller's built in a buffer from get, the larger's by
// subtraction in the parent's buffer) and best split. Buffers no longer
// needed go to put.
func (g *grower) prepare(p *leaf, last bool, nw int, ln *lane, get func() hists, put func(hists)) prepared {
	s := p.best
	b := hist.MissingBin - 1
	if s.hi >= 0 {
		_, b = g.d.Cuts[s.f].Threshold(s.lo, s.hi)
	}
	nl := g.partition(p.lo, p.hi, s.f, uint8(b), s.missLeft, nw)
	lc := leaf{lo: p.lo, hi: p.lo + nl, depth: p.depth + 1, sum: s.left}
	rc := leaf{lo: p.lo + nl, hi: p.hi, depth: p.depth + 1, sum: p.sum.minus(s.left)}
	small, large := &lc, &rc
	if rc.sum.n < lc.sum.n {
		small, large = &rc, &lc
	}
	ss, ls := g.splittable(small) && !last, g.splittable(large) && !last
	parent := p.hist
	p.hist = nil
	if noSubtraction && ls {
		put(parent)
		g.direct(small, large, ss, ln)
		return prepared{done: true, lc: lc, rc: rc}
	}
	if !ss && !ls {
		put(parent)
		return prepared{done: true, lc: lc, rc: rc}
	}
	small.hist = get()
	if ls {
		large.hist = parent
	} else {
		put(parent)
	}
	rows := g.rows[small.lo:small.hi]
	ord := g.gather(rows, small.lo, nw)
	g.nodeHists(small.hist, rows, ord, small.sum, nw, ln, func(j int) {
		hs := &small.hist[j]
		if ss {
			ln.splits[j] = g.scan(j, hs, small.sum)
		}
		if ls {
			hl := &large.hist[j]
			for k := range g.d.Cuts[j].Bins() {
				hl[k] = hl[k].minus(hs[k])
			}
			hl[hist.MissingBin] = hl[hist.MissingBin].minus(hs[hist.MissingBin])
			ln.splits2[j] = g.scan(j, hl, large.sum)
		}
	})
	if ss {
		small.best, small.ok = pick(ln.splits)
	} else {
		put(small.hist)
		small.hist = nil
	}
	if ls {
		large.best, large.ok = pick(ln.splits2)
	}
	return prepared{done: true, lc: lc, rc: rc}
}

// partition reorders rows[lo:hi] stably so the rows going left come first
// and returns their number. Branch-free: every row is written to both
// sides and only the side it goes to advances (which side is
// unpredictable, so a branch would be mispredicted half of the time).
func (g *grower) partition(lo, hi, f int, b uint8, missLeft bool, nw int) int {
	var goLeft [histStride]uint8
	for c := range int(b) + 1 {
		goLeft[c] = 1
	}
	if missLeft {
		goLeft[hist.MissingBin] = 1
	}
	col := g.d.Col(f)
	n := hi - lo
	if nw <= 1 || n < parallelPartition {
		return partitionRows(g.rows[lo:hi], g.tmp[lo:hi], col, &goLeft)
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
// of the subtraction trick; on the caller only).
func (g *grower) direct(small, large *leaf, ss bool, ln *lane) {
	for _, c := range []*leaf{small, large} {
		if c == small && !ss {
			continue
		}
		c.hist = g.getHist()
		rows := g.rows[c.lo:c.hi]
		g.nodeHists(c.hist, rows, g.gather(rows, c.lo, g.nw), c.sum, g.nw, ln, func(j int) {
			ln.splits[j] = g.scan(j, &c.hist[j], c.sum)
		})
		c.best, c.ok = pick(ln.splits)
	}
}
