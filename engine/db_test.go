package engine

import (
	"strings"
	"testing"
)

// TestOpenDBNoFileCache: DuckDB's external file cache, on by default,
// keeps every Parquet block read in memory; OpenDB turns it off.
func TestOpenDBNoFileCache(t *testing.T) {
	db, err := OpenDB("")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v string
	if err := db.QueryRow("SELECT current_setting('enable_external_file_cache')::VARCHAR").Scan(&v); err != nil {
		t.Fatal(err)
	}
	if v != "false" {
		t.Errorf("enable_external_file_cache = %s, want false", v)
	}
	// The database is in memory: a table made on one connection is seen by another.
	if _, err := db.Exec("CREATE TABLE t AS SELECT 42 AS x"); err != nil {
		t.Fatal(err)
	}
	var x int
	if err := db.QueryRow("SELECT x FROM t").Scan(&x); err != nil || x != 42 {
		t.Errorf("SELECT x FROM t: %d, %v; want 42", x, err)
	}
}

// TestOpenDBRefusesQuestionMark: what follows a '?' would be read as
// settings, so such a file name is refused rather than opened elsewhere.
func TestOpenDBRefusesQuestionMark(t *testing.T) {
	db, err := OpenDB(t.TempDir() + "/a?threads=1")
	if err == nil {
		db.Close()
		t.Fatal("OpenDB of a name with '?': no error")
	}
	if !strings.Contains(err.Error(), "may not contain '?'") {
		t.Errorf("error %q does not say why", err)
	}
}
