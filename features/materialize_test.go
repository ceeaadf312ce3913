package features

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/povrisk/povrisk/engine"
)

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// materialize stores t in db as the table name (replaced if it exists), so
// that a test can query a feature table with SQL. The Arrow view it goes
// through can be scanned once, so it is copied with CREATE TABLE AS on the
// same connection.
func materialize(ctx context.Context, db *sql.DB, t arrow.Table, name string) error {
	if !identRE.MatchString(name) {
		return fmt.Errorf("materialize features: table name %q is not a plain identifier", name)
	}
	view := "povrisk_features_view_" + name
	return engine.WithArrow(ctx, db, func(ar *duckdb.Arrow) error {
		tr := array.NewTableReader(t, 64*1024)
		defer tr.Release()
		release, err := ar.RegisterView(tr, view)
		if err != nil {
			return fmt.Errorf("materialize features: register arrow view: %w", err)
		}
		defer release()
		rr, err := ar.QueryContext(ctx, "CREATE OR REPLACE TABLE "+engine.QuoteIdent(name)+" AS SELECT * FROM "+engine.QuoteIdent(view))
		if err != nil {
			return fmt.Errorf("materialize features as %s: %w", name, err)
		}
		for rr.Next() {
		}
		rr.Release()
		rr, err = ar.QueryContext(ctx, "DROP VIEW IF EXISTS "+engine.QuoteIdent(view))
		if err != nil {
			return fmt.Errorf("materialize features: drop view: %w", err)
		}
		rr.Release()
		return nil
	})
}
