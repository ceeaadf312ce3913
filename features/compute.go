package features

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/povrisk/povrisk/datasets"
	"github.com/povrisk/povrisk/engine"
	"github.com/povrisk/povrisk/engine/progress"
	"github.com/povrisk/povrisk/features/rules"
)

// Tables locates the warehouse tables; *warehouse.Warehouse satisfies it.
type Tables interface {
	TablePath(table string) (string, bool)
}

// Options tune a computation; the zero value is the default.
type Options struct {
	// JobLossLookbackMonths: a job loss counts while the last contribution is
	// at most this many months before the month of D (0: 12).
	JobLossLookbackMonths int
	// SpikeFloor is the floor of the baseline monthly median of the medical
	// spike ratio, yuan (0: 100).
	SpikeFloor float64
	// NewUnemploymentMonths: an unemployment registration is new when made
	// within this many calendar months up to D (0: 3).
	NewUnemploymentMonths int
	// Progress receives one line per step; nil is quiet.
	Progress io.Writer
	// Reporter is told of the "features" stage: one step per feature
	// family, then the join and the rule screen; nil reports nothing.
	Reporter progress.Reporter
	// Counties, when not nil, keeps only the households whose county
	// (the first 6 characters of region_code, all of it when shorter) is
	// listed (an empty, non-nil list keeps none): the table of one county group of a sharded night
	// (engine/run). Every other table is read whole and joined to those
	// households, so each household's features are the same as in the
	// table of the whole province.
	Counties []string

	// monitoredOnly (AssessElimination) keeps, after the households of
	// the as-of date, only those monitored on it (f_status): hh, mem and
	// the views of the tables that name a household or person hold their
	// rows only, so the families aggregate the few households assessed,
	// not the province (a household's rows, so its facts, are the same).
	monitoredOnly bool
}

// Compute returns the feature table for the as-of date: one row per household
// registered on or before asOf, sorted by household_id, with the columns of
// Catalog(). pol gives the monitoring lines and thresholds; nil uses the
// sample policy (illustrative lines: only for tests and demonstrations).
func Compute(ctx context.Context, db *sql.DB, w Tables, asOf time.Time, pol *rules.Policy) (arrow.Table, error) {
	return ComputeWith(ctx, db, w, asOf, pol, Options{})
}

// ComputeWith is Compute with options.
func ComputeWith(ctx context.Context, db *sql.DB, w Tables, asOf time.Time, pol *rules.Policy, o Options) (arrow.Table, error) {
	if pol == nil {
		pol = rules.SamplePolicy()
	}
	var out arrow.Table
	task := progress.Or(o.Reporter).Start("features", int64(len(families)+2))
	defer task.Done()
	err := withSession(ctx, db, w, asOf, pol, o, func(conn *sql.Conn, present map[string]bool) error {
		for _, fam := range families {
			start := time.Now()
			q := "CREATE OR REPLACE TEMP TABLE f_" + fam + " AS\n" + familySQL(fam)
			if _, err := conn.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("feature family %s: %w", fam, err)
			}
			note(o.Progress, "family %s: %.1fs", fam, time.Since(start).Seconds())
			task.Add(1)
		}
		start := time.Now()
		schema, recs, err := queryArrow(ctx, conn, finalSelect(present))
		if err != nil {
			return fmt.Errorf("join feature families: %w", err)
		}
		defer func() {
			for _, r := range recs {
				r.Release()
			}
		}()
		note(o.Progress, "join: %.1fs", time.Since(start).Seconds())
		task.Add(1)
		start = time.Now()
		state := "export"
		if present["person_events"] {
			state = "dated"
		}
		out, err = appendRules(ctx, schema, recs, asOf, pol, arrow.NewMetadata([]string{PersonStateKey}, []string{state}))
		if err != nil {
			return err
		}
		note(o.Progress, "rules: %.1fs", time.Since(start).Seconds())
		task.Add(1)
		return nil
	})
	return out, err
}

// PersonStateKey is the key of the feature table's schema metadata saying
// where the person-state features come from: "dated" (person_events: the
// state on the as-of date) or "export" (persons as ingested).
const PersonStateKey = "povrisk.person_state"

