// Package audit keeps the append-only, keyed audit log of a runs directory
// (RUNS/audit.log and its head, RUNS/audit.head) and verifies it against
// the run directories.
//
// Each line is one JSON record. A record holds the SHA-256 of the previous
// line's bytes (prev), an HMAC-SHA-256 under the operator's audit key of
// its content with seq and prev (mac), and the SHA-256 of its encoding
// without the hash field (hash), so that altering, inserting or removing a
// record breaks the chain at that record, and a forged record or chain
// fails its MAC without the key. The head records the number of records
// and the last line's hash under the key, so that removing the last
// records is seen. Lines are appended with O_APPEND under an exclusive lock
// and fsynced, and the head rewritten atomically, before Append returns.
// docs/contracts.md lists what Verify catches and what it cannot.
package audit
