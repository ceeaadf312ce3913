// Package models holds povrisk's learning code, which knows nothing of
// households: matrices and labels in, models and metrics out.
//
// This root package defines Matrix, the column-major table every model
// reads, and Classifier, what every trained scorer offers. Sub-packages:
// hist (the binning shared by the tree learners), forest (histogram random
// forest), boost (gradient-boosted trees on the same bins), kmeans, eval
// (metrics and temporal evaluation helpers) and registry (model files and
// cards).
package models
