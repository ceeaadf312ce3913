package boost

import (
	"github.com/povrisk/povrisk/models/hist"
)

// Histogram building. The features are cut into blocks of consecutive
// features, each block's histograms built and scanned by one goroutine. A
// feature whose most frequent code (its mode, over the training rows)
// holds at least 1-sparseMax of the rows is sparse: only its rows outside
// the mode are added, and the mode's bin gets the node's sums minus the
// other bins (LightGBM's most-frequent-bin rule). Other features are dense,
// every row added. Within a block, a small node's rows are read one by
// one: the row's dense codes (row-major, the block's own copy) and its
// sparse entries (compressed rows, LightGBM's multi-value sparse bins), so
// that consecutive updates hit different features' bins and do not wait on
// each other; a large node's dense features are read from the columns,
// four at once (nodeHists). Every bin's sum runs over the node's rows in
// their order, so the result does not depend on the blocks, the items or
// the workers.

// hists is a leaf's histograms, one array of bins per feature, indexed by
// bin code (so a code indexes without a bounds check).
type hists [][histPad]bin

// histPad is a feature's histogram length: one bin more than the codes,
// so that the bins of one code in consecutive features do not fall in the
// same cache sets (a stride of 256 bins of 24 bytes maps them to 2 sets).
const histPad = histStride + 1

// sparseMax is the largest share of the training rows outside a feature's
// mode for which the feature is sparse in the root's columns.
const sparseMax = 0.5

// rowSparseMax is the same for the rows of the other nodes, read row by
// row: a row's sparse entries are a loop of unpredictable length, which
// pays only when they are few.
const rowSparseMax = 0.25

// fblock is a block of features lo..hi-1 and its copy of their codes.
type fblock struct {
	lo, hi int
	dense  []int32 // dense features
	sparse []int32 // sparse features
	// Row i's record is rec[off[i]:off[i+1]]: its codes of the dense
	// features in order, then pairs k, c: feature sparse[k] has code c (not
	// its mode). One record, not three arrays: a node's rows are scattered,
	// and each array would cost a cache miss a row.
	rec    []uint8
	off    []uint32
	dp, sp []*[histPad]bin
}

// rootGroup is a group of features whose root histograms (without
// held-out rows) one goroutine builds: dense columns, streamed four at
// once, or a run of sparse columns as one list of their entries outside
// the modes in row order, so that the gradients are read in one pass a
// group, in order, rather than one pass a column, out of order; a list,
// not compressed rows, so that the loop has no inner loop of
// unpredictable length. The run's columns are in two halves of about the
// same entries, each with its list, and the lists are read together (one
// entry of each in turn): each bin's sum is a chain of additions, and two
// lists give the processor two sets of chains to overlap. The rows of
// span s are s<<16 + rootEntry.r, list q's entries
// ent[q][span[q][s]:span[q][s+1]] (4 bytes an entry instead of 8: the
// lists are streamed from memory every round).
type rootGroup struct {
	js     []int
	sparse bool
	ent    [2][]rootEntry
	span   [2][]int
}

// rootEntry is one entry of a sparse root group: feature js[k] of row
// r (within its span of 65536 rows) has code c.
type rootEntry struct {
	r    uint16
	k, c uint8
}

// layout counts the training rows per feature and code, finds the modes,
// cuts the features into blocks (more than one only for nw > 1) and copies
// their codes.
func (g *grower) layout(nw int) {
	d := g.d
	g.identity = len(g.train) == d.N
	cnt := make([][histStride]int32, d.P)
	g.mode = make([]int, d.P)
	g.dens = make([]float64, d.P)
	g.team.run(d.P, nw, func(j int) {
		col := d.Col(j)
		if g.identity {
			for _, c := range col {
				cnt[j][c]++
			}
		} else {
			for _, r := range g.train {
				cnt[j][col[r]]++
			}
		}
		m := 0
		for c := range cnt[j] {
			if cnt[j][c] > cnt[j][m] {
				m = c
			}
		}
		g.mode[j] = m
		g.dens[j] = float64(len(g.train)-int(cnt[j][m])) / float64(len(g.train))
	})
	g.blocks = g.cut(nw)
	nb := len(g.blocks)
	g.team.run(nb, nw, func(b int) { g.blocks[b].fill(g) })
	g.items = g.nodeItems()
	if g.identity {
		g.rootGroups = g.groupRoot()
		g.rootN = cnt
		g.team.run(len(g.rootGroups), nw, func(k int) { g.rootGroups[k].fill(g) })
	}
}

