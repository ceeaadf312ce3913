package brief

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"

	"github.com/povrisk/povrisk/engine/atomicfile"
	"github.com/povrisk/povrisk/engine/fault"
	"github.com/povrisk/povrisk/engine/whatif"
)

// The what-if annex (issue 16): a whatif.Result (povrisk whatif: the same
// night under another policy file) presented for a policy office in the
// brief's style: the totals, the counties and the rules before and after,
// the households entering and leaving the screen, the change of the
// elimination verdicts and of the cost. It reads only the Result; it
// computes nothing again.

// WhatIfOptions configure the what-if annex. The zero value is a Chinese
// HTML page written to whatif-<as-of>-zh.html in the current directory.
type WhatIfOptions struct {
	// Lang is "zh" (default) or "en".
	Lang string
	// Format is "html" (default) or "pdf".
	Format string
	// Out is the file to write; "" is whatif-<as-of>-<lang>.<format>.
	Out string
	// Chromium is the browser binary for PDF; "" looks it up on PATH.
	Chromium string
	// Progress receives one line per step; nil is quiet.
	Progress io.Writer
}

func (o WhatIfOptions) lang() string   { return Options{Lang: o.Lang}.lang() }
func (o WhatIfOptions) format() string { return Options{Format: o.Format}.format() }

// check validates the options; its errors are marked fault.Usage.
func (o WhatIfOptions) check(r *whatif.Result) error {
	if r == nil {
		return fault.Wrap(fault.Usage, fmt.Errorf("what-if annex: no result given"))
	}
	if l := o.lang(); l != "zh" && l != "en" {
		return fault.Wrap(fault.Usage, fmt.Errorf("what-if annex: language %q: use zh or en", o.Lang))
	}
	if f := o.format(); f != "html" && f != "pdf" {
		return fault.Wrap(fault.Usage, fmt.Errorf("what-if annex: format %q: use html or pdf", o.Format))
	}
	return nil
}

// WriteWhatIf writes the what-if annex of r as HTML or PDF (o.Format) to
// o.Out and returns the path written. Errors are marked with their fault
// kind: Usage for bad options, Write when the file cannot be written,
// Internal when Chromium is missing or fails (PDF).
func WriteWhatIf(ctx context.Context, r *whatif.Result, o WhatIfOptions) (string, error) {
	if err := o.check(r); err != nil {
		return "", err
	}
	var buf bytes.Buffer
	if err := WhatIfHTML(&buf, r, o); err != nil {
		return "", err
	}
	out := o.Out
	if out == "" {
		out = "whatif-" + r.Run + "-" + o.lang() + "." + o.format()
	}
	data := buf.Bytes()
	if o.format() == "pdf" {
		l := lang(o.lang())
		pdf, err := printPDF(ctx, data, o.Chromium, l.t("政策调整影响测算 · "+r.Run+" · 内部工作材料，请勿外传", "Policy change estimate · "+r.Run+" · internal working paper"))
		if err != nil {
			return "", err
		}
		data = pdf
	}
	if err := atomicfile.WriteFile(out, data, 0o644); err != nil {
		return "", err
	}
	progress(o.Progress, "wrote %s", out)
	return out, nil
}

// WhatIfHTML writes the what-if annex of r as one self-contained HTML page.
func WhatIfHTML(w io.Writer, r *whatif.Result, o WhatIfOptions) error {
	if err := o.check(r); err != nil {
		return err
	}
	if err := templates().ExecuteTemplate(w, "brief", whatIfPage(r, lang(o.lang()))); err != nil {
		if fault.IsWriteFailure(err) {
			err = fault.Wrap(fault.Write, err)
		}
		return fmt.Errorf("write what-if annex: %w", err)
	}
	return nil
}

