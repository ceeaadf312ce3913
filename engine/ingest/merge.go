package ingest

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/povrisk/povrisk/datasets"
	"github.com/povrisk/povrisk/engine"
	"github.com/povrisk/povrisk/engine/fault"
)

// merge writes to dst the union of the previous version's rows (old) and
// this drop's (new), with DuckDB. For a table with a key, the drop's row
// wins for a key found in both. A table without a key has no way to tell
// a corrected row from a new one, so the drop speaks for whole months:
// for every calendar month of the table's date column (periodColumn) in
// which the drop has a row, the drop's rows replace the previous ones; the
// previous rows of the other months are kept. Identical rows within one
// drop are all kept (two children's identical education aid are two
// payments), and a drop ingested again, or repeating earlier months, does
// not double anything.
// Rows are sorted by the key (all columns for a keyless table) so that the
// same inputs give the same file.
func merge(ctx context.Context, db *sql.DB, t datasets.Table, old, newRows, dst string) error {
	if db == nil {
		return fmt.Errorf("merge %s: no DuckDB handle", t.Name)
	}
	if _, err := db.ExecContext(ctx, mergeSQL(t, old, newRows, dst)); err != nil {
		err = fmt.Errorf("merge %s: %w", t.Name, err)
		if duckWriteFailure(err) {
			err = fault.Wrap(fault.Write, err)
		}
		return err
	}
	return nil
}

// mergeSQL is the COPY statement of merge.
func mergeSQL(t datasets.Table, old, newRows, dst string) string {
	var cols []string
	for _, c := range t.Columns {
		cols = append(cols, engine.QuoteIdent(c.StoredName()))
	}
	sel := strings.Join(cols, ", ")
	n, o, d := engine.QuoteString(newRows), engine.QuoteString(old), engine.QuoteString(dst)
	if len(t.Key) > 0 {
		var keys []string
		for _, k := range t.Key {
			keys = append(keys, engine.QuoteIdent(k))
		}
		return fmt.Sprintf(`COPY (
  SELECT %[1]s FROM read_parquet(%[2]s)
  UNION ALL
  SELECT %[1]s FROM read_parquet(%[3]s) o WHERE NOT EXISTS (SELECT 1 FROM read_parquet(%[2]s) n WHERE %[5]s)
  ORDER BY %[4]s
) TO %[6]s (FORMAT parquet, COMPRESSION snappy)`, sel, n, o, strings.Join(keys, ", "), joinEq(t.Key), d)
	}
	pc := periodColumn(t)
	if pc == "" {
		// No date to tell periods apart: the drop speaks for the whole table.
		return fmt.Sprintf(`COPY (SELECT %[1]s FROM read_parquet(%[2]s) ORDER BY ALL) TO %[3]s (FORMAT parquet, COMPRESSION snappy)`, sel, n, d)
	}
	month := func(alias string) string {
		c := alias + "." + engine.QuoteIdent(pc)
		return fmt.Sprintf("(year(%[1]s) * 12 + month(%[1]s))", c)
	}
	return fmt.Sprintf(`COPY (
  SELECT %[1]s FROM read_parquet(%[2]s)
  UNION ALL
  SELECT %[1]s FROM read_parquet(%[3]s) o
   WHERE NOT EXISTS (SELECT 1 FROM read_parquet(%[2]s) n WHERE %[4]s = %[5]s)
  ORDER BY ALL
) TO %[6]s (FORMAT parquet, COMPRESSION snappy)`, sel, n, o, month("n"), month("o"), d)
}

// periodColumn is the column whose month says which period a row of a
// keyless table belongs to: its first non-null date column (registered,
// term start, start, event or identified date); "" when it has none.
func periodColumn(t datasets.Table) string {
	for _, c := range t.Columns {
		if (c.Kind == datasets.Date || c.Kind == datasets.Month) && !c.Nullable {
			return c.StoredName()
		}
	}
	return ""
}

func joinEq(keys []string) string {
	var p []string
	for _, k := range keys {
		p = append(p, fmt.Sprintf("n.%s = o.%s", engine.QuoteIdent(k), engine.QuoteIdent(k)))
	}
	return strings.Join(p, " AND ")
}

// duckWriteFailure tells a DuckDB error that comes from the file system
// (DuckDB reports errno as text, so the error chain holds no errno).
func duckWriteFailure(err error) bool {
	s := strings.ToLower(err.Error())
	for _, m := range []string{"no space left", "disk quota", "input/output error", "read-only file system", "permission denied", "file too large", "could not write", "failed to write"} {
		if strings.Contains(s, m) {
			return true
		}
	}
	return false
}
