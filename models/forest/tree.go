package forest

import (
	"context"
	"github.com/povrisk/povrisk/models/hist"
	"math"
	mathbits "math/bits"
	"math/rand/v2"
	"slices"
	"sync"
)

// Node is one node of a flat tree (hist.Node, the layout shared with the
// boosted trees); Value is the weighted share of class 1 among the node's training rows. Flags: flagMissingLeft, NaN goes left.
type Node = hist.Node

const flagMissingLeft = 1

// leaf returns the leaf reached by row i of cols.
func leaf(nodes []Node, cols [][]float64, i int) *Node {
	nd := &nodes[0]
	for nd.Left != 0 {
		nd = &nodes[next(nd, cols[nd.Feature][i])]
	}
	return nd
}

// next is the child of internal node nd that value v goes to (the right
// child is always Left+1). Branches, not conditional moves: the processor
// predicts them and runs ahead into the next node's load.
func next(nd *Node, v float64) uint32 {
	switch {
	case v <= nd.Threshold:
		return nd.Left
	case v > nd.Threshold:
		return nd.Left + 1
	case nd.Flags&flagMissingLeft != 0:
		return nd.Left
	}
	return nd.Left + 1
}

// hbin is one histogram bin: the bootstrap counts of class-0 rows (low 32
// bits) and class-1 rows (high 32 bits), so that adding a row is one add.
// Counts are integers, so sums and the subtraction trick are exact; class
// weights are applied only when a split is scored.
type hbin uint64

const lowMask = 1<<32 - 1

const histStride = 256

// wideRows is the node size from which one feature's histogram is filled
// streaming its column (four-way) rather than from row-major codes.
const wideRows = 1024

// batchLocalRows is the compacted node size from which the drawn features
// are filled in batches (fill4Row, fill5Row), as nodes of wideRows rows or
// more are anywhere.
const batchLocalRows = 256

// counts are a node's (or a child's) bootstrap counts of each class and
// their sum n, the rows MinLeaf and MinSplit count.
type counts struct{ c0, c1, n int64 }

func makeCounts(c0, c1 int64) counts { return counts{c0, c1, c0 + c1} }

func (a counts) minus(b counts) counts { return makeCounts(a.c0-b.c0, a.c1-b.c1) }

func (a counts) plus(b hbin) counts {
	return makeCounts(a.c0+int64(b&lowMask), a.c1+int64(b>>32))
}

// item is a node waiting to be split.
type item struct {
	node     uint32
	lo, hi   int // the node's in-bag rows, rows[lo:hi]
	olo, ohi int // its out-of-bag rows, oob[olo:ohi]
	depth    int
	counts
	hist []hbin // every feature's histogram (p*256), or nil
	// constant has bit j set when feature j (j < 128) is known constant in
	// the node (found so in an ancestor), so it is skipped without a pass.
	constant known
	// local: the node's in-bag rows index g.local, the codes of its
	// subtree's in-bag rows copied together (compact).
	local bool
}

// sample is an in-bag row with its bootstrap count and class, kept
// together in 8 bytes so that partitions and histogram fills stream them.
type sample struct {
	r int32
	c uint32 // bootstrap count (< 2^31), bit 31 set for class 1
}

func makeSample(r int, cnt int32, y uint8) sample {
	return sample{r: int32(r), c: uint32(cnt) | uint32(y)<<31}
}

// row is the sample's row; when compacted, the offset of its codes in
// g.local (its local index times P), so that local reads need no multiply.
func (s sample) row() int { return int(s.r) }

// withRow is s renumbered to row r.
func (s sample) withRow(r int) sample { return sample{r: int32(r), c: s.c} }

// inc is the sample's histogram increment: its count, shifted by 32 for
// class 1.
// A shift by a constant and a conditional move, not a shift by a variable:
// that needs register CX, which the fill loops' counters then leave for
// the stack.
func (s sample) inc() hbin {
	n := hbin(s.c &^ (1 << 31))
	if int32(s.c) < 0 {
		n <<= 32
	}
	return n
}

// grower builds trees; one per worker, its buffers reused across trees.
type grower struct {
	d    *hist.Binned
	y    []uint8
	cw   [2]float64
	wt   *weights // nil: every row weighs 1
	o    Params
	full bool // root keeps every feature's histogram

	rows, tmp []sample // the tree's rows, partitioned node by node
	cnt       []int32  // bootstrap counts, per row
	scratch   []hbin
	occ       [4]uint64 // bins occupied in scratch (value bins only), when sparse
	sparse    bool      // scratch was filled by a small node's fillOne: occ is set
	bins      [histStride]uint8
	bh        [][histStride]hbin // a batch's histograms (fillBatch), zeroed between nodes
	batch     []int
	pool      [][]hbin
	feats     []int
	stack     []item
	nodes     []Node  // the tree being grown
	oob, otmp []int32 // the tree's out-of-bag rows, partitioned with rows

	// The row-major codes of one subtree's in-bag rows (compact).
	local     []uint8
	localBuf  *[localCap]uint8 // local's storage
	compactAt int              // subtrees of at most this many in-bag rows are compacted; 0: never
	noBatch   bool             // fill one feature at a time (a test's reference)

	// Out-of-bag sums in fixed point (oobScale), so that adding trees in any
	// order, on any worker, gives the same result.
	oobSum []int64
	oobCnt []int32
}

const oobScale = 1 << 40

