// Package boost trains, applies and explains gradient-boosted trees for
// binary classification (classes 0 and 1) with the logistic loss, on the
// histograms of models/hist: the same binning as models/forest.
//
// Design notes:
//
//   - The model is raw(x) = Init + sum over trees of the leaf value reached;
//     P(class 1) = 1/(1+exp(-raw)). Init is the log-odds of the weighted
//     share of class 1 (scikit-learn's HistGradientBoostingClassifier
//     baseline).
//   - Each round computes, per row, the gradient g = w(p-y) and hessian
//     h = w p(1-p) of the weighted log loss at the current scores (p from
//     exp(-raw), carried across rounds: a row's leaf value v multiplies it
//     by exp(-v), one exp a leaf, not a row), and grows
//     one tree leaf-wise (best first) up to MaxLeaves leaves (and MaxDepth,
//     when set). A split maximises GL²/(HL+L2) + GR²/(HR+L2) - G²/(H+L2)
//     over every feature and threshold of the histograms; a leaf's value is
//     the Newton step -LearningRate*G/(H+L2). A child must hold MinLeaf rows
//     and a hessian sum of MinHessian. Missing values: each split learns
//     whether NaN goes left or right (whichever gains more); when the node
//     saw no NaN, NaN follows the child with more rows. "Every value left,
//     NaN right" is also considered.
//   - Histograms hold, per feature and bin, the sums of g and h and the row
//     count. Only the smaller child's histograms are built from its rows;
//     the larger child's are the parent's minus the smaller's (the
//     subtraction trick), in place; the children of a tree's last split
//     get none. A feature whose most frequent code holds most rows is
//     sparse: only its other rows are added and that code's bin is the
//     node's sums minus the other bins (LightGBM's most-frequent-bin rule).
//     The root (without held-out rows) streams columns: dense ones four at
//     once, sparse ones in groups, each group two lists of its entries in
//     row order read together (one pass over the gradients a group, two
//     sets of chains of additions to overlap); its counts are
//     computed once per fit. Other nodes gather their gradients in their
//     order first. A node of at least 1/16 of the rows streams its dense
//     features' columns four at once (its rows are most of each column's
//     cache lines); smaller nodes, and the sparse features of all, read
//     their rows one by one: the row's dense codes (a row-major copy) and
//     its sparse entries (compressed rows), so that consecutive updates
//     hit different features' bins.
//     Only a feature's own bins (Cuts.Bins() and the missing bin) are
//     cleared, subtracted and scanned. See histo.go.
//   - Work is spread over blocks of features cut by estimated work, one per
//     worker (a small node's histograms and split search), over items
//     taken one at a time (a large node's: each block's sparse features,
//     then four dense columns at a time; the root's: four dense columns or
//     a run of sparse ones),
//     and over rows (gradients, gathers, partitions, scores), each bin's and
//     each row's sums always in the same order, so the same data, options
//     and seed give the same model, byte for byte, whatever Workers is.
//     A fit's Workers-1 helper goroutines live as long as the fit and poll
//     for the next parallel step for 5 microseconds before they sleep (a
//     tree is hundreds of steps of tens of microseconds; a goroutine
//     started or woken for each came late). See team.go.
//   - Trees are stored flat (32-byte Nodes, children after their parent,
//     thresholds in raw units), like the forest's. Every node, internal or
//     not, holds the Newton value it would have as a leaf, so an
//     explanation is a Saabas path decomposition in log-odds, turned into
//     probabilities as described at Explain.
//   - With ValidationShare > 0, a seeded share of the rows is held out and
//     boosting stops once the held-out log loss has not improved for
//     Patience rounds; the model keeps the rounds up to the best one.
//
// The model file format is described in FORMAT.md.
package boost