// whatIfPage builds the annex's page view.
func whatIfPage(r *whatif.Result, l lang) pageView {
	t := l.t
	body := []sectionView{whatIfChanges(r, l), whatIfTotals(r, l), whatIfCounties(r, l), whatIfRules(r, l), whatIfElimination(r, l), whatIfCosts(r, l)}
	for i := range body {
		body[i].Title = l.ordinal(i+1) + body[i].Title
	}
	id := func(x string) seg { return seg{Kind: "id", Text: x} }
	annex := sectionView{ID: "provenance", Class: "annex", Title: t("附录　技术信息", "Annex. Sources"), Blocks: []block{{Defs: []def{
		{Term: t("运行结果", "Run"), Def: txt(t("研判基准日 "+r.Run+" 的运行结果（同一批数据、同一模型，未重新训练）", "the run of "+r.Run+" (same data, same model, no retraining)"))},
		{Term: t("调整前政策", "Policy before"), Def: rich{plain(t("校验值（前 12 位）", "checksum (first 12 digits) ")), id(prefix(r.PolicyBefore, 12))}},
		{Term: t("调整后政策", "Policy after"), Def: rich{plain(t("校验值（前 12 位）", "checksum (first 12 digits) ")), id(prefix(r.PolicyAfter, 12))}},
	}}}}
	return pageView{
		HTMLLang: t("zh-CN", "en"), Title: t("政策调整影响测算", "Policy change estimate"), RegionName: t("调整前后对照", "before and after"), AsOf: r.Run,
		Kicker:        t("防止返贫动态监测 · 内部工作材料", "Preventing return to poverty · internal working paper"),
		Sub:           t("研判基准日 ", "as of ") + r.Run + t(" · 调整前后对照", " · before and after"),
		WarningsTitle: t("测算口径", "What this estimate is"),
		Warnings: []string{t("本测算用研判基准日的同一批数据、同一模型，只改变政策参数，不重新训练模型；所列为部门筛查规则的预警户数和风险消除评估结果，不等于最终纳入或消除监测的户数。",
			"The same night's data and model under the new policy, without retraining: households flagged by the rule screen and elimination verdicts, not final decisions.")},
		Sections: append(body, annex),
		Footer:   t("不含任何个人信息，少于 5 户的单元格显示为“<5”。", "No personal data; cells of fewer than 5 households show as “<5”."),
	}
}

// whatIfChanges lists the settings that differ.
func whatIfChanges(r *whatif.Result, l lang) sectionView {
	t := l.t
	s := sectionView{ID: "changes", Title: t("调整内容", "What changes")}
	if len(r.Changes) == 0 {
		s.Blocks = append(s.Blocks, paraText(t("新旧政策文件的参数相同，测算结果应无变化。", "The two policy files set the same values; nothing should change.")))
		return s
	}
	var items []rich
	for _, c := range r.Changes {
		items = append(items, txt(c))
	}
	s.Blocks = append(s.Blocks, block{List: items})
	return s
}

// changeText prints after − before with its sign, a dash when either
// count is too small to show.
func changeText(before, after int) string { return delta(after, before) }

// whatIfTotals states the totals before and after.
func whatIfTotals(r *whatif.Result, l lang) sectionView {
	t := l.t
	s := sectionView{ID: "totals", Title: t("总体影响", "Overall")}
	cards := []card{
		{Label: t("调整前预警户", "Flagged before"), Value: rich{fact("flagged_before", count(r.FlaggedBefore))}},
		{Label: t("调整后预警户", "Flagged after"), Value: rich{fact("flagged_after", count(r.FlaggedAfter))}, Note: txt(t("变化 ", "change ") + changeText(r.FlaggedBefore, r.FlaggedAfter))},
		{Label: t("新进入", "Entering"), Value: rich{fact("entered", count(r.Entered))}},
		{Label: t("退出", "Leaving"), Value: rich{fact("left", count(r.Left))}},
	}
	s.Blocks = append(s.Blocks, block{Cards: cards})
	s.Blocks = append(s.Blocks, paraText(t(
		fmt.Sprintf("调整后，部门筛查规则预警户由 %s 户变为 %s 户（%s），其中新进入预警 %s 户、退出预警 %s 户。按单位成本测算，建议帮扶措施的年度资金由 %s 变为 %s（%s）。",
			count(r.FlaggedBefore), count(r.FlaggedAfter), changeWordsZh(r.FlaggedBefore, r.FlaggedAfter), count(r.Entered), count(r.Left),
			l.money(r.CostBefore), l.money(r.CostAfter), moneyChange(l, r.CostBefore, r.CostAfter)),
		fmt.Sprintf("Under the new policy the rule screen flags %s households instead of %s (%s): %s enter and %s leave. The yearly cost of the suggested measures goes from %s to %s (%s).",
			count(r.FlaggedAfter), count(r.FlaggedBefore), changeText(r.FlaggedBefore, r.FlaggedAfter), count(r.Entered), count(r.Left),
			l.money(r.CostBefore), l.money(r.CostAfter), moneyChange(l, r.CostBefore, r.CostAfter)))))
	return s
}

