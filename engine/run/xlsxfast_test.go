package run

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/povrisk/povrisk/engine/rundir"
)

// fastTestWorklist is a county of many townships, listed and unlisted
// rows, watch and entered marks, and monitored households whose figures
// are unknown (NaN), infinite, negative, fractional and large: every
// kind of cell the fast path writes. odd are texts put in the reasons.
func fastTestWorklist(n int, odd []string) *worklist {
	rng := rand.New(rand.NewPCG(7, 11))
	tiers := []string{"high", "medium", "low"}
	risks := []string{"illness", "unemployment", "education", "disaster", ""}
	rows := make([]rundir.Row, n)
	for i := range rows {
		town := fmt.Sprintf("5201231%02d", 1+rng.IntN(5))
		reason := fmt.Sprintf("近12个月人均纯收入%d元；曾%d次被识别为监测对象", rng.IntN(9000), rng.IntN(3))
		if len(odd) > 0 && i%3 == 0 {
			reason = odd[i%len(odd)]
		}
		rows[i] = rundir.Row{HouseholdID: fmt.Sprintf("H%08d", i), RegionCode: town + fmt.Sprintf("%03d", rng.IntN(4)), TownshipCode: town,
			RankCounty: int32(i + 1), Tier: tiers[rng.IntN(3)], InTopK: rng.IntN(5) > 0, Reasons: reason, Entered: rng.IntN(4) == 0,
			Watch: rng.IntN(6) == 0, MeasuresZh: "医疗救助;临时救助", PrimaryRiskType: risks[rng.IntN(len(risks))], Conflicts: []string{"", "车辆1条记录"}[rng.IntN(2)]}
		if rng.IntN(3) == 0 {
			rows[i].VillageName = "红岩村"
		}
	}
	wl := testWorklist(rows)
	vals := []float64{math.NaN(), math.Inf(1), -1234.5, 0.4, 1e22, 7000, 8800.4}
	for i := range n / 2 {
		wl.elim = append(wl.elim, rundir.ElimRow{HouseholdID: fmt.Sprintf("M%06d", i), RegionCode: "520123101001", IdentifiedDate: "2025-01-31",
			MonthsSinceIdentified: i % 40, IncomePC6m: vals[i%len(vals)], IncomePC12m: vals[(i+3)%len(vals)], Line: 7000,
			RigidExpenditure: vals[(i+5)%len(vals)], Relapse: []float64{math.NaN(), 0.123}[i%2], Verdict: []string{"ready", "defer", "not_met"}[i%3],
			Unmet: []string{"收入", "住房"}[:i%3], Conditions: []rundir.ElimCondition{{Name: "收入", Met: i%2 == 0, Fact: "近12个月人均8800元"},
				{Name: "住房", Met: true, Fact: "安全"}}[:1+i%2]})
	}
	return wl
}

// TestWorklistFastBytes: the fast path writes excelize's bytes, whatever
// the cells hold (XML specials, line breaks inside a text, quotes, CJK,
// unknown and infinite amounts); a text excelize would rewrite ("_xHHHH_",
// white space at either end) sends the workbook to excelize's own path,
// with the same bytes as before.
func TestWorklistFastBytes(t *testing.T) {
	cases := []struct {
		name string
		wl   *worklist
		slow bool // the fast path must refuse it
	}{
		{"plain", fastTestWorklist(400, nil), false},
		{"specials", fastTestWorklist(300, []string{`a<b>&c"d'e`, "行一\n行二\r\n行三", "tab\tinside", "", "=SUM(A1)", "\x01bad\xffutf8", "末尾"}), false},
		{"small", testWorklist(testRows()), false},
		{"bstr", fastTestWorklist(50, []string{"x_x0041_y"}), true},
		{"space", fastTestWorklist(50, []string{" 前空格"}), true},
		{"long", fastTestWorklist(20, []string{strings.Repeat("长", 40000)}), true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var slow, fast bytes.Buffer
			if err := buildWorklist(&slow, c.wl, false); err != nil {
				t.Fatal(err)
			}
			err := buildWorklist(&fast, c.wl, true)
			if c.slow {
				if !errors.Is(err, errSlowPath) || fast.Len() != 0 {
					t.Fatalf("fast path took %s (err %v, %d bytes written)", c.name, err, fast.Len())
				}
				fast.Reset()
				if err := writeWorklist(&fast, c.wl); err != nil {
					t.Fatal(err)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(slow.Bytes(), fast.Bytes()) {
				t.Fatalf("fast path bytes differ from excelize's (%d against %d bytes)", fast.Len(), slow.Len())
			}
		})
	}
}

// BenchmarkWorklist: one county's work list of 10,000 listed rows and
// 5,000 monitored households, through the fast path and excelize alone.
func BenchmarkWorklist(b *testing.B) {
	wl := fastTestWorklist(10000, nil)
	for _, fast := range []bool{true, false} {
		b.Run(fmt.Sprintf("fast=%v", fast), func(b *testing.B) {
			for b.Loop() {
				var buf bytes.Buffer
				if err := buildWorklist(&buf, wl, fast); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
