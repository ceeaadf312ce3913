// Command genrun writes the small fixed run directories that engine/brief
// tests read: five nightly runs of about 300 households in three counties of
// one city, with summary.json, checksums.sha256 and a matching audit.log,
// laid out as docs/run-directory.md specifies.
//
//	go run ./engine/brief/testdata/genrun -out engine/brief/testdata/runs
//
// It is deterministic: the same binary writes byte-identical files.
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/povrisk/povrisk/engine/audit"
)

// runs are the as-of dates of the fixture, oldest first.
var runs = []string{"2025-08-31", "2025-09-30", "2025-10-31", "2025-11-30", "2025-12-30", "2025-12-31"}

// townships with their household counts; 520125 is a small county whose
// cells fall under the small-count threshold.
var townships = []struct {
	code string
	n    int
	// drift is how much the township's scores rise per run.
	drift float64
}{
	{"520123100", 70, 0.00},
	{"520123101", 60, 0.01},
	{"520123102", 55, 0.05},
	{"520124100", 50, 0.02},
	{"520124101", 45, -0.01},
	{"520125100", 12, 0.00},
}

// kind is a household's latent situation: it sets rules, risk types,
// profile, driver and measures.
type kind struct {
	profile, profileZh string
	rules              string
	riskTypes          string
	driver             string
	measures           string
	oop                float64
}

var kinds = []kind{
	{"medical_burden", "医疗支出负担", "medical_burden;income_near_line", "illness", "oop_medical_12m", "medical_aid;temporary", 18000},
	{"job_loss", "务工就业不稳", "job_loss", "unemployment", "months_since_contribution", "employment_aid", 800},
	{"low_income", "收入低位徘徊", "income_near_line", "other", "net_income_pc_12m", "industry_aid", 1200},
	{"labor_shortage", "缺劳动力", "no_labor", "labor_shortage;illness", "labor_members", "dibao", 5000},
	{"education_cost", "教育支出负担", "education_cost", "education", "education_net_fees_12m", "education_aid", 600},
	{"housing", "住房安全", "housing_unsafe", "housing", "housing_unsafe", "housing_aid", 300},
	{"stable", "总体稳定", "", "other", "net_income_pc_12m", "", 400},
}

var riskZh = map[string]string{"illness": "因病", "unemployment": "因务工就业不稳", "other": "其他",
	"labor_shortage": "缺劳动力", "education": "因学", "housing": "因安全住房"}
var measureZh = map[string]string{"medical_aid": "医疗救助", "temporary": "临时救助", "employment_aid": "就业帮扶",
	"industry_aid": "产业帮扶", "dibao": "低保", "education_aid": "教育资助", "housing_aid": "危房改造"}

type household struct {
	id, region, county, township, status string
	k                                    kind
	base                                 float64
	drift                                float64
	// monitoredFrom is the run index from which the household is a
	// monitoring object and so no longer eligible (-1 never).
	monitoredFrom int
}

type row struct {
	h                                          *household
	score                                      float64
	rank, rankCounty, rankTownship             int32
	tier                                       string
	topK                                       bool
	rules, riskTypes, riskZh, primary, measure string
}

