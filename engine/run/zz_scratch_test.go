package run

import (
	"os"
	"testing"

	"github.com/povrisk/povrisk/engine"
)

func TestScratchCompare(t *testing.T) {
	a, b := os.Getenv("A"), os.Getenv("B")
	if a == "" {
		t.Skip()
	}
	db, _ := engine.OpenDB("")
	var n int
	db.QueryRow("SELECT count(*) FROM (SELECT * FROM read_parquet(?) EXCEPT SELECT * FROM read_parquet(?))", a, b).Scan(&n)
	t.Logf("rows differing: %d", n)
	cols, _ := db.Query("SELECT name FROM parquet_schema(?) WHERE num_children IS NULL", a)
	var names []string
	for cols.Next() {
		var s string
		cols.Scan(&s)
		names = append(names, s)
	}
	for _, c := range names {
		var k int
		q := "SELECT count(*) FROM read_parquet(?) x JOIN read_parquet(?) y USING (household_id) WHERE x.\"" + c + "\" IS DISTINCT FROM y.\"" + c + "\""
		if err := db.QueryRow(q, a, b).Scan(&k); err != nil {
			t.Log(err)
		}
		if k > 0 {
			var v1, v2 any
			db.QueryRow("SELECT x.\""+c+"\", y.\""+c+"\" FROM read_parquet(?) x JOIN read_parquet(?) y USING (household_id) WHERE x.\""+c+"\" IS DISTINCT FROM y.\""+c+"\" LIMIT 1", a, b).Scan(&v1, &v2)
			t.Log(c, k, v1, v2)
		}
	}
	for _, f := range []string{a, b} {
		rows, _ := db.Query("SELECT row_group_id, row_group_num_rows, total_compressed_size FROM parquet_metadata(?) WHERE column_id = 0 ORDER BY row_group_id LIMIT 3", f)
		for rows.Next() {
			var g, r, s int
			rows.Scan(&g, &r, &s)
			t.Log(f, g, r, s)
		}
	}
}
