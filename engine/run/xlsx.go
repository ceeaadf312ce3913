package run

import (
	"fmt"
	"io"
	"math"
	"sort"

	"github.com/xuri/excelize/v2"

	"github.com/povrisk/povrisk/engine/rundir"
)

// worklistHeader is the header of every work-list sheet: what a cadre needs
// for the visit and nothing more (no names, ID numbers, phones, bank
// accounts or diagnoses).
var worklistHeader = []string{"县内排名", "户编号", "村代码", "风险评分", "风险等级", "主要原因", "建议帮扶措施"}

// tierZh is a tier in Chinese.
var tierZh = map[string]string{"high": "高", "medium": "中", "low": "低"}

// fixedDocProps are the XLSX document properties: constant, so that the
// same list gives the same bytes.
var fixedDocProps = excelize.DocProperties{
	Creator:        "povrisk",
	LastModifiedBy: "povrisk",
	Created:        "2000-01-01T00:00:00Z",
	Modified:       "2000-01-01T00:00:00Z",
	Title:          "防返贫监测预警工作清单",
	Language:       "zh-CN",
}

// worklistRow is a work-list line as displayed (also used by the tests).
func worklistRow(r *rundir.Row) []any {
	return []any{int(r.RankCounty), r.HouseholdID, r.RegionCode, math.Round(r.Score*1e4) / 1e4, tierZh[r.Tier], r.Reasons, r.MeasuresZh}
}

// writeWorklist writes one county's work list: one sheet per township
// (named by its 9-digit code, sorted), holding that township's households
// within the county top k, in county rank order. rows are the county's rows
// in rank order.
func writeWorklist(w io.Writer, rows []*rundir.Row) error {
	byTown := map[string][]*rundir.Row{}
	for _, r := range rows {
		if r.InTopK {
			byTown[r.TownshipCode] = append(byTown[r.TownshipCode], r)
		}
	}
	towns := make([]string, 0, len(byTown))
	for t := range byTown {
		towns = append(towns, t)
	}
	sort.Strings(towns)
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetDocProps(&fixedDocProps); err != nil {
		return fmt.Errorf("xlsx properties: %w", err)
	}
	scoreFmt := "0.0000"
	style, err := f.NewStyle(&excelize.Style{CustomNumFmt: &scoreFmt})
	if err != nil {
		return fmt.Errorf("xlsx style: %w", err)
	}
	head, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return fmt.Errorf("xlsx style: %w", err)
	}
	if len(towns) == 0 {
		towns = []string{"清单"} // an empty county list still opens
	}
	for i, t := range towns {
		if i == 0 {
			if err := f.SetSheetName("Sheet1", t); err != nil {
				return fmt.Errorf("xlsx sheet %s: %w", t, err)
			}
		} else if _, err := f.NewSheet(t); err != nil {
			return fmt.Errorf("xlsx sheet %s: %w", t, err)
		}
		if err := f.SetSheetRow(t, "A1", &worklistHeader); err != nil {
			return fmt.Errorf("xlsx sheet %s header: %w", t, err)
		}
		if err := f.SetRowStyle(t, 1, 1, head); err != nil {
			return fmt.Errorf("xlsx sheet %s header style: %w", t, err)
		}
		for j, r := range byTown[t] {
			vals := worklistRow(r)
			cell, _ := excelize.CoordinatesToCellName(1, j+2)
			if err := f.SetSheetRow(t, cell, &vals); err != nil {
				return fmt.Errorf("xlsx sheet %s row %d: %w", t, j+2, err)
			}
		}
		if n := len(byTown[t]); n > 0 {
			if err := f.SetCellStyle(t, "D2", fmt.Sprintf("D%d", n+1), style); err != nil {
				return fmt.Errorf("xlsx sheet %s style: %w", t, err)
			}
		}
		for k, width := range []float64{9, 16, 14, 10, 9, 80, 30} {
			col, _ := excelize.ColumnNumberToName(k + 1)
			if err := f.SetColWidth(t, col, col, width); err != nil {
				return fmt.Errorf("xlsx sheet %s width: %w", t, err)
			}
		}
	}
	f.SetActiveSheet(0)
	if _, err := f.WriteTo(w); err != nil {
		return fmt.Errorf("write xlsx: %w", err)
	}
	return nil
}
