// Package features computes the household feature table for an as-of date:
// a catalog of feature families written in DuckDB SQL (sql/*.sql, each with
// a header naming its columns), run over the warehouse tables with only the
// data dated on or before the as-of date, with the official rule screen of
// package rules appended.
//
// # How a computation runs
//
// Compute works on one connection of the caller's DuckDB handle:
//
//  1. params: a one-row TEMP table holding the as-of date and every window
//     start and threshold, filled from bound parameters ($1, $2, ...). The SQL
//     files read their parameters from it (CROSS JOIN params p); no value is
//     ever spliced into SQL text.
//  2. table views: one TEMP VIEW per table of the data standard, named after
//     the table. DuckDB does not accept a bound parameter inside a view
//     definition (CREATE VIEW ... read_parquet(?) fails: views take no
//     parameters), so the view is created with the warehouse path written as
//     a SQL string literal, escaped by doubling single quotes (engine.QuoteString).
//     The paths come from the warehouse, never from a user's SQL. A table
//     absent from the warehouse gets an empty view with the standard's
//     columns, and every feature whose sources include it is NULL.
//  3. base.sql builds hh (households registered on or before the as-of date)
//     and mem (their members born on or before it, with age and alive flags).
//  4. each family file becomes a TEMP table f_<family> with one row per
//     household of hh; a family may read the tables of families before it
//     (the order is families in catalog.go).
//  5. the families are joined on household_id, sorted by household_id, read
//     as Arrow, and the rule columns are appended (package rules).
//
// # Windows
//
// Windows are calendar months ending with the month of the as-of date D:
// "12 months" means the months m0-11 .. m0 where m0 is the month of D, and,
// for dated rows (claims, terms, disasters), the days from the first day of
// m0-11 up to and including D. Monthly tables (income, contributions) use
// periods up to and including m0.
//
// # The catalog
//
// Each column's line in a family's SQL header is followed by its metadata
// (label, risk type, reason templates, profile; see parseHeader): the one
// place that says what a feature means. Everything that names a feature to
// people (the night's reasons, the brief, explain, the notebooks) reads it
// from Catalog, Lookup and ProfileLabels.
//
// # Reproducibility
//
// Values are rounded once, here, as they are computed: money to 0.01 yuan,
// ratios and shares to 1e-6 (Column.Digits), before the rule screen, so that
// training and scoring read the same numbers and reruns give the same bytes.
// Money is summed as DECIMAL(18,2) (exact), not as float64: DuckDB
// aggregates in parallel, and float sums in a varying order differed in the
// last digits from run to run. Ties are broken explicitly (arg_max over
// (date, value)); rows are sorted by household_id; the rule screen works on
// batches in parallel but keeps their order.
//
// # Snapshot columns
//
// households and persons are snapshots taken at ingest, possibly after D.
// Dated columns are honoured (birth_date, deceased_date, registered_date).
// A person's labor_capacity, disability_grade, disease registers and
// schooling are their state on D when the warehouse holds the optional
// person_events table (base.sql; the rule is in docs/labels.md), else the
// export's state (PersonEventsPresent, PersonStateKey in the schema
// metadata). housing_safe, water_safe and poverty_status are undated and
// read as they are, a known limitation documented on each column. poverty_status is not a feature: a
// household identified after D is "monitored" in a later snapshot, so
// reading it would leak the label. Monitoring state on D comes from the
// dated monitoring_events; the snapshot status counts only for households
// with no event record at all (legacy monitoring objects).
package features
