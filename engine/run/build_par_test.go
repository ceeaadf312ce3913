package run

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"runtime"
	"slices"
	"testing"

	"github.com/povrisk/povrisk/models"
	"github.com/povrisk/povrisk/models/kmeans"
)

// TestBuildRowsWorkers: buildRows gives the same rows, in the same order,
// on one core as on several (each worker its own reasoner), with
// monitored households left out and every row's own household in it.
func TestBuildRowsWorkers(t *testing.T) {
	const n = 3*buildChunk + 123
	rng := rand.New(rand.NewPCG(3, 5))
	names := slices.Sorted(maps.Keys(featureTexts))[:6]
	X := models.Matrix{Rows: n, Names: names, Cols: make([][]float64, len(names))}
	contrib := models.Matrix{Rows: n, Names: names, Cols: make([][]float64, len(names))}
	for j := range names {
		X.Cols[j], contrib.Cols[j] = make([]float64, n), make([]float64, n)
		for i := range n {
			X.Cols[j][i], contrib.Cols[j][i] = rng.Float64()*100, rng.NormFloat64()
		}
	}
	c := &infoColumns{}
	ids, score, cluster := make([]string, n), make([]float64, n), make([]int, n)
	for i := range n {
		ids[i], score[i], cluster[i] = fmt.Sprintf("H%08d", i), rng.Float64(), i%2
		c.region = append(c.region, fmt.Sprintf("520123%03d%03d", 100+i%7, i%5))
		c.status = append(c.status, "general")
		c.rules = append(c.rules, []string{"", "income_near_line"}[i%2])
		c.riskTypes = append(c.riskTypes, []string{"", "illness;other"}[i%2])
		c.facts = append(c.facts, []string{"", "近12个月人均纯收入5200元"}[i%3%2])
		c.factsEn = append(c.factsEn, []string{"", "net income 5,200"}[i%3%2])
		c.monitored = append(c.monitored, i%10 == 0)
		c.netIncomePC = append(c.netIncomePC, rng.Float64()*9000)
		c.oopMedical = append(c.oopMedical, float64(i%13)*100.5) // not NaN: DeepEqual compares the rows
	}
	for range assetKinds {
		cnt, val, last := make([]float64, n), make([]float64, n), make([]string, n)
		for i := range n {
			cnt[i], val[i], last[i] = float64(i%3), float64(i%7)*1e4, "2025-06-30"
		}
		c.assetCount, c.assetValue, c.assetLatest = append(c.assetCount, cnt), append(c.assetValue, val), append(c.assetLatest, last)
	}
	profs := []kmeans.Profile{{Name: "a", NameZh: "甲", RiskType: "illness"}, {Name: "b", NameZh: "乙", RiskType: "other"}}
	build := func(procs int) any {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		return buildRows(ids, score, X, contrib, cluster, profs, c, names)
	}
	one := build(1)
	rows := reflect.ValueOf(one)
	if rows.Len() != n-(n+9)/10 {
		t.Fatalf("%d rows, want %d (the monitored tenth left out)", rows.Len(), n-(n+9)/10)
	}
	for k := range rows.Len() {
		i := int(rows.Index(k).FieldByName("Index").Int())
		if i%10 == 0 || rows.Index(k).FieldByName("HouseholdID").String() != ids[i] {
			t.Fatalf("row %d is household %d (%s)", k, i, rows.Index(k).FieldByName("HouseholdID"))
		}
	}
	for _, p := range []int{2, 3} {
		if got := build(p); !reflect.DeepEqual(got, one) {
			t.Errorf("buildRows on %d cores differs from one core", p)
		}
	}
}
