package run

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/xuri/excelize/v2"

	"github.com/povrisk/povrisk/engine/rundir"
)

// The work list (台账) of a county, worklists/<county6>.xlsx: the format
// of docs/run-directory.md ("Work lists"), read back by povrisk feedback.

// WorklistFormat is the _povrisk sheet's format value.
const WorklistFormat = "povrisk-worklist/1"

// Header texts of the township sheets (exact: povrisk feedback finds the
// columns by them).
const (
	colSeq, colID, colVillage, colTier, colNew, colWatch = "序号", "户编号", "村", "风险等级", "新进入", "回头看"
	colWhy, colRisk, colReasons, colHint, colMeasures    = "列入原因", "主要风险", "风险原因", "提示", "建议措施"
	colOutcome, colDate, colVisitor, colNote             = "核查结果", "核查日期", "核查人编号", "备注"
)

// worklistHeader is the header row of every township sheet: what a cadre
// needs for the visit and nothing more (no score, names, ID numbers,
// phones, bank accounts or diagnoses), then the four visit columns.
func worklistHeader() []string {
	return []string{colSeq, colID, colVillage, colTier, colNew, colWatch, colWhy, colRisk, colReasons, colHint, colMeasures,
		colOutcome, colDate, colVisitor, colNote}
}

// worklistWidths are the column widths of a township sheet (characters).
var worklistWidths = []float64{5, 15, 9, 5, 5, 5, 10, 8, 66, 16, 15, 12, 10, 9, 12}

// visitCols is the number of visit columns (the last of the header), the
// only cells a cadre may edit.
const visitCols = 4

// headerRow is the header row of the list sheets (title block above it).
const headerRow = 4

// visitOutcomeLabels are the drop-down of 核查结果, in the order of
// datasets.VisitOutcomes (confirmed, no_risk, not_reached, moved, other).
func visitOutcomeLabels() []string {
	return []string{"核实存在风险", "核实无风险", "未见到户", "已迁出", "其他"}
}

// tierZh is a tier in Chinese.
var tierZh = map[string]string{"high": "高", "medium": "中", "low": "低"}

// worklist is one county's work list.
type worklist struct {
	county, asOf string
	k            int                      // the county's top k (the quota of visits)
	rows         []*rundir.Row            // the county's rows in rank order (those in the top k are listed)
	elim         []rundir.ElimRow         // its monitored households' assessment (none: no sheet)
	names        func(code string) string // region names ("" unknown)
}

// maxWorkbooks is the most work lists built at once.
const maxWorkbooks = 4

// writeWorklists writes worklists/<county>.xlsx for every county.
func writeWorklists(ctx context.Context, in *inputs, rk *ranking, o *officeSet, create func(string, func(io.Writer) error) error) error {
	byCounty := map[string][]*rundir.Row{}
	for i := range rk.rows {
		byCounty[rk.rows[i].CountyCode] = append(byCounty[rk.rows[i].CountyCode], &rk.rows[i])
	}
	elim := map[string][]rundir.ElimRow{}
	if o != nil {
		for _, e := range o.elim {
			c := rundir.Prefix(e.RegionCode, 6)
			elim[c] = append(elim[c], e)
		}
	}
	counties := slices.Sorted(maps.Keys(rk.topK))
	// The workbooks are independent (one file each, the same bytes in
	// whatever order they are written): build them on every core, at
	// most maxWorkbooks at once (each is held whole in memory until it is
	// written). The error returned is the first county's, in county order.
	errs := make([]error, len(counties))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), maxWorkbooks, len(counties)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < len(counties); i = int(next.Add(1) - 1) {
				if err := ctx.Err(); err != nil {
					errs[i] = err
					continue
				}
				c := counties[i]
				wl := &worklist{county: c, asOf: in.day, k: rk.topK[c], rows: byCounty[c], elim: elim[c], names: o.name}
				errs[i] = create("worklists/"+c+".xlsx", func(w io.Writer) error { return writeWorklist(w, wl) })
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return ctx.Err()
}

