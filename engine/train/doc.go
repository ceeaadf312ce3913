// Package train turns a warehouse into a validated, saved model: it builds
// labelled feature snapshots, evaluates a random forest temporally against
// the official rule screen (and the simulator's ground truth when known),
// refits on the latest fully labelled snapshots, fits risk profiles and
// writes the model with its card to the registry.
//
// Temporal design (H = horizon months, S = snapshots, month-ends only):
//
//	T_end  = the last month-end covered by the data (or Options.AsOf)
//	T_test = T_end - H                    labels (T_test, T_end] are all in the data
//	evaluation training snapshots  D = T_test - H - i, i = 0..S-1,
//	                               so every training label (D, D+H] ends by T_test
//	final training snapshots       D = T_test - i, i = 0..S-1 (labels end by T_end)
//
// Households that are monitoring objects at D are not rows of snapshot D.
// The rule-screen baseline scores each test household by the number of
// rules it trips (ties broken by row order, households sorted by id).
//
// The snapshots are an API of their own for research notebooks:
// BuildSnapshot makes the labelled snapshot of one date (any model columns,
// plus rule flags, rule score, county, status and outcome), Stack puts
// snapshots one under the other with any subset of columns, and
// Options.Features trains and evaluates on a subset of the catalog.
//
// The package also cross-validates a forest on any numeric table
// (LoadTable, CrossValidate) for comparisons with other tools.
package train
