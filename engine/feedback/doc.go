// Package feedback reads visit outcomes back into the warehouse (issue
// 13, docs/warehouse.md "Visit outcomes"): filled work lists (台账,
// worklists/<county6>.xlsx written by engine/run, as they come back from
// Excel, WPS or LibreOffice) and CSV files in the visit_outcomes format of
// the data standard v1.1.
//
// Work lists are read by header text, never by position: on every sheet
// the header row is the first of the first 20 rows holding both 户编号 and
// 核查结果, and each column is found by its header. The very hidden sheet
// _povrisk names the run (as_of) and the county; the households of the
// sheet must be on that run's list (R/<as_of>/ranked.parquet, in_top_k, in
// that county), verified through engine/rundir. 核查结果 takes the five
// labels of the drop-down or their codes; 核查日期 a date cell, an Excel
// serial number, or text (2026-01-05, 2026/1/5, 2026年1月5日, 20260105).
// A row whose 核查结果 is empty is blank: counted, not stored; a row with
// no cell at all is not a row. Every other row is accepted or rejected,
// so that read = accepted + rejected + blank, per file and sheet and in
// all.
//
// A rejected row goes to the reject file (CSV, UTF-8 with BOM, for a
// spreadsheet) with file, sheet, row, column, a reason in Chinese, a
// reason code and the row's cells masked as ingest masks its reject rows
// (ingest.MaskForReject: ID numbers, long digit runs and phones replaced);
// the note is never shown (***). Accepted rows are merged into the
// warehouse's visit_outcomes table in a new warehouse version
// (warehouse.Begin/Commit, under the writer's lock): the key is
// (household_id, visit_date), a later import replaces a stored row, and
// each import's accepted rows stay in W/drops/<import id>/ (the history;
// versions older than the previous one are pruned as for ingest). ID
// numbers in a note are replaced by [ID number] before it is stored.
//
// Errors carry engine/fault kinds: bad input (a file that is no work list
// or CSV, a run directory that is missing, too many rejects) is
// fault.BadInput; a failure to write fault.Write; a locked warehouse
// fault.Busy; a run directory whose checksums fail fault.Tampered.
package feedback
