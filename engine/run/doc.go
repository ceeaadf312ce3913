// Package run runs the night: it is the only place that knows its order.
//
// Run ingests a drop (optionally), derives the feature table for the as-of
// date with the official rule screen, checks that the model fits the
// feature catalog, scores and explains every eligible household, names its
// risk profile, ranks, and writes one run directory (docs/run-directory.md)
// under RUNS/.<as_of>.partial, renamed to RUNS/<as_of> once every file and
// checksums.sha256 are written and synced; it then appends the audit record
// (package audit).
//
// Tiers. A household is "high" when its score is at least TierHigh (0.2: a
// one-in-five chance of being identified within the horizon, about eight
// times the usual rate), "medium" when it is at least TierMedium (0.1), and
// "low" otherwise. Tiers depend on the score alone, never on a county quota
// (the policy forbids quotas), so that rates of high-risk households can be
// compared between counties. The visit list is the county top k, apart
// from the tiers. The county top k is ceil(share × eligible households of the
// county), at least 1, with share TopShare (default 0.05) unless the county
// has its own share or k (TopK).
//
// Everything written to the run directory is a function of the inputs, the
// model and the policy: no clock, no map order, fixed Parquet writer
// properties and fixed XLSX document properties, so that a rerun of the
// same night gives byte-identical files.
package run
