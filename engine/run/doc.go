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
// Tiers. A household is "high" when its score is at least TierHigh (0.5) or
// its rank within its county is within the county's top TierHighShare (1%,
// rounded up, at least 1); "medium" when its score is at least TierMedium
// (0.2) or it is within the county's top TierMediumShare (5%); "low"
// otherwise. The county top k is ceil(share × eligible households of the
// county), at least 1, with share TopShare (default 0.05) unless the county
// has its own share or k (TopK).
//
// Everything written to the run directory is a function of the inputs, the
// model and the policy: no clock, no map order, fixed Parquet writer
// properties and fixed XLSX document properties, so that a rerun of the
// same night gives byte-identical files.
package run
