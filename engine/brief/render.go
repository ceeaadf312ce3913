package brief

import (
	"fmt"
	"github.com/povrisk/povrisk/datasets"
	"github.com/povrisk/povrisk/engine/rundir"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"
)

// The brief's HTML is written by html/template (templates/*.html), which
// escapes every text by construction. This file turns the facts into a page
// view: plain strings and "rich" runs of text; it writes no markup.

// seg is a run of rich text: plain text (Kind ""), a stated figure ("fact",
// named so that tests can trace it), a named span ("span"), bold ("b"), a
// line break ("br"), a small second line ("small") or a span of a class
// ("class", Name is the class).
type seg struct{ Kind, Name, Text string }

// rich is text with a little structure; templates/brief.html "rich" draws it.
type rich []seg

func txt(s string) rich { return rich{{Text: s}} }

// fact is a figure the brief states, named so that tests can trace it.
func fact(name, text string) seg { return seg{Kind: "fact", Name: name, Text: text} }

func plain(s string) seg { return seg{Text: s} }

// card is one key figure of the headline.
type card struct {
	Label       string
	Value, Note rich
}

// figure is a chart (bars or line) with an optional caption.
type figure struct {
	ID         string
	Bars       *barsView
	Line       *lineView
	Caption    string
	HasCaption bool
}

// tableView is a table of rich cells; Foot is nil for none.
type tableView struct {
	Class string
	Head  []string
	Rows  [][]rich
	Foot  []rich
}

// def is a term and its definition (the method section).
type def struct {
	Term string
	Def  rich
}

// block is one part of a section; exactly one field (besides Class) is set.
type block struct {
	Cards  []card
	Para   rich
	Class  string // of the paragraph or list; "" for none
	H3     string
	List   []rich
	Figure *figure
	Table  *tableView
	Cols   [][]block
	Defs   []def
}

// sectionView is a section of the brief: its id, heading and blocks.
type sectionView struct {
	ID, Title, Class string
	Blocks           []block
}

// pageView is everything templates/brief.html "brief" draws.
type pageView struct {
	HTMLLang, Title, RegionName, AsOf string
	Kicker, Sub                       string
	WarningsTitle                     string
	Warnings                          []string
	Sections                          []sectionView
	Footer                            string
}

// para and note are paragraph blocks.
func para(r rich) block         { return block{Para: r} }
func paraText(s string) block   { return block{Para: txt(s)} }
func classed(c, s string) block { return block{Para: txt(s), Class: c} }

// cells turns plain strings into one table row.
func cells(ss ...string) []rich {
	out := make([]rich, len(ss))
	for i, s := range ss {
		out[i] = txt(s)
	}
	return out
}

// render writes the brief's HTML.
func render(w io.Writer, f *facts, l lang) error {
	return templates().ExecuteTemplate(w, "brief", pageOf(f, l))
}

// pageOf builds the page view of the facts in language l.
func pageOf(f *facts, l lang) pageView {
	t := l.t
	title := t("风险研判简报", "Risk brief")
	region := l.regionName(f.Region, f.Places)
	body := []sectionView{headline(f, l), advice(f, l), where(f, l), why(f, l), trend(f, l), visits(f, l), elimination(f, l),
		resources(f, l), ruleScreen(f, l), quality(f, l), method(f, l)}
	for i := range body {
		body[i].Title = l.ordinal(i+1) + body[i].Title
	}
	annexes := []sectionView{provenance(f, l), fairnessAnnex(f, l)}
	for i := range annexes {
		annexes[i].Title = l.t("附录"+zhNumeral(i+1)+"　", fmt.Sprintf("Annex %d. ", i+1)) + annexes[i].Title
		annexes[i].Class = "annex"
	}
	return pageView{
		HTMLLang: t("zh-CN", "en"), Title: title, RegionName: region, AsOf: f.AsOf,
		Kicker:        t("防止返贫动态监测 · 内部工作材料", "Preventing return to poverty · internal working paper"),
		Sub:           region + " · " + t("研判基准日", "as of") + " " + f.AsOf,
		WarningsTitle: t("数据警示", "Data warnings"),
		Warnings:      warnings(f, l),
		Sections:      append(body, annexes...),
		Footer: t("本简报的全部数字均来自本次及之前各次研判的运行结果（来源见附录一）；不含任何个人信息，少于 5 户的单元格显示为“<5”。",
			"Every figure comes from this run and the runs before it (sources in annex 1). No personal data; cells of fewer than 5 households show as “<5”."),
	}
}

// spaced puts a space after a name that ends in a digit (a code), before
// the Chinese text that follows it.
func spaced(name string) string {
	if name != "" && name[len(name)-1] >= '0' && name[len(name)-1] <= '9' {
		return name + " "
	}
	return name
}

