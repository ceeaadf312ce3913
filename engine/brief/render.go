package brief

import (
	_ "embed"
	"fmt"
	"html"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"
)

//go:embed style.css
var styleCSS string

// page builds the HTML of a brief. Every text that comes from the run
// directory is escaped; markup is written here.
type page struct {
	l lang
	b strings.Builder
}

func (p *page) w(format string, a ...any) { fmt.Fprintf(&p.b, format, a...) }

// esc escapes text for HTML.
func esc(s string) string { return html.EscapeString(s) }

// fact wraps a figure the brief states, named so that tests can trace it.
func fact(name, text string) string {
	return fmt.Sprintf(`<strong data-fact="%s">%s</strong>`, name, esc(text))
}

// rawHTML is markup written as is; every other cell is text and escaped.
type rawHTML string

func cellHTML(c any) string {
	switch c := c.(type) {
	case rawHTML:
		return string(c)
	case string:
		return esc(c)
	}
	panic(fmt.Sprintf("brief: table cell of type %T", c))
}

// table writes a table of text (string) or markup (rawHTML) cells.
func (p *page) table(class string, head []string, rows [][]any, foot []any) {
	p.w(`<table class="%s"><thead><tr>`, class)
	for _, h := range head {
		p.w(`<th>%s</th>`, esc(h))
	}
	p.w(`</tr></thead><tbody>`)
	for _, r := range rows {
		p.w(`<tr>`)
		for _, c := range r {
			p.w(`<td>%s</td>`, cellHTML(c))
		}
		p.w(`</tr>`)
	}
	p.w(`</tbody>`)
	if foot != nil {
		p.w(`<tfoot><tr>`)
		for _, c := range foot {
			p.w(`<td>%s</td>`, cellHTML(c))
		}
		p.w(`</tr></tfoot>`)
	}
	p.w(`</table>`)
}

// render writes the brief's HTML.
func render(w io.Writer, f *facts, l lang) error {
	p := &page{l: l}
	t := l.t
	title := t("风险研判简报", "Risk brief")
	p.w("<!DOCTYPE html>\n<html lang=\"%s\"><head><meta charset=\"utf-8\">", t("zh-CN", "en"))
	p.w(`<meta name="viewport" content="width=device-width, initial-scale=1">`)
	p.w(`<title>%s · %s · %s</title><style>%s</style></head><body><main>`, esc(title), esc(l.regionName(f.Region)), esc(f.AsOf), styleCSS)

	p.w(`<header><div class="kicker">%s</div><h1>%s</h1><div class="sub">%s · %s %s · %s</div></header>`,
		t("防止返贫动态监测 · 内部工作材料", "Preventing return to poverty · internal working paper"),
		esc(title), esc(l.regionName(f.Region)), t("研判基准日", "as of"), esc(f.AsOf),
		t("依据运行目录 "+esc(f.Run), "from run "+esc(f.Run)))

	p.warnings(f)
	p.headline(f)
	p.where(f)
	p.why(f)
	p.trend(f)
	p.resources(f)
	p.rules(f)
	p.quality(f)
	p.method(f)

	p.w(`<footer>%s</footer>`, t(
		fmt.Sprintf("本简报的全部数字均来自运行目录 %s（checksums.sha256 的 SHA-256 前缀 %s）及其之前的运行目录；不含任何个人信息，少于 5 户的单元格显示为“&lt;5”。",
			esc(f.Run), esc(prefix(f.RunSHA, 12))),
		fmt.Sprintf("Every figure comes from run directory %s (SHA-256 of checksums.sha256 starts %s) and the runs before it. No personal data; cells of fewer than 5 households show as “&lt;5”.",
			esc(f.Run), esc(prefix(f.RunSHA, 12)))))
	p.w("</main></body></html>\n")
	_, err := io.WriteString(w, p.b.String())
	return err
}