// fill lists the entries of a group of sparse columns in row order, in
// two halves (and leaves a dense group as it is).
func (rg *rootGroup) fill(g *grower) {
	if g.dens[rg.js[0]] > sparseMax {
		return
	}
	rg.sparse = true
	var total float64
	for _, j := range rg.js {
		total += g.dens[j]
	}
	half, cum := len(rg.js), 0.0
	for k, j := range rg.js {
		if cum += g.dens[j]; 2*cum >= total {
			half = k + 1
			break
		}
	}
	for q, ks := range [2][2]int{{0, half}, {half, len(rg.js)}} {
		rg.ent[q], rg.span[q] = g.listEntries(rg.js, ks[0], ks[1])
	}
}

// listEntries lists the entries of features js[lo:hi] outside their modes
// in row order (each row's in the order of js), and the first entry of
// each span of 65536 rows.
func (g *grower) listEntries(js []int, lo, hi int) ([]rootEntry, []int) {
	d := g.d
	start := make([]int, d.N+1)
	for _, j := range js[lo:hi] {
		m := uint8(g.mode[j])
		for i, c := range d.Col(j) {
			if c != m {
				start[i+1]++
			}
		}
	}
	for i := range d.N {
		start[i+1] += start[i]
	}
	ns := (d.N + 1<<16 - 1) >> 16
	span := make([]int, ns+1)
	for s := range ns + 1 {
		span[s] = start[min(s<<16, d.N)]
	}
	ent := make([]rootEntry, start[d.N])
	for k := lo; k < hi; k++ {
		j := js[k]
		m := uint8(g.mode[j])
		for i, c := range d.Col(j) {
			if c != m {
				ent[start[i]] = rootEntry{uint16(i), uint8(k), c}
				start[i]++
			}
		}
	}
	return ent, span
}

// cut cuts the features into blocks of about equal work (a dense
// feature's rows count 1, a sparse one's by its share outside the mode),
// one per worker.
func (g *grower) cut(nw int) []fblock {
	p := g.d.P
	cost := make([]float64, p)
	var total float64
	for j := range p {
		cost[j] = 1
		if g.dens[j] <= rowSparseMax {
			cost[j] = 0.1 + 2*g.dens[j]
		}
		total += cost[j]
	}
	nb := max(1, min(nw, p))
	// At most 255 features a block (a record's k is a byte), and few
	// enough that a block's records (at most 2 bytes a row and feature)
	// stay below 2^32 bytes (off is uint32); rows are int32, so one
	// feature always fits.
	maxFeat := min(255, int((1<<32-1)/(2*uint64(max(g.d.N, 1)))))
	var blocks []fblock
	lo := 0
	var cum float64
	for j := range p {
		cum += cost[j]
		if j+1 == p || j+1-lo == maxFeat || cum >= float64(len(blocks)+1)*total/float64(nb) {
			blocks = append(blocks, fblock{lo: lo, hi: j + 1})
			lo = j + 1
		}
	}
	return blocks
}