// placeName is a region's name, or its code when it has none.
func (wl *worklist) placeName(code string) string {
	if wl.names != nil {
		if n := wl.names(code); n != "" {
			return n
		}
	}
	return code
}

// towns are the townships with listed households, by code, with their rows.
func (wl *worklist) towns() ([]string, map[string][]*rundir.Row) {
	by := map[string][]*rundir.Row{}
	for _, r := range wl.rows {
		if r.InTopK {
			by[r.TownshipCode] = append(by[r.TownshipCode], r)
		}
	}
	return slices.Sorted(maps.Keys(by)), by
}

// Sheet names besides the townships'.
const (
	sheetSummary, sheetElim, sheetHelp, sheetMeta = "汇总", "风险消除评估", "说明", "_povrisk"
)

// sheetNames names the township sheets: the township's name; when it is
// missing, too long (31 characters), holds a character a sheet name may
// not, or collides, "<name>(<code>)", else the code.
func sheetNames(codes []string, name func(string) string) map[string]string {
	reserved := map[string]bool{sheetSummary: true, sheetElim: true, sheetHelp: true, sheetMeta: true}
	valid := func(s string) bool {
		return s != "" && len([]rune(s)) <= 31 && !strings.ContainsAny(s, `:\/?*[]'`) && !reserved[s]
	}
	base, count := map[string]string{}, map[string]int{}
	for _, c := range codes {
		n := ""
		if name != nil {
			n = name(c)
		}
		base[c] = n
		count[n]++
	}
	out, used := map[string]string{}, map[string]bool{}
	for _, c := range codes {
		n := base[c]
		switch {
		case valid(n) && count[n] == 1:
		case n != "" && valid(n+"("+c+")"):
			n = n + "(" + c + ")"
		default:
			n = c
		}
		if used[n] {
			n = c
		}
		out[c], used[n] = n, true
	}
	return out
}

// xw writes a workbook, keeping the first error: the sheets' code stays
// readable, and writeWorklist returns that error.
type xw struct {
	f    *excelize.File
	err  error
	st   styles
	fast *fastBook // nil: excelize writes every cell
}

func (x *xw) do(what string, err error) {
	if err != nil && x.err == nil {
		x.err = fmt.Errorf("xlsx %s: %w", what, err)
	}
}

func (x *xw) row(sheet string, row int, vals []any) {
	if x.fast != nil {
		x.fast.excelizeRow(vals)
	}
	cell, _ := excelize.CoordinatesToCellName(1, row)
	x.do(sheet+" row", x.f.SetSheetRow(sheet, cell, &vals))
}

func (x *xw) style(sheet string, c1, r1, c2, r2, style int) {
	a, _ := excelize.CoordinatesToCellName(c1, r1)
	b, _ := excelize.CoordinatesToCellName(c2, r2)
	x.do(sheet+" style", x.f.SetCellStyle(sheet, a, b, style))
}

// bodyPt is the font size of the tables (points); lineHeight the height
// of one line of it (points).
const (
	bodyPt     = 9.0
	lineHeight = 12.0
)

// textWidth is the width of s in column-width units (the width of a digit
// of the default font): a CJK or full-width character about 1.7, others 0.9.
func textWidth(s string) float64 {
	w := 0.0
	for _, r := range s {
		if r >= 0x2e80 {
			w += 1.7
		} else {
			w += 0.9
		}
	}
	return w
}

// rowHeight is the height (points) that shows every cell of vals wrapped
// in columns of the widths given.
func rowHeight(vals []any, widths []float64) float64 {
	lines := 1
	for j, v := range vals {
		s, ok := v.(string)
		if !ok || j >= len(widths) {
			continue
		}
		usable := max(widths[j]-1, 1)
		n := 0
		for _, part := range strings.Split(s, "\n") {
			n += max(1, int(math.Ceil(textWidth(part)/usable)))
		}
		lines = max(lines, n)
	}
	return min(float64(lines)*lineHeight+3, excelize.MaxRowHeight)
}