func newGrower(d *hist.Binned, y []uint8, cw [2]float64, wt *weights, o Params) *grower {
	g := &grower{d: d, y: y, cw: cw, wt: wt, o: o,
		rows: make([]sample, d.N), tmp: make([]sample, d.N), cnt: make([]int32, d.N),
		scratch: make([]hbin, 4*histStride), feats: make([]int, d.P)}
	g.full = 2*o.MaxFeatures > d.P
	nb := min(o.MaxFeatures, maxBatch)
	g.bh, g.batch = make([][histStride]hbin, nb), make([]int, 0, nb)
	if lim := compactLimit(); d.N*d.P > 2*lim {
		g.compactAt = lim / d.P
	}
	return g
}

// weight returns the weighted rows and weighted class-1 rows of c.
func (g *grower) weight(c counts) (w, p float64) {
	p = float64(c.c1) * g.cw[1]
	return float64(c.c0)*g.cw[0] + p, p
}

// treeResult is one grown tree with what Fit aggregates from it.
type treeResult struct {
	nodes []Node
	imp   []float64 // impurity decrease per feature
}

func (g *grower) getHist() []hbin {
	if k := len(g.pool); k > 0 {
		h := g.pool[k-1]
		g.pool = g.pool[:k-1]
		clear(h)
		return h
	}
	return make([]hbin, g.d.P*histStride)
}

func (g *grower) putHist(h []hbin) {
	if h != nil {
		g.pool = append(g.pool, h)
	}
}

// grow builds tree t: draw the rows, then split nodes off a stack until
// every leaf is final. It is about 100 lines and kept in one piece on
// purpose: it is training's inner loop, whose locals (the node stack, the
// histogram pool, the row partition) stay in one frame, and its steps
// (find the best split, partition, hand histograms to the children) are
// already functions of their own.
func (g *grower) grow(ctx context.Context, t int) (treeResult, error) {
	d, o := g.d, g.o
	rng := rand.New(rand.NewPCG(o.Seed, uint64(t)))
	res := treeResult{imp: make([]float64, d.P)}
	n := 0
	var root item
	if o.Bootstrap {
		clear(g.cnt)
		if g.wt != nil {
			for range d.N {
				g.cnt[g.wt.draw(rng)]++
			}
		} else {
			for range d.N {
				g.cnt[rng.IntN(d.N)]++
			}
		}
		if g.oob == nil {
			g.oob, g.otmp = make([]int32, d.N), make([]int32, d.N)
			g.oobSum, g.oobCnt = make([]int64, d.N), make([]int32, d.N)
		}
		// Branch-free (whether a row was drawn is unpredictable): each row
		// is written to both lists, the cursor of the one it belongs to
		// advanced.
		no := 0
		rows, oob, y := g.rows[:d.N], g.oob[:d.N], g.y[:d.N]
		for i, c := range g.cnt[:d.N] {
			in := b2i(c > 0)
			rows[n] = makeSample(i, c, y[i])
			oob[no] = int32(i)
			n += in
			no += 1 - in
		}
		root.ohi = no
	} else if g.wt != nil {
		for i := range d.N {
			if c := int32(g.wt.w[i]); c > 0 {
				g.rows[n] = makeSample(i, c, g.y[i])
				n++
			}
		}
	} else {
		for i := range d.N {
			g.rows[i] = makeSample(i, 1, g.y[i])
		}
		n = d.N
	}
	for j := range g.feats {
		g.feats[j] = j
	}
	root.hi = n
	for _, s := range g.rows[:n] {
		root.counts = root.counts.plus(s.inc())
	}
	if g.full {
		root.hist = g.getHist()
		g.fillAll(root.hist, 0, n, false)
	}
	nodes := append(g.nodes[:0], Node{}) // reused across trees, cloned when done
	g.stack = append(g.stack[:0], root)
	for count := 0; len(g.stack) > 0; count++ {
		if count&1023 == 1023 {
			if err := ctx.Err(); err != nil {
				return res, err
			}
		}
		it := g.stack[len(g.stack)-1]
		g.stack = g.stack[:len(g.stack)-1]
		w, p := g.weight(it.counts)
		nodes[it.node].Value = p / w
		if g.isLeaf(&it) {
			g.putHist(it.hist)
			g.addOOB(&it, p/w)
			continue
		}
		if !it.local && it.hi-it.lo <= g.compactAt {
			g.compact(&it)
		}
		s, constant, ok := g.bestSplit(rng, &it)
		if !ok {
			g.putHist(it.hist)
			g.addOOB(&it, p/w)
			continue
		}
		left := uint32(len(nodes))
		nodes = append(nodes, Node{}, Node{})
		nd := &nodes[it.node]
		nd.Feature, nd.Threshold, nd.Left, nd.Right = uint32(s.f), s.thr, left, left+1
		if s.missLeft {
			nd.Flags = flagMissingLeft
		}
		rc := it.counts.minus(s.left)
		lw, lp := g.weight(s.left)
		rw, rp := g.weight(rc)
		res.imp[s.f] += gini(w, p) - gini(lw, lp) - gini(rw, rp)

		li := item{node: left, lo: it.lo, depth: it.depth + 1, counts: s.left, constant: constant, local: it.local}
		ri := item{node: left + 1, hi: it.hi, depth: it.depth + 1, counts: rc, constant: constant, local: it.local}
		// Children that are both leaves (known from their counts) need no
		// rows of their own: the partition is skipped.
		leaves := g.isLeaf(&li) && g.isLeaf(&ri)
		nl := 0
		if !leaves {
			nl = g.partition(&it, s)
		}
		li.hi, ri.lo = it.lo+nl, it.lo+nl
		ol := g.partitionOOB(&it, s)
		li.olo, li.ohi, ri.olo, ri.ohi = it.olo, it.olo+ol, it.olo+ol, it.ohi
		if it.hist != nil {
			g.handHist(it.hist, &li, &ri, leaves)
		}
		g.stack = append(g.stack, ri, li)
	}
	g.nodes = nodes
	res.nodes = slices.Clone(nodes)
	return res, nil
}

