package brief

import (
	"context"
	"database/sql"
	"fmt"
	"html"
	"maps"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/povrisk/povrisk/engine"
)

var reFact = regexp.MustCompile(`data-fact="(\w+)">([^<]*)<`)

// stated returns the figures the brief states, by name.
func stated(page string) map[string]string {
	out := map[string]string{}
	for _, m := range reFact.FindAllStringSubmatch(page, -1) {
		if _, ok := out[m[1]]; !ok {
			out[m[1]] = html.UnescapeString(m[2])
		}
	}
	return out
}

// TestHeadlineTraceable recomputes the headline figures from the runs'
// ranked.parquet with DuckDB SQL, independently of the brief's code, and
// compares them with what the brief states.
func TestHeadlineTraceable(t *testing.T) {
	db, err := engine.OpenDB("")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	abs := func(run string) string {
		p, err := filepath.Abs(filepath.Join(fixtureRuns, run, "ranked.parquet"))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	// In the fixture, the run before 2025-12-31 is 2025-12-30 and the run a
	// month earlier is 2025-11-30.
	cur, prev, month := abs("2025-12-31"), abs("2025-12-30"), abs("2025-11-30")
	for _, region := range []string{"", "52", "5201", "520123", "520121"} {
		t.Run("region="+region, func(t *testing.T) {
			q := func(query string, args ...any) int {
				t.Helper()
				var n int
				if err := db.QueryRow(query, args...).Scan(&n); err != nil {
					t.Fatalf("%s: %v", query, err)
				}
				return n
			}
			like := region + "%"
			high := func(file string) int {
				return q(`SELECT count(*) FROM read_parquet(?) WHERE tier = 'high' AND region_code LIKE ?`, file, like)
			}
			hNow, hPrev, hMonth := high(cur), high(prev), high(month)
			eligible := q(`SELECT count(*) FROM read_parquet(?) WHERE region_code LIKE ?`, cur, like)
			newHigh := q(`SELECT count(*) FROM read_parquet(?) c WHERE c.tier = 'high' AND c.region_code LIKE ?
				AND c.household_id NOT IN (SELECT household_id FROM read_parquet(?) WHERE tier = 'high')`, cur, like, month)
			flagged := q(`SELECT count(*) FROM read_parquet(?) WHERE rules <> '' AND region_code LIKE ?`, cur, like)
			topK := q(`SELECT count(*) FROM read_parquet(?) WHERE in_top_k AND region_code LIKE ?`, cur, like)
			missed := q(`SELECT count(*) FROM read_parquet(?) WHERE in_top_k AND rules = '' AND region_code LIKE ?`, cur, like)
			var topType string
			var topN int
			err := db.QueryRow(`SELECT primary_risk_type, count(*) n FROM read_parquet(?) c WHERE c.tier = 'high' AND c.region_code LIKE ?
				AND c.household_id NOT IN (SELECT household_id FROM read_parquet(?) WHERE tier = 'high')
				GROUP BY 1 ORDER BY n DESC, 1 LIMIT 1`, cur, like, month).Scan(&topType, &topN)
			if err != nil && err != sql.ErrNoRows {
				t.Fatal(err)
			}

			want := map[string]string{
				"high": shown(hNow), "eligible": shown(eligible), "new_high": shown(newHigh),
				"change_prev": change(hNow, hPrev), "change_month": change(hNow, hMonth),
				"rules_flagged": shown(flagged), "top_k": shown(topK), "top_k_missed": shown(missed),
			}
			if topN >= 5 {
				want["insight_1_share"] = fmt.Sprintf("%d%%", int(math.Round(100*float64(topN)/float64(newHigh))))
			}
			for _, lg := range []string{"zh", "en"} {
				got := stated(renderFixture(t, Options{Run: fixtureRun("2025-12-31"), Region: region, Lang: lg}))
				for _, k := range slices.Sorted(maps.Keys(want)) {
					if got[k] != want[k] {
						t.Errorf("%s: brief states %s = %q, ranked.parquet gives %q", lg, k, got[k], want[k])
					}
				}
			}
		})
	}
}

// shown is how a count must appear: "<5" under five.
func shown(n int) string {
	if n < 5 {
		return "<5"
	}
	s := fmt.Sprint(n)
	if n >= 1000 {
		s = fmt.Sprintf("%d,%03d", n/1000, n%1000)
	}
	return s
}

func change(now, before int) string {
	switch {
	case now < 5 || before < 5:
		return "—"
	case now > before:
		return fmt.Sprintf("+%d", now-before)
	}
	return fmt.Sprint(now - before)
}

// TestNoHouseholdIDs: no household id of the run appears anywhere in a brief
// (ids read with DuckDB, not with the brief's reader), and the same inputs
// give byte-identical briefs.
func TestNoHouseholdIDs(t *testing.T) {
	db, err := engine.OpenDB("")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	path, _ := filepath.Abs(filepath.Join(fixtureRuns, "2025-12-31", "ranked.parquet"))
	rows, err := db.Query(`SELECT household_id FROM read_parquet(?) ORDER BY 1`, path)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if len(ids) < 100 {
		t.Fatalf("fixture has %d households; expected a few hundred", len(ids))
	}
	for _, o := range []Options{{Lang: "zh"}, {Lang: "en"}, {Lang: "zh", Region: "520123"}, {Lang: "en", Region: "520326"}} {
		o.Run = fixtureRun("2025-12-31")
		page := renderFixture(t, o)
		for _, id := range ids {
			if strings.Contains(page, id) {
				t.Errorf("%+v: brief contains household id %s", o, id)
			}
		}
		if again := renderFixture(t, o); again != page {
			t.Errorf("%+v: two renderings of the same run differ", o)
		}
	}
}

// TestRealRun briefs a run directory written by `povrisk run` (engine/run)
// when BRIEF_REAL_RUN names one, and checks the stated figures against its
// ranked.parquet with DuckDB. Off by default: building a real run needs a
// generated drop, a trained model and minutes of work (engine/run's own
// end-to-end test builds one).
func TestRealRun(t *testing.T) {
	dir := os.Getenv("BRIEF_REAL_RUN")
	if dir == "" {
		t.Skip("set BRIEF_REAL_RUN=RUNS/<as-of> to brief a real run directory")
	}
	db, err := engine.OpenDB("")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	path, _ := filepath.Abs(filepath.Join(dir, "ranked.parquet"))
	var high, eligible, flagged, topK, missed int
	err = db.QueryRow(`SELECT count(*) FILTER (tier = 'high'), count(*), count(*) FILTER (rules <> ''),
		count(*) FILTER (in_top_k), count(*) FILTER (in_top_k AND rules = '') FROM read_parquet(?)`, path).
		Scan(&high, &eligible, &flagged, &topK, &missed)
	if err != nil {
		t.Fatal(err)
	}
	var buf strings.Builder
	if _, err := HTML(context.Background(), &buf, Options{Run: dir, Lang: "en"}); err != nil {
		t.Fatal(err)
	}
	got := stated(buf.String())
	want := map[string]string{"high": shown(high), "eligible": shown(eligible), "rules_flagged": shown(flagged), "top_k": shown(topK), "top_k_missed": shown(missed)}
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if got[k] != want[k] {
			t.Errorf("brief states %s = %q, ranked.parquet gives %q", k, got[k], want[k])
		}
	}
}