// fill copies the block's codes: dense features row-major, sparse features
// as compressed rows.
func (b *fblock) fill(g *grower) {
	d := g.d
	for j := b.lo; j < b.hi; j++ {
		if g.dens[j] > rowSparseMax {
			b.dense = append(b.dense, int32(j))
		} else {
			b.sparse = append(b.sparse, int32(j))
		}
	}
	nd := len(b.dense)
	b.off = make([]uint32, d.N+1)
	for i := range d.N {
		b.off[i+1] = uint32(nd)
	}
	for _, j := range b.sparse {
		m := uint8(g.mode[j])
		for i, c := range d.Col(int(j)) {
			if c != m {
				b.off[i+1] += 2
			}
		}
	}
	for i := range d.N {
		b.off[i+1] += b.off[i]
	}
	b.rec = make([]uint8, b.off[d.N])
	for k, j := range b.dense {
		for i, c := range d.Col(int(j)) {
			b.rec[int(b.off[i])+k] = c
		}
	}
	next := make([]uint32, d.N)
	for i := range next {
		next[i] = b.off[i] + uint32(nd)
	}
	for k, j := range b.sparse {
		m := uint8(g.mode[j])
		for i, c := range d.Col(int(j)) {
			if c != m {
				b.rec[next[i]], b.rec[next[i]+1] = uint8(k), c
				next[i] += 2
			}
		}
	}
	b.dp = make([]*[histPad]bin, nd)
	b.sp = make([]*[histPad]bin, len(b.sparse))
}

// gather copies the gradients of rows into g.ord, in order: the blocks
// then read them in sequence. Large nodes are gathered by the team in
// chunks.
func (g *grower) gather(rows []int32) []gh {
	o := g.ord[:len(rows)]
	const chunk = 2048
	nw := g.nw
	if len(rows) < 2*chunk {
		nw = 1
	}
	g.team.run((len(rows)+chunk-1)/chunk, nw, func(b int) {
		lo := b * chunk
		for k, r := range rows[lo:min(lo+chunk, len(rows))] {
			o[lo+k] = g.grad[r]
		}
	})
	return o
}

// nodeItem is a unit of a large node's histogram work: up to four dense
// features (js), built column by column, or block block's sparse
// features, built from its records.
type nodeItem struct {
	js    []int32
	block int
}

// nodeItems lists the work of large nodes: each block's sparse features
// (first: the largest items), then the dense features four at a time.
// Taken one at a time by the team, they balance the workers better than
// the blocks, cut by estimated work.
func (g *grower) nodeItems() []nodeItem {
	var items []nodeItem
	var dense []int32
	for k := range g.blocks {
		if len(g.blocks[k].sparse) > 0 {
			items = append(items, nodeItem{block: k})
		}
		dense = append(dense, g.blocks[k].dense...)
	}
	for len(dense) > 0 {
		n := min(4, len(dense))
		items = append(items, nodeItem{js: dense[:n:n], block: -1})
		dense = dense[n:]
	}
	return items
}

