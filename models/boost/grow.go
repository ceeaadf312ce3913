package boost

import (
	"sync"
	"sync/atomic"

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
	d       *hist.Binned
	o       Params
	nw      int
	train   []int32 // the training rows (all rows without a validation share)
	rows    []int32 // train, partitioned leaf by leaf
	tmp     []int32
	grad    []gh                // per row
	ord     []gh                // gradients of a leaf's rows, in its order
	codes   []uint8             // row-major bin codes (d.Codes, or their transpose when d has none)
	rootN   [][histStride]int32 // per feature and bin, the training rows (the root's counts, the same every round)
	pool    []hists
	nodes   []Node
	bins    []uint8 // bin threshold of each node (for walking binned rows)
	leaves  []leaf
	splits  []split // per feature, for the leaf being scanned
	splits2 []split
	gain    []float64 // per feature, summed over the model
}

func newGrower(d *hist.Binned, o Params, nw int, train []int32) *grower {
	g := &grower{d: d, o: o, nw: nw, train: train, rows: make([]int32, len(train)), tmp: make([]int32, len(train)),
		grad: make([]gh, d.N), ord: make([]gh, len(train)), splits: make([]split, d.P), splits2: make([]split, d.P),
		gain: make([]float64, d.P), codes: d.Codes}
	if g.codes == nil {
		g.codes = rowMajor(d, nw)
	}
	if len(train) == d.N {
		g.rootN = make([][histStride]int32, d.P)
		for j := range d.P {
			for _, c := range d.Col(j) {
				g.rootN[j][c]++
			}
		}
	}
	return g
}

// rowMajor is d's codes row-major (Codes[i*P+j]), transposed in blocks of
// rows spread over nw goroutines.
func rowMajor(d *hist.Binned, nw int) []uint8 {
	n, p := d.N, d.P
	out := make([]uint8, n*p)
	const block = 512
	nb := (n + block - 1) / block
	parallelBlocks(nb, nw, func(b int) {
		lo, hi := b*block, min((b+1)*block, n)
		for j := range p {
			for k, c := range d.ColCodes[j*n+lo : j*n+hi] {
				out[(lo+k)*p+j] = c
			}
		}
	})
	return out
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

// hists is a leaf's histograms, one array of bins per feature, indexed by
// bin code (so a code indexes without a bounds check).
type hists [][histStride]bin

// blockMin is the fewest features in a block of histogram work.
const blockMin = 8

// forBlocks calls fn(lo, hi) for blocks of consecutive features covering
// all of them, on nw goroutines when the work (rows x features) pays for
// them. A block's histograms and scans are done by one goroutine, each
// bin's sum in the rows' order, so the result does not depend on nw.
func (g *grower) forBlocks(rows int, fn func(lo, hi int)) {
	p := g.d.P
	nw := g.nw
	if rows*p < 1<<15 {
		nw = 1
	}
	nb := min(blocksPerWorker*nw, (p+blockMin-1)/blockMin)
	if nw <= 1 || nb <= 1 {
		fn(0, p)
		return
	}
	var next atomic.Int32
	work := func() {
		for {
			b := int(next.Add(1)) - 1
			if b >= nb {
				return
			}
			fn(b*p/nb, (b+1)*p/nb)
		}
	}
	var wg sync.WaitGroup
	for range min(nw, nb) - 1 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			work()
		}()
	}
	work()
	wg.Wait()
}

// blocksPerWorker: more blocks than workers balance the work; fewer read
// each row's codes fewer times.
var blocksPerWorker = 2

var useRows = false

// fillRows builds the histograms of features lo..hi-1 of the rows rows into
// h (cleared first), reading each row's codes of the block together
// (row-major codes): consecutive updates hit different features' bins, so
// they do not wait on each other.
var tmpUpd int64

func (g *grower) fillRows(h hists, lo, hi int, rows []int32) {
	tmpUpd += int64(len(rows) * (hi - lo))
	hb := h[lo:hi]
	for j := range hb {
		clear(hb[j][:])
	}
	p := g.d.P
	codes, grad := g.codes, g.grad
	for _, r := range rows {
		gr := grad[r]
		off := int(r)*p + lo
		row := codes[off : off+len(hb)]
		for k, c := range row {
			e := &hb[k][c]
			e.g += gr.g
			e.h += gr.h
			e.n++
		}
	}
}

