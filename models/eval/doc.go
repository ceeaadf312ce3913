// Package eval measures how well scores rank and predict binary outcomes:
// ROC AUC, PR AUC (average precision), Brier score, precision and recall at
// a share of the ranked list (overall and per group), per-group selection
// (TopKByGroup) and error rates of a selection (GroupRates, for fairness
// checks) and calibration tables.
//
// Conventions shared by every function:
//   - y holds 0 or 1 (any non-zero value counts as 1); score and p have the
//     same length as y (a length mismatch is a programmer error and panics).
//   - Ties in ROCAUC count one half (average ranks, the Mann-Whitney U
//     statistic); PRAUC treats tied scores as one threshold, as
//     sklearn.metrics.average_precision_score does.
//   - Top-k metrics take k = ceil(share*n) rows (at least 1 when n > 0), ranked
//     by score descending; ties are broken by index ascending, so results
//     are deterministic.
//   - A metric that is undefined (no positives, no negatives, empty input)
//     returns NaN.
package eval