// styles are the cell styles of the work list.
type styles struct{ title, note, head, body, center, input, date, total int }

func newStyles(f *excelize.File) (styles, error) {
	border := []excelize.Border{{Type: "left", Style: 1, Color: "808080"}, {Type: "right", Style: 1, Color: "808080"},
		{Type: "top", Style: 1, Color: "808080"}, {Type: "bottom", Style: 1, Color: "808080"}}
	font := &excelize.Font{Size: bodyPt}
	dateFmt := "yyyy-mm-dd"
	defs := []*excelize.Style{
		{Font: &excelize.Font{Bold: true, Size: 14}, Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "center"}},
		{Font: font, Alignment: &excelize.Alignment{Horizontal: "left", Vertical: "center"}},
		{Font: &excelize.Font{Bold: true, Size: bodyPt}, Border: border, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"D9D9D9"}},
			Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "center", WrapText: true}},
		{Font: font, Border: border, Alignment: &excelize.Alignment{Vertical: "top", WrapText: true}},
		{Font: font, Border: border, Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "top", WrapText: true}},
		{Font: font, Border: border, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"FFF2CC"}},
			Alignment: &excelize.Alignment{Vertical: "top", WrapText: true}, Protection: &excelize.Protection{Locked: false}},
		{Font: font, Border: border, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"FFF2CC"}},
			Alignment: &excelize.Alignment{Vertical: "top"}, CustomNumFmt: &dateFmt, Protection: &excelize.Protection{Locked: false}},
		{Font: &excelize.Font{Bold: true, Size: bodyPt}, Border: border, Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "top"}},
	}
	var ids [8]int
	for i, d := range defs {
		id, err := f.NewStyle(d)
		if err != nil {
			return styles{}, fmt.Errorf("xlsx style: %w", err)
		}
		ids[i] = id
	}
	return styles{ids[0], ids[1], ids[2], ids[3], ids[4], ids[5], ids[6], ids[7]}, nil
}

// docProps are the XLSX document properties: dated the as-of date, so
// that the same list gives the same bytes.
func docProps(asOf string) *excelize.DocProperties {
	return &excelize.DocProperties{Creator: "povrisk", LastModifiedBy: "povrisk", Created: asOf + "T00:00:00Z", Modified: asOf + "T00:00:00Z",
		Title: "防返贫监测预警核查台账", Language: "zh-CN"}
}

// writeWorklist writes one county's work list: 汇总, one sheet per
// township (its households within the county top k, in county rank order),
// 风险消除评估 when the county has monitored households, 说明, and the very
// hidden _povrisk.
func writeWorklist(w io.Writer, wl *worklist) error {
	err := buildWorklist(w, wl, true)
	if errors.Is(err, errSlowPath) {
		return buildWorklist(w, wl, false)
	}
	return err
}

// buildWorklist is writeWorklist through the fast path (xlsxfast.go) or
// excelize alone; the fast path returns errSlowPath, having written
// nothing, when it cannot promise excelize's bytes.
func buildWorklist(w io.Writer, wl *worklist, fast bool) error {
	f := excelize.NewFile()
	defer f.Close()
	st, err := newStyles(f)
	if err != nil {
		return err
	}
	x := &xw{f: f, st: st}
	if fast {
		x.fast = newFastBook()
	}
	x.do("properties", f.SetDocProps(docProps(wl.asOf)))
	towns, byTown := wl.towns()
	names := sheetNames(towns, wl.names)
	x.do("sheet", f.SetSheetName("Sheet1", sheetSummary))
	order := []string{}
	for _, t := range towns {
		order = append(order, names[t])
	}
	if len(wl.elim) > 0 {
		order = append(order, sheetElim)
	}
	order = append(order, sheetHelp, sheetMeta)
	for _, s := range order {
		_, err := f.NewSheet(s)
		x.do("sheet "+s, err)
	}
	x.summarySheet(wl, towns, byTown, names)
	for _, t := range towns {
		x.townSheet(wl, names[t], t, byTown[t])
	}
	if len(wl.elim) > 0 {
		x.elimSheet(wl)
	}
	x.helpSheet(wl)
	x.metaSheet(wl)
	f.SetActiveSheet(0)
	if x.err != nil {
		return x.err
	}
	if x.fast != nil {
		if x.fast.bad {
			return errSlowPath
		}
		f.SetZipWriter(x.fast.zipWriter(append([]string{sheetSummary}, order...)))
	}
	if _, err := f.WriteTo(w); err != nil {
		return fmt.Errorf("write xlsx: %w", err)
	}
	return nil
}