// PersonEventsPresent reports whether the warehouse holds the optional
// person_events table. With it, the features read from a person's state
// (labour capacity, disability, disease registers, schooling) are the state
// on the as-of date; without it they are the export's state (persons as
// ingested), which may postdate the as-of date: a model card should warn.
func PersonEventsPresent(w Tables) bool {
	_, ok := w.TablePath("person_events")
	return ok
}

// PersonStateColumns lists the feature columns computed from a person's
// state (persons.labor_capacity, disability_grade, chronic_disease,
// major_disease, schooling): dated on the as-of date with person_events,
// the export's state without it (PersonEventsPresent). A fresh slice.
func PersonStateColumns() []string {
	var out []string
	for _, c := range featureColumns() {
		if slices.Contains(c.Sources, "person_events") {
			out = append(out, c.Name)
		}
	}
	return out
}

func note(w io.Writer, format string, args ...any) {
	if w != nil {
		fmt.Fprintf(w, "features: "+format+"\n", args...)
	}
}

// withSession runs fn on one connection holding the temp views of the
// warehouse tables, the params table and the base tables hh and mem, and
// drops them afterwards. present reports the tables found in the warehouse.
func withSession(ctx context.Context, db *sql.DB, w Tables, asOf time.Time, pol *rules.Policy, o Options,
	fn func(conn *sql.Conn, present map[string]bool) error) (err error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("duckdb connection: %w", err)
	}
	defer conn.Close()
	var created []string
	defer func() {
		// Temp objects live as long as the connection, which returns to the pool.
		for i := len(created) - 1; i >= 0; i-- {
			if _, derr := conn.ExecContext(context.WithoutCancel(ctx), "DROP "+created[i]); derr != nil && err == nil {
				err = fmt.Errorf("drop %s: %w", created[i], derr)
			}
		}
	}()
	present := map[string]bool{}
	for _, t := range datasets.Tables() {
		q, ok := "", false
		if path, found := w.TablePath(t.Name); found {
			q, ok = TableView(t, path), true
			if o.Counties != nil {
				q += GroupFilter(t, o.Counties)
			}
		} else {
			if t.Required {
				return fmt.Errorf("warehouse has no %s table: ingest a drop with %s first", t.Name, t.Name)
			}
			q = "CREATE OR REPLACE TEMP VIEW " + t.Name + " AS " + emptyTable(t)
		}
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("open table %s: %w", t.Name, err)
		}
		present[t.Name] = ok
		created = append(created, "VIEW IF EXISTS "+t.Name)
	}
	th := pol.Thresholds
	lookback, floor, newU := o.JobLossLookbackMonths, o.SpikeFloor, o.NewUnemploymentMonths
	if lookback == 0 {
		lookback = 12
	}
	if floor == 0 {
		floor = 100
	}
	if newU == 0 {
		newU = 3
	}
	if _, err := conn.ExecContext(ctx, familySQL("params"), asOf.Format("2006-01-02"),
		th.JobLossMinRunMonths, th.JobLossMinGapMonths, lookback, floor, newU); err != nil {
		return fmt.Errorf("set parameters: %w", err)
	}
	created = append(created, "TABLE IF EXISTS params")
	start := time.Now()
	created = append(created, "TABLE IF EXISTS hh", "TABLE IF EXISTS pev", "TABLE IF EXISTS mem")
	for _, fam := range families {
		created = append(created, "TABLE IF EXISTS f_"+fam)
	}
	narrowed := false
	for _, stmt := range statements(familySQL("base")) {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("base tables: %w", err)
		}
		if o.monitoredOnly && strings.Contains(stmt, hhStatement) {
			if err := keepMonitored(ctx, conn); err != nil {
				return err
			}
			narrowed = true
		}
	}
	if o.monitoredOnly {
		// base.sql must keep the statement that creates hh: without it
		// the narrowing would silently not happen (every household
		// assessed, features unchanged but the work the option saves
		// spent). A catalog edit that renames it fails here, in tests.
		if !narrowed {
			return fmt.Errorf("features: base.sql has no %q statement, so the monitored-only narrowing cannot apply: keep hh's statement in sql/base.sql or update compute.go", hhStatement)
		}
		if err := narrowViews(ctx, conn, w, present); err != nil {
			return err
		}
	}
	note(o.Progress, "base: %.1fs", time.Since(start).Seconds())
	return fn(conn, present)
}