// changeWordsZh says a change of a count in Chinese.
func changeWordsZh(before, after int) string {
	if before < minCell || after < minCell {
		return "变化涉及少于 5 户，不宜公布"
	}
	switch d := after - before; {
	case d > 0:
		return "增加 " + fmtInt(d) + " 户"
	case d < 0:
		return "减少 " + fmtInt(-d) + " 户"
	}
	return "持平"
}

// moneyChange prints the change of a cost with its sign.
func moneyChange(l lang, before, after float64) string {
	d := after - before
	switch {
	case math.IsNaN(d) || math.IsInf(d, 0):
		return "—"
	case d > 0:
		return "+" + l.money(d)
	case d < 0:
		return "−" + l.money(-d)
	}
	return l.t("持平", "unchanged")
}

// whatIfCounties is the table by county.
func whatIfCounties(r *whatif.Result, l lang) sectionView {
	t := l.t
	s := sectionView{ID: "counties", Title: t("分县影响", "By county")}
	if len(r.Counties) == 0 {
		s.Blocks = append(s.Blocks, paraText(t("测算结果未分县列示。", "The result has no county breakdown.")))
		return s
	}
	cs := slices.Clone(r.Counties)
	slices.SortStableFunc(cs, func(a, b whatif.CountyChange) int {
		da, db := a.FlaggedAfter-a.FlaggedBefore, b.FlaggedAfter-b.FlaggedBefore
		if da != db {
			return db - da
		}
		if a.Code < b.Code {
			return -1
		}
		return 1
	})
	col := func(get func(c whatif.CountyChange) int) (ns []int, hid, sec []bool) {
		for _, c := range cs {
			ns = append(ns, get(c))
		}
		hid, sec = protect(ns)
		return
	}
	bn, bh, bs := col(func(c whatif.CountyChange) int { return c.FlaggedBefore })
	an, ah, as := col(func(c whatif.CountyChange) int { return c.FlaggedAfter })
	en, eh, es := col(func(c whatif.CountyChange) int { return c.Entered })
	ln, lh, ls := col(func(c whatif.CountyChange) int { return c.Left })
	var rows [][]rich
	anySecond := false
	for i, c := range cs {
		name := c.Name
		if name == "" {
			name = c.Code
		}
		ch := "—"
		if !bh[i] && !ah[i] {
			ch = signed(c.FlaggedAfter - c.FlaggedBefore)
		}
		anySecond = anySecond || bs[i] || as[i] || es[i] || ls[i]
		rows = append(rows, cells(name, cellText(bn[i], bh[i], bs[i]), cellText(an[i], ah[i], as[i]), ch,
			cellText(en[i], eh[i], es[i]), cellText(ln[i], lh[i], ls[i]), moneyChange(l, c.CostBefore, c.CostAfter)))
	}
	s.Blocks = append(s.Blocks, block{Table: &tableView{Class: "data", Rows: rows,
		Head: []string{t("县（市、区）", "county"), t("调整前", "before"), t("调整后", "after"), t("变化", "change"), t("新进入", "entering"), t("退出", "leaving"), t("资金变化", "cost change")},
		Foot: cells(t("合计", "Total"), count(r.FlaggedBefore), count(r.FlaggedAfter), changeText(r.FlaggedBefore, r.FlaggedAfter), count(r.Entered), count(r.Left), moneyChange(l, r.CostBefore, r.CostAfter))}})
	s.Blocks = append(s.Blocks, note(l, anySecond)...)
	return s
}

// whatIfRules is the table by rule.
func whatIfRules(r *whatif.Result, l lang) sectionView {
	t := l.t
	s := sectionView{ID: "rules", Title: t("分规则影响", "By rule")}
	if len(r.Rules) == 0 {
		s.Blocks = append(s.Blocks, paraText(t("测算结果未分规则列示。", "The result has no rule breakdown.")))
		return s
	}
	var rows [][]rich
	for _, c := range r.Rules {
		rows = append(rows, cells(l.rule(c.Rule), count(c.FlaggedBefore), count(c.FlaggedAfter), changeText(c.FlaggedBefore, c.FlaggedAfter), count(c.Entered), count(c.Left)))
	}
	s.Blocks = append(s.Blocks, paraText(t("一户可触发多条规则，各规则户数之和可能大于预警户数。", "A household can trip several rules; the rules' counts may add up to more than the households flagged.")),
		block{Table: &tableView{Class: "data", Rows: rows,
			Head: []string{t("筛查规则", "rule"), t("调整前", "before"), t("调整后", "after"), t("变化", "change"), t("新进入", "entering"), t("退出", "leaving")}}})
	return s
}