// handHist gives the parent's every-feature histogram h to the larger
// child, the smaller child's filled and subtracted from it, when that pays
// (keepFull) and the children are not both leaves; else h returns to the
// pool.
func (g *grower) handHist(h []hbin, li, ri *item, leaves bool) {
	small, large := li, ri
	if ri.n < li.n {
		small, large = ri, li
	}
	if leaves || !g.keepFull(small.n, large.n) {
		g.putHist(h)
		return
	}
	small.hist = g.getHist()
	g.fillAll(small.hist, small.lo, small.hi, small.local)
	for k, b := range small.hist {
		h[k] -= b
	}
	large.hist = h
}

// addOOB adds leaf it's value v to the worker's sums of its out-of-bag
// rows: the rows were partitioned down the tree with the in-bag rows, by
// the same bin rule as a walk of the tree, so each reaches its leaf
// without a walk.
func (g *grower) addOOB(it *item, v float64) {
	if it.olo == it.ohi {
		return
	}
	add := int64(math.Round(v * oobScale))
	for _, r := range g.oob[it.olo:it.ohi] {
		g.oobSum[r] += add
		g.oobCnt[r]++
	}
}

// compactBytes is the most bytes of codes a compacted subtree may hold
// (its in-bag rows times P), whatever the cache; compactLimit is the bound
// used.
const compactBytes = 1 << 20

// compactLimit is the most bytes of codes a compacted subtree holds: half
// the core's second-level cache (at most compactBytes, 512 KB when the
// cache size is unknown), so that they stay there, where the training
// matrix's codes, when larger, would be read from the shared cache or
// memory at every node of the subtree. On the engine table (2 MB L2,
// cachegrind with a 2 MB last level) 1 MB rather than 512 KB halves the
// fills' misses (4.5M to 2.3M in four trees) for the same instructions.
var compactLimit = sync.OnceValue(func() int {
	if l2 := l2CacheBytes(); l2 > 0 {
		return min(compactBytes, max(l2/2, 64<<10))
	}
	return 512 << 10
})

// compact copies the row-major codes of node it's in-bag rows into
// g.local and renumbers them to index it: the nodes of its subtree then
// read their codes from there. Rows keep their order, so the trees do not
// change. Out-of-bag rows are not copied: their partitions read the
// training matrix's row-major codes, whose lines (a subtree's out-of-bag
// rows' fit in the second-level cache) the first read loads, as a copy
// would.
func (g *grower) compact(it *item) {
	p := g.d.P
	rows := g.rows[it.lo:it.hi]
	m := len(rows)
	if g.localBuf == nil {
		g.localBuf = new([localCap]uint8)
	}
	g.local = g.localBuf[:m*p]
	codes := g.d.Codes
	for i := range rows {
		r := rows[i].row()
		copy(g.local[i*p:(i+1)*p], codes[r*p:(r+1)*p])
		rows[i] = rows[i].withRow(i * p)
	}
	it.local = true
}

// localCap is the size of g.local's buffer: compactBytes for the codes
// and as much again, so that fill4Row's windows of compactBytes from any
// feature's first code (P <= compactBytes when compacting) fit.
const localCap = 2 * compactBytes

// gini is the node's weighted impurity w*Gini = 2p(w-p)/w.
func gini(w, p float64) float64 {
	if w <= 0 {
		return 0
	}
	return 2 * p * (w - p) / w
}

// keepFull reports whether children should keep every feature's histogram:
// filling the smaller child's and subtracting is cheaper than filling the
// drawn features' histograms of both.
func (g *grower) keepFull(small, large int64) bool {
	p, m := int64(g.d.P), int64(g.o.MaxFeatures)
	return p*(small+histStride) < m*(small+large)
}

func (g *grower) isLeaf(it *item) bool {
	o := g.o
	if it.n < int64(o.MinSplit) || it.n < int64(2*o.MinLeaf) {
		return true
	}
	if o.MaxDepth > 0 && it.depth >= o.MaxDepth {
		return true
	}
	return it.c0 == 0 || it.c1 == 0 // pure
}

// b2i is 1 for true: compiled to a flag set, not a branch.
func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// fillAll fills every feature's histogram from rows[lo:hi] (which index
// g.local when local).
func (g *grower) fillAll(h []hbin, lo, hi int, local bool) {
	p, codes, mul := g.d.P, g.d.Codes, g.d.P
	if local {
		codes, mul = g.local, 1
	}
	for _, s := range g.rows[lo:hi] {
		row := codes[s.row()*mul : s.row()*mul+p]
		for j, c := range row {
			h[j*histStride+int(c)] += s.inc()
		}
	}
}

