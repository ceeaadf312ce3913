// Package rundir owns the run directory (docs/run-directory.md): the types
// of what a night writes (Summary, Row, Change), the one writer of every
// file in it (ranked.parquet and .csv, contributions, features, changes,
// summary.json, checksums.sha256), the partial-then-rename protocol, and
// Read, which verifies a directory against its checksums before it hands
// anything back.
//
// summary.json is written only by Writer.Summary and read back only
// through the same Summary type, so that the night, the brief, explain and
// the audit agree on one contract.
package rundir
