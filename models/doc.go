// Package models holds povrisk's learning code, which knows nothing of
// households: matrices and labels in, models and metrics out.
//
// This root package defines Matrix, the column-major table every model
// reads. Sub-packages: forest (histogram random forest), kmeans, eval
// (metrics and temporal evaluation helpers) and registry (model files and
// cards).
package models
