package ingest

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/povrisk/povrisk/datasets"
)

// quoteLit quotes a path as an SQL string literal (COPY ... TO does not
// take a bound parameter).
func quoteLit(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// merge writes to dst the union of the previous version's rows (old) and
// this drop's (new), with DuckDB: for a table with a key, the drop's row
// wins for a key found in both; for a table without one, the drop's rows
// plus the previous rows it does not repeat (EXCEPT ALL: a drop that
// repeats earlier events does not double them, and identical events within
// one drop are all kept).
// Rows are sorted by the key (all columns for a keyless table) so that the
// same inputs give the same file.
func merge(ctx context.Context, db *sql.DB, t datasets.Table, old, newRows, dst string) error {
	if db == nil {
		return fmt.Errorf("merge %s: no DuckDB handle", t.Name)
	}
	var cols []string
	for _, c := range t.Columns {
		cols = append(cols, quoteIdent(c.StoredName()))
	}
	sel := strings.Join(cols, ", ")
	var q string
	if len(t.Key) > 0 {
		var keys []string
		for _, k := range t.Key {
			keys = append(keys, quoteIdent(k))
		}
		kl := strings.Join(keys, ", ")
		q = fmt.Sprintf(`COPY (
  SELECT %[1]s FROM read_parquet(%[2]s)
  UNION ALL
  SELECT %[1]s FROM read_parquet(%[3]s) o WHERE NOT EXISTS (SELECT 1 FROM read_parquet(%[2]s) n WHERE %[5]s)
  ORDER BY %[4]s
) TO %[6]s (FORMAT parquet, COMPRESSION snappy)`, sel, quoteLit(newRows), quoteLit(old), kl, joinEq(t.Key), quoteLit(dst))
	} else {
		q = fmt.Sprintf(`COPY (
  SELECT %[1]s FROM read_parquet(%[2]s)
  UNION ALL
  (SELECT %[1]s FROM read_parquet(%[3]s) EXCEPT ALL SELECT %[1]s FROM read_parquet(%[2]s))
  ORDER BY ALL
) TO %[4]s (FORMAT parquet, COMPRESSION snappy)`, sel, quoteLit(newRows), quoteLit(old), quoteLit(dst))
	}
	if _, err := db.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("merge %s: %w", t.Name, err)
	}
	return nil
}

func joinEq(keys []string) string {
	var p []string
	for _, k := range keys {
		p = append(p, fmt.Sprintf("n.%s = o.%s", quoteIdent(k), quoteIdent(k)))
	}
	return strings.Join(p, " AND ")
}