// titleBlock writes rows 1-3 of a sheet of ncol columns: the title, the
// as-of line, and the confidentiality mark.
func (x *xw) titleBlock(sheet string, ncol int, title, sub string) {
	last, _ := excelize.ColumnNumberToName(ncol)
	for r, s := range []string{title, sub, "内部资料 注意保密"} {
		row := r + 1
		x.row(sheet, row, []any{s})
		x.do(sheet+" merge", x.f.MergeCell(sheet, fmt.Sprintf("A%d", row), fmt.Sprintf("%s%d", last, row)))
		st := x.st.note
		if row == 1 {
			st = x.st.title
		}
		x.style(sheet, 1, row, ncol, row, st)
	}
	x.do(sheet+" height", x.f.SetRowHeight(sheet, 1, 24))
}

// table writes the header at headerRow and the body below it, with the
// body style per column (nil: body), frozen under the header, filtered,
// and the widths.
//
// With splice and the fast path, the body rows are written by x.fast
// (their cells, styles and heights as excelize would write them) and
// spliced into the sheet's file.
func (x *xw) table(sheet string, header []string, body [][]any, widths []float64, colStyle func(col int) int, splice bool) {
	h := make([]any, len(header))
	for i, s := range header {
		h[i] = s
	}
	x.row(sheet, headerRow, h)
	x.style(sheet, 1, headerRow, len(header), headerRow, x.st.head)
	style := func(c int) int {
		if colStyle != nil {
			return colStyle(c)
		}
		return x.st.body
	}
	cells := body // the rows excelize sets
	if splice && x.fast != nil {
		for i, r := range body {
			x.fast.bodyRow(sheet, headerRow+1+i, r, style, rowHeight(r, widths))
		}
		cells = nil // nothing left for excelize but the sheet's frame
	}
	for i, r := range cells {
		x.row(sheet, headerRow+1+i, r)
		// Row heights are set: LibreOffice does not fit a row to its
		// wrapped text on opening an XLSX file (and neither does Excel).
		x.do(sheet+" height", x.f.SetRowHeight(sheet, headerRow+1+i, rowHeight(r, widths)))
	}
	x.do(sheet+" height", x.f.SetRowHeight(sheet, headerRow, rowHeight(h, widths)))
	if len(cells) > 0 {
		for c := 1; c <= len(header); c++ {
			x.style(sheet, c, headerRow+1, c, headerRow+len(body), style(c))
		}
	}
	for k, width := range widths {
		col, _ := excelize.ColumnNumberToName(k + 1)
		x.do(sheet+" width", x.f.SetColWidth(sheet, col, col, width))
	}
	last, _ := excelize.CoordinatesToCellName(len(header), headerRow+max(len(body), 1))
	x.do(sheet+" filter", x.f.AutoFilter(sheet, fmt.Sprintf("A%d:%s", headerRow, last), nil))
	x.do(sheet+" panes", x.f.SetPanes(sheet, &excelize.Panes{Freeze: true, YSplit: headerRow, TopLeftCell: fmt.Sprintf("A%d", headerRow+1), ActivePane: "bottomLeft"}))
}

