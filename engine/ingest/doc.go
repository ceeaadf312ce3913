// Package ingest checks a drop against the data standard and merges its
// accepted rows into a new version of the warehouse.
//
// Status: usable — clean CSV/CSV.gz/Parquet drops ingest into the warehouse
// (engine/warehouse.Open, TablePath) with row checks, rejects and manifests.
//
// A drop is read table by table (households, then persons, then the other
// tables in parallel): a hand-written RFC 4180 splitter (csvrow.go) feeds
// typed decoders (fields.go) that append straight into Arrow builders;
// batches of 64k rows go to Parquet (snappy). Every row is checked: types,
// code lists, int ranges, region code lengths, required fields, duplicate
// keys within the drop, and references against the merged state (previous
// version plus this drop). A bad row is written to the drop's reject file
// (file, line, column, reason, original text with ID numbers masked) and
// counted, so that read = accepted + rejected for every table; a problem
// with a whole file fails that table only, except for households and
// persons, without which nothing is ingested.
//
// id_number is replaced by id_number_hash = hex(HMAC-SHA-256(key, id)).
// A later drop wins over an earlier one for the same key (the merge runs in
// DuckDB); re-ingesting a drop whose files have the same checksums changes
// nothing. The warehouse package publishes versions crash-safely.
package ingest