// nodeHists builds the histograms h of a node's rows (gradients ord in
// the same order, sums sum) on the team, and calls done(j) for every
// feature j once its histogram is complete (on the goroutine that built
// it). A node of at least N/colsFrom rows has its dense features built
// column by column, four columns at once (its rows are then most of every
// column's cache lines, so the columns stream), and its sparse features
// from the blocks' records; smaller nodes row by row, block by block.
func (g *grower) nodeHists(h hists, rows []int32, ord []gh, sum bin, done func(j int)) {
	nw := g.nw
	if (len(rows)+histStride)*g.d.P < parallelFill {
		nw = 1
	}
	ord = ord[:len(rows)]
	if len(rows) < g.d.N/colsFrom {
		g.team.run(len(g.blocks), min(nw, len(g.blocks)), func(k int) {
			b := &g.blocks[k]
			g.fillBlock(h, b, rows, ord, sum)
			for j := b.lo; j < b.hi; j++ {
				done(j)
			}
		})
		return
	}
	g.team.run(len(g.items), nw, func(k int) {
		it := &g.items[k]
		if it.block < 0 && len(it.js) <= 2 {
			// Two columns (or one and a scratch): four would add
			// two columns' updates to scratch for nothing.
			var scratch [histPad]bin
			j0, j1 := int(it.js[0]), int(it.js[len(it.js)-1])
			g.clearHist(&h[j0], j0)
			h1 := &scratch
			if len(it.js) == 2 {
				g.clearHist(&h[j1], j1)
				h1 = &h[j1]
			}
			fillCols2(&h[j0], h1, g.d.Col(j0), g.d.Col(j1), rows, ord)
			for _, j := range it.js {
				done(int(j))
			}
			return
		}
		if it.block < 0 {
			var h4 [4]*[histPad]bin
			var c4 [4][]uint8
			var scratch [histPad]bin
			for q := range 4 {
				if q < len(it.js) {
					j := int(it.js[q])
					g.clearHist(&h[j], j)
					h4[q], c4[q] = &h[j], g.d.Col(j)
				} else {
					h4[q], c4[q] = &scratch, c4[0]
				}
			}
			fillCols4(h4, c4, rows, ord)
			for _, j := range it.js {
				done(int(j))
			}
			return
		}
		b := &g.blocks[it.block]
		g.fillSparse(h, b, rows, ord, sum)
		for _, j := range b.sparse {
			done(int(j))
		}
	})
}

// fillBlock builds the histograms of block b's features over the rows
// rows, whose gradients ord holds in the same order and whose sums are
// sum, into h, row by row.
func (g *grower) fillBlock(h hists, b *fblock, rows []int32, ord []gh, sum bin) {
	for j := b.lo; j < b.hi; j++ {
		g.clearHist(&h[j], j)
	}
	for i, j := range b.dense {
		b.dp[i] = &h[j]
	}
	for i, j := range b.sparse {
		b.sp[i] = &h[j]
	}
	nd := len(b.dense)
	dp, sp, rec, off := b.dp[:nd], b.sp, b.rec, b.off
	ord = ord[:len(rows)]
	// Two rows at a time, feature by feature: the two records' cache
	// misses overlap, and each bin still gets the first row's update
	// before the second's.
	i := 0
	for ; i+1 < len(rows); i += 2 {
		r0, r1 := rows[i], rows[i+1]
		g0, g1 := ord[i], ord[i+1]
		x0, x1 := rec[off[r0]:off[r0+1]], rec[off[r1]:off[r1+1]]
		d1 := x1[:nd]
		for k, c := range x0[:nd] {
			e := &dp[k][c]
			e.g += g0.g
			e.h += g0.h
			e.n++
			e = &dp[k][d1[k]]
			e.g += g1.g
			e.h += g1.h
			e.n++
		}
		for q := nd; q+1 < len(x0); q += 2 {
			e := &sp[x0[q]][x0[q+1]]
			e.g += g0.g
			e.h += g0.h
			e.n++
		}
		for q := nd; q+1 < len(x1); q += 2 {
			e := &sp[x1[q]][x1[q+1]]
			e.g += g1.g
			e.h += g1.h
			e.n++
		}
	}
	for ; i < len(rows); i++ {
		r, gr := rows[i], ord[i]
		x := rec[off[r]:off[r+1]]
		for k, c := range x[:nd] {
			e := &dp[k][c]
			e.g += gr.g
			e.h += gr.h
			e.n++
		}
		for q := nd; q+1 < len(x); q += 2 {
			e := &sp[x[q]][x[q+1]]
			e.g += gr.g
			e.h += gr.h
			e.n++
		}
	}
	for _, j := range b.sparse {
		g.setMode(&h[j], int(j), sum)
	}
}

