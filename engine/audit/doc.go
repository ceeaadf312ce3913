// Package audit keeps the append-only, hash-chained audit log of a runs
// directory (RUNS/audit.log) and verifies it against the run directories.
//
// Each line is one JSON record. A record holds the SHA-256 of the previous
// line's bytes (prev) and the SHA-256 of its own canonical encoding without
// the hash field (hash), so that altering, inserting or removing a record
// breaks the chain at that record. Lines are appended with O_APPEND under an
// exclusive lock and fsynced before Append returns.
package audit