// printSetup sets A4 landscape, fitted to one page wide, the header row
// repeated on every page, page numbers in the footer; and protects the
// sheet (no password) with sorting and filtering allowed.
func (x *xw) printSetup(sheet string) {
	size, orient, one, any0 := 9, "landscape", 1, 0
	fit := true
	x.do(sheet+" page", x.f.SetPageLayout(sheet, &excelize.PageLayoutOptions{Size: &size, Orientation: &orient, FitToWidth: &one, FitToHeight: &any0}))
	x.do(sheet+" fit", x.f.SetSheetProps(sheet, &excelize.SheetPropsOptions{FitToPage: &fit}))
	m, hf := 0.4, 0.2
	x.do(sheet+" margins", x.f.SetPageMargins(sheet, &excelize.PageLayoutMarginsOptions{Left: &m, Right: &m, Top: &m, Bottom: &m, Header: &hf, Footer: &hf}))
	x.do(sheet+" footer", x.f.SetHeaderFooter(sheet, &excelize.HeaderFooterOptions{OddFooter: "&C第 &P 页 共 &N 页"}))
	x.do(sheet+" print titles", x.f.SetDefinedName(&excelize.DefinedName{Name: "_xlnm.Print_Titles",
		RefersTo: fmt.Sprintf("'%s'!$%d:$%d", sheet, headerRow, headerRow), Scope: sheet}))
	x.do(sheet+" protect", x.f.ProtectSheet(sheet, &excelize.SheetProtectionOptions{AutoFilter: true, Sort: true, FormatColumns: true,
		FormatRows: true, SelectLockedCells: true, SelectUnlockedCells: true}))
}

// listReason says why a household is on the list: its tier, or, for a
// 低 household, the county's quota of visits.
func (wl *worklist) listReason(r *rundir.Row) string {
	switch r.Tier {
	case "high":
		return "风险等级高"
	case "medium":
		return "风险等级中"
	}
	return fmt.Sprintf("县内名额（全县按风险排名前%d户均列入）", wl.k)
}

// townRow is a township sheet's line for r (the visit columns empty).
func (wl *worklist) townRow(r *rundir.Row) []any {
	mark := func(b bool, s string) string {
		if b {
			return s
		}
		return ""
	}
	village := r.VillageName
	if village == "" {
		village = r.RegionCode
	}
	return []any{int(r.RankCounty), r.HouseholdID, village, tierZh[r.Tier], mark(r.Entered, "新"), mark(r.Watch, "是"), wl.listReason(r),
		riskTypeZh(r.PrimaryRiskType), r.Reasons, r.Conflicts, strings.ReplaceAll(r.MeasuresZh, ";", "；"), "", "", "", ""}
}

// townSheet writes one township's list.
func (x *xw) townSheet(wl *worklist, sheet, code string, rows []*rundir.Row) {
	high, entered := 0, 0
	body := make([][]any, len(rows))
	for i, r := range rows {
		body[i] = wl.townRow(r)
		if r.Tier == "high" {
			high++
		}
		if r.Entered {
			entered++
		}
	}
	header := worklistHeader()
	x.titleBlock(sheet, len(header), fmt.Sprintf("%s %s 防返贫监测预警核查台账", wl.placeName(wl.county), wl.placeName(code)),
		fmt.Sprintf("数据截至 %s　乡镇代码 %s　列入 %d 户（高风险 %d 户，本月新进入 %d 户）", wl.asOf, code, len(rows), high, entered))
	first := len(header) - visitCols + 1
	x.table(sheet, header, body, worklistWidths, func(c int) int {
		switch {
		case c == first+1:
			return x.st.date
		case c >= first:
			return x.st.input
		case c <= 8 && c != 2 && c != 3 && c != 7:
			return x.st.center
		}
		return x.st.body
	}, true)
	if len(rows) > 0 {
		x.validations(sheet, first, headerRow+1, headerRow+len(rows))
	}
	x.printSetup(sheet)
}