// fillOne fills feature j's histogram from rows[lo:hi] (which index
// g.local when local) into g.scratch and returns the lowest and highest
// occupied value bins (lo > hi if none).
func (g *grower) fillOne(j, lo, hi int, local bool) (int, int) {
	n, p := g.d.N, g.d.P
	h := g.scratch[:histStride]
	rows := g.rows[lo:hi]
	codes := g.d.Codes[j:]
	if local {
		codes, p = g.local[j:], 1
	}
	if len(rows) >= wideRows {
		if local {
			return g.fillOneWide(j, codes, 1, rows)
		}
		// Large node: its rows are dense in the column; stream it.
		return g.fillOneWide(j, g.d.ColCodes[j*n:(j+1)*n], 1, rows)
	}
	// Small node: its rows are sparse; read the row-major codes, whose cache
	// lines the node's other features then find loaded.
	if len(rows) >= 8*g.d.Cuts[j].Bins() {
		// Few bins for the rows (a categorical feature): runs of one bin
		// would serialise on its adds; four histograms pay their merge.
		return g.fillOneWide(j, codes, p, rows)
	}
	// Its occupied bins are few and scattered: noted in g.occ, so that the
	// scan visits only them (a test of each bin would be mispredicted).
	occ := &g.occ
	*occ = [4]uint64{}
	for _, s := range rows {
		c := codes[s.row()*p]
		h[c] += s.inc()
		occ[c>>6] |= 1 << (c & 63)
	}
	occ[3] &^= 1 << 63 // the missing bin
	g.sparse = true
	// The lowest and highest occupied value bins, from occ.
	mn, mx := histStride, -1
	for w := 3; w >= 0; w-- {
		if occ[w] != 0 {
			mn = w<<6 | mathbits.TrailingZeros64(occ[w])
			mx = max(mx, w<<6|(63-mathbits.LeadingZeros64(occ[w])))
		}
	}
	return mn, mx
}

// fillOneWide is fillOne for large nodes: rows go round-robin into four
// histograms, so that runs of equal bins do not serialise on one bin's
// adds, and the four are summed; the occupied range is found by scanning.
// The codes of row r are codes[r*stride].
func (g *grower) fillOneWide(j int, codes []uint8, stride int, rows []sample) (int, int) {
	h := (*[histStride]hbin)(g.scratch[:histStride])
	fillWide(h, g.scratch[histStride:], codes, stride, rows, g.d.Cuts[j].Bins())
	return g.occupied(j, h[:])
}

// split is a chosen split of a node.
type split struct {
	f        int
	bin      int // rows with value bin <= bin go left (as by threshold); before finish, the last occupied bin left
	next     int // before finish: the next occupied bin, -1 for every value left
	thr      float64
	missLeft bool
	left     counts  // the left child's counts
	score    float64 // sum over children of p^2/w (larger is better)
}

// bestSplit draws features until MaxFeatures non-constant ones have been
// tried (or none is left) and returns the best split found and the
// features known constant in the node. In a large node, features are drawn
// in batches of those still wanted (MaxFeatures less those tried, at most
// maxBatch), filled together (fillBatch) and tried
// in the order drawn: the draws, and so the trees, are those of drawing
// and trying one feature at a time.
func (g *grower) bestSplit(rng *rand.Rand, it *item) (split, known, bool) {
	t := trial{best: split{score: -1}, constant: it.constant}
	p, m := g.d.P, g.o.MaxFeatures
	// A batch reads a row's sample once per four features, not once per
	// feature, and four features' adds interleave.
	n := it.hi - it.lo
	batched := it.hist == nil && !g.noBatch && (n >= wideRows || it.local && n >= batchLocalRows)
	for k := 0; k < p && t.tried < m; {
		if batched {
			batch := g.batch[:0]
			for ; k < p && len(batch) < min(m-t.tried, maxBatch); k++ {
				r := k + rng.IntN(p-k)
				g.feats[k], g.feats[r] = g.feats[r], g.feats[k]
				if j := g.feats[k]; !t.constant.has(j) {
					batch = append(batch, j)
				}
			}
			g.fillBatch(batch, it.lo, it.hi, it.local)
			g.sparse = false
			for b, j := range batch {
				h := g.bh[b][:]
				mn, mx := g.occupied(j, h)
				g.try(&t, j, h, mn, mx, it)
				if mx >= mn {
					clear(h[mn : mx+1])
				}
				h[hist.MissingBin] = 0
			}
			continue
		}
		r := k + rng.IntN(p-k)
		g.feats[k], g.feats[r] = g.feats[r], g.feats[k]
		j := g.feats[k]
		k++
		if t.constant.has(j) {
			continue
		}
		var h []hbin
		var mn, mx int
		g.sparse = false
		if it.hist != nil {
			h = it.hist[j*histStride : (j+1)*histStride]
			mn, mx = g.occupied(j, h)
		} else {
			mn, mx = g.fillOne(j, it.lo, it.hi, it.local)
			h = g.scratch
		}
		g.try(&t, j, h, mn, mx, it)
		if it.hist == nil {
			if mx >= mn {
				clear(h[mn : mx+1])
			}
			h[hist.MissingBin] = 0
		}
	}
	if t.found {
		g.finish(&t.best)
	}
	return t.best, t.constant, t.found
}

// trial is the state of bestSplit's search: the best split so far, the
// features known constant, the number tried.
type trial struct {
	best     split
	found    bool
	tried    int
	constant known
}