// ordinal numbers a section: 一、 in Chinese, 1. in English.
func (l lang) ordinal(i int) string { return l.t(zhNumeral(i)+"、", fmt.Sprintf("%d. ", i)) }

// zhNumeral writes 1..99 in Chinese numerals.
func zhNumeral(i int) string {
	d := []string{"", "一", "二", "三", "四", "五", "六", "七", "八", "九"}
	switch {
	case i < 10:
		return d[i]
	case i < 20:
		return "十" + d[i%10]
	case i < 100:
		return d[i/10] + "十" + d[i%10]
	}
	return fmt.Sprint(i)
}

func prefix(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// optionalTable reports whether a table is one of the standard's optional
// v1.1 tables (regions, person_events, visit_outcomes): a drop without it
// is complete, so its absence is no warning.
func optionalTable(name string) bool {
	t, ok := datasets.Lookup(name)
	return ok && !t.Required && t.Version != "" && t.Version != "1"
}

// warnings lists what the reader must know before trusting the figures.
func warnings(f *facts, l lang) []string {
	t := l.t
	var ws []string
	for _, c := range f.Coverage {
		if !c.Stale {
			continue
		}
		if c.Table == "medical_claims" {
			ws = append(ws, t(
				fmt.Sprintf("医保结算数据已过时：最新结算日期为 %s，比研判基准日早 %d 个多月。因病致贫返贫风险很可能被低估，请先补报医保数据再据此派员核查。", c.Latest, c.MonthsBack),
				fmt.Sprintf("Medical claims are stale: the latest claim is dated %s, more than %d months before the as-of date. Illness-driven risk is probably understated; obtain a fresh medical extract before relying on this brief.", c.Latest, c.MonthsBack)))
		} else {
			ws = append(ws, t(
				fmt.Sprintf("%s 数据已过时：最新日期 %s，早于基准日 %d 个多月。", l.table(c.Table), c.Latest, c.MonthsBack),
				fmt.Sprintf("Table %s is stale: latest date %s, more than %d months before the as-of date.", c.Table, c.Latest, c.MonthsBack)))
		}
	}
	var names []string
	for _, m := range f.Summary.MissingTables {
		if !optionalTable(m) {
			names = append(names, l.table(m))
		}
	}
	if len(names) > 0 {
		ws = append(ws, t("本次运行缺少数据表："+strings.Join(names, "、")+"；依赖这些数据的特征为空。",
			"Tables missing from this run: "+strings.Join(names, ", ")+"; the features that need them are empty."))
	}
	for _, s := range f.Skipped {
		ws = append(ws, t("早先的运行 "+s.AsOf+" 不完整或与审计记录不符，未用于对比。",
			"Earlier run "+s.AsOf+" is incomplete or does not match its audit record; it was not used for comparisons."))
	}
	return ws
}

func headline(f *facts, l lang) sectionView {
	t := l.t
	s := sectionView{ID: "headline", Title: t("研判要点", "Headline")}
	cards := []card{{Label: t("高风险户", "High-risk households"), Value: rich{fact("high", count(f.High))},
		Note: rich{plain(t("占符合条件户 ", "of ")), fact("eligible", count(f.Eligible)), plain(t("", " eligible"))}}}
	if f.Prev != nil {
		cards = append(cards, card{Label: t("较上次运行", "Since the previous run"), Value: rich{fact("change_prev", delta(f.High, f.Prev.High))}, Note: txt(t("上次 ", "previous run ") + f.Prev.AsOf)})
	}
	if f.Month != nil {
		cards = append(cards, card{Label: t("较一个月前", "Since a month earlier"), Value: rich{fact("change_month", delta(f.High, f.Month.High))}, Note: txt(t("对比 ", "run of ") + f.Month.AsOf)})
	}
	if f.Ref != nil {
		cards = append(cards, card{Label: t("新增高风险户", "Newly high-risk"), Value: rich{fact("new_high", count(f.NewHigh))}, Note: txt(t("自 ", "since ") + f.Ref.AsOf)})
	}
	s.Blocks = append(s.Blocks, block{Cards: cards}, block{Para: txt(leadSentence(f, l)), Class: "lead"})
	if f.Ref == nil {
		return s
	}
	if len(f.Rises) == 0 {
		s.Blocks = append(s.Blocks, paraText(t("自 "+f.Ref.AsOf+" 以来，没有哪个"+l.level(f.Level)+"的高风险户明显增加。",
			"No "+l.level(f.Level)+" shows a clear rise in high-risk households since "+f.Ref.AsOf+".")))
		return s
	}
	r := rich{plain(t("自 "+f.Ref.AsOf+" 以来上升最快的"+l.level(f.Level)+"：", "Sharpest rises since "+f.Ref.AsOf+" ("+l.level(f.Level)+"): "))}
	for i, a := range f.Rises {
		if i > 0 {
			r = append(r, plain(t("；", "; ")))
		}
		r = append(r, seg{Kind: "span", Name: fmt.Sprintf("rise_%d", i+1), Text: riseText(f, l, a)})
	}
	r = append(r, plain(t("。", ".")))
	s.Blocks = append(s.Blocks, para(r))
	return s
}

// leadSentence is the sentence an analyst would write.
func leadSentence(f *facts, l lang) string {
	t := l.t
	var s strings.Builder
	s.WriteString(t(
		fmt.Sprintf("截至 %s，%s范围内符合条件的 %s 户中，模型研判为高风险的有 %s 户（每千户 %s）", f.AsOf, spaced(l.regionName(f.Region, f.Places)), count(f.Eligible), count(f.High), rateText(f.High, f.Eligible)),
		fmt.Sprintf("As of %s, %s of the %s eligible households in %s are at high risk (%s per 1,000)", f.AsOf, count(f.High), count(f.Eligible), l.regionName(f.Region, f.Places), rateText(f.High, f.Eligible))))
	if f.Prev != nil {
		s.WriteString(t("，较上次运行（"+f.Prev.AsOf+"）"+changeWords(l, f.High, f.Prev.High),
			", "+changeWords(l, f.High, f.Prev.High)+" since the previous run ("+f.Prev.AsOf+")"))
	}
	if f.Month != nil && f.Month != f.Prev {
		s.WriteString(t("，较一个月前（"+f.Month.AsOf+"）"+changeWords(l, f.High, f.Month.High),
			" and "+changeWords(l, f.High, f.Month.High)+" since a month earlier ("+f.Month.AsOf+")"))
	}
	s.WriteString(t("。", "."))
	if f.Prev == nil {
		s.WriteString(t("这是该地区的第一次运行，尚无对比。", " This is the first run; there is nothing to compare with."))
	}
	return s.String()
}

// delta prints the change of a count, or a dash when a small count would show.
func delta(now, before int) string {
	if now < minCell || before < minCell {
		return "—"
	}
	return signed(now - before)
}

func changeWords(l lang, now, before int) string {
	if now < minCell || before < minCell {
		return l.t("变化不宜公布（涉及少于 5 户）", "a change not shown (fewer than 5 households)")
	}
	d := now - before
	switch {
	case d > 0:
		return l.t(fmt.Sprintf("增加 %s 户（%s → %s）", fmtInt(d), fmtInt(before), fmtInt(now)), fmt.Sprintf("up %s (from %s)", fmtInt(d), fmtInt(before)))
	case d < 0:
		return l.t(fmt.Sprintf("减少 %s 户（%s → %s）", fmtInt(-d), fmtInt(before), fmtInt(now)), fmt.Sprintf("down %s (from %s)", fmtInt(-d), fmtInt(before)))
	}
	return l.t("持平", "unchanged")
}

func riseText(f *facts, l lang, r areaRow) string {
	name := f.place(r.Code)
	if r.RefHigh < minCell {
		return l.t(name+" 升至 "+count(r.High)+" 户（此前 <5 户）", name+" rose to "+count(r.High)+" (from <5)")
	}
	return l.t(fmt.Sprintf("%s %s 户（%s → %s）", name, signed(r.High-r.RefHigh), fmtInt(r.RefHigh), fmtInt(r.High)),
		fmt.Sprintf("%s %s (%s → %s)", name, signed(r.High-r.RefHigh), fmtInt(r.RefHigh), fmtInt(r.High)))
}

// rateText prints high-risk households per 1,000 eligible, hidden with the count.
func rateText(high, eligible int) string {
	if high < minCell || eligible < minCell {
		return "—"
	}
	return fixed1(1000 * float64(high) / float64(eligible))
}

// protectCol protects one column of the area table.
func protectCol(areas []areaRow, get func(a areaRow) int) (hidden, second []bool) {
	ns := make([]int, len(areas))
	for i, a := range areas {
		ns[i] = get(a)
	}
	return protect(ns)
}

func where(f *facts, l lang) sectionView {
	t := l.t
	lv := l.level(f.Level)
	s := sectionView{ID: "where", Title: t("风险分布：哪里需要先去", "Where: risk by "+lv)}
	s.Blocks = append(s.Blocks, paraText(t("按每千户符合条件家庭中的高风险户数排序；“优先核查户”为各县按走访能力确定的优先核查名单户数。",
		"Ranked by high-risk households per 1,000 eligible households; “top k” is each county's priority visit list, sized to its visiting capacity.")))
	hh, hs := protectCol(f.Areas, func(a areaRow) int { return a.High })
	eh, es := protectCol(f.Areas, func(a areaRow) int { return a.Eligible })
	kh, ks := protectCol(f.Areas, func(a areaRow) int { return a.TopK })
	rh, rs := protectCol(f.Areas, func(a areaRow) int { return a.Rules })
	var bars []bar
	var rows [][]rich
	anySecond := false
	for i, a := range f.Areas {
		rate, ch := "—", "—"
		if !hh[i] && !eh[i] {
			rate = fixed1(a.Rate)
		}
		if f.Ref != nil && !hh[i] && a.RefHigh >= minCell {
			ch = signed(a.High - a.RefHigh)
		}
		anySecond = anySecond || hs[i] || es[i] || ks[i] || rs[i]
		rows = append(rows, cells(fmt.Sprint(i+1), f.place(a.Code), cellText(a.Eligible, eh[i], es[i]), cellText(a.High, hh[i], hs[i]),
			rate, ch, cellText(a.TopK, kh[i], ks[i]), cellText(a.Rules, rh[i], rs[i])))
		b := bar{Label: f.place(a.Code), Value: a.Rate, Text: rate + "‰", Hidden: hh[i] || eh[i]}
		if b.Hidden {
			b.Text = t("高风险户 ", "high-risk ") + cellText(a.High, hh[i], hs[i])
		} else {
			b.Text += t("（"+fmtInt(a.High)+" 户）", " ("+fmtInt(a.High)+" households)")
		}
		for _, r := range f.Rises {
			b.Accent = b.Accent || r.Code == a.Code
		}
		bars = append(bars, b)
	}
	caption := ""
	if len(f.Rises) > 0 {
		caption = t("红色：自 "+refName(f)+" 以来上升最快的"+lv+"。", "Red: sharpest rise since "+refName(f)+".")
	}
	s.Blocks = append(s.Blocks, chartOr(&figure{ID: "fig-where", Caption: caption, HasCaption: true,
		Bars: barChart("chart-where", t("每千户高风险户数（按"+lv+"）", "High-risk households per 1,000 eligible, by "+lv), bars)},
		t("各"+lv+"的高风险户数均少于 5 户或不宜单独公布，不作图示。", "No "+lv+"'s count can be shown (fewer than 5 high-risk households, or withheld); no chart.")))
	chHead := t("变化", "change")
	if f.Ref != nil {
		chHead = t("较 "+f.Ref.AsOf+" 变化", "change since "+f.Ref.AsOf)
	}
	foot := cells("", t("合计", "Total"), count(f.Eligible), count(f.High), rateText(f.High, f.Eligible), "—", count(f.TopK), count(f.RulesFlagged))
	if f.Ref != nil {
		foot[5] = txt(delta(f.High, f.Ref.High))
	}
	s.Blocks = append(s.Blocks, block{Table: &tableView{Class: "data ranked", Rows: rows, Foot: foot,
		Head: []string{t("序", "#"), lv, t("符合条件户", "eligible"), t("高风险户", "high risk"), t("每千户", "per 1,000"), chHead, t("优先核查户", "top k"), t("规则预警户", "rule-flagged")}}})
	s.Blocks = append(s.Blocks, note(l, anySecond)...)
	return s
}

func refName(f *facts) string {
	if f.Ref == nil {
		return "—"
	}
	return f.Ref.AsOf
}

// note is the footnote of a table with cells withheld for a second reason.
func note(l lang, second bool) []block {
	if !second {
		return nil
	}
	return []block{classed("note", l.t("* 为防止由合计反推少于 5 户的单元格而一并隐藏。", "* withheld so that a cell of fewer than 5 households cannot be derived from the total."))}
}

func why(f *facts, l lang) sectionView {
	t := l.t
	s := sectionView{ID: "why", Title: t("风险成因：为什么", "Why: risk types and profiles")}
	if f.PrimaryTypes {
		s.Blocks = append(s.Blocks, paraText(t("高风险户按主要风险类型（一户计一次；收入不足的，按数据所示的致贫原因归类）和风险画像（模型归类，一户一类）统计。",
			"High-risk households by primary risk type (each household once; an income shortfall filed under its cause where the data shows one) and by risk profile (model clusters, one per household).")))
	} else {
		s.Blocks = append(s.Blocks, paraText(t("本次运行结果未标注主要风险类型，下表按官方风险类型统计：一户可有多种类型、分别计数，各类型之和可能大于高风险户数。风险画像为模型归类，一户一类。",
			"This run marks no primary risk type: households are counted under every official risk type they carry (the types may add up to more than the households). Risk profiles are model clusters, one per household.")))
	}
	var bars []bar
	var rows [][]rich
	for _, c := range f.RiskTypes {
		share := "—"
		if c.N >= minCell && f.High >= minCell {
			share = pct(float64(c.N) / float64(f.High))
		}
		rows = append(rows, cells(l.riskType(c.Code), count(c.N), share))
		bars = append(bars, bar{Label: l.riskType(c.Code), Value: float64(c.N), Text: count(c.N), Hidden: c.N < minCell})
	}
	if len(bars) > 0 {
		s.Blocks = append(s.Blocks, chartOr(&figure{ID: "fig-why", Bars: barChart("chart-why", t("高风险户的风险类型", "Risk types of high-risk households"), bars)},
			t("各风险类型的高风险户均少于 5 户，不作图示。", "Every risk type has fewer than 5 high-risk households; no chart.")))
	}
	left := []block{{Table: &tableView{Class: "data", Head: []string{t("风险类型", "risk type"), t("高风险户", "households"), t("占高风险户", "share")}, Rows: rows}}}
	ns := make([]int, len(f.Profiles))
	for i, c := range f.Profiles {
		ns[i] = c.N
	}
	hid, sec := protect(ns)
	var prows [][]rich
	anySecond := false
	for i, c := range f.Profiles {
		prows = append(prows, cells(l.profile(c), cellText(c.N, hid[i], sec[i])))
		anySecond = anySecond || sec[i]
	}
	right := append([]block{{Table: &tableView{Class: "data", Head: []string{t("风险画像", "risk profile"), t("高风险户", "households")}, Rows: prows,
		Foot: cells(t("合计", "Total"), count(f.High))}}}, note(l, anySecond)...)
	s.Blocks = append(s.Blocks, block{Cols: [][]block{left, right}})
	if f.Ref == nil {
		return s
	}
	s.Blocks = append(s.Blocks, block{H3: t("新增高风险户的主要成因（自 "+f.Ref.AsOf+" 以来）", "What drives the newly high-risk households (since "+f.Ref.AsOf+")")})
	if len(f.Insights) == 0 {
		s.Blocks = append(s.Blocks, paraText(t("新增高风险户过少（或各类型均少于 5 户），不作成因分解。", "Too few newly high-risk households (or fewer than 5 per type) to break down.")))
		return s
	}
	var items []rich
	for i, in := range f.Insights {
		items = append(items, insightText(l, i, in))
	}
	s.Blocks = append(s.Blocks, block{List: items, Class: "insights"})
	return s
}

// insightText is one line of the drivers of the newly high-risk households.
func insightText(l lang, i int, in insight) rich {
	t := l.t
	rt := l.riskType(in.RiskType)
	share := fact(fmt.Sprintf("insight_%d_share", i+1), pct(in.Share))
	r := rich{{Kind: "b", Text: rt}}
	var tail string
	if l == "en" {
		r = append(r, plain(": the primary risk type of "), share)
		tail = fmt.Sprintf(" of the newly high-risk households (%s)", fmtInt(in.N))
	} else {
		r = append(r, plain("：新增高风险户中 "), share)
		tail = fmt.Sprintf("（%s 户）以%s为主要风险类型", fmtInt(in.N), rt)
	}
	if in.DriverN >= minCell {
		tail += t(fmt.Sprintf("；其中 %s 的最大模型因素是“%s”", pct(float64(in.DriverN)/float64(in.N)), l.driver(in.Driver)),
			fmt.Sprintf("; for %s of them the largest model factor is %s", pct(float64(in.DriverN)/float64(in.N)), l.driver(in.Driver)))
	}
	if in.MedianOOP >= 0 && in.RiskType == "illness" {
		tail += t("，近12个月医疗自付支出中位数 "+l.money(in.MedianOOP), "; their median out-of-pocket medical spending over 12 months is "+l.money(in.MedianOOP))
	}
	return append(r, plain(tail+t("。", ".")))
}

func trend(f *facts, l lang) sectionView {
	t := l.t
	s := sectionView{ID: "trend", Title: t("趋势", "Trend")}
	var pts []point
	for _, r := range f.Trend {
		label := r.AsOf
		if len(label) > 5 {
			label = label[5:] // MM-DD
		}
		pts = append(pts, point{Label: label, Value: float64(r.High), Text: count(r.High), Hidden: r.High < minCell})
	}
	if len(pts) < 2 {
		s.Blocks = append(s.Blocks, paraText(t("之前没有可用的运行，暂无趋势。", "No earlier run is available yet; no trend.")))
		return s
	}
	s.Blocks = append(s.Blocks, chartOr(&figure{ID: "fig-trend", HasCaption: true,
		Line: lineChart("chart-trend", t("各次研判的高风险户数", "High-risk households per run"), t("户", "households"), pts),
		Caption: t(fmt.Sprintf("最近 %d 个月内的 %d 次研判（%s 至 %s）。", trendMonths, len(pts), f.Trend[0].AsOf, f.AsOf),
			fmt.Sprintf("%d runs over the last %d months (%s to %s).", len(pts), trendMonths, f.Trend[0].AsOf, f.AsOf))},
		t(fmt.Sprintf("最近 %d 个月内各次研判的高风险户均少于 5 户，不作图示。", trendMonths), fmt.Sprintf("Every run of the last %d months has fewer than 5 high-risk households; no chart.", trendMonths))))
	return s
}

func resources(f *facts, l lang) sectionView {
	t := l.t
	s := sectionView{ID: "resources", Title: t("精准配置资源", "Resources")}
	src := t("单位成本为县办提供的成本表。", "Unit costs from the office's cost table.")
	if f.CostsDefault {
		src = t("单位成本为示意性默认值（非官方标准），请在生成简报时提供本地单位成本表。", "Unit costs are ILLUSTRATIVE defaults, not official standards; pass local ones with --unit-costs.")
	}
	s.Blocks = append(s.Blocks, paraText(t("下表按高风险户的建议帮扶措施统计需求户数并估算年度资金（户数 × 单位成本）。", "Households at high risk by suggested assistance measure, with a yearly cost estimate (households × unit cost).")+" "+src))
	if len(f.Measures) == 0 {
		s.Blocks = append(s.Blocks, paraText(t("高风险户没有建议的帮扶措施。", "No measure is suggested for the high-risk households.")))
		return s
	}
	var rows [][]rich
	total := 0.0
	for _, m := range f.Measures {
		cost := "—"
		if m.N >= minCell {
			cost = l.money(float64(m.N) * m.Unit)
			total += float64(m.N) * m.Unit
		}
		rows = append(rows, cells(l.program(m.Code), count(m.N), l.yuan(m.Unit), cost))
	}
	s.Blocks = append(s.Blocks, block{Table: &tableView{Class: "data", Rows: rows,
		Head: []string{t("帮扶措施", "measure"), t("需求户数", "households"), t("单位成本（每户每年）", "unit cost (per household-year)"), t("估算资金", "estimated cost")},
		Foot: cells(t("合计（可公布部分）", "Total (cells shown)"), "", "", l.money(total))}})
	if len(f.Counties) > 1 {
		s.Blocks = append(s.Blocks, countyNeed(f, l)...)
	}
	return s
}

// countyNeed is the table of need by county (households and cost) and its note.
func countyNeed(f *facts, l lang) []block {
	t := l.t
	head := []string{t("县（市、区）", "county")}
	for _, m := range f.Measures {
		head = append(head, l.program(m.Code))
	}
	rows := make([][]rich, len(f.Counties))
	for i, c := range f.Counties {
		rows[i] = cells(f.place(c))
	}
	anySecond, allHidden := false, true
	for _, m := range f.Measures {
		ns := make([]int, len(f.Counties))
		for i, c := range f.Counties {
			ns[i] = m.ByCounty[c]
		}
		hid, sec := protect(ns)
		for i := range f.Counties {
			v := rich{plain(cellText(ns[i], hid[i], sec[i]))}
			if !hid[i] {
				v = append(v, seg{Kind: "small", Text: l.money(float64(ns[i]) * m.Unit)})
			}
			anySecond = anySecond || sec[i]
			allHidden = allHidden && hid[i]
			rows[i] = append(rows[i], v)
		}
	}
	out := []block{{H3: t("分县需求（户数与估算资金）", "Need by county (households and estimated cost)")}}
	if allHidden {
		return append(out, paraText(t("各县每项措施的需求户数均少于 5 户，不分县列示。", "Every county needs each measure for fewer than 5 households; not shown by county.")))
	}
	out = append(out, block{Table: &tableView{Class: "data compact", Head: head, Rows: rows}})
	return append(out, note(l, anySecond)...)
}

func ruleScreen(f *facts, l lang) sectionView {
	t := l.t
	s := sectionView{ID: "rules", Title: t("规则筛查与模型研判", "Rule screen and model")}
	missShare := "—"
	if f.TopKMissed >= minCell && f.TopK >= minCell {
		missShare = pct(float64(f.TopKMissed) / float64(f.TopK))
	}
	flagged, topK, missed := fact("rules_flagged", count(f.RulesFlagged)), fact("top_k", count(f.TopK)), fact("top_k_missed", count(f.TopKMissed))
	items := []rich{
		{plain(t("部门筛查规则预警 ", "The rule screens flag ")), flagged,
			plain(t(" 户，占符合条件户的 "+shareText(f.RulesFlagged, f.Eligible)+"。", " households, "+shareText(f.RulesFlagged, f.Eligible)+" of those eligible."))},
		{plain(t("模型优先核查名单（各县按走访能力确定户数）共 ", "The model's priority lists (each county's top k) hold ")), topK,
			plain(t(" 户，其中 ", " households, of which ")), missed,
			plain(t(" 户（"+missShare+"）未触发任何规则——仅靠规则筛查会漏掉这些家庭。", " ("+missShare+") trip no rule: a rule screen alone would miss them."))},
		txt(t("高风险户中未触发任何规则的有 "+count(f.HighNoRule)+" 户。", count(f.HighNoRule)+" of the high-risk households trip no rule.")),
	}
	s.Blocks = append(s.Blocks, block{List: items})
	v := f.Summary.validation()
	if v == nil || len(v.PrecisionAt) == 0 {
		s.Blocks = append(s.Blocks, paraText(t("尚无历史结果可用于验证两者的命中率。", "No past outcomes are known yet to compare their precision.")))
		return s
	}
	var rows [][]rich
	for _, k := range slices.Sorted(maps.Keys(v.PrecisionAt)) {
		r := "—"
		if x, ok := v.RulesPrecisionAt[k]; ok {
			r = pct(x)
		}
		rows = append(rows, cells(t("排名前 ", "top ")+shareKey(k), pct(v.PrecisionAt[k]), r))
	}
	s.Blocks = append(s.Blocks, paraText(t(fmt.Sprintf("历史验证（基准日 %s，此后 %d 个月内是否被识别为监测对象；全部地区）：", v.AsOf, v.HorizonMonths),
		fmt.Sprintf("Past outcomes (as of %s: identified as a monitoring object within %d months; all regions):", v.AsOf, v.HorizonMonths))),
		block{Table: &tableView{Class: "data narrow", Rows: rows, Head: []string{t("核查范围", "visits"), t("模型命中率", "model precision"), t("规则命中率", "rule precision")}}})
	return s
}

func shareKey(k string) string {
	var x float64
	if _, err := fmt.Sscan(k, &x); err != nil {
		return k
	}
	return strings.TrimSuffix(strings.TrimSuffix(fmt.Sprintf("%.1f", 100*x), "0"), ".") + "%"
}

func shareText(n, of int) string {
	if n < minCell || of < minCell {
		return "—"
	}
	return pct(float64(n) / float64(of))
}

// freshnessNote says how the run judged freshness: each judged table with
// the cadence the policy file gives it.
func freshnessNote(f *facts, l lang) string {
	var zh, en []string
	for _, c := range f.Coverage {
		if c.Judged {
			zh = append(zh, fmt.Sprintf("%s每 %d 个月", lang("zh").table(c.Table), c.Cadence))
			every := fmt.Sprintf("%d months", c.Cadence)
			if c.Cadence == 1 {
				every = "month"
			}
			en = append(en, c.Table+" every "+every)
		}
	}
	if len(zh) == 0 {
		return l.t("本次运行未判定数据时效（政策文件未设更新周期）。拒收行为不符合数据标准而未入库的行，详见数据导入时生成的拒收清单。",
			"The run judged no table's freshness (the policy file sets no cadence). Rejected rows failed the data standard and were not loaded; see the run's reject files.")
	}
	return l.t("数据时效按政策文件规定的更新周期判定（"+strings.Join(zh, "，")+"）：最新日期落后于研判基准日超过该周期即视为过时。拒收行为不符合数据标准而未入库的行，详见数据导入时生成的拒收清单。",
		"Freshness is judged by the cadence the policy file sets ("+strings.Join(en, ", ")+"): a table whose latest date lies more than its cadence before the as-of date is stale. Rejected rows failed the data standard and were not loaded; see the run's reject files.")
}

func quality(f *facts, l lang) sectionView {
	t := l.t
	s := sectionView{ID: "quality", Title: t("数据质量", "Data quality")}
	var rows [][]rich
	for _, c := range f.Coverage {
		status := t("正常", "current")
		cls := ""
		switch {
		case c.Present && !c.Judged:
			status = t("不判定（政策文件未设更新周期）", "not judged (no cadence in the policy)")
		case !c.Present && optionalTable(c.Table):
			status = t("未提供（可选）", "not given (optional)")
		case !c.Present:
			status, cls = t("缺失", "missing"), "bad"
		case c.Stale:
			status, cls = t(fmt.Sprintf("过时（早 %d 个多月）", c.MonthsBack), fmt.Sprintf("stale (over %d months old)", c.MonthsBack)), "bad"
		}
		latest := c.Latest
		if latest == "" {
			latest = "—"
		}
		row := cells(l.table(c.Table), fmtInt(int(c.Rows)), latest, pct(c.Share), fmtInt(int(c.Rejected)))
		rows = append(rows, append(row, rich{{Kind: "class", Name: cls, Text: status}}))
	}
	s.Blocks = append(s.Blocks, block{Table: &tableView{Class: "data", Rows: rows,
		Head: []string{t("数据表", "table"), t("行数", "rows"), t("最新日期", "latest"), t("覆盖家庭", "households covered"), t("拒收行", "rejected rows"), t("状态", "status")}}},
		classed("note", freshnessNote(f, l)))
	return s
}

func method(f *facts, l lang) sectionView {
	t := l.t
	s := f.Summary
	var defs []def
	dd := func(k string, v rich) { defs = append(defs, def{Term: k, Def: v}) }
	dd(t("模型", "Model"), txt(t("随机森林模型按家庭收入、支出、就业、健康、教育、灾情等数据估计每户在研判期内被识别为监测对象的概率；风险画像按聚类分析将家庭分为几类。模型编号与训练情况见附录一。",
		"A random forest estimates each household's probability of being identified as a monitoring object within the horizon, from income, spending, work, health, schooling and disaster data; risk profiles come from k-means clustering. The model's id and training are in annex 1.")))
	dd(t("验证结果", "Validation"), txt(validationText(s, l)))
	hi, _ := s.tier("high")
	tiers := fmt.Sprintf("%s ≥ %.2f", t("高风险：概率", "high: probability"), hi)
	if share, ok := s.tier("high_county_share"); ok {
		tiers += t("或位于本县前 "+shareKey(fmt.Sprint(share)), " or in the county's top "+shareKey(fmt.Sprint(share)))
	}
	dd(t("风险等级", "Tiers"), txt(tiers))
	var lines []string
	for _, ln := range s.Policy.Lines {
		lines = append(lines, lineText(l, ln))
	}
	sort.Strings(lines)
	var ml rich
	for i, x := range lines {
		if i > 0 {
			ml = append(ml, seg{Kind: "br"})
		}
		ml = append(ml, plain(x))
	}
	dd(t("监测线", "Monitoring line"), ml)
	dd(t("口径", "Scope"), txt(t("符合条件户：研判基准日不是监测对象的脱贫户和一般农户。模型给出排序与理由，不作认定；是否纳入监测以入户核实为准。",
		"Eligible households: escaped and general households that were not monitoring objects on the as-of date. The model ranks and explains; it does not decide. Inclusion follows the home visit.")))
	return sectionView{ID: "method", Title: t("方法说明", "Method"), Blocks: []block{{Defs: defs}}}
}

// lineText states one monitoring line applied: in Chinese with the
// province's code, the year and, when the policy file had no entry of the
// year, that an earlier one was used.
func lineText(l lang, ln rundir.PolicyLine) string {
	if l == "en" {
		x := fmt.Sprintf("%s %d: %s yuan per person per year (entry %s", ln.Province, ln.Year, fmtWhole(ln.Line), ln.Entry)
		if ln.Fallback != "" {
			x += ", fallback: " + ln.Fallback
		}
		return x + ")"
	}
	x := fmt.Sprintf("省级代码 %s，%d 年：%s 元/人·年", ln.Province, ln.Year, fmtWhole(ln.Line))
	switch ln.Fallback {
	case "":
	case "earlier_year":
		x += "（政策文件未列该年度标准，沿用此前年度标准）"
	default:
		x += "（政策文件未列该省该年度标准，采用替代标准）"
	}
	return x
}

// validationText states the model's validation on past outcomes: in
// Chinese in words (区分能力, 命中率), in English with its measures' names.
func validationText(s *Summary, l lang) string {
	t := l.t
	v := s.validation()
	aucText := func(auc, prauc float64) string {
		return t(fmt.Sprintf("区分能力 %.2f（1 为完全区分，0.5 相当于随机）", auc), fmt.Sprintf("AUC %.2f · PR-AUC %.2f", auc, prauc))
	}
	if v == nil {
		if auc, ok := num(s.Model.AUC); ok {
			prauc, _ := num(s.Model.PRAUC)
			return aucText(auc, prauc)
		}
		return t("模型训练记录未载明验证结果。", "The model card records no validation.")
	}
	var ks []string
	for _, k := range slices.Sorted(maps.Keys(v.PrecisionAt)) {
		ks = append(ks, t("排名前 ", "top ")+shareKey(k)+" "+pct(v.PrecisionAt[k]))
	}
	var parts []string
	if v.HasAUC {
		parts = append(parts, aucText(v.AUC, v.PRAUC))
	}
	if len(ks) > 0 {
		parts = append(parts, t("命中率：", "precision ")+strings.Join(ks, t("，", ", ")))
	}
	when := ""
	if v.AsOf != "" {
		when = t("（基准日 ", " (as of ") + v.AsOf + t(fmt.Sprintf("，预测期 %d 个月）", v.HorizonMonths), fmt.Sprintf(", horizon %d months)", v.HorizonMonths))
	}
	return strings.Join(parts, t("；", " · ")) + when
}
