package run

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/povrisk/povrisk/datasets"
	"github.com/povrisk/povrisk/engine"
	"github.com/povrisk/povrisk/engine/fault"
	"github.com/povrisk/povrisk/engine/progress"
	"github.com/povrisk/povrisk/features"
)

// A night of several county groups reads each group's rows from a split
// of the warehouse made once at the start: every table that belongs to
// households (features.GroupKey) is copied, cut by group, into
// DIR/<table>/g<i>/*.parquet, so that the feature work of a group scans
// the group's rows, not the province's (filtering the whole tables again
// for each group made the features stage grow with groups x province,
// and the time per household with the province). Tables without a group
// key (disasters, visit_outcomes) and the households themselves are read
// as in a night of one group; the filter of features.Options.Counties
// still applies to every table, so a household's rows, and its features,
// are those of a night of one group (the shard byte-identity tests hold
// it).

// SplitMode is Options.Split.
type SplitMode int

const (
	SplitAuto SplitMode = iota
	SplitAlways
	SplitNever
)

// ParseSplit reads a SplitMode: "auto", "always" or "never".
func ParseSplit(s string) (SplitMode, error) {
	switch s {
	case "auto", "":
		return SplitAuto, nil
	case "always":
		return SplitAlways, nil
	case "never":
		return SplitNever, nil
	}
	return SplitAuto, fmt.Errorf("--split %q: want auto, always or never", s)
}

// splitPays reports whether a split of the warehouse costs less than
// filtering it: without one, each of the groups filters the whole
// province's tables; with one, the province's tables are read once, the
// own households' rows (own of province households: a shard's share)
// written once, and each group reads its own. The weights come from
// nights measured both ways on the bench warehouses (docs/scale.md): a
// group's filtered read costs about 1 per province household, the
// split's read 0.5, its write 2 per household written. So a night of one
// process splits from 4 groups on (1M households at the default group
// size: break-even on a quiet machine; 2M in 6 groups: 1.24x less CPU),
// a shard of a quarter of the province from 3.
func splitPays(groups int, own, province int64) bool {
	if groups < 2 || province <= 0 {
		return false
	}
	return float64(groups-1) > 0.5+2*float64(own)/float64(province)
}

// households is the number of households of the counties listed.
func households(sizes []countySize, counties []string) int64 {
	var n int64
	for _, s := range sizes {
		if slices.Contains(counties, s.code) {
			n += s.n
		}
	}
	return n
}

// splitTables is one group's view of a split warehouse.
type splitTables struct {
	w     features.Tables
	dir   string
	group int
	split map[string]bool // tables copied into dir
}

// TablePath is the group's files of a split table (a glob DuckDB's
// read_parquet expands), else the warehouse's file.
func (s splitTables) TablePath(table string) (string, bool) {
	if s.split[table] {
		return filepath.Join(s.dir, table, "g"+strconv.Itoa(s.group), "*.parquet"), true
	}
	return s.w.TablePath(table)
}