// known is a set of features (those below 128) known constant in a node.
type known [2]uint64

func (k *known) has(j int) bool { return j < 128 && k[j>>6&1]&(1<<(j&63)) != 0 }

func (k *known) add(j int) {
	if j < 128 {
		k[j>>6&1] |= 1 << (j & 63)
	}
}

// try scans feature j's histogram h (occupied value bins mn..mx) for a
// better split than t's, or notes it constant in the node.
func (g *grower) try(t *trial, j int, h []hbin, mn, mx int, it *item) {
	if mx < mn || (mn == mx && h[hist.MissingBin] == 0) {
		t.constant.add(j)
		return // constant in this node
	}
	t.tried++
	if g.scanFeature(j, h, mn, mx, it, &t.best) {
		t.found = true
	}
}

// occupied returns the lowest and highest occupied value bins of feature
// j's histogram h (lo > hi if none).
func (g *grower) occupied(j int, h []hbin) (int, int) {
	mn, mx := histStride, -1
	for b := range g.d.Cuts[j].Bins() {
		if h[b] != 0 {
			mn = min(mn, b)
			mx = max(mx, b)
		}
	}
	return mn, mx
}

// fillBatch fills the histograms of features batch[b] into g.bh[b] from
// rows[lo:hi] (a large node, at least wideRows rows, or batchLocalRows
// when compacted): from the features' columns, or from g.local's
// row-major codes when the node is compacted. Features go four at a time
// (five for the last pass when one would be left; a remainder of two or
// three in one pass), each pass over the rows keeping its codes and
// histograms in registers: a row's sample is read once per pass, and the
// adds of different features interleave, so that runs of one bin in one
// feature do not serialise on its adds.
func (g *grower) fillBatch(batch []int, lo, hi int, local bool) {
	codes := g.d.ColCodes // when local, the Row kernels read g.localBuf
	rows := g.rows[lo:hi]
	b := 0
	// Fours, the last five when one would be left (sqrt(p) features: the
	// engine table's 9 are 4+5, not 4+4+1).
	last5 := len(batch) >= 5 && len(batch)%4 == 1
	for ; b+4 <= len(batch); b += 4 {
		if last5 && b+5 == len(batch) {
			h := (*[5][histStride]hbin)(g.bh[b : b+5])
			q := (*[5]int)(batch[b : b+5])
			if !local {
				fill5Col(h, codes, g.d.N, q, rows)
			} else {
				fill5Row(h, g.localBuf, q, rows)
			}
			return
		}
		h := (*[4][histStride]hbin)(g.bh[b : b+4])
		q := (*[4]int)(batch[b : b+4])
		if !local {
			fill4Col(h, codes, g.d.N, q, rows)
		} else {
			fill4Row(h, g.localBuf, q, rows)
		}
	}
	switch len(batch) - b {
	case 3:
		h := (*[3][histStride]hbin)(g.bh[b : b+3])
		q := (*[3]int)(batch[b : b+3])
		if !local {
			fill3Col(h, codes, g.d.N, q, rows)
		} else {
			fill3Row(h, g.localBuf, q, rows)
		}
	case 2:
		h := (*[2][histStride]hbin)(g.bh[b : b+2])
		q := (*[2]int)(batch[b : b+2])
		if !local {
			fill2Col(h, codes, g.d.N, q, rows)
		} else {
			fill2Row(h, g.localBuf, q, rows)
		}
	case 1:
		j := batch[b]
		if local {
			fillWide(&g.bh[b], g.scratch, g.local[j:], 1, rows, g.d.Cuts[j].Bins())
		} else {
			fillWide(&g.bh[b], g.scratch, g.d.Col(j), 1, rows, g.d.Cuts[j].Bins())
		}
	}
}

// fill4Col adds each row's increment to four histograms, feature f's code
// of row r being codes[f*n+r] (column-major): the four columns are sliced
// to the same length n, so that one bounds check covers the four reads
// and the loop's values fit in registers (about 22 instructions a row,
// none to the stack; indexing one slice at o_k+r*stride took about 45,
// a dozen of them spills).
func fill4Col(h *[4][histStride]hbin, codes []uint8, n int, f *[4]int, rows []sample) {
	c0, c1, c2, c3 := codes[f[0]*n:][:n:n], codes[f[1]*n:][:n:n], codes[f[2]*n:][:n:n], codes[f[3]*n:][:n:n]
	for _, s := range rows {
		inc, r := s.inc(), s.row()
		h[0][c0[r]] += inc
		h[1][c1[r]] += inc
		h[2][c2[r]] += inc
		h[3][c3[r]] += inc
	}
}

// fill4Row is fill4Col for a compacted node's row-major codes (feature f's
// code of the row at offset r at lp[f+r]). Each feature reads a window of
// compactBytes from lp[f], indexed by the offset masked to compactBytes
// (which no offset reaches: a compacted subtree's codes are at most
// compactBytes): no bounds checks, one mask for the four reads, and the
// loop's values fit in registers.
func fill4Row(h *[4][histStride]hbin, lp *[localCap]uint8, f *[4]int, rows []sample) {
	const mask = compactBytes - 1
	w0 := (*[compactBytes]uint8)(lp[f[0]:])
	w1 := (*[compactBytes]uint8)(lp[f[1]:])
	w2 := (*[compactBytes]uint8)(lp[f[2]:])
	w3 := (*[compactBytes]uint8)(lp[f[3]:])
	for _, s := range rows {
		inc, r := s.inc(), s.row()&mask
		h[0][w0[r]] += inc
		h[1][w1[r]] += inc
		h[2][w2[r]] += inc
		h[3][w3[r]] += inc
	}
}

