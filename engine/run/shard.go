package run

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/povrisk/povrisk/engine/fault"
)

// Shard is one task of a night split across machines: shard K of N
// (0 <= K < N). See docs/scale.md.
type Shard struct{ K, N int }

func (s Shard) String() string { return fmt.Sprintf("%d-of-%d", s.K, s.N) }

// DefaultShardHouseholds is the default size of a county group: the night
// computes features, scores, explanations and part files one group at a
// time, so that its peak memory is set by the largest group.
const DefaultShardHouseholds = 250_000

// MaxShards bounds N of --shard K/N and --shards.
const MaxShards = 10_000

// ParseShard reads --shard: "K/N" (K from 0) or "auto/N", where K is
// taken from JOB_COMPLETION_INDEX (a Kubernetes Indexed Job), else
// SLURM_ARRAY_TASK_ID (a Slurm job array). getenv is os.Getenv in the
// command. Errors are of kind fault.Usage.
func ParseShard(s string, getenv func(string) string) (Shard, error) {
	ks, ns, ok := strings.Cut(s, "/")
	n, err := strconv.Atoi(ns)
	if !ok || err != nil || n < 1 || n > MaxShards {
		return Shard{}, usage("--shard %q: want K/N or auto/N with N a count from 1 to %d", s, MaxShards)
	}
	if ks == "auto" {
		ks = ""
		for _, v := range []string{"JOB_COMPLETION_INDEX", "SLURM_ARRAY_TASK_ID"} {
			if ks = strings.TrimSpace(getenv(v)); ks != "" {
				if _, err := strconv.Atoi(ks); err != nil {
					return Shard{}, usage("--shard auto/%d: %s=%q is not a shard index", n, v, ks)
				}
				break
			}
		}
		if ks == "" {
			return Shard{}, usage("--shard auto/%d: neither JOB_COMPLETION_INDEX (Kubernetes Indexed Job) nor SLURM_ARRAY_TASK_ID (Slurm array) is set; give --shard K/%d", n, n)
		}
	}
	k, err := strconv.Atoi(ks)
	if err != nil || k < 0 || k >= n {
		return Shard{}, usage("--shard %q: K must be a whole number from 0 to %d", s, n-1)
	}
	return Shard{K: k, N: n}, nil
}

// ShardsDir is where shard K of N of the night asOf writes its result:
// RUNS/.shards/<as_of>/<K>-of-<N>.
func ShardsDir(runs, asOf string, s Shard) string {
	return filepath.Join(runs, ".shards", asOf, s.String())
}

// countySize is a county and its number of households.
type countySize struct {
	code string
	n    int64
}

// countySizes counts the households of every county in the warehouse's
// households table (county: the first 6 characters of region_code),
// ordered by code.
func countySizes(ctx context.Context, db *sql.DB, in *inputs) ([]countySize, error) {
	path, _ := in.w.TablePath("households")
	q, err := db.QueryContext(ctx, `SELECT substr(region_code, 1, 6) AS c, count(*) FROM read_parquet(?) GROUP BY c ORDER BY c`, path)
	if err != nil {
		return nil, fault.Wrap(fault.BadInput, fmt.Errorf("count the households of each county: %w", err))
	}
	defer q.Close()
	var out []countySize
	for q.Next() {
		var c sql.NullString
		var n int64
		if err := q.Scan(&c, &n); err != nil {
			return nil, fault.Wrap(fault.BadInput, fmt.Errorf("count the households of each county: %w", err))
		}
		if c.Valid { // a household without a region is in no county and no feature table
			out = append(out, countySize{c.String, n})
		}
	}
	if err := q.Err(); err != nil {
		return nil, fault.Wrap(fault.BadInput, fmt.Errorf("count the households of each county: %w", err))
	}
	return out, nil
}

// balance splits counties into n groups of about equal households:
// counties by households descending (ties by code), each to the group
// with the fewest households so far (ties: the lower index). Each group's
// counties are sorted by code. The result depends on the counts only, so
// every task of a sharded night computes the same split.
func balance(counties []countySize, n int) [][]string {
	order := slices.Clone(counties)
	slices.SortFunc(order, func(a, b countySize) int {
		if c := cmp.Compare(b.n, a.n); c != 0 {
			return c
		}
		return strings.Compare(a.code, b.code)
	})
	groups := make([][]string, n)
	load := make([]int64, n)
	for _, c := range order {
		best := 0
		for g := 1; g < n; g++ {
			if load[g] < load[best] {
				best = g
			}
		}
		groups[best] = append(groups[best], c.code)
		load[best] += c.n
	}
	for _, g := range groups {
		slices.Sort(g)
	}
	return groups
}

// groupsOf cuts a set of counties (of the sizes given) into county
// groups of about maxHH households each (at least one group; a county is
// never split, so a county larger than maxHH is a group of its own size),
// balanced as balance does. Groups without a county are dropped, except
// that the result always holds at least one (possibly empty) group.
func groupsOf(counties []string, sizes []countySize, maxHH int) [][]string {
	set := map[string]bool{}
	for _, c := range counties {
		set[c] = true
	}
	var mine []countySize
	var total int64
	for _, s := range sizes {
		if set[s.code] {
			mine = append(mine, s)
			total += s.n
		}
	}
	n := int((total + int64(maxHH) - 1) / int64(maxHH))
	n = max(1, min(n, len(mine)))
	var out [][]string
	for _, g := range balance(mine, n) {
		if len(g) > 0 {
			out = append(out, g)
		}
	}
	if len(out) == 0 {
		out = [][]string{{}}
	}
	return out
}

// countyOwner is the county of a household for deciding which shard
// reports it: known counties map to themselves; any other code (a county
// that no longer has households) to "", owned by shard 0.
func shardOfCounty(assign map[string]int, county string) int {
	return assign[county] // 0 when unknown
}
