package features

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/povrisk/povrisk/engine"
)

// dirTables is a warehouse of Parquet files named <table>.parquet in a directory.
type dirTables string

func (d dirTables) TablePath(table string) (string, bool) {
	p := filepath.Join(string(d), table+".parquet")
	if _, err := os.Stat(p); err != nil {
		return "", false
	}
	return p, true
}

// synthTables writes a synthetic warehouse of n households (3 persons each,
// 24 months of income from 2024-01, contributions for a third of the
// persons, ~2 claims per person per year, disasters, assets, assistance,
// events) with DuckDB. It is for measuring speed only.
func synthTables(b testing.TB, db *sql.DB, dir string, n int) {
	stmts := map[string]string{
		"households": `SELECT 'H' || lpad(i::VARCHAR, 8, '0') AS household_id,
			'5301' || lpad((i % 50)::VARCHAR, 2, '0') || lpad((i % 7)::VARCHAR, 3, '0') || lpad((i % 13)::VARCHAR, 3, '0') AS region_code,
			CASE i % 10 WHEN 0 THEN 'monitored' WHEN 1 THEN 'escaped' WHEN 2 THEN 'escaped' ELSE 'general' END AS poverty_status,
			CASE WHEN i % 10 IN (1, 2) THEN 2019 END::INTEGER AS escape_year, NULL::VARCHAR AS monitor_type,
			DATE '2010-01-01' AS registered_date, i % 50 <> 0 AS housing_safe, i % 70 <> 0 AS water_safe
			FROM range(?) t(i)`,
		"persons": `SELECT 'P' || lpad(j::VARCHAR, 9, '0') AS person_id, 'H' || lpad((j // 3)::VARCHAR, 8, '0') AS household_id,
			NULL::VARCHAR AS id_number_hash, DATE '1950-01-01' + INTERVAL (j % 25000) DAY AS birth_date,
			CASE j % 2 WHEN 0 THEN 'M' ELSE 'F' END AS sex, 'head' AS relation,
			CASE j % 5 WHEN 0 THEN 'none' WHEN 1 THEN 'weak' WHEN 2 THEN 'lost' ELSE 'full' END AS labor_capacity,
			(j % 9 % 5)::INTEGER AS disability_grade, j % 11 = 0 AS chronic_disease, j % 37 = 0 AS major_disease,
			'compulsory' AS schooling, CASE WHEN j % 97 = 0 THEN DATE '2025-01-01' + INTERVAL (j % 300) DAY END AS deceased_date
			FROM range(? * 3) t(j)`,
		"income_records": `SELECT 'H' || lpad(i::VARCHAR, 8, '0') AS household_id, CAST(DATE '2024-01-01' + to_months(m::INTEGER) AS DATE) AS period,
			(i * 7 + m * 13) % 3000 * 1.0 + 0.01 * (i % 89) AS wage_income, (i % 500) * 1.0 AS business_income, 0.0 AS property_income,
			200.0 AS transfer_income, (i % 100) * 1.0 AS production_cost
			FROM range(?) t(i), range(24) s(m)`,
		"social_insurance": `SELECT 'P' || lpad((j * 3)::VARCHAR, 9, '0') AS person_id, CAST(DATE '2024-01-01' + to_months(m::INTEGER) AS DATE) AS period,
			'E1' AS employer_id, 4000.0 AS contribution_base
			FROM range(?) t(j), range(24) s(m) WHERE m < 12 + j % 13`,
		"medical_claims": `SELECT 'C' || k::VARCHAR AS claim_id, 'P' || lpad((k % (? * 3))::VARCHAR, 9, '0') AS person_id,
			DATE '2024-01-01' + INTERVAL (k * 7919 % 730) DAY AS service_date, 1000.0 + k % 5000 AS total_cost,
			500.0 AS insurance_paid, 500.0 + k % 4500 + 0.01 * (k % 97) AS out_of_pocket, k % 10 = 0 AS inpatient, 'I10' AS diagnosis
			FROM range(? * 12) t(k)`,
		"education": `SELECT 'P' || lpad((j * 3 + 2)::VARCHAR, 9, '0') AS person_id, DATE '2024-09-01' + INTERVAL (182 * s) DAY AS term_start,
			CASE j % 3 WHEN 0 THEN 'compulsory' WHEN 1 THEN 'high_school' ELSE 'tertiary' END AS level, 3000.0 AS fees, 1000.0 AS subsidy
			FROM range(? // 4) t(j), range(2) u(s)`,
		"disasters": `SELECT 'E' || e::VARCHAR AS event_id, '5301' || lpad((e % 50)::VARCHAR, 2, '0') || CASE WHEN e % 2 = 0 THEN lpad((e % 7)::VARCHAR, 3, '0') ELSE '' END AS region_code,
			NULL::VARCHAR AS household_id, DATE '2024-03-01' + INTERVAL (e * 37 % 600) DAY AS start_date, 'flood' AS kind, (1 + e % 4)::INTEGER AS severity, NULL::DOUBLE AS loss_amount
			FROM range(200 + 0 * ?) t(e)`,
		"assets": `SELECT 'H' || lpad((i * 5)::VARCHAR, 8, '0') AS household_id, NULL::VARCHAR AS person_id, 'vehicle' AS kind,
			DATE '2023-01-01' + INTERVAL (i % 900) DAY AS event_date, 50000.0 AS value FROM range(? // 5) t(i)`,
		"assistance": `SELECT 'H' || lpad((i * 4)::VARCHAR, 8, '0') AS household_id, 'dibao' AS program, DATE '2023-01-01' AS start_date,
			NULL::DATE AS end_date, 3600.0 AS amount FROM range(? // 4) t(i)`,
		"monitoring_events": `SELECT 'H' || lpad((i * 10)::VARCHAR, 8, '0') AS household_id, DATE '2024-01-01' + INTERVAL (i % 700) DAY AS identified_date,
			'illness' AS risk_type, NULL::DATE AS eliminated_date FROM range(? // 10) t(i)`,
	}
	ctx := context.Background()
	for name, q := range stmts {
		path := filepath.Join(dir, name+".parquet")
		args := []any{n}
		if name == "medical_claims" {
			args = []any{n, n}
		}
		// COPY takes no parameters: materialise first, then copy the table.
		if _, err := db.ExecContext(ctx, "CREATE OR REPLACE TABLE synth AS "+q, args...); err != nil {
			b.Fatalf("synth %s: %v", name, err)
		}
		if _, err := db.ExecContext(ctx, "COPY synth TO "+engine.QuoteString(path)+" (FORMAT parquet, ROW_GROUP_SIZE 4096)"); err != nil {
			b.Fatalf("synth %s: %v", name, err)
		}
	}
	db.ExecContext(ctx, "DROP TABLE synth")
}