// verdicts are the elimination verdicts in the order shown.
var verdicts = []struct{ code, zh, en string }{{"ready", "可消除", "ready"}, {"defer", "暂缓消除", "deferred"}, {"not_met", "不满足", "not met"}}

// whatIfElimination compares the elimination verdicts before and after.
func whatIfElimination(r *whatif.Result, l lang) sectionView {
	t := l.t
	s := sectionView{ID: "elimination", Title: t("风险消除评估的变化", "Elimination verdicts")}
	if r.EliminationBefore == nil && r.EliminationAfter == nil {
		s.Blocks = append(s.Blocks, paraText(t("该次运行没有监测对象的风险消除评估，不作对比。", "The run has no elimination assessment to compare.")))
		return s
	}
	var rows [][]rich
	for _, v := range verdicts {
		b, a := r.EliminationBefore[v.code], r.EliminationAfter[v.code]
		rows = append(rows, cells(t(v.zh, v.en), count(b), count(a), changeText(b, a)))
	}
	for _, k := range slices.Sorted(maps.Keys(r.EliminationAfter)) {
		if !slices.ContainsFunc(verdicts, func(v struct{ code, zh, en string }) bool { return v.code == k }) {
			rows = append(rows, cells(t("其他", k), count(r.EliminationBefore[k]), count(r.EliminationAfter[k]), changeText(r.EliminationBefore[k], r.EliminationAfter[k])))
		}
	}
	s.Blocks = append(s.Blocks, block{Table: &tableView{Class: "data narrow", Rows: rows,
		Head: []string{t("评估结论", "verdict"), t("调整前", "before"), t("调整后", "after"), t("变化", "change")}}})
	var crows [][]rich
	for _, c := range r.Counties {
		if c.EliminationBefore == nil && c.EliminationAfter == nil {
			continue
		}
		name := c.Name
		if name == "" {
			name = c.Code
		}
		row := cells(name)
		for _, v := range verdicts {
			row = append(row, txt(count(c.EliminationBefore[v.code])+" → "+count(c.EliminationAfter[v.code])))
		}
		crows = append(crows, row)
	}
	if len(crows) > 0 {
		s.Blocks = append(s.Blocks, block{H3: t("分县（调整前 → 调整后）", "By county (before → after)")}, block{Table: &tableView{Class: "data", Rows: crows,
			Head: []string{t("县（市、区）", "county"), t("可消除", "ready"), t("暂缓消除", "deferred"), t("不满足", "not met")}}})
	}
	return s
}

// whatIfCosts lists the unit costs the cost estimate used.
func whatIfCosts(r *whatif.Result, l lang) sectionView {
	t := l.t
	s := sectionView{ID: "costs", Title: t("资金测算依据", "Unit costs")}
	if len(r.UnitCosts) == 0 {
		s.Blocks = append(s.Blocks, paraText(t("测算结果未载明单位成本。", "The result names no unit costs.")))
		return s
	}
	need := map[string]*measureRow{}
	for k, v := range r.UnitCosts {
		need[k] = &measureRow{Code: k, Unit: v}
	}
	var rows [][]rich
	for _, k := range orderedPrograms(need) {
		rows = append(rows, cells(l.program(k), l.yuan(need[k].Unit)))
	}
	s.Blocks = append(s.Blocks, paraText(t("资金 = 预警户的建议帮扶措施户数 × 单位成本（每户每年）。除非另行提供本地单位成本表，单位成本为示意性默认值，非官方标准。",
		"Cost = households flagged with a suggested measure × its unit cost per household-year; unless a local table was given, the unit costs are illustrative defaults, not official standards.")),
		block{Table: &tableView{Class: "data narrow", Rows: rows, Head: []string{t("帮扶措施", "measure"), t("单位成本（每户每年）", "unit cost (per household-year)")}}})
	return s
}