// fill5Col is fill4Col for five histograms.
func fill5Col(h *[5][histStride]hbin, codes []uint8, n int, f *[5]int, rows []sample) {
	c0, c1, c2, c3, c4 := codes[f[0]*n:][:n:n], codes[f[1]*n:][:n:n], codes[f[2]*n:][:n:n], codes[f[3]*n:][:n:n], codes[f[4]*n:][:n:n]
	for _, s := range rows {
		inc, r := s.inc(), s.row()
		h[0][c0[r]] += inc
		h[1][c1[r]] += inc
		h[2][c2[r]] += inc
		h[3][c3[r]] += inc
		h[4][c4[r]] += inc
	}
}

// fill5Row is fill4Row for five histograms.
func fill5Row(h *[5][histStride]hbin, lp *[localCap]uint8, f *[5]int, rows []sample) {
	const mask = compactBytes - 1
	w0 := (*[compactBytes]uint8)(lp[f[0]:])
	w1 := (*[compactBytes]uint8)(lp[f[1]:])
	w2 := (*[compactBytes]uint8)(lp[f[2]:])
	w3 := (*[compactBytes]uint8)(lp[f[3]:])
	w4 := (*[compactBytes]uint8)(lp[f[4]:])
	for _, s := range rows {
		inc, r := s.inc(), s.row()&mask
		h[0][w0[r]] += inc
		h[1][w1[r]] += inc
		h[2][w2[r]] += inc
		h[3][w3[r]] += inc
		h[4][w4[r]] += inc
	}
}

// fill3Col is fill4Col for three histograms.
func fill3Col(h *[3][histStride]hbin, codes []uint8, n int, f *[3]int, rows []sample) {
	c0, c1, c2 := codes[f[0]*n:][:n:n], codes[f[1]*n:][:n:n], codes[f[2]*n:][:n:n]
	for _, s := range rows {
		inc, r := s.inc(), s.row()
		h[0][c0[r]] += inc
		h[1][c1[r]] += inc
		h[2][c2[r]] += inc
	}
}

// fill3Row is fill4Row for three histograms.
func fill3Row(h *[3][histStride]hbin, lp *[localCap]uint8, f *[3]int, rows []sample) {
	const mask = compactBytes - 1
	w0 := (*[compactBytes]uint8)(lp[f[0]:])
	w1 := (*[compactBytes]uint8)(lp[f[1]:])
	w2 := (*[compactBytes]uint8)(lp[f[2]:])
	for _, s := range rows {
		inc, r := s.inc(), s.row()&mask
		h[0][w0[r]] += inc
		h[1][w1[r]] += inc
		h[2][w2[r]] += inc
	}
}

// fill2Col is fill4Col for two histograms.
func fill2Col(h *[2][histStride]hbin, codes []uint8, n int, f *[2]int, rows []sample) {
	c0, c1 := codes[f[0]*n:][:n:n], codes[f[1]*n:][:n:n]
	for _, s := range rows {
		inc, r := s.inc(), s.row()
		h[0][c0[r]] += inc
		h[1][c1[r]] += inc
	}
}

// fill2Row is fill4Row for two histograms.
func fill2Row(h *[2][histStride]hbin, lp *[localCap]uint8, f *[2]int, rows []sample) {
	const mask = compactBytes - 1
	w0 := (*[compactBytes]uint8)(lp[f[0]:])
	w1 := (*[compactBytes]uint8)(lp[f[1]:])
	for _, s := range rows {
		inc, r := s.inc(), s.row()&mask
		h[0][w0[r]] += inc
		h[1][w1[r]] += inc
	}
}

// fillWide fills one feature's histogram h (codes of row r at
// codes[r*stride], nb value bins) round-robin into h and three histograms
// of scratch (zero, and zeroed again), summed into h: runs of equal bins
// do not serialise on one bin's adds.
func fillWide(h *[histStride]hbin, scratch []hbin, codes []uint8, stride int, rows []sample, nb int) {
	h1, h2, h3 := scratch[:histStride], scratch[histStride:2*histStride], scratch[2*histStride:3*histStride]
	for ; len(rows) >= 4; rows = rows[4:] {
		q := (*[4]sample)(rows) // one bounds check for the four
		h[codes[q[0].row()*stride]] += q[0].inc()
		h1[codes[q[1].row()*stride]] += q[1].inc()
		h2[codes[q[2].row()*stride]] += q[2].inc()
		h3[codes[q[3].row()*stride]] += q[3].inc()
	}
	for _, s := range rows {
		h[codes[s.row()*stride]] += s.inc()
	}
	for b := range nb {
		h[b] += h1[b] + h2[b] + h3[b]
		h1[b], h2[b], h3[b] = 0, 0, 0
	}
	m := hist.MissingBin
	h[m] += h1[m] + h2[m] + h3[m]
	h1[m], h2[m], h3[m] = 0, 0, 0
}

// maxBatch is the most features whose histograms fillBatch fills in one
// batch (their histograms, 2 KB each, stay in the first-level cache).
const maxBatch = 16

