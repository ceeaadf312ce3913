// Package warehouse keeps the versioned Parquet store of accepted drop rows
// and opens its current version for readers.
//
// Layout (docs/warehouse.md): W/CURRENT names the current version directory
// W/vNNNNNN, which holds one <table>.parquet per table and manifest.json (the
// cumulative state); W/drops/<drop-id>/ holds each drop's own manifest and
// reject files. Writers build a whole version under W/.tmp-* and publish it
// with Begin/Commit: the version directory is renamed into place first, then
// CURRENT is replaced by rename, so a crash at any point leaves the previous
// version current and readable. After a commit the previous version is kept
// (for comparison and rollback by editing CURRENT) and older ones are pruned.
// One writer at a time holds W/LOCK (engine/lock); the manifest records a
// fingerprint of the pseudonymisation key (KeyFingerprint, CheckKey).
package warehouse
