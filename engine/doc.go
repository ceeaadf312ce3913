// Package engine runs povrisk's data work: it opens DuckDB, ingests drops
// into the warehouse, and (in its sub-packages) runs the night and writes
// briefs.
package engine