func main() {
	out := flag.String("out", "engine/brief/testdata/runs", "runs directory to (re)write")
	flag.Parse()
	if err := os.RemoveAll(*out); err != nil {
		log.Fatal(err)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		log.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, 2025))
	var hs []*household
	for _, t := range townships {
		for i := 0; i < t.n; i++ {
			village := fmt.Sprintf("%s%03d", t.code, 200+i%3)
			k := kinds[pickKind(rng, t.code)]
			st := "general"
			if rng.Float64() < 0.45 {
				st = "escaped"
			}
			h := &household{
				id: fmt.Sprintf("H%s%03d", t.code[4:], i), region: village, county: t.code[:6], township: t.code, status: st,
				k: k, base: baseScore(rng, k), drift: t.drift * (0.5 + rng.Float64()), monitoredFrom: -1,
			}
			if rng.Float64() < 0.04 {
				h.monitoredFrom = 2 + rng.IntN(4)
			}
			hs = append(hs, h)
		}
	}
	for ri, asOf := range runs {
		noise := rand.New(rand.NewPCG(11, uint64(ri)))
		var rows []*row
		for _, h := range hs {
			if h.monitoredFrom >= 0 && ri >= h.monitoredFrom {
				continue
			}
			s := h.base + h.drift*float64(ri) + 0.03*(noise.Float64()-0.5)
			s = math.Round(math.Min(0.99, math.Max(0.001, s))*10000) / 10000
			rows = append(rows, &row{h: h, score: s})
		}
		rankRows(rows)
		dir := filepath.Join(*out, asOf)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			log.Fatal(err)
		}
		files := map[string][]byte{}
		files["ranked.parquet"] = rankedParquet(rows)
		files["changes.csv"] = []byte("household_id,region_code,county_code,township_code,change,score,previous_score,delta\n")
		prev := ""
		if ri > 0 {
			prev = runs[ri-1]
		}
		files["summary.json"] = summary(asOf, prev, rows, len(hs))
		var names []string
		for n := range files {
			names = append(names, n)
		}
		sort.Strings(names)
		var sums bytes.Buffer
		for _, n := range names {
			if err := os.WriteFile(filepath.Join(dir, n), files[n], 0o644); err != nil {
				log.Fatal(err)
			}
			sum := sha256.Sum256(files[n])
			fmt.Fprintf(&sums, "%s  %s\n", hex.EncodeToString(sum[:]), n)
		}
		if err := os.WriteFile(filepath.Join(dir, "checksums.sha256"), sums.Bytes(), 0o644); err != nil {
			log.Fatal(err)
		}
		outputs, err := audit.HashTree(dir)
		if err != nil {
			log.Fatal(err)
		}
		rec := audit.Record{
			Time: asOf + "T23:10:00Z", User: "fixture", Command: "povrisk run --as-of " + asOf,
			Run: asOf, Model: "rf-20251130-fixture", PolicySHA256: policySHA, Outputs: outputs,
		}
		if _, err := audit.Append(*out, fixtureAuditKey(), rec, 0o644); err != nil {
			log.Fatal(err)
		}
	}
}

// fixtureAuditKey is the fixed audit key of the fixtures (not a secret).
func fixtureAuditKey() *audit.Key {
	k, err := audit.NewKey([]byte("povrisk brief fixture audit key, not a secret"))
	if err != nil {
		log.Fatal(err)
	}
	return k
}

const policySHA = "3f9a61c0d2b84e7aa1c5e0f4b7d9921e6c3a8b5d4f2e1a0b9c8d7e6f5a4b3c2d"

func pickKind(rng *rand.Rand, township string) int {
	x := rng.Float64()
	if township == "520123102" && x < 0.45 {
		return 0 // the township where illness drives the rise
	}
	return rng.IntN(len(kinds))
}

func baseScore(rng *rand.Rand, k kind) float64 {
	switch k.profile {
	case "stable":
		return 0.02 + 0.1*rng.Float64()
	case "medical_burden":
		return 0.15 + 0.4*rng.Float64()
	default:
		return 0.05 + 0.5*rng.Float64()
	}
}