// validations adds the outcome drop-down and the date check of the visit
// columns (col: 核查结果's column) on rows r1..r2.
func (x *xw) validations(sheet string, col, r1, r2 int) {
	a, _ := excelize.ColumnNumberToName(col)
	b, _ := excelize.ColumnNumberToName(col + 1)
	dv := excelize.NewDataValidation(true)
	dv.Sqref = fmt.Sprintf("%s%d:%s%d", a, r1, a, r2)
	x.do(sheet+" outcome list", dv.SetDropList(visitOutcomeLabels()))
	dv.SetError(excelize.DataValidationErrorStyleStop, "核查结果", "请从下拉列表中选择")
	x.do(sheet+" outcome list", x.f.AddDataValidation(sheet, dv))
	dd := excelize.NewDataValidation(true)
	dd.Sqref = fmt.Sprintf("%s%d:%s%d", b, r1, b, r2)
	// 2020-01-01 to 2099-12-31 as Excel serial days.
	x.do(sheet+" date check", dd.SetRange(43831, 73415, excelize.DataValidationTypeDate, excelize.DataValidationOperatorBetween))
	dd.SetError(excelize.DataValidationErrorStyleStop, "核查日期", "请填写日期，如 2026-01-05")
	x.do(sheet+" date check", x.f.AddDataValidation(sheet, dd))
}

// summarySheet writes 汇总: per township, households listed, high tier,
// new this month, under the watch after elimination; then the totals.
func (x *xw) summarySheet(wl *worklist, towns []string, by map[string][]*rundir.Row, names map[string]string) {
	header := []string{"乡镇", "乡镇代码", "列入户数", "其中高风险", "本月新进入", "回头看", "工作表"}
	var body [][]any
	var tl, th, tn, tw int
	for _, t := range towns {
		var h, n, w int
		for _, r := range by[t] {
			if r.Tier == "high" {
				h++
			}
			if r.Entered {
				n++
			}
			if r.Watch {
				w++
			}
		}
		body = append(body, []any{wl.placeName(t), t, len(by[t]), h, n, w, names[t]})
		tl, th, tn, tw = tl+len(by[t]), th+h, tn+n, tw+w
	}
	body = append(body, []any{"合计", "", tl, th, tn, tw, ""})
	x.titleBlock(sheetSummary, len(header), wl.placeName(wl.county)+" 防返贫监测预警核查台账 汇总",
		fmt.Sprintf("数据截至 %s　县代码 %s　全县核查名额 %d 户", wl.asOf, wl.county, wl.k))
	x.table(sheetSummary, header, body, []float64{16, 12, 10, 10, 10, 9, 22}, func(c int) int {
		if c >= 3 && c <= 6 {
			return x.st.center
		}
		return x.st.body
	}, false)
	x.style(sheetSummary, 1, headerRow+len(body), len(header), headerRow+len(body), x.st.total)
	x.printSetup(sheetSummary)
}

// elimSheet writes 风险消除评估: every monitored household's conditions,
// facts and verdict.
func (x *xw) elimSheet(wl *worklist) {
	header := []string{"序号", "户编号", "村", "识别日期", "识别以来月数", "近6个月人均收入(元)", "近12个月人均收入(元)", "监测线(元)",
		"刚性支出(元)", "返贫概率", "评估结论", "未满足条件", "各项条件"}
	yuan := func(v float64) any {
		if math.IsNaN(v) {
			return "未知"
		}
		return math.Round(v)
	}
	counts := map[string]int{}
	body := make([][]any, len(wl.elim))
	for i := range wl.elim {
		e := &wl.elim[i]
		counts[e.Verdict]++
		relapse := "无模型"
		if !math.IsNaN(e.Relapse) {
			relapse = fmt.Sprintf("%.0f%%", e.Relapse*100)
		}
		var conds []string
		for _, c := range e.Conditions {
			s := "不满足"
			if c.Met {
				s = "满足"
			}
			conds = append(conds, c.Name+"："+s+"（"+c.Fact+"）")
		}
		village := e.VillageName
		if village == "" {
			village = e.RegionCode
		}
		body[i] = []any{i + 1, e.HouseholdID, village, e.IdentifiedDate, e.MonthsSinceIdentified, yuan(e.IncomePC6m), yuan(e.IncomePC12m),
			yuan(e.Line), yuan(e.RigidExpenditure), relapse, rundir.VerdictZh(e.Verdict), strings.Join(e.Unmet, "；"), strings.Join(conds, "\n")}
	}
	x.titleBlock(sheetElim, len(header), wl.placeName(wl.county)+" 监测对象风险消除评估",
		fmt.Sprintf("数据截至 %s　监测对象 %d 户：可消除 %d 户，暂缓消除 %d 户，不满足 %d 户", wl.asOf, len(wl.elim), counts["ready"], counts["defer"], counts["not_met"]))
	x.table(sheetElim, header, body, []float64{6, 15, 10, 11, 8, 10, 10, 9, 10, 8, 9, 18, 50}, nil, true)
	x.printSetup(sheetElim)
}