// splitWarehouse copies the tables of w that belong to households into
// dir, cut by the county groups, and returns each group's tables. dir is
// removed first and belongs to the caller afterwards (a scratch directory
// of the night's partial output).
// It reports one step per table to rep and prints a line per table to
// logw (nil: quiet).
func splitWarehouse(ctx context.Context, db *sql.DB, w features.Tables, groups [][]string, dir string, logw io.Writer, rep progress.Reporter) ([]features.Tables, error) {
	if err := os.RemoveAll(dir); err != nil {
		return nil, fault.Wrap(fault.Write, fmt.Errorf("remove stale %s: %w", dir, err))
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fault.Wrap(fault.Write, fmt.Errorf("split the warehouse by county group: %w", err))
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("duckdb connection: %w", err)
	}
	defer conn.Close()
	exec := func(what, q string) error {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("split the warehouse by county group: %s: %w", what, err)
		}
		return nil
	}
	// The temp tables live as long as the connection, which returns to the pool.
	defer conn.ExecContext(context.WithoutCancel(ctx), "DROP TABLE IF EXISTS split_county; DROP TABLE IF EXISTS split_key_households; DROP TABLE IF EXISTS split_key_persons")

	var vals []string
	for g, cs := range groups {
		for _, c := range cs {
			vals = append(vals, "("+engine.QuoteString(c)+", "+strconv.Itoa(g)+")")
		}
	}
	if len(vals) == 0 {
		vals = append(vals, "(NULL, NULL)")
	}
	if err := exec("counties", "CREATE OR REPLACE TEMP TABLE split_county AS SELECT * FROM (VALUES "+strings.Join(vals, ", ")+") v(county, g)"); err != nil {
		return nil, err
	}
	read := func(table string) string {
		path, _ := w.TablePath(table)
		return "read_parquet(" + engine.QuoteString(path) + ")"
	}
	// A household's group, and a person's (a person listed in households
	// of two groups is in both, as the per-group filter has it).
	hh, _ := datasets.Lookup("households")
	hc, _ := hh.Column("household_id")
	hid := hc.StoredName()
	if err := exec("households", "CREATE OR REPLACE TEMP TABLE split_key_households AS SELECT DISTINCT h."+engine.QuoteIdent(hid)+
		" AS k, s.g FROM "+read("households")+" h JOIN split_county s ON substr(h.region_code, 1, 6) = s.county"); err != nil {
		return nil, err
	}
	persons, _ := datasets.Lookup("persons")
	pc, _ := persons.Column("person_id")
	pid := pc.StoredName()
	phid, _ := features.GroupKey(persons)
	if _, ok := w.TablePath("persons"); ok {
		if err := exec("persons", "CREATE OR REPLACE TEMP TABLE split_key_persons AS SELECT DISTINCT p."+engine.QuoteIdent(pid)+
			" AS k, m.g FROM "+read("persons")+" p JOIN split_key_households m ON p."+engine.QuoteIdent(phid)+" = m.k"); err != nil {
			return nil, err
		}
	}

	split := map[string]bool{}
	task := progress.Or(rep).Start("split", int64(len(datasets.Tables())))
	defer task.Done()
	for _, t := range datasets.Tables() {
		task.Add(1)
		col, ref := features.GroupKey(t)
		if _, ok := w.TablePath(t.Name); !ok || col == "" {
			continue
		}
		if _, ok := w.TablePath(ref); !ok {
			continue // the features stage refuses a warehouse without its households or persons
		}
		out, start := filepath.Join(dir, t.Name), time.Now()
		// The partition column's name is the only one PARTITION_BY writes
		// into the directory names, renamed below to g<i> so that
		// read_parquet sees no hive partitioning.
		q := "COPY (SELECT t.*, m.g AS povrisk_group FROM " + read(t.Name) + " t JOIN split_key_" + ref + " m ON t." + engine.QuoteIdent(col) + " = m.k) TO " +
			engine.QuoteString(out) + " (FORMAT parquet, PARTITION_BY (povrisk_group), OVERWRITE_OR_IGNORE)"
		if err := exec(t.Name, q); err != nil {
			return nil, splitFault(err)
		}
		for g := range groups {
			part, name := filepath.Join(out, "povrisk_group="+strconv.Itoa(g)), filepath.Join(out, "g"+strconv.Itoa(g))
			err := os.Rename(part, name)
			if os.IsNotExist(err) {
				// No row of the table in this group: an empty file of the table's columns.
				if err = os.MkdirAll(name, 0o700); err == nil {
					err = exec(t.Name, "COPY (SELECT * FROM "+read(t.Name)+" LIMIT 0) TO "+engine.QuoteString(filepath.Join(name, "empty.parquet"))+" (FORMAT parquet)")
				}
			}
			if err != nil {
				return nil, splitFault(err)
			}
		}
		split[t.Name] = true
		if logw != nil {
			fmt.Fprintf(logw, "run: split %s in %d groups: %.1fs\n", t.Name, len(groups), time.Since(start).Seconds())
		}
	}
	out := make([]features.Tables, len(groups))
	for g := range groups {
		out[g] = splitTables{w: w, dir: dir, group: g, split: split}
	}
	return out, nil
}

// splitFault marks a failure of DuckDB to write the split (an IO error:
// disk full, permissions) as a write failure; anything else keeps its kind.
func splitFault(err error) error {
	var de *duckdb.Error
	if fault.Of(err) != fault.Internal || !errors.As(err, &de) || de.Type != duckdb.ErrorTypeIO {
		return err
	}
	return fault.Wrap(fault.Write, fmt.Errorf("%w (a night of several county groups writes a split of the warehouse beside its output: free space there)", err))
}
