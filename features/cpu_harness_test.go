package features

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/povrisk/povrisk/engine"
	"github.com/povrisk/povrisk/features/rules"
)

// cpuSeconds is the user+system CPU time of this process so far (DuckDB's
// threads included).
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
}

// cpuHarness: with POVRISK_CPU_WH (a directory of <table>.parquet, e.g. a
// warehouse version) and POVRISK_CPU_OUT set, TestCPUFeatures writes the
// feature table (Parquet) and prints the CPU seconds of each family, the
// join and the rule screen; TestCPUAssess writes the elimination
// assessment (one %#v line per household) and prints its CPU seconds.
// For A/B measurements of the SQL (old and new builds on the same data);
// skipped without the variables.
func cpuHarness(t *testing.T) (db *sql.DB, wh dirTables, out string, asOf time.Time) {
	wh, out = dirTables(os.Getenv("POVRISK_CPU_WH")), os.Getenv("POVRISK_CPU_OUT")
	if wh == "" || out == "" {
		t.Skip("POVRISK_CPU_WH and POVRISK_CPU_OUT not set")
	}
	db, err := engine.OpenDB("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, wh, out, time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC)
}

func TestCPUFeatures(t *testing.T) {
	db, wh, out, asOf := cpuHarness(t)
	c0 := cpuSeconds()
	var o Options
	o.Progress = cpuLines{last: c0}.writer()
	tbl, err := ComputeWith(context.Background(), db, wh, asOf, nil, o)
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()
	fmt.Fprintf(os.Stderr, "cpu features total %.2f\n", cpuSeconds()-c0)
	if err := WriteParquet(tbl, out); err != nil {
		t.Fatal(err)
	}
}

func TestCPUAssess(t *testing.T) {
	db, wh, out, asOf := cpuHarness(t)
	c0 := cpuSeconds()
	as, err := AssessEliminationIn(context.Background(), db, wh, asOf, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "cpu assess total %.2f (%d households)\n", cpuSeconds()-c0, len(as))
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, a := range as {
		fmt.Fprintf(f, "%#v\n", a)
	}
}

// cpuLines prints each progress line with the CPU seconds since the last.
type cpuLines struct{ last float64 }

func (c cpuLines) writer() *cpuWriter { return &cpuWriter{last: c.last} }

type cpuWriter struct{ last float64 }

func (w *cpuWriter) Write(p []byte) (int, error) {
	now := cpuSeconds()
	fmt.Fprintf(os.Stderr, "cpu %6.2f  %s", now-w.last, p)
	w.last = now
	return len(p), nil
}

// TestCPUExplain writes to POVRISK_CPU_OUT DuckDB's JSON profile of the
// family named by POVRISK_CPU_EXPLAIN (the families before it computed first).
func TestCPUExplain(t *testing.T) {
	fam := os.Getenv("POVRISK_CPU_EXPLAIN")
	if fam == "" {
		t.Skip("POVRISK_CPU_EXPLAIN not set")
	}
	db, wh, _, asOf := cpuHarness(t)
	ctx := context.Background()
	err := withSession(ctx, db, wh, asOf, rules.SamplePolicy(), Options{}, func(conn *sql.Conn, present map[string]bool) error {
		for _, f := range families {
			if f == fam {
				break
			}
			if _, err := conn.ExecContext(ctx, "CREATE OR REPLACE TEMP TABLE f_"+f+" AS\n"+familySQL(f)); err != nil {
				return err
			}
		}
		// DuckDB's JSON profile of the family's statement, for a script
		// to sort its operators by time.
		for _, q := range []string{"PRAGMA enable_profiling = 'json'",
			"PRAGMA profiling_output = " + engine.QuoteString(os.Getenv("POVRISK_CPU_OUT")),
			"CREATE OR REPLACE TEMP TABLE f_" + fam + " AS\n" + familySQL(fam), "PRAGMA disable_profiling"} {
			if _, err := conn.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestCPUVariant: the family POVRISK_CPU_EXPLAIN as in the catalog (A) and
// as in the file POVRISK_CPU_SQL (B), interleaved A B A B A B after the
// families before it; prints the CPU seconds of each and fails when the
// two tables differ (EXCEPT ALL both ways).
func TestCPUVariant(t *testing.T) {
	fam, file := os.Getenv("POVRISK_CPU_EXPLAIN"), os.Getenv("POVRISK_CPU_SQL")
	if fam == "" || file == "" {
		t.Skip("POVRISK_CPU_EXPLAIN or POVRISK_CPU_SQL not set")
	}
	alt, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	db, wh, _, asOf := cpuHarness(t)
	ctx := context.Background()
	err = withSession(ctx, db, wh, asOf, rules.SamplePolicy(), Options{}, func(conn *sql.Conn, present map[string]bool) error {
		for _, f := range families {
			if f == fam {
				break
			}
			if _, err := conn.ExecContext(ctx, "CREATE OR REPLACE TEMP TABLE f_"+f+" AS\n"+familySQL(f)); err != nil {
				return err
			}
		}
		for i := 0; i < 3; i++ {
			for _, v := range []struct{ name, q string }{{"A", familySQL(fam)}, {"B", string(alt)}} {
				c0 := cpuSeconds()
				if _, err := conn.ExecContext(ctx, "CREATE OR REPLACE TEMP TABLE v_"+v.name+" AS\n"+v.q); err != nil {
					return fmt.Errorf("%s: %w", v.name, err)
				}
				fmt.Fprintf(os.Stderr, "variant %s %d cpu %.2f\n", v.name, i, cpuSeconds()-c0)
			}
		}
		var n int
		q := "SELECT count(*) FROM ((SELECT * FROM v_A EXCEPT ALL SELECT * FROM v_B) UNION ALL (SELECT * FROM v_B EXCEPT ALL SELECT * FROM v_A))"
		if err := conn.QueryRowContext(ctx, q).Scan(&n); err != nil {
			return err
		}
		if n != 0 {
			return fmt.Errorf("%d rows differ", n)
		}
		fmt.Fprintln(os.Stderr, "variant: same rows")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