// TableView is the statement opening the warehouse file of table t as a
// temp view. DuckDB cannot bind a parameter inside a view definition, so
// the warehouse path is written into the view's text as a literal
// (engine.QuoteString: single quotes doubled, the whole escape rule of a
// standard SQL literal; a NUL byte is refused by the OS before).
func TableView(t datasets.Table, path string) string {
	return "CREATE OR REPLACE TEMP VIEW " + t.Name + " AS SELECT * FROM read_parquet(" + engine.QuoteString(path) + ")"
}

// hhStatement opens the statement of base.sql that creates hh, the
// households of the as-of date: the monitored-only narrowing
// (keepMonitored) runs right after it.
const hhStatement = "CREATE OR REPLACE TEMP TABLE hh AS"

// keepMonitored computes f_status over hh and keeps in hh only the
// households monitored on the as-of date (Options.monitoredOnly).
func keepMonitored(ctx context.Context, conn *sql.Conn) error {
	if _, err := conn.ExecContext(ctx, "CREATE OR REPLACE TEMP TABLE f_status AS\n"+familySQL("status")); err != nil {
		return fmt.Errorf("feature family status: %w", err)
	}
	if _, err := conn.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE hh AS
SELECT hh.* FROM hh JOIN f_status s USING (household_id) WHERE s.monitored_at_as_of`); err != nil {
		return fmt.Errorf("monitored households: %w", err)
	}
	return nil
}

// narrowViews reopens the view of every present table that names its
// household (or, without one, its person: GroupKey) with the rows of the
// households of hh (the persons of mem) only (Options.monitoredOnly).
// Every family reads such a table through hh or mem, so a household's
// features are unchanged; the table's other rows are skipped by a hash
// probe instead of being aggregated. hh and mem are tables by now, so
// the persons view may be narrowed too.
func narrowViews(ctx context.Context, conn *sql.Conn, w Tables, present map[string]bool) error {
	for _, t := range datasets.Tables() {
		col, ref := GroupKey(t)
		path, found := w.TablePath(t.Name)
		if col == "" || !found || !present[t.Name] {
			continue
		}
		id := engine.QuoteIdent(col)
		src := map[string]string{"households": "hh", "persons": "mem"}[ref]
		q := TableView(t, path) + " WHERE " + id + " IN (SELECT " + id + " FROM " + src + ")"
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("open table %s: %w", t.Name, err)
		}
	}
	return nil
}

// GroupFilter is the condition of table t's view in a county group
// (Options.Counties): households by county, then every table that names
// its household (persons, income_records, assets ...) or, without one, its
// person (social_insurance, medical_claims, person_events ...) by the
// group's households and persons (GroupKey), so that the families
// aggregate the group's rows, not the province's (a group aggregating
// every household made a night's feature work grow with groups x
// province). A household's rows are the same with or without the filter,
// so its features are too (the shard byte-identity tests hold it).
func GroupFilter(t datasets.Table, counties []string) string {
	if t.Name == "households" {
		return " WHERE " + countyFilter(counties)
	}
	col, ref := GroupKey(t)
	if col == "" {
		return ""
	}
	id := engine.QuoteIdent(col)
	return " WHERE " + id + " IN (SELECT " + id + " FROM " + ref + ")"
}

// GroupKey is the column by which the rows of table t belong to a county
// group, and the table it references: the stored household_id of a table
// that names its household ("households"), else the stored person_id of
// one that names its person ("persons"). Tables whose household_id may be
// empty (disasters: a region's event), visit_outcomes and the households
// table itself (by region_code) have none: "" and "".
func GroupKey(t datasets.Table) (col, ref string) {
	if t.Name == "households" || t.Name == "visit_outcomes" {
		return "", ""
	}
	for _, c := range t.Columns {
		if c.Nullable {
			continue
		}
		switch {
		case c.Name == "household_id" && c.Ref == "households":
			return c.StoredName(), "households"
		case c.Name == "person_id" && c.Ref == "persons":
			col, ref = c.StoredName(), "persons"
		}
	}
	return col, ref
}

// countyFilter is the households view's condition of Options.Counties.
func countyFilter(counties []string) string {
	if len(counties) == 0 {
		return "FALSE"
	}
	lits := make([]string, len(counties))
	for i, c := range counties {
		lits[i] = engine.QuoteString(c)
	}
	return "substr(region_code, 1, 6) IN (" + strings.Join(lits, ", ") + ")"
}

// statements splits a SQL file into its statements (on ';' at a line end;
// our files hold no string literal containing one).
func statements(text string) []string {
	var out []string
	for _, s := range strings.Split(text, ";\n") {
		if t := strings.TrimSpace(stripComments(s)); t != "" {
			out = append(out, s)
		}
	}
	return out
}

func stripComments(s string) string {
	var b strings.Builder
	for _, l := range strings.Split(s, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "--") {
			b.WriteString(l)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// emptyTable is a SELECT of no rows with the columns of the standard's table.
func emptyTable(t datasets.Table) string {
	cols := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		cols[i] = "CAST(NULL AS " + duckType(c.Kind) + ") AS " + engine.QuoteIdent(c.StoredName())
	}
	return "SELECT " + strings.Join(cols, ", ") + " WHERE false"
}

func duckType(k datasets.Kind) string {
	switch k {
	case datasets.Date, datasets.Month:
		return "DATE"
	case datasets.Money:
		return "DOUBLE"
	case datasets.Int:
		return "INTEGER"
	case datasets.Bool:
		return "BOOLEAN"
	}
	return "VARCHAR"
}

// finalSelect joins the families; a column whose required source table is
// absent from the warehouse is NULL of its type.
func finalSelect(present map[string]bool) string {
	var b strings.Builder
	b.WriteString("SELECT hh.household_id, hh.region_code, p.as_of")
	for _, c := range featureColumns() {
		missing := false
		for _, s := range c.required {
			if !present[s] {
				missing = true
			}
		}
		if missing {
			fmt.Fprintf(&b, ",\n  CAST(NULL AS %s) AS %s", c.Type, engine.QuoteIdent(c.Name))
		} else {
			// the cast pins the declared type whatever the input's
			// (a Parquet file with DECIMAL money still gives DOUBLE).
			fmt.Fprintf(&b, ",\n  CAST(f_%s.%s AS %s) AS %s", c.Family, engine.QuoteIdent(c.Name), c.Type, engine.QuoteIdent(c.Name))
		}
	}
	b.WriteString("\nFROM hh CROSS JOIN params p")
	for _, fam := range families {
		fmt.Fprintf(&b, "\nJOIN f_%s ON f_%s.household_id = hh.household_id", fam, fam)
	}
	b.WriteString("\nORDER BY hh.household_id")
	return b.String()
}

// queryArrow runs q on conn through DuckDB's Arrow interface and returns
// its record batches (retained; the caller releases them).
func queryArrow(ctx context.Context, conn *sql.Conn, q string, args ...any) (*arrow.Schema, []arrow.RecordBatch, error) {
	var recs []arrow.RecordBatch
	var schema *arrow.Schema
	err := conn.Raw(func(dc any) error {
		ar, err := duckdb.NewArrowFromConn(dc.(driver.Conn))
		if err != nil {
			return fmt.Errorf("duckdb arrow interface: %w", err)
		}
		rr, err := ar.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rr.Release()
		schema = rr.Schema()
		for rr.Next() {
			r := rr.RecordBatch()
			r.Retain()
			recs = append(recs, r)
		}
		if err := rr.Err(); err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		return nil
	})
	if err != nil {
		for _, r := range recs {
			r.Release()
		}
		return nil, nil, err
	}
	return schema, recs, nil
}
