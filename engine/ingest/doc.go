// Package ingest checks a drop against the data standard and merges its
// accepted rows into a new version of the warehouse.
//
// Status: usable — CSV, CSV.gz and Parquet drops (UTF-8, UTF-8 with BOM,
// GB18030) ingest into the warehouse (engine/warehouse.Open, TablePath),
// with row checks, reject files and manifests.
//
// A drop is read households first (every table references its keys), then
// persons together with the tables that reference households only, then
// the tables referencing persons once persons is done; up to
// Options.Workers tables at once (default GOMAXPROCS+1), the largest files
// first. A hand-written RFC 4180 splitter (csvrow.go, checked against
// encoding/csv; commas and quotes found eight bytes at a time) splits a
// line without quotes in place, in the read buffer, and feeds typed
// decoders (fields.go) whose values are appended straight into reused
// Arrow buffers (batch.go); batches of 64k rows are encoded to Parquet
// (snappy; dates and months without a dictionary, pseudonyms without
// statistics) by a writer goroutine while the next batch is checked. Keys are interned in
// pointer-free hash tables (strtable.go), which the garbage collector does
// not scan. Parquet drop files are read row group by row group as text
// fields (dates, timestamps in their zone, decimals converted exactly) and
// go through the same checks; panics of the Parquet reader are recovered
// into file errors.
//
// Speed (the 1M-household scale drop, 24 months, 53.2M CSV rows, on this
// 2-core machine when quiet): 0.72-0.82 CPU-seconds per million rows and
// 2.3-2.6M rows/s (the build before batch.go, the word-wise splitter and
// the date encoding, run interleaved with it: 0.88-0.91, 2.0-2.2M rows/s).
//
// Every row is checked: types, code lists, int ranges, region code
// lengths, required fields, identifiers (at most MaxKeyLen bytes, printable,
// no formula characters), dates between 1900 and the export date, amounts
// between 0 and MaxMoney, ID numbers (GB 11643 checksum; 15-digit legacy
// numbers converted), duplicate keys within the drop, and references
// against the merged state (previous version plus this drop). A bad row is
// written to drops/<id>/rejects/<table>.csv (file, line, column, reason,
// original text; the physical line of the record, the header being line 1)
// and counted, so that read = accepted + rejected for every table. No
// digit of an ID number reaches a reject file: id_number shows its
// pseudonym (id:<id_number_hash>) or [ID number] without a key, every run
// of 14 or more digits is replaced the same way or by [number], phones by
// [phone], names and other personal columns by ***; a malformed row of a
// file with personal data has its text withheld (check.go, idnumber.go).
// Extra columns are checked on their values: the ID numbers found in them
// are reported per column (TableReport.Personal), never their values.
// A problem with a whole file (unreadable, empty, a required column
// missing, a malformed header, a damaged gzip or Parquet file: bad input,
// never a panic), in any table, fails the ingest; so does a table
// rejecting more than Options.MaxRejectShare of its rows (default 5%) or a
// required table with no row accepted (Report.Check names the table, the
// share and the most common reason). An ingest commits all or nothing: on
// any failure the previous version stays current and the drop is not
// marked merged, so a rerun does the whole work. Errors carry their
// engine/fault kind: a bad drop is fault.BadInput, a failure to write the
// warehouse (full disk, I/O error, permission) fault.Write, a warehouse
// locked by another ingest fault.Busy (Options.Wait waits for it). Extra
// columns are listed in the report and never stored. Table files are
// matched without case; symbolic links are refused (source.go).
//
// id_number is stored as id_number_hash = hex(HMAC-SHA-256(key, id)), id
// in its 18-character form with an upper-case X; a
// persons file with id_number is refused without a key (LoadKey).
//
// The optional tables of standard v1.1 (regions, person_events,
// visit_outcomes) are checked like the others plus their cross-column
// rules (v11.go); when absent they are listed in Report.Optional
// (absent_optional), apart from the v1 tables of Report.Missing.
//
// Merging (merge.go, in DuckDB): for a table with a key, a later drop's row
// wins; for a table without a key, the drop speaks for each calendar month
// (of the table's first non-null date column) in which it has rows: those
// months' previous rows are replaced, other months kept; identical events
// within one drop (two children's identical education aid) are all kept.
// Merged tables are sorted by key (all columns when keyless), so the same
// inputs give the same files. Tables absent from a drop are carried over
// from the previous version (hard link).
//
// The warehouse records a fingerprint of the key (warehouse.KeyFingerprint)
// and refuses a drop ingested with another key.
//
// The drop id is derived from the file names and SHA-256 checksums: a drop
// already merged into the current version changes nothing (Report.Unchanged).
// Versions are published crash-safely by package warehouse (the current and
// previous versions are kept, older ones pruned). Options.Hooks let tests
// kill the process at each step (CrashPoints) and inject failing writers.
// Progress goes to Options.Reporter: one stage per table (rows read) and
// one for the merge.
package ingest
