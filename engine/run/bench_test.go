package run

import (
	"fmt"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/povrisk/povrisk/engine/rundir"
)

// syntheticRows makes n rows over 6 counties of 10 townships, with
// reasons of a typical length.
func syntheticRows(n int) []rundir.Row {
	rng := rand.New(rand.NewPCG(1, 1))
	rows := make([]rundir.Row, n)
	for i := range rows {
		c := fmt.Sprintf("5201%02d", rng.IntN(6))
		tw := c + fmt.Sprintf("%03d", 100+rng.IntN(10))
		rows[i] = rundir.Row{HouseholdID: fmt.Sprintf("H%08d", i), RegionCode: tw + "201", CountyCode: c, TownshipCode: tw, PovertyStatus: "general",
			Score: rng.Float64() * rng.Float64(), Profile: "mixed", ProfileZh: "综合风险", Rules: "income_near_line", RiskTypes: "illness;other",
			RiskTypesZh: "因病;其他", PrimaryRiskType: "illness", Reasons: "近3个月自付医疗费为平常月份的4.2倍；近12个月人均纯收入5200元；有1名慢病登记成员",
			ReasonsEn: "out-of-pocket medical spending in the last 3 months 4.2x the usual month; net income per person 5,200 yuan over 12 months",
			TopDriver: "oop_spike_ratio", Measures: "medical_aid;temporary", MeasuresZh: "医疗救助;临时救助", NetIncomePC12m: 5200.5, OOPMedical12m: 1234.5}
	}
	return rows
}

// BenchmarkRankAndWrite ranks n households and writes ranked.parquet and
// ranked.csv (to io.Discard): the night's work after scoring.
func BenchmarkRankAndWrite(b *testing.B) {
	for _, n := range []int{10_000, 100_000, 300_000, 1_000_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			src := syntheticRows(n)
			rows := make([]rundir.Row, n)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				copy(rows, src)
				rankRows(rows, DefaultTopShare, nil)
				if err := rundir.WriteRankedParquet(io.Discard, rows); err != nil {
					b.Fatal(err)
				}
				if err := rundir.WriteRankedCSV(io.Discard, rows); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
