package feedback

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/povrisk/povrisk/datasets"
	"github.com/povrisk/povrisk/engine/fault"
	"github.com/povrisk/povrisk/engine/ingest"
	"github.com/povrisk/povrisk/engine/rundir"
	"github.com/povrisk/povrisk/engine/warehouse"
)

// visit is an accepted row, as stored in visit_outcomes ("" is null for
// source, visitor and note).
type visit struct {
	household string
	date      int32
	outcome   string
	source    string
	visitor   string
	note      string
}

// reject is a rejected row of the reject file.
type reject struct {
	file, sheet  string
	row          int
	column       string
	reason, code string // reason in Chinese; code a stable English word
	original     string // the row's cells, masked
}

type visitKey struct {
	household string
	date      int32
}

// checker checks rows against the warehouse and the run directories.
type checker struct {
	ctx        context.Context
	runs       string
	today      int32
	households map[string]struct{}
	lists      map[string]map[string]map[string]struct{} // as_of -> county -> households in_top_k
	seen       map[visitKey]string                       // accepted keys -> where
	accepted   []visit
	rejects    []reject
	files      []FileReport
}

// outcomeCodes maps the drop-down labels (and the codes themselves) to
// visit_outcomes.outcome.
var outcomeLabels = map[string]string{
	"核实存在风险": "confirmed", "核实无风险": "no_risk", "未见到户": "not_reached", "已迁出": "moved", "其他": "other",
}

func outcomeCode(s string) (string, bool) {
	if c, ok := outcomeLabels[s]; ok {
		return c, true
	}
	low := strings.ToLower(s)
	for _, c := range datasets.VisitOutcomes() {
		if low == c {
			return c, true
		}
	}
	return "", false
}

func newChecker(ctx context.Context, o Options, pend *warehouse.Pending) (*checker, error) {
	c := &checker{ctx: ctx, runs: o.runs(), today: o.today(), households: map[string]struct{}{},
		lists: map[string]map[string]map[string]struct{}{}, seen: map[visitKey]string{}}
	ts, ok := pend.Previous().Table("households")
	if !ok {
		return nil, fault.Wrap(fault.BadInput, fmt.Errorf("warehouse %s holds no households table: ingest a drop first", o.Warehouse))
	}
	err := scanParquet(ctx, filepath.Join(pend.PreviousDir(), ts.File), []string{"household_id"}, func(rec arrow.RecordBatch) error {
		a, ok := rec.Column(0).(*array.String)
		if !ok {
			return errors.New("household_id is not a string column")
		}
		for i := 0; i < a.Len(); i++ {
			c.households[a.Value(i)] = struct{}{}
		}
		return nil
	})
	if err != nil {
		return nil, fault.Input(fmt.Errorf("read the warehouse's households: %w", err))
	}
	return c, nil
}

// list returns the households on the list of run asOf in county.
func (c *checker) list(file, asOf, county string) (map[string]struct{}, error) {
	if byCounty, ok := c.lists[asOf]; ok {
		return byCounty[county], nil
	}
	dir := filepath.Join(c.runs, asOf)
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return nil, fault.Wrap(fault.BadInput, fmt.Errorf("%w: work list %s is of the run of %s (its %s sheet), but %s does not exist: pass --runs with the runs directory the list came from",
			ErrNoRun, file, asOf, metaSheet, dir))
	}
	run, err := rundir.Read(dir)
	if err != nil {
		return nil, fmt.Errorf("work list %s: run directory %s: %w", file, dir, err)
	}
	byCounty := map[string]map[string]struct{}{}
	err = scanParquet(c.ctx, filepath.Join(run.Dir, "ranked.parquet"), []string{"household_id", "county_code", "in_top_k"}, func(rec arrow.RecordBatch) error {
		hh, ok1 := rec.Column(0).(*array.String)
		co, ok2 := rec.Column(1).(*array.String)
		top, ok3 := rec.Column(2).(*array.Boolean)
		if !ok1 || !ok2 || !ok3 {
			return errors.New("household_id, county_code or in_top_k has an unexpected type")
		}
		for i := 0; i < hh.Len(); i++ {
			if top.IsValid(i) && top.Value(i) {
				set := byCounty[co.Value(i)]
				if set == nil {
					set = map[string]struct{}{}
					byCounty[co.Value(i)] = set
				}
				set[hh.Value(i)] = struct{}{}
			}
		}
		return nil
	})
	if err != nil {
		return nil, fault.Wrap(fault.Tampered, fmt.Errorf("work list %s: read %s: %w", file, filepath.Join(dir, "ranked.parquet"), err))
	}
	c.lists[asOf] = byCounty
	return byCounty[county], nil
}

// checkInput checks every row of one file.
func (c *checker) checkInput(in *input) error {
	base := filepath.Base(in.path)
	fr := FileReport{File: base, Format: in.format, AsOf: in.asOf, County: in.county, Sheets: []SheetReport{}}
	var list map[string]struct{}
	asOf := int32(-1 << 30)
	if in.format == "xlsx" {
		var err error
		if list, err = c.list(base, in.asOf, in.county); err != nil {
			return err
		}
		if list == nil {
			list = map[string]struct{}{} // the county has no household on that list
		}
		asOf, _ = parseISO(in.asOf)
	}
	for _, s := range in.sheets {
		sr := SheetReport{File: base, Sheet: s.name}
		for i := range s.rows {
			r := &s.rows[i]
			sr.Read++
			if r.outcome == "" {
				sr.Blank++
				continue
			}
			v, rej := c.checkRow(s, r, list, asOf, in.format == "xlsx")
			if rej != nil {
				rej.file, rej.sheet, rej.row = base, s.name, r.row
				rej.original = original(s, r)
				c.rejects = append(c.rejects, *rej)
				sr.Rejected++
				continue
			}
			where := fmt.Sprintf("%s 第%d行", base, r.row)
			if s.name != "" {
				where = fmt.Sprintf("%s 工作表 %s 第%d行", base, s.name, r.row)
			}
			c.seen[visitKey{v.household, v.date}] = where
			c.accepted = append(c.accepted, v)
			sr.Accepted++
		}
		fr.Sheets = append(fr.Sheets, sr)
		fr.Counts.add(sr.Counts)
	}
	c.files = append(c.files, fr)
	return nil
}