// helpTexts explains every column of the township sheets.
func helpTexts(k int) [][2]string {
	return [][2]string{
		{colSeq, "全县风险排名（1 为风险最高）"},
		{colID, "户编号，与系统中的户编号一致，核查时据此找到农户"},
		{colVillage, "所在村（无村名时为村代码）"},
		{colTier, "高、中、低：模型评估的返贫致贫风险高低"},
		{colNew, "“新”：上次清单中没有、本次新列入的农户"},
		{colWatch, "“是”：近12个月内已风险消除的农户，需回头看"},
		{colWhy, fmt.Sprintf("为何列入清单；风险等级为“低”的农户因全县核查名额（按风险排名前%d户）列入", k)},
		{colRisk, "主要风险类型（如因病、因学、因自然灾害）"},
		{colReasons, "模型和监测规则发现的主要风险情况"},
		{colHint, "需核实的情况（如车辆、商品房、工商登记、财政供养人员、较大存款记录）"},
		{colMeasures, "建议的帮扶措施，供核查后参考"},
		{colOutcome, "核查后从下拉列表选择：" + strings.Join(visitOutcomeLabels(), "、")},
		{colDate, "入户核查的日期，如 2026-01-05"},
		{colVisitor, "核查人或核查小组的编号（不填姓名）"},
		{colNote, "需要说明的其他情况（不填身份证号、电话、银行账号、病情等个人信息）"},
	}
}

// helpSheet writes 说明: every column, the outcome codes and how to fill
// in and send back the list.
func (x *xw) helpSheet(wl *worklist) {
	s := sheetHelp
	x.titleBlock(s, 3, "填写说明", "数据截至 "+wl.asOf+"　只填写“核查结果”“核查日期”“核查人编号”“备注”四列（黄色单元格），其他单元格已锁定；填好后将本文件原样报回")
	var body [][]any
	for _, h := range helpTexts(wl.k) {
		body = append(body, []any{h[0], h[1], ""})
	}
	body = append(body, []any{"", "", ""}, []any{"核查结果", "含义", "代码"})
	codes := []string{"confirmed", "no_risk", "not_reached", "moved", "other"}
	means := []string{"入户核实，确有返贫致贫风险", "入户核实，没有返贫致贫风险", "未能见到农户（外出、无人在家等）", "农户已迁出本地", "其他情况（请在备注中说明）"}
	for i, l := range visitOutcomeLabels() {
		body = append(body, []any{l, means[i], codes[i]})
	}
	x.table(s, []string{"列名", "说明", "代码"}, body, []float64{14, 80, 14}, nil, false)
	x.printSetup(s)
}

// metaSheet writes the very hidden _povrisk sheet: key/value pairs that
// povrisk feedback reads.
func (x *xw) metaSheet(wl *worklist) {
	s := sheetMeta
	for i, kv := range [][2]string{{"format", WorklistFormat}, {"as_of", wl.asOf}, {"county_code", wl.county}, {"run_checksums", ""}} {
		x.row(s, i+1, []any{kv[0], kv[1]})
	}
	x.do("hide "+s, x.f.SetSheetVisible(s, false, true))
	x.do("protect "+s, x.f.ProtectSheet(s, &excelize.SheetProtectionOptions{}))
}