// scanFeature tries every threshold of feature j and updates best. The
// score of a candidate is computed in line (the hot loop of training);
// only a better candidate pays for its threshold (record).
func (g *grower) scanFeature(j int, h []hbin, mn, mx int, it *item, best *split) bool {
	minLeaf := int64(g.o.MinLeaf)
	miss := counts{}.plus(h[hist.MissingBin])
	if miss.n == 0 {
		if g.sparse {
			return g.scanSparse(j, h, it, best)
		}
		return g.scanNoMissing(j, h, mn, mx, it, best)
	}
	values := it.counts.minus(miss) // non-missing rows
	found := false
	var cum counts
	prev := -1
	// The occupied value bins, ascending: from g.occ when sparse.
	bins := g.bins[:0]
	if g.sparse {
		for w, bits := range g.occ {
			for ; bits != 0; bits &= bits - 1 {
				bins = append(bins, uint8(w<<6|mathbits.TrailingZeros64(bits)))
			}
		}
	} else {
		for b := mn; b <= mx; b++ {
			if h[b] != 0 {
				bins = append(bins, uint8(b))
			}
		}
	}
	for _, bb := range bins {
		b := int(bb)
		if it.n-cum.n < minLeaf {
			break // every later threshold leaves the right child too few rows
		}
		if prev >= 0 && cum.n >= minLeaf-miss.n {
			if miss.n == 0 {
				// No NaN here: NaN will follow the larger child.
				if r := it.counts.minus(cum); cum.n >= minLeaf && r.n >= minLeaf {
					if s := g.gain(cum, r); s > best.score {
						g.record(j, best, cum, prev, b, cum.n >= values.n-cum.n, s)
						found = true
					}
				}
			} else {
				if r := it.counts.minus(cum); cum.n >= minLeaf && r.n >= minLeaf {
					if s := g.gain(cum, r); s > best.score {
						g.record(j, best, cum, prev, b, false, s)
						found = true
					}
				}
				l := makeCounts(cum.c0+miss.c0, cum.c1+miss.c1)
				if r := it.counts.minus(l); l.n >= minLeaf && r.n >= minLeaf {
					if s := g.gain(l, r); s > best.score {
						g.record(j, best, l, prev, b, true, s)
						found = true
					}
				}
			}
		}
		cum = cum.plus(h[b])
		prev = b
	}
	if miss.n > 0 {
		if r := it.counts.minus(values); values.n >= minLeaf && r.n >= minLeaf {
			if s := g.gain(values, r); s > best.score {
				g.record(j, best, values, mx, -1, false, s) // every value left, NaN right
				found = true
			}
		}
	}
	return found
}

// scanNoMissing is scanFeature for a node where feature j has no missing
// value (the common case), the candidate's score in line on local copies
// of the counts and class weights: the same operations in the same order
// as gain, so the same scores and the same split. A candidate needs
// cum.n >= minLeaf; the right child's minLeaf is checked by the break.
func (g *grower) scanNoMissing(j int, h []hbin, mn, mx int, it *item, best *split) bool {
	minLeaf := int64(g.o.MinLeaf)
	cw0, cw1 := g.cw[0], g.cw[1]
	t0, t1, tn := it.c0, it.c1, it.n
	// The best candidate of this feature so far, recorded once at the end.
	bestScore := best.score
	found := false
	var b0, b1 int64
	bPrev, bNext := 0, 0
	var c0, c1 int64 // the rows of bins below b
	prev := -1
	h = h[:mx+1]
	for b := mn; b < len(h); b++ {
		hb := h[b]
		if hb == 0 {
			continue
		}
		n := c0 + c1
		if tn-n < minLeaf {
			break // every later threshold leaves the right child too few rows
		}
		if prev >= 0 && n >= minLeaf {
			lp := float64(c1) * cw1
			lw := float64(c0)*cw0 + lp
			rp := float64(t1-c1) * cw1
			rw := float64(t0-c0)*cw0 + rp
			if s := lp*lp/lw + rp*rp/rw; s > bestScore {
				bestScore, b0, b1, bPrev, bNext = s, c0, c1, prev, b
				found = true
			}
		}
		c0 += int64(hb & lowMask)
		c1 += int64(hb >> 32)
		prev = b
	}
	if found {
		// No NaN here: NaN will follow the larger child.
		l := makeCounts(b0, b1)
		g.record(j, best, l, bPrev, bNext, l.n >= tn-l.n, bestScore)
	}
	return found
}

// scanSparse is scanNoMissing visiting only the occupied bins of g.occ,
// in the same ascending order, with the same operations.
func (g *grower) scanSparse(j int, h []hbin, it *item, best *split) bool {
	minLeaf := int64(g.o.MinLeaf)
	cw0, cw1 := g.cw[0], g.cw[1]
	t0, t1, tn := it.c0, it.c1, it.n
	bestScore := best.score
	found := false
	var b0, b1 int64
	bPrev, bNext := 0, 0
	var c0, c1 int64 // the rows of bins below b
	prev := -1
	h = h[:histStride]
scan:
	for w, bits := range g.occ {
		for ; bits != 0; bits &= bits - 1 {
			b := w<<6 | mathbits.TrailingZeros64(bits)
			hb := h[b&(histStride-1)]
			n := c0 + c1
			if tn-n < minLeaf {
				break scan // every later threshold leaves the right child too few rows
			}
			if prev >= 0 && n >= minLeaf {
				lp := float64(c1) * cw1
				lw := float64(c0)*cw0 + lp
				rp := float64(t1-c1) * cw1
				rw := float64(t0-c0)*cw0 + rp
				if s := lp*lp/lw + rp*rp/rw; s > bestScore {
					bestScore, b0, b1, bPrev, bNext = s, c0, c1, prev, b
					found = true
				}
			}
			c0 += int64(hb & lowMask)
			c1 += int64(hb >> 32)
			prev = b
		}
	}
	if found {
		// No NaN here: NaN will follow the larger child.
		l := makeCounts(b0, b1)
		g.record(j, best, l, bPrev, bNext, l.n >= tn-l.n, bestScore)
	}
	return found
}