// BenchmarkCompute: all features and rules for one as-of date over
// synthetic warehouses of graded sizes.
func BenchmarkCompute(b *testing.B) {
	sizes := []int{1000, 10000, 100000}
	if s := os.Getenv("POVRISK_BENCH_MAX"); s != "" {
		if m, err := strconv.Atoi(s); err == nil {
			sizes = append(sizes, m)
		}
	}
	for _, n := range sizes {
		b.Run(fmt.Sprintf("households=%d", n), func(b *testing.B) {
			db, err := engine.OpenDB("")
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			dir := b.TempDir()
			synthTables(b, db, dir, n)
			asOf := time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				var o Options
				if os.Getenv("POVRISK_BENCH_PROGRESS") != "" {
					o.Progress = os.Stderr
				}
				t, err := ComputeWith(context.Background(), db, dirTables(dir), asOf, nil, o)
				if err != nil {
					b.Fatal(err)
				}
				if int(t.NumRows()) != n {
					b.Fatalf("%d rows, want %d", t.NumRows(), n)
				}
				t.Release()
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "households/s")
		})
	}
}

// TestDeterministicAtScale: two computations over a synthetic warehouse of
// many record batches give byte-identical CSV (batch order of the parallel
// rule screen, join order). The float-summation order problem is caught by
// TestDeterministicSimulated (on simulated data; this synthetic data did not
// reproduce it).
func TestDeterministicAtScale(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 30,000-household warehouse")
	}
	db := openDB(t)
	if _, err := db.Exec("SET threads = 4"); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	synthTables(t, db, dir, 30000)
	asOf := time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC)
	var out [2]string
	for i := range out {
		out[i] = computeCSV(t, context.Background(), db, dirTables(dir), asOf, nil)
	}
	if out[0] != out[1] {
		t.Error("two computations over the same warehouse differ")
	}
}