// fillGathered builds the histograms of features lo..hi-1 of the rows
// rows, whose gradients ord holds in the same order, into h: four columns
// at once, so that four features' updates interleave (a column's codes
// stay in cache: the gathers are cheap).
func (g *grower) fillGathered(h hists, lo, hi int, rows []int32, ord []gh) {
	ord = ord[:len(rows)]
	j := lo
	for ; j+4 <= hi; j += 4 {
		h0, h1, h2, h3 := &h[j], &h[j+1], &h[j+2], &h[j+3]
		clear(h0[:])
		clear(h1[:])
		clear(h2[:])
		clear(h3[:])
		c0, c1, c2, c3 := g.d.Col(j), g.d.Col(j+1), g.d.Col(j+2), g.d.Col(j+3)
		for k, r := range rows {
			gr := ord[k]
			e := &h0[c0[r]]
			e.g += gr.g
			e.h += gr.h
			e.n++
			e = &h1[c1[r]]
			e.g += gr.g
			e.h += gr.h
			e.n++
			e = &h2[c2[r]]
			e.g += gr.g
			e.h += gr.h
			e.n++
			e = &h3[c3[r]]
			e.g += gr.g
			e.h += gr.h
			e.n++
		}
	}
	for ; j < hi; j++ {
		hj := &h[j]
		clear(hj[:])
		c := g.d.Col(j)
		for k, r := range rows {
			e := &hj[c[r]]
			e.g += ord[k].g
			e.h += ord[k].h
			e.n++
		}
	}
}

// gather copies the gradients of rows into g.ord, in order.
func (g *grower) gather(rows []int32) []gh {
	o := g.ord[:len(rows)]
	for k, r := range rows {
		o[k] = g.grad[r]
	}
	return o
}

// fillCols builds the histograms of features lo..hi-1 over every row
// (0..N-1, the root without held-out rows) into h, streaming four columns
// at once so that four features' updates interleave; the rows' counts are
// the root's, computed once (g.rootN).
func (g *grower) fillCols(h hists, lo, hi int) {
	n := g.d.N
	grad := g.grad[:n]
	j := lo
	for ; j+4 <= hi; j += 4 {
		h0, h1, h2, h3 := &h[j], &h[j+1], &h[j+2], &h[j+3]
		clear(h0[:])
		clear(h1[:])
		clear(h2[:])
		clear(h3[:])
		c0, c1, c2, c3 := g.d.Col(j), g.d.Col(j+1), g.d.Col(j+2), g.d.Col(j+3)
		c1, c2, c3 = c1[:len(c0)], c2[:len(c0)], c3[:len(c0)]
		for i, a := range c0 {
			gr := grad[i]
			e := &h0[a]
			e.g += gr.g
			e.h += gr.h
			e = &h1[c1[i]]
			e.g += gr.g
			e.h += gr.h
			e = &h2[c2[i]]
			e.g += gr.g
			e.h += gr.h
			e = &h3[c3[i]]
			e.g += gr.g
			e.h += gr.h
		}
	}
	for ; j < hi; j++ {
		hj := &h[j]
		clear(hj[:])
		for i, a := range g.d.Col(j) {
			e := &hj[a]
			e.g += grad[i].g
			e.h += grad[i].h
		}
	}
	for j := lo; j < hi; j++ {
		for b, c := range g.rootN[j] {
			h[j][b].n = int64(c)
		}
	}
}

// scan finds feature j's best split of a leaf with sums sum from its
// histogram h.
func (g *grower) scan(j int, h *[histStride]bin, sum bin) split {
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
		g.forBlocks(n, func(lo, hi int) {
			if g.rootN != nil {
				g.fillCols(root.hist, lo, hi)
			} else {
				g.fillRows(root.hist, lo, hi, g.rows)
			}
			for j := lo; j < hi; j++ {
				g.splits[j] = g.scan(j, &root.hist[j], root.sum)
			}
		})
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
	g.forBlocks(small.hi-small.lo+histStride, func(lo, hi int) {
		if useRows {
			g.fillRows(small.hist, lo, hi, rows)
		} else {
			g.fillGathered(small.hist, lo, hi, rows, ord)
		}
		for j := lo; j < hi; j++ {
			hs := &small.hist[j]
			if ss {
				g.splits[j] = g.scan(j, hs, small.sum)
			}
			if ls {
				hl := &large.hist[j]
				for k := range hl {
					hl[k] = hl[k].minus(hs[k])
				}
				g.splits2[j] = g.scan(j, hl, large.sum)
			}
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
	rows, tmp := g.rows[lo:hi], g.tmp[:hi-lo]
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
		g.fillRows(c.hist, 0, g.d.P, g.rows[c.lo:c.hi])
		for j := range g.d.P {
			g.splits[j] = g.scan(j, &c.hist[j], c.sum)
		}
		c.best, c.ok = pick(g.splits)
	}
	return *lc, *rc
}