// gain is the score, sum over children of p^2/w, of the split sending l
// left and r right (larger is better).
func (g *grower) gain(l, r counts) float64 {
	lw, lp := g.weight(l)
	rw, rp := g.weight(r)
	return lp*lp/lw + rp*rp/rw
}

// record makes the split sending l left (bins up to bin; next is the next
// occupied bin, -1 for "every value left") with score s the best. The
// threshold is found once the best split is known (finish): within a scan
// the best improves often.
func (g *grower) record(j int, best *split, l counts, bin, next int, missLeft bool, s float64) {
	*best = split{f: j, bin: bin, next: next, missLeft: missLeft, left: l, score: s}
}

// finish sets the threshold and the bin threshold of the recorded split s.
func (g *grower) finish(s *split) {
	if s.next < 0 {
		s.thr, s.bin = math.Inf(1), hist.MissingBin-1 // every value left
		return
	}
	s.thr, s.bin = g.d.Cuts[s.f].Threshold(s.bin, s.next)
}

// codes returns the codes of feature f for a pass over m rows of node it:
// feature f of row r is codes[r*stride]. Sparse rows (fewer than wideRows)
// read row-major codes, whose lines are in cache; a compacted node reads
// g.local.
func (g *grower) codes(it *item, f, m int) ([]uint8, int) {
	n, p := g.d.N, g.d.P
	switch {
	case it.local:
		return g.local[f:], 1
	case m < wideRows:
		return g.d.Codes[f:], p
	}
	return g.d.ColCodes[f*n : (f+1)*n], 1
}

// partition reorders rows[lo:hi] stably so the left child's rows come first
// and returns their number.
func (g *grower) partition(it *item, s split) int {
	codes, stride := g.codes(it, s.f, it.hi-it.lo)
	rows := g.rows[it.lo:it.hi]
	tmp := g.tmp[:len(rows)]
	// Branch-free: every row is written to both sides and the side's cursor
	// advanced by whether it belongs there (the direction of a row is
	// unpredictable, a branch on it mispredicted half of the time). Rows
	// are written at k <= the index being read, so in place is safe.
	add, bin := leftRule(s)
	var k int
	if stride == 1 {
		k = partRows1(rows, tmp, codes, add, bin)
	} else {
		k = partRows(rows, tmp, codes, stride, add, bin)
	}
	copy(rows[k:], tmp[:len(rows)-k])
	return k
}

// partRows moves the rows going left (code c+add <= bin, the codes of row
// r at codes[r*stride]) to the front of rows, those going right to tmp in
// order, and returns the number going left.
func partRows(rows, tmp []sample, codes []uint8, stride int, add, bin uint8) int {
	k := 0
	for i, r := range rows {
		left := b2i(codes[r.row()*stride]+add <= bin)
		rows[k] = r
		tmp[i-k] = r // the right rows so far are i-k
		k += left
	}
	return k
}

// partRows1 is partRows for stride 1 (a column, or compacted codes): one
// value fewer held in the loop, and a right cursor j rather than i-k,
// whose computation overwrote i, which was then spilled (cachegrind, four
// engine-table trees: partition 207M -> 193M instructions).
func partRows1(rows, tmp []sample, codes []uint8, add, bin uint8) int {
	k, j := 0, 0
	for _, r := range rows {
		left := b2i(codes[r.row()]+add <= bin)
		rows[k] = r
		tmp[j] = r
		k += left
		j += 1 - left
	}
	return k
}

// leftRule returns the test of split s on a row's code c: the row goes
// left when c+add <= bin (in uint8 arithmetic). With NaN going left, add
// is 1, which takes the missing bin 255 to 0; else NaN's 255 exceeds every
// value bin.
func leftRule(s split) (add, bin uint8) {
	add = uint8(b2i(s.missLeft))
	return add, uint8(s.bin) + add
}

// partitionOOB reorders the node's out-of-bag rows oob[olo:ohi] so those
// going left (by partition's rule) come first and returns their number.
func (g *grower) partitionOOB(it *item, s split) int {
	if it.olo == it.ohi {
		return 0
	}
	// Out-of-bag rows are not compacted: a compacted node's read the
	// training matrix's row-major codes.
	codes, stride := g.d.Codes[s.f:], g.d.P
	if !it.local {
		codes, stride = g.codes(it, s.f, it.ohi-it.olo)
	}
	rows := g.oob[it.olo:it.ohi]
	tmp := g.otmp[:len(rows)]
	add, bin := leftRule(s)
	// The right rows so far are i-k: no cursor of their own to keep.
	k := 0
	for i, r := range rows {
		left := b2i(codes[int(r)*stride]+add <= bin)
		rows[k] = r
		tmp[i-k] = r
		k += left
	}
	copy(rows[k:], tmp[:len(rows)-k])
	return k
}