// checkRow checks one row with an outcome; the first problem rejects it.
// Reasons never quote the note, and quote other cells masked.
func (c *checker) checkRow(s sheet, r *rawRow, list map[string]struct{}, asOf int32, workList bool) (visit, *reject) {
	rj := func(col, code, format string, a ...any) (visit, *reject) {
		return visit{}, &reject{column: col, code: code, reason: fmt.Sprintf(format, a...)}
	}
	if r.bad != "" {
		return rj("", r.badCode, "%s", r.bad)
	}
	v := visit{household: r.household, visitor: r.visitor, source: "model"}
	if r.household == "" {
		return rj(s.cols.household, "missing_household", "户编号为空")
	}
	var ok bool
	if v.outcome, ok = outcomeCode(r.outcome); !ok {
		return rj(s.cols.outcome, "bad_outcome", "核查结果 %s 不在下拉列表中（核实存在风险、核实无风险、未见到户、已迁出、其他，或 confirmed、no_risk、not_reached、moved、other）", quote(r.outcome))
	}
	if r.date == "" {
		return rj(s.cols.date, "missing_date", "填写了核查结果但核查日期为空")
	}
	if v.date, ok = parseVisitDate(r.date, r.date1904); !ok {
		return rj(s.cols.date, "bad_date", "核查日期 %s 无法识别（请填写如 2026-01-05、2026/1/5、2026年1月5日 或 20260105 的日期）", quote(r.date))
	}
	if v.date > c.today {
		return rj(s.cols.date, "future_date", "核查日期 %s 晚于今天 %s", formatDays(v.date), formatDays(c.today))
	}
	if workList && v.date < asOf {
		return rj(s.cols.date, "before_as_of", "核查日期 %s 早于本台账的数据日期 %s（台账生成前的核查不属于本台账）", formatDays(v.date), formatDays(asOf))
	}
	if r.visitor != "" {
		if err := ingest.CheckIdentifier(r.visitor); err != nil {
			return rj(s.cols.visitor, "bad_visitor_code", "核查人编号 %s 不符合编号规则（最多 %d 字节，不含控制字符、首尾空格，不以 = + - @ 开头，不含身份证号）", quote(r.visitor), ingest.MaxKeyLen)
		}
	}
	if !workList {
		v.source = strings.ToLower(r.source)
		if v.source != "" && !oneOf(v.source, datasets.VisitSources()) {
			return rj(s.cols.source, "bad_source", "source %s 不是 model、rule、other 之一", quote(r.source))
		}
	}
	if r.note != "" {
		if err := ingest.CheckText(r.note); err != nil {
			return rj(s.cols.note, "bad_note", "备注不符合文本规则（超过 %d 字节，或含控制字符）；备注内容不在此重复", ingest.MaxTextLen)
		}
		v.note, _ = ingest.RedactIDNumbers(r.note)
	}
	if err := ingest.CheckIdentifier(r.household); err != nil {
		return rj(s.cols.household, "unknown_household", "户编号 %s 不符合编号规则", quote(r.household))
	}
	if _, ok := c.households[r.household]; !ok {
		return rj(s.cols.household, "unknown_household", "户编号 %s 不在数据仓库的农户（households）中", quote(r.household))
	}
	if workList {
		if _, ok := list[r.household]; !ok {
			return rj(s.cols.household, "not_on_list", "户编号 %s 不在 %s 本县的核查名单上", quote(r.household), formatDays(asOf))
		}
	}
	if where, dup := c.seen[visitKey{v.household, v.date}]; dup {
		return rj(s.cols.household+"+"+s.cols.date, "duplicate", "同一户同一核查日期 %s 已在 %s 出现", formatDays(v.date), where)
	}
	return v, nil
}

func oneOf(s string, list []string) bool {
	for _, x := range list {
		if s == x {
			return true
		}
	}
	return false
}

// quote quotes a (masked) cell for a reason.
func quote(s string) string { return "“" + cut(s) + "”" }

// maskCell is a cell as a reject file or an error may show it.
func maskCell(s string) string { return ingest.MaskForReject(s) }

// original is the row's cells for the reject file: masked, the note
// withheld.
func original(s sheet, r *rawRow) string {
	parts := []string{s.cols.household + "=" + maskCell(r.household), s.cols.outcome + "=" + maskCell(r.outcome), s.cols.date + "=" + maskCell(r.date)}
	if s.cols.source != "" {
		parts = append(parts, s.cols.source+"="+maskCell(r.source))
	}
	parts = append(parts, s.cols.visitor+"="+maskCell(r.visitor))
	note := ""
	if r.note != "" {
		note = "***"
	}
	return strings.Join(append(parts, s.cols.note+"="+note), "; ")
}

// fill copies the counts into the report.
func (c *checker) fill(rep *Report) {
	rep.Files = c.files
	for _, f := range c.files {
		rep.Counts.add(f.Counts)
	}
}
