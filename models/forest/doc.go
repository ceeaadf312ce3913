// Package forest trains, applies and explains a histogram random forest for
// binary classification (classes 0 and 1).
//
// Design notes:
//
//   - Each feature is quantised (by models/hist, the binning models/boost
//     shares) into at most 255 value bins whose edges are
//     quantiles of the training values; a feature with no more distinct values
//     than Options.Bins gets one bin per value, so its splits are exactly those
//     an exact tree (scikit-learn's DecisionTreeClassifier) would consider. Bin
//     code 255 is reserved for missing values (NaN), so a column has at most
//     256 bin codes and is stored in one byte per row.
//   - Splits minimise weighted Gini impurity. Missing values are never imputed:
//     each split learns whether NaN goes left or right (whichever gives the
//     lower impurity); when a node saw no NaN, NaN follows the larger child.
//     A split "all values left, missing right" is also considered, so a
//     feature whose missingness carries the signal is used.
//   - Histograms hold integer counts (bootstrap-weighted rows of each class,
//     distinct rows); class weights are applied when a split is scored. Sums
//     are therefore exact and independent of order.
//   - Histograms are built per node from the node's rows. When many features
//     are tried at each split (MaxFeatures near p), a node keeps histograms of
//     every feature and its larger child's are obtained by subtracting the
//     smaller child's from the parent's (the subtraction trick); with the
//     default sqrt(p) features, building only the drawn features' histograms
//     is cheaper and is what happens. Features that are constant in a node do
//     not count towards MaxFeatures (as in scikit-learn) and, once found
//     constant, are skipped in the node's descendants without a pass
//     (features 0 to 127). The binned data are kept twice, column-major
//     (streamed for nodes of 1,024 rows or more) and row-major (for smaller
//     nodes, whose rows are sparse: a row's codes share cache lines across
//     the node's features). A small node notes its occupied bins in a bitmap
//     while filling, and its split scan visits only those. Rows are
//     partitioned in place, branch-free; children that are both leaves by
//     their counts get no partition.
//   - When the codes outgrow a core's cache (more than twice the limit), a
//     subtree of at most half the core's second-level cache of in-bag codes
//     (1 MB at most, 512 KB when the cache size is unknown; limit / p rows)
//     is compacted when its root is reached: its in-bag rows' row-major
//     codes are copied to the worker's buffer and its nodes read them
//     there, not from the shared cache or memory (its out-of-bag rows,
//     partitioned only by the split features, read the training matrix's
//     row-major codes). Nodes of 1,024 rows or more (256 when compacted)
//     fill their drawn features in batches, four features a pass over the
//     rows, five for the last pass when one would be left (features drawn
//     in the same order as one at a time); the pass's loop keeps its values
//     in registers (one bounds check a row for the four columns, masked
//     offsets in the compacted buffer). Neither changes a tree: rows keep
//     their order and counts are integers.
//   - On Linux the training codes are backed by transparent huge pages
//     (madvise MADV_HUGEPAGE and MADV_COLLAPSE): compaction, out-of-bag
//     partitions and small nodes read rows spread over megabytes, which
//     with 4 KB pages miss the TLB at nearly every read.
//   - Out-of-bag rows are partitioned down each tree with its in-bag rows
//     (by the same bin rule) and credited at their leaf, in fixed point, so
//     OOB sums need no walk of the tree and do not depend on order.
//   - Options{} (spelt out by DefaultOptions) grows leaves of at least 20 rows
//     on bootstrap samples; with MinLeaf 1 and NoBootstrap a tree
//     is scikit-learn's (same splits and probabilities when binning is exact
//     and split gains do not tie; on a tie scikit-learn's pick depends on its
//     own feature permutation).
//   - Trees are stored flat (slices of 32-byte Nodes, children after parents)
//     with thresholds in raw units; prediction walks them without pointers or
//     allocation. Node.Value is the weighted share of class 1 at every node,
//     so predictions are scikit-learn's (mean over trees of the leaf class-1
//     frequency) and explanations are Saabas path decompositions.
//   - Every tree draws from its own PCG stream seeded by (Seed, tree index),
//     trees are built in parallel and stored in index order, so the same data
//     and seed give the same forest, byte for byte, whatever Workers is.
//   - Options.Weights are sample weights. With bootstrap each tree draws
//     its n rows with probability proportional to weight (an alias table,
//     as ranger's case weights), so histogram counts stay whole numbers;
//     without bootstrap a weight must be whole and counts the row that many
//     times. Equal weights train the unweighted forest, byte for byte.
//   - OOBScore is the ROC AUC (eval.ROCAUC) of the out-of-bag probabilities (not accuracy,
//     as in scikit-learn), over the rows left out by at least one tree.
//
// The model file format is described in FORMAT.md.
package forest