func rankRows(rows []*row) {
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].score != rows[j].score {
			return rows[i].score > rows[j].score
		}
		return rows[i].h.id < rows[j].h.id
	})
	byCounty := map[string]int32{}
	byTown := map[string]int32{}
	countyN := map[string]int{}
	for _, r := range rows {
		countyN[r.h.county]++
	}
	for i, r := range rows {
		r.rank = int32(i + 1)
		byCounty[r.h.county]++
		byTown[r.h.township]++
		r.rankCounty = byCounty[r.h.county]
		r.rankTownship = byTown[r.h.township]
		n := countyN[r.h.county]
		top1 := int32(math.Max(1, math.Floor(float64(n)*0.01)))
		top5 := int32(math.Max(1, math.Floor(float64(n)*0.05)))
		switch {
		case r.score >= 0.5 || r.rankCounty <= top1:
			r.tier = "high"
		case r.score >= 0.2 || r.rankCounty <= top5:
			r.tier = "medium"
		default:
			r.tier = "low"
		}
		r.topK = r.rankCounty <= top5
		r.rules = r.h.k.rules
		rt := r.h.k.riskTypes
		if r.rules == "" && r.tier == "low" {
			rt = ""
		}
		r.riskTypes = rt
		var zh []string
		for _, c := range strings.Split(rt, ";") {
			if c != "" {
				zh = append(zh, riskZh[c])
			}
		}
		r.riskZh = strings.Join(zh, ";")
		r.primary = strings.Split(r.h.k.riskTypes, ";")[0]
		if r.tier != "low" {
			r.measure = r.h.k.measures
		}
	}
}

func zhList(codes string, m map[string]string) string {
	var zh []string
	for _, c := range strings.Split(codes, ";") {
		if c != "" {
			zh = append(zh, m[c])
		}
	}
	return strings.Join(zh, ";")
}