// fillSparse builds the histograms of block b's sparse features over rows
// from the sparse entries of their records.
func (g *grower) fillSparse(h hists, b *fblock, rows []int32, ord []gh, sum bin) {
	for i, j := range b.sparse {
		g.clearHist(&h[j], int(j))
		b.sp[i] = &h[j]
	}
	nd := uint32(len(b.dense))
	sp, rec, off := b.sp, b.rec, b.off
	ord = ord[:len(rows)]
	for i, r := range rows {
		gr := ord[i]
		x := rec[off[r]+nd : off[r+1]]
		for q := 0; q+1 < len(x); q += 2 {
			e := &sp[x[q]][x[q+1]]
			e.g += gr.g
			e.h += gr.h
			e.n++
		}
	}
	for _, j := range b.sparse {
		g.setMode(&h[j], int(j), sum)
	}
}

// codeBins is h's bins of codes 0..255, as a slice of known length: a
// code indexes it with neither a bounds check nor (as through the array
// pointer) a nil check per update.
func codeBins(h *[histPad]bin) []bin { return h[:histStride:histStride] }

// colsFrom: a node of at least N/colsFrom rows has its dense features'
// histograms built column by column (fillCols4), smaller nodes' row by
// row.
const colsFrom = 16

// fillCols4 adds rows (gradients ord) to four features' histograms h,
// their codes c, streaming the four columns together.
func fillCols4(h [4]*[histPad]bin, c [4][]uint8, rows []int32, ord []gh) {
	h0, h1, h2, h3 := codeBins(h[0]), codeBins(h[1]), codeBins(h[2]), codeBins(h[3])
	c0, c1, c2, c3 := c[0], c[1], c[2], c[3]
	n := len(c0)
	c1, c2, c3 = c1[:n], c2[:n], c3[:n]
	ord = ord[:len(rows)]
	for i, r := range rows {
		gr := ord[i]
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

// fillCols2 is fillCols4 for two features.
func fillCols2(ha, hb *[histPad]bin, ca, cb []uint8, rows []int32, ord []gh) {
	h0, h1 := codeBins(ha), codeBins(hb)
	cb = cb[:len(ca)]
	ord = ord[:len(rows)]
	for i, r := range rows {
		gr := ord[i]
		e := &h0[ca[r]]
		e.g += gr.g
		e.h += gr.h
		e.n++
		e = &h1[cb[r]]
		e.g += gr.g
		e.h += gr.h
		e.n++
	}
}

// parallelFill is the least work (rows x features) whose histograms the
// team builds block by block; below, one goroutine builds them all.
const parallelFill = 1 << 12

// A feature's codes are 0..Bins()-1 and hist.MissingBin: only these bins
// of its histogram are cleared, filled and read (the others may hold
// anything).

// clearHist clears feature j's bins.
func (g *grower) clearHist(h *[histPad]bin, j int) {
	clear(h[:g.d.Cuts[j].Bins()])
	h[hist.MissingBin] = bin{}
}

// setMode gives sparse feature j's mode bin the node's sums minus its
// other bins.
func (g *grower) setMode(h *[histPad]bin, j int, sum bin) {
	rest := h[hist.MissingBin]
	for _, e := range h[:g.d.Cuts[j].Bins()] {
		rest = rest.plus(e)
	}
	h[g.mode[j]] = sum.minus(rest)
}

// groupRoot cuts the features into the groups whose root histograms
// (without held-out rows) one goroutine builds and scans: four dense
// columns (streamed together by fillDense4), the dense remainder, and
// runs of sparse columns of about the same work. The team takes the
// groups one at a time, largest first, which balances the workers better
// than one block each.
func (g *grower) groupRoot() []rootGroup {
	var groups, sparse [][]int
	var dense, run []int
	var cost float64
	for j := range g.d.P {
		if g.dens[j] > sparseMax {
			if dense = append(dense, j); len(dense) == 4 {
				groups = append(groups, dense)
				dense = nil
			}
			continue
		}
		// A sparse column's row costs about two dense rows (its
		// gradients are read out of order).
		run = append(run, j)
		if cost += 2 * g.dens[j]; cost >= 4 || len(run) == 255 {
			sparse = append(sparse, run)
			run, cost = nil, 0
		}
	}
	if dense != nil {
		groups = append(groups, dense)
	}
	if run != nil {
		sparse = append(sparse, run)
	}
	out := make([]rootGroup, 0, len(groups)+len(sparse))
	for _, js := range append(groups, sparse...) {
		out = append(out, rootGroup{js: js})
	}
	return out
}

// fillRoot builds the histograms of root group k's features over every
// row (0..N-1, the root without held-out rows, whose sums are sum) into h:
// dense columns streamed four at once so that four features' updates
// interleave, or a run of sparse columns row by row through its
// compressed rows. Counts are the root's, computed once (g.rootN).
func (g *grower) fillRoot(h hists, k int, sum bin) {
	rg := &g.rootGroups[k]
	js := rg.js
	for _, j := range js {
		g.clearHist(&h[j], j)
	}
	if !rg.sparse {
		var dense [4]int
		for len(js) >= 4 {
			copy(dense[:], js[:4])
			g.fillDense4(h, dense, nil)
			js = js[4:]
		}
		if len(js) > 0 {
			// The last dense columns, with columns added to a scratch
			// histogram: four updates still interleave.
			var scratch [1]([histPad]bin)
			for k := range dense {
				dense[k] = -1
			}
			copy(dense[:], js)
			g.fillDense4(h, dense, &scratch[0])
		}
		js = rg.js
	} else {
		var hp [255]*[histPad]bin // a run has at most 255 columns (k is a byte)
		for k, j := range js {
			hp[k] = &h[j]
		}
		s0, s1 := rg.span[0], rg.span[1][:len(rg.span[0])]
		for sp := range len(s0) - 1 {
			grad := g.grad[sp<<16 : min((sp+1)<<16, len(g.grad))]
			a, b := rg.ent[0][s0[sp]:s0[sp+1]], rg.ent[1][s1[sp]:s1[sp+1]]
			n := min(len(a), len(b))
			a0, b0 := a[:n], b[:n]
			for i, x := range a0 {
				y := b0[i]
				e := &hp[x.k][x.c]
				gr := grad[x.r]
				e.g += gr.g
				e.h += gr.h
				e = &hp[y.k][y.c]
				gr = grad[y.r]
				e.g += gr.g
				e.h += gr.h
			}
			for _, l := range [2][]rootEntry{a[n:], b[n:]} {
				for _, x := range l {
					e := &hp[x.k][x.c]
					gr := grad[x.r]
					e.g += gr.g
					e.h += gr.h
				}
			}
		}
	}
	for _, j := range js {
		hj, nj := &h[j], &g.rootN[j]
		for b := range g.d.Cuts[j].Bins() {
			hj[b].n = int64(nj[b])
		}
		hj[hist.MissingBin].n = int64(nj[hist.MissingBin])
		if m := g.mode[j]; g.dens[j] <= sparseMax {
			hj[m].n = 0
			g.setMode(hj, j, sum)
		}
	}
}

// fillDense4 adds every row to the (cleared) histograms of the four
// features js, streaming their columns together; js[k] = -1 (after the
// first) adds js[0]'s column to scratch instead.
func (g *grower) fillDense4(h hists, js [4]int, scratch *[histPad]bin) {
	var hs [4]*[histPad]bin
	var cs [4][]uint8
	for k, j := range js {
		if j < 0 {
			hs[k], cs[k] = scratch, g.d.Col(js[0])
		} else {
			hs[k], cs[k] = &h[j], g.d.Col(j)
		}
	}
	h0, h1, h2, h3 := codeBins(hs[0]), codeBins(hs[1]), codeBins(hs[2]), codeBins(hs[3])
	c0, c1, c2, c3 := cs[0], cs[1], cs[2], cs[3]
	c1, c2, c3 = c1[:len(c0)], c2[:len(c0)], c3[:len(c0)]
	grad := g.grad[:len(c0)]
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