func prefix(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// warnings lists what the reader must know before trusting the figures.
func (p *page) warnings(f *facts) {
	t := p.l.t
	var ws []string
	for _, c := range f.Coverage {
		if !c.Stale {
			continue
		}
		if c.Table == "medical_claims" {
			ws = append(ws, t(
				fmt.Sprintf("医保结算数据已过时：最新结算日期为 %s，比研判基准日早 %d 个多月。因病致贫返贫风险很可能被低估，请先补报医保数据再据此派员核查。", esc(c.Latest), c.MonthsBack),
				fmt.Sprintf("Medical claims are stale: the latest claim is dated %s, more than %d months before the as-of date. Illness-driven risk is probably understated; obtain a fresh medical extract before relying on this brief.", esc(c.Latest), c.MonthsBack)))
		} else {
			ws = append(ws, t(
				fmt.Sprintf("%s 数据已过时：最新日期 %s，早于基准日 %d 个多月。", esc(p.l.table(c.Table)), esc(c.Latest), c.MonthsBack),
				fmt.Sprintf("Table %s is stale: latest date %s, more than %d months before the as-of date.", esc(c.Table), esc(c.Latest), c.MonthsBack)))
		}
	}
	if len(f.Summary.MissingTables) > 0 {
		var names []string
		for _, m := range f.Summary.MissingTables {
			names = append(names, esc(p.l.table(m)))
		}
		ws = append(ws, t("本次运行缺少数据表："+strings.Join(names, "、")+"；依赖这些数据的特征为空。",
			"Tables missing from this run: "+strings.Join(names, ", ")+"; the features that need them are empty."))
	}
	for _, s := range f.Skipped {
		ws = append(ws, t("早先的运行 "+esc(s.AsOf)+" 不完整或与审计记录不符，未用于对比。",
			"Earlier run "+esc(s.AsOf)+" is incomplete or does not match its audit record; it was not used for comparisons."))
	}
	if len(ws) == 0 {
		return
	}
	p.w(`<section class="alert" id="warnings"><h2>%s</h2><ul>`, t("数据警示", "Data warnings"))
	for _, w := range ws {
		p.w(`<li>%s</li>`, w)
	}
	p.w(`</ul></section>`)
}

func (p *page) headline(f *facts) {
	l, t := p.l, p.l.t
	p.w(`<section id="headline"><h2>%s</h2>`, t("一、研判要点", "1. Headline"))
	// Key figures.
	p.w(`<div class="cards">`)
	card := func(label, value, note string) {
		p.w(`<div class="card"><div class="label">%s</div><div class="value">%s</div><div class="note">%s</div></div>`, label, value, note)
	}
	card(t("高风险户", "High-risk households"), fact("high", count(f.High)),
		t("占符合条件户 ", "of ")+fact("eligible", count(f.Eligible))+t("", " eligible"))
	if f.Prev != nil {
		card(t("较上次运行", "Since the previous run"), fact("change_prev", delta(f.High, f.Prev.High)), t("上次 ", "previous run ")+esc(f.Prev.AsOf))
	}
	if f.Month != nil {
		card(t("较一个月前", "Since a month earlier"), fact("change_month", delta(f.High, f.Month.High)), t("对比 ", "run of ")+esc(f.Month.AsOf))
	}
	if f.Ref != nil {
		card(t("新增高风险户", "Newly high-risk"), fact("new_high", count(f.NewHigh)), t("自 ", "since ")+esc(f.Ref.AsOf))
	}
	p.w(`</div>`)

	// The sentence an analyst would write.
	var s strings.Builder
	s.WriteString(t(
		fmt.Sprintf("截至 %s，%s范围内符合条件的 %s 户中，模型研判为高风险的有 %s 户（每千户 %s）", esc(f.AsOf), esc(l.regionName(f.Region)), esc(count(f.Eligible)), esc(count(f.High)), rateText(f.High, f.Eligible)),
		fmt.Sprintf("As of %s, %s of the %s eligible households in %s are at high risk (%s per 1,000)", esc(f.AsOf), esc(count(f.High)), esc(count(f.Eligible)), esc(l.regionName(f.Region)), rateText(f.High, f.Eligible))))
	if f.Prev != nil {
		s.WriteString(t("，较上次运行（"+esc(f.Prev.AsOf)+"）"+changeWords(l, f.High, f.Prev.High),
			", "+changeWords(l, f.High, f.Prev.High)+" since the previous run ("+esc(f.Prev.AsOf)+")"))
	}
	if f.Month != nil && f.Month != f.Prev {
		s.WriteString(t("，较一个月前（"+esc(f.Month.AsOf)+"）"+changeWords(l, f.High, f.Month.High),
			" and "+changeWords(l, f.High, f.Month.High)+" since a month earlier ("+esc(f.Month.AsOf)+")"))
	}
	s.WriteString(t("。", "."))
	if f.Prev == nil {
		s.WriteString(t("这是该地区的第一次运行，尚无对比。", " This is the first run; there is nothing to compare with."))
	}
	p.w(`<p class="lead">%s</p>`, s.String())
	if f.Ref != nil {
		if len(f.Rises) == 0 {
			p.w(`<p>%s</p>`, t("自 "+esc(f.Ref.AsOf)+" 以来，没有哪个"+l.level(f.Level)+"的高风险户明显增加。",
				"No "+l.level(f.Level)+" shows a clear rise in high-risk households since "+esc(f.Ref.AsOf)+"."))
		} else {
			var parts []string
			for i, r := range f.Rises {
				parts = append(parts, fmt.Sprintf(`<span data-fact="rise_%d">%s</span>`, i+1, riseText(l, r)))
			}
			p.w(`<p>%s</p>`, t(
				"自 "+esc(f.Ref.AsOf)+" 以来上升最快的"+l.level(f.Level)+"："+strings.Join(parts, "；")+"。",
				"Sharpest rises since "+esc(f.Ref.AsOf)+" ("+l.level(f.Level)+"): "+strings.Join(parts, "; ")+"."))
		}
	}
	p.w(`</section>`)
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

func riseText(l lang, r areaRow) string {
	if r.RefHigh < minCell {
		return l.t(esc(r.Code)+" 升至 "+esc(count(r.High))+" 户（此前 &lt;5 户）", esc(r.Code)+" rose to "+esc(count(r.High))+" (from &lt;5)")
	}
	return l.t(fmt.Sprintf("%s %s 户（%s → %s）", esc(r.Code), signed(r.High-r.RefHigh), fmtInt(r.RefHigh), fmtInt(r.High)),
		fmt.Sprintf("%s %s (%s → %s)", esc(r.Code), signed(r.High-r.RefHigh), fmtInt(r.RefHigh), fmtInt(r.High)))
}

// rateText prints high-risk households per 1,000 eligible, hidden with the count.
func rateText(high, eligible int) string {
	if high < minCell || eligible < minCell {
		return "—"
	}
	return fixed1(1000 * float64(high) / float64(eligible))
}

func (p *page) where(f *facts) {
	l, t := p.l, p.l.t
	lv := l.level(f.Level)
	p.w(`<section id="where"><h2>%s</h2>`, t("二、风险分布：哪里需要先去", "2. Where: risk by "+lv))
	p.w(`<p>%s</p>`, t("按每千户符合条件家庭中的高风险户数排序；“前 k 户”为各县按走访能力确定的优先核查名单。",
		"Ranked by high-risk households per 1,000 eligible households; “top k” is each county's priority visit list, sized to its visiting capacity."))
	col := func(get func(a areaRow) int) ([]bool, []bool) {
		ns := make([]int, len(f.Areas))
		for i, a := range f.Areas {
			ns[i] = get(a)
		}
		return protect(ns)
	}
	hh, hs := col(func(a areaRow) int { return a.High })
	eh, es := col(func(a areaRow) int { return a.Eligible })
	kh, ks := col(func(a areaRow) int { return a.TopK })
	rh, rs := col(func(a areaRow) int { return a.Rules })
	var bars []bar
	var rows [][]any
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
		rows = append(rows, []any{fmt.Sprint(i + 1), a.Code, cellText(a.Eligible, eh[i], es[i]), cellText(a.High, hh[i], hs[i]),
			rate, ch, cellText(a.TopK, kh[i], ks[i]), cellText(a.Rules, rh[i], rs[i])})
		b := bar{Label: a.Code, Value: a.Rate, Text: rate + "‰", Hidden: hh[i] || eh[i]}
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
	p.w(`<figure class="chart" id="fig-where">%s<figcaption>%s</figcaption></figure>`,
		barChart("chart-where", t("每千户高风险户数（按"+lv+"）", "High-risk households per 1,000 eligible, by "+lv), bars), esc(caption))
	chHead := t("变化", "change")
	if f.Ref != nil {
		chHead = t("较 "+f.Ref.AsOf+" 变化", "change since "+f.Ref.AsOf)
	}
	foot := []any{"", t("合计", "Total"), count(f.Eligible), count(f.High), rateText(f.High, f.Eligible), "—", count(f.TopK), count(f.RulesFlagged)}
	if f.Ref != nil {
		foot[5] = delta(f.High, f.Ref.High)
	}
	p.table("data ranked", []string{t("序", "#"), lv, t("符合条件户", "eligible"), t("高风险户", "high risk"), t("每千户", "per 1,000"), chHead, t("前 k 户", "top k"), t("规则预警户", "rule-flagged")}, rows, foot)
	p.note(anySecond)
	p.w(`</section>`)
}

func refName(f *facts) string {
	if f.Ref == nil {
		return "—"
	}
	return f.Ref.AsOf
}

func (p *page) note(second bool) {
	if second {
		p.w(`<p class="note">%s</p>`, p.l.t("* 为防止由合计反推少于 5 户的单元格而一并隐藏。", "* withheld so that a cell of fewer than 5 households cannot be derived from the total."))
	}
}

func (p *page) why(f *facts) {
	l, t := p.l, p.l.t
	p.w(`<section id="why"><h2>%s</h2>`, t("三、风险成因：为什么", "3. Why: risk types and profiles"))
	p.w(`<p>%s</p>`, t("高风险户按官方风险类型（一户可有多种）和风险画像（模型聚类，一户一类）统计。",
		"High-risk households by official risk type (a household can have several) and by risk profile (model clusters, one per household)."))
	var bars []bar
	var rows [][]any
	for _, c := range f.RiskTypes {
		share := "—"
		if c.N >= minCell && f.High >= minCell {
			share = pct(float64(c.N) / float64(f.High))
		}
		rows = append(rows, []any{l.riskType(c.Code), count(c.N), share})
		bars = append(bars, bar{Label: l.riskType(c.Code), Value: float64(c.N), Text: count(c.N), Hidden: c.N < minCell})
	}
	if len(bars) > 0 {
		p.w(`<figure class="chart" id="fig-why">%s</figure>`, barChart("chart-why", t("高风险户的风险类型", "Risk types of high-risk households"), bars))
	}
	p.w(`<div class="cols"><div>`)
	p.table("data", []string{t("风险类型", "risk type"), t("高风险户", "households"), t("占高风险户", "share")}, rows, nil)
	p.w(`</div><div>`)
	ns := make([]int, len(f.Profiles))
	for i, c := range f.Profiles {
		ns[i] = c.N
	}
	hid, sec := protect(ns)
	rows = nil
	anySecond := false
	for i, c := range f.Profiles {
		rows = append(rows, []any{l.profile(c), cellText(c.N, hid[i], sec[i])})
		anySecond = anySecond || sec[i]
	}
	p.table("data", []string{t("风险画像", "risk profile"), t("高风险户", "households")}, rows, []any{t("合计", "Total"), count(f.High)})
	p.note(anySecond)
	p.w(`</div></div>`)
	if f.Ref != nil {
		p.w(`<h3>%s</h3>`, t("新增高风险户的主要成因（自 "+esc(f.Ref.AsOf)+" 以来）", "What drives the newly high-risk households (since "+esc(f.Ref.AsOf)+")"))
		if len(f.Insights) == 0 {
			p.w(`<p>%s</p>`, t("新增高风险户过少（或各类型均少于 5 户），不作成因分解。", "Too few newly high-risk households (or fewer than 5 per type) to break down."))
		} else {
			p.w(`<ul class="insights">`)
			for i, in := range f.Insights {
				var s string
				s = t(fmt.Sprintf("<b>%s</b>：新增高风险户中 %s（%s 户）以%s为主要风险类型", esc(l.riskType(in.RiskType)), fact(fmt.Sprintf("insight_%d_share", i+1), pct(in.Share)), fmtInt(in.N), esc(l.riskType(in.RiskType))),
					fmt.Sprintf("<b>%s</b>: the primary risk type of %s of the newly high-risk households (%s)", esc(l.riskType(in.RiskType)), fact(fmt.Sprintf("insight_%d_share", i+1), pct(in.Share)), fmtInt(in.N)))
				if in.DriverN >= minCell {
					s += t(fmt.Sprintf("；其中 %s 的最大模型因素是“%s”", pct(float64(in.DriverN)/float64(in.N)), esc(l.driver(in.Driver))),
						fmt.Sprintf("; for %s of them the largest model factor is %s", pct(float64(in.DriverN)/float64(in.N)), esc(l.driver(in.Driver))))
				}
				if in.MedianOOP >= 0 && in.RiskType == "illness" {
					s += t("，近12个月医疗自付支出中位数 "+l.money(in.MedianOOP), "; their median out-of-pocket medical spending over 12 months is "+l.money(in.MedianOOP))
				}
				p.w(`<li>%s%s</li>`, s, t("。", "."))
			}
			p.w(`</ul>`)
		}
	}
	p.w(`</section>`)
}

func (p *page) trend(f *facts) {
	t := p.l.t
	p.w(`<section id="trend"><h2>%s</h2>`, t("四、趋势", "4. Trend"))
	var pts []point
	for _, r := range f.Trend {
		label := r.AsOf[5:]
		pts = append(pts, point{Label: label, Value: float64(r.High), Text: count(r.High), Hidden: r.High < minCell})
	}
	if len(pts) < 2 {
		p.w(`<p>%s</p>`, t("之前没有可用的运行，暂无趋势。", "No earlier run is available yet; no trend."))
	} else {
		p.w(`<figure class="chart" id="fig-trend">%s<figcaption>%s</figcaption></figure>`,
			lineChart("chart-trend", t("各次运行的高风险户数", "High-risk households per run"), t("户", "households"), pts),
			t(fmt.Sprintf("最近 %d 个月内的 %d 次运行（%s 至 %s）。", trendMonths, len(pts), esc(f.Trend[0].AsOf), esc(f.AsOf)),
				fmt.Sprintf("%d runs over the last %d months (%s to %s).", len(pts), trendMonths, esc(f.Trend[0].AsOf), esc(f.AsOf))))
	}
	p.w(`</section>`)
}

func (p *page) resources(f *facts) {
	l, t := p.l, p.l.t
	p.w(`<section id="resources"><h2>%s</h2>`, t("五、精准配置资源", "5. Resources"))
	src := t("单位成本为县办提供的成本表。", "Unit costs from the office's cost table.")
	if f.CostsDefault {
		src = t("单位成本为示意性默认值（非官方标准），请用 --unit-costs 提供本地标准。", "Unit costs are ILLUSTRATIVE defaults, not official standards; pass local ones with --unit-costs.")
	}
	p.w(`<p>%s %s</p>`, t("下表按高风险户的建议帮扶措施统计需求户数并估算年度资金（户数 × 单位成本）。", "Households at high risk by suggested assistance measure, with a yearly cost estimate (households × unit cost)."), src)
	if len(f.Measures) == 0 {
		p.w(`<p>%s</p></section>`, t("高风险户没有建议的帮扶措施。", "No measure is suggested for the high-risk households."))
		return
	}
	var rows [][]any
	total := 0.0
	for _, m := range f.Measures {
		cost := "—"
		if m.N >= minCell {
			cost = l.money(float64(m.N) * m.Unit)
			total += float64(m.N) * m.Unit
		}
		rows = append(rows, []any{l.program(m.Code), count(m.N), l.yuan(m.Unit), cost})
	}
	p.table("data", []string{t("帮扶措施", "measure"), t("需求户数", "households"), t("单位成本（每户每年）", "unit cost (per household-year)"), t("估算资金", "estimated cost")}, rows,
		[]any{t("合计（可公布部分）", "Total (cells shown)"), "", "", l.money(total)})
	if len(f.Counties) > 1 {
		head := []string{t("县（市、区）", "county")}
		for _, m := range f.Measures {
			head = append(head, l.program(m.Code))
		}
		cells := make([][]any, len(f.Counties))
		for i, c := range f.Counties {
			cells[i] = []any{c}
		}
		anySecond := false
		for _, m := range f.Measures {
			ns := make([]int, len(f.Counties))
			for i, c := range f.Counties {
				ns[i] = m.ByCounty[c]
			}
			hid, sec := protect(ns)
			for i := range f.Counties {
				v := esc(cellText(ns[i], hid[i], sec[i]))
				if !hid[i] {
					v += `<br><span class="small">` + esc(l.money(float64(ns[i])*m.Unit)) + `</span>`
				}
				anySecond = anySecond || sec[i]
				cells[i] = append(cells[i], rawHTML(v))
			}
		}
		p.w(`<h3>%s</h3>`, t("分县需求（户数与估算资金）", "Need by county (households and estimated cost)"))
		p.table("data compact", head, cells, nil)
		p.note(anySecond)
	}
	p.w(`</section>`)
}

func (p *page) rules(f *facts) {
	t := p.l.t
	p.w(`<section id="rules"><h2>%s</h2>`, t("六、规则筛查与模型研判", "6. Rule screen and model"))
	missShare := "—"
	if f.TopKMissed >= minCell && f.TopK >= minCell {
		missShare = pct(float64(f.TopKMissed) / float64(f.TopK))
	}
	p.w(`<ul>`)
	p.w(`<li>%s</li>`, t("部门筛查规则预警 "+fact("rules_flagged", count(f.RulesFlagged))+" 户，占符合条件户的 "+shareText(f.RulesFlagged, f.Eligible)+"。",
		"The rule screens flag "+fact("rules_flagged", count(f.RulesFlagged))+" households, "+shareText(f.RulesFlagged, f.Eligible)+" of those eligible."))
	p.w(`<li>%s</li>`, t("模型优先核查名单（各县前 k 户）共 "+fact("top_k", count(f.TopK))+" 户，其中 "+fact("top_k_missed", count(f.TopKMissed))+" 户（"+missShare+"）未触发任何规则——仅靠规则筛查会漏掉这些家庭。",
		"The model's priority lists (each county's top k) hold "+fact("top_k", count(f.TopK))+" households, of which "+fact("top_k_missed", count(f.TopKMissed))+" ("+missShare+") trip no rule: a rule screen alone would miss them."))
	p.w(`<li>%s</li>`, t("高风险户中未触发任何规则的有 "+esc(count(f.HighNoRule))+" 户。", esc(count(f.HighNoRule))+" of the high-risk households trip no rule."))
	p.w(`</ul>`)
	v := f.Summary.validation()
	if v == nil || len(v.PrecisionAt) == 0 {
		p.w(`<p>%s</p>`, t("尚无历史结果可用于验证两者的命中率。", "No past outcomes are known yet to compare their precision."))
	} else {
		var rows [][]any
		for _, k := range slices.Sorted(maps.Keys(v.PrecisionAt)) {
			r := "—"
			if x, ok := v.RulesPrecisionAt[k]; ok {
				r = pct(x)
			}
			rows = append(rows, []any{t("排名前 ", "top ") + shareKey(k), pct(v.PrecisionAt[k]), r})
		}
		p.w(`<p>%s</p>`, t(fmt.Sprintf("历史验证（基准日 %s，此后 %d 个月内是否被识别为监测对象；全部地区）：", esc(v.AsOf), v.HorizonMonths),
			fmt.Sprintf("Past outcomes (as of %s: identified as a monitoring object within %d months; all regions):", esc(v.AsOf), v.HorizonMonths)))
		p.table("data narrow", []string{t("核查范围", "visits"), t("模型命中率", "model precision"), t("规则命中率", "rule precision")}, rows, nil)
	}
	p.w(`</section>`)
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

func (p *page) quality(f *facts) {
	l, t := p.l, p.l.t
	p.w(`<section id="quality"><h2>%s</h2>`, t("七、数据质量", "7. Data quality"))
	var rows [][]any
	for _, c := range f.Coverage {
		status := t("正常", "current")
		cls := ""
		switch {
		case c.Present && !c.Judged:
			status = t("不判定（登记类）", "not judged (registry)")
		case !c.Present:
			status, cls = t("缺失", "missing"), "bad"
		case c.Stale:
			status, cls = t(fmt.Sprintf("过时（早 %d 个多月）", c.MonthsBack), fmt.Sprintf("stale (over %d months old)", c.MonthsBack)), "bad"
		}
		latest := c.Latest
		if latest == "" {
			latest = "—"
		}
		rows = append(rows, []any{l.table(c.Table), fmtInt(int(c.Rows)), latest, pct(c.Share), fmtInt(int(c.Rejected)),
			rawHTML(fmt.Sprintf(`<span class="%s">%s</span>`, cls, esc(status)))})
	}
	p.table("data", []string{t("数据表", "table"), t("行数", "rows"), t("最新日期", "latest"), t("覆盖家庭", "households covered"), t("拒收行", "rejected rows"), t("状态", "status")}, rows, nil)
	p.w(`<p class="note">%s</p>`, t(fmt.Sprintf("按月更新的数据（医保结算、收入、社保缴费）最新日期早于研判基准日 %d 个月以上、教育数据早于 %d 个月以上，视为过时。拒收行为不符合数据标准而未入库的行，详见运行的拒收文件。", staleAfterMonths["medical_claims"], staleAfterMonths["education"]),
		fmt.Sprintf("A monthly feed (medical claims, income, social insurance) whose latest date is more than %d months before the as-of date is stale; education, more than %d months. Rejected rows failed the data standard and were not loaded; see the run's reject files.", staleAfterMonths["medical_claims"], staleAfterMonths["education"])))
	p.w(`</section>`)
}

func (p *page) method(f *facts) {
	t := p.l.t
	s := f.Summary
	p.w(`<section id="method"><h2>%s</h2><dl>`, t("八、方法说明", "8. Method"))
	dd := func(k, v string) { p.w(`<dt>%s</dt><dd>%s</dd>`, k, v) }
	dd(t("模型", "Model"), esc(s.Model.ID)+t("，训练基准日 ", ", trained as of ")+esc(s.Model.TrainedOn)+t("（随机森林，风险画像为 k-means 聚类）", " (random forest; risk profiles from k-means)"))
	if v := s.validation(); v != nil {
		var ks []string
		for _, k := range slices.Sorted(maps.Keys(v.PrecisionAt)) {
			ks = append(ks, t("前 ", "top ")+shareKey(k)+" "+pct(v.PrecisionAt[k]))
		}
		var parts []string
		if v.HasAUC {
			parts = append(parts, fmt.Sprintf("AUC %.2f · PR-AUC %.2f", v.AUC, v.PRAUC))
		}
		if len(ks) > 0 {
			parts = append(parts, t("命中率 ", "precision ")+strings.Join(ks, ", "))
		}
		when := ""
		if v.AsOf != "" {
			when = t(" (基准日 ", " (as of ") + esc(v.AsOf) + t(fmt.Sprintf(", 预测期 %d 个月)", v.HorizonMonths), fmt.Sprintf(", horizon %d months)", v.HorizonMonths))
		}
		dd(t("验证结果", "Validation"), strings.Join(parts, " · ")+when)
	} else if auc, ok := num(s.Model.AUC); ok {
		prauc, _ := num(s.Model.PRAUC)
		dd(t("验证结果", "Validation"), fmt.Sprintf("AUC %.2f · PR-AUC %.2f", auc, prauc))
	} else {
		dd(t("验证结果", "Validation"), t("模型卡未记录验证结果。", "The model card records no validation."))
	}
	hi, _ := s.tier("high")
	tiers := fmt.Sprintf("%s ≥ %.2f", t("高风险：概率", "high: probability"), hi)
	if share, ok := s.tier("high_county_share"); ok {
		tiers += t("或位于本县前 "+shareKey(fmt.Sprint(share)), " or in the county's top "+shareKey(fmt.Sprint(share)))
	}
	dd(t("风险等级", "Tiers"), esc(tiers))
	dd(t("政策文件", "Policy file"), esc(s.Policy.File)+" · sha256 "+esc(prefix(s.Policy.SHA256, 12)))
	var lines []string
	for _, ln := range s.Policy.Lines {
		x := fmt.Sprintf("%s %d: %s %s", esc(ln.Province), ln.Year, fmtWhole(ln.Line), t("元/人·年", "yuan per person per year"))
		x += t("（条目 "+esc(ln.Entry), " (entry "+esc(ln.Entry))
		if ln.Fallback != "" {
			x += t("，回退："+esc(ln.Fallback), ", fallback: "+esc(ln.Fallback))
		}
		x += t("）", ")")
		lines = append(lines, x)
	}
	sort.Strings(lines)
	dd(t("监测线", "Monitoring line"), strings.Join(lines, "<br>"))
	dd(t("口径", "Scope"), t("符合条件户：研判基准日不是监测对象的脱贫户和一般农户。模型给出排序与理由，不作认定；是否纳入监测以入户核实为准。",
		"Eligible households: escaped and general households that were not monitoring objects on the as-of date. The model ranks and explains; it does not decide. Inclusion follows the home visit."))
	p.w(`</dl></section>`)
}