func rankedParquet(rows []*row) []byte {
	str := arrow.BinaryTypes.String
	fields := []arrow.Field{
		{Name: "household_id", Type: str}, {Name: "region_code", Type: str}, {Name: "county_code", Type: str},
		{Name: "township_code", Type: str}, {Name: "poverty_status", Type: str},
		{Name: "score", Type: arrow.PrimitiveTypes.Float64}, {Name: "rank", Type: arrow.PrimitiveTypes.Int32},
		{Name: "rank_county", Type: arrow.PrimitiveTypes.Int32}, {Name: "rank_township", Type: arrow.PrimitiveTypes.Int32},
		{Name: "tier", Type: str}, {Name: "in_top_k", Type: arrow.FixedWidthTypes.Boolean},
		{Name: "profile", Type: str}, {Name: "profile_zh", Type: str}, {Name: "rules", Type: str},
		{Name: "risk_types", Type: str}, {Name: "risk_types_zh", Type: str}, {Name: "primary_risk_type", Type: str},
		{Name: "reasons", Type: str}, {Name: "reasons_en", Type: str}, {Name: "top_driver", Type: str},
		{Name: "conflicts", Type: str}, {Name: "measures", Type: str}, {Name: "measures_zh", Type: str},
		{Name: "net_income_pc_12m", Type: arrow.PrimitiveTypes.Float64}, {Name: "oop_medical_12m", Type: arrow.PrimitiveTypes.Float64},
	}
	schema := arrow.NewSchema(fields, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	s := func(i int, v string) { b.Field(i).(*array.StringBuilder).Append(v) }
	for _, r := range rows {
		h := r.h
		s(0, h.id)
		s(1, h.region)
		s(2, h.county)
		s(3, h.township)
		s(4, h.status)
		b.Field(5).(*array.Float64Builder).Append(r.score)
		b.Field(6).(*array.Int32Builder).Append(r.rank)
		b.Field(7).(*array.Int32Builder).Append(r.rankCounty)
		b.Field(8).(*array.Int32Builder).Append(r.rankTownship)
		s(9, r.tier)
		b.Field(10).(*array.BooleanBuilder).Append(r.topK)
		s(11, h.k.profile)
		s(12, h.k.profileZh)
		s(13, r.rules)
		s(14, r.riskTypes)
		s(15, r.riskZh)
		s(16, r.primary)
		s(17, "近12个月人均纯收入偏低")
		s(18, "low 12-month net income per person")
		s(19, h.k.driver)
		s(20, "")
		s(21, r.measure)
		s(22, zhList(r.measure, measureZh))
		b.Field(23).(*array.Float64Builder).Append(math.Round(6000 + 4000*r.score))
		b.Field(24).(*array.Float64Builder).Append(math.Round(h.k.oop * (0.5 + r.score)))
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	tbl := array.NewTableFromRecords(schema, []arrow.RecordBatch{rec})
	defer tbl.Release()
	var buf bytes.Buffer
	props := parquet.NewWriterProperties(parquet.WithCreatedBy("povrisk fixture"))
	if err := pqarrow.WriteTable(tbl, &buf, 4096, props, pqarrow.DefaultWriterProps()); err != nil {
		log.Fatal(err)
	}
	return buf.Bytes()
}

func summary(asOf, prev string, rows []*row, households int) []byte {
	tiers := map[string]int{}
	byRisk := map[string]int{}
	byProfile := map[string]int{}
	flagged, topK, missed := 0, 0, 0
	topKCounty := map[string]int{}
	for _, r := range rows {
		tiers[r.tier]++
		for _, c := range strings.Split(r.riskTypes, ";") {
			if c != "" {
				byRisk[c]++
			}
		}
		byProfile[r.h.k.profile]++
		if r.rules != "" {
			flagged++
		}
		if r.topK {
			topK++
			topKCounty[r.h.county]++
			if r.rules == "" {
				missed++
			}
		}
	}
	medLatest := "2025-12-27"
	if asOf >= "2025-12-30" {
		medLatest = "2025-09-15" // the medical feed stopped: the brief must say so
	}
	s := map[string]any{
		"schema": 1, "as_of": asOf, "previous_run": prev,
		"model": map[string]any{"id": "rf-20251130-fixture", "trained_on": "2025-11-30", "auc": 0.87, "pr_auc": 0.29,
			"precision_at": map[string]float64{"0.01": 0.41, "0.05": 0.23, "0.1": 0.16}, "catalog_hash": "c0ffee12"},
		"policy": map[string]any{"file": "policy.toml", "sha256": policySHA,
			"lines": []map[string]any{{"province": "52", "year": 2025, "line": 8700, "entry": "52/2025", "fallback": ""}}},
		"tiers": map[string]float64{"high": 0.5, "medium": 0.2, "high_county_share": 0.01, "medium_county_share": 0.05},
		"counts": map[string]any{
			"households": households, "eligible": len(rows), "monitored_excluded": households - len(rows),
			"by_tier": tiers, "by_risk_type": byRisk, "by_profile": byProfile,
			"rules_flagged": flagged, "top_k_total": topK, "top_k_missed_by_rules": missed,
		},
		"top_k": topKCounty,
		"coverage": []map[string]any{
			{"table": "households", "present": true, "rows": households, "latest": asOf, "households_share": 1.0, "rejected": 2},
			{"table": "persons", "present": true, "rows": households * 3, "latest": asOf, "households_share": 1.0, "rejected": 5},
			{"table": "income_records", "present": true, "rows": households * 12, "latest": asOf[:7] + "-01", "households_share": 0.97, "rejected": 14},
			{"table": "medical_claims", "present": true, "rows": 640, "latest": medLatest, "households_share": 0.58, "rejected": 3},
			{"table": "social_insurance", "present": true, "rows": 2100, "latest": asOf[:7] + "-01", "households_share": 0.41, "rejected": 0},
			{"table": "assets", "present": false, "rows": 0, "latest": "", "households_share": 0.0, "rejected": 0},
		},
		"missing_tables": []string{"assets"},
		"validation": map[string]any{"as_of": "2025-05-31", "horizon_months": 6, "auc": 0.86, "pr_auc": 0.28,
			"precision_at": map[string]float64{"0.05": 0.22}, "rules_precision_at": map[string]float64{"0.05": 0.05}},
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		log.Fatal(err)
	}
	return append(b, '\n')
}
