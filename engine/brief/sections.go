package brief

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/povrisk/povrisk/engine/rundir"
	"github.com/povrisk/povrisk/models/eval"
)

// The sections of the office loop (issues 13, 14, 16): the work
// suggestions, what the visits found, the risk elimination and the watch
// after it, the technical sources and the fairness audit.

// chartOr is the chart's block, or the sentence when the chart would show
// nothing but empty boxes (every bar withheld or zero).
func chartOr(fig *figure, sentence string) block {
	empty := true
	if fig.Bars != nil {
		for _, b := range fig.Bars.Bars {
			if !b.Empty {
				empty = false
			}
		}
	}
	if fig.Line != nil {
		for _, p := range fig.Line.Points {
			if !p.Hidden {
				empty = false
			}
		}
	}
	if empty {
		return paraText(sentence)
	}
	return block{Figure: fig}
}

// shownAreas are up to n areas whose high-risk count may be shown (at
// least minCell and not withheld), highest rate first (the order of
// areaRows).
func shownAreas(areas []areaRow, n int) []areaRow {
	// The same cells the area table withholds (a count under 5 and the one
	// withheld with it) are never named either.
	hh, _ := protectCol(areas, func(a areaRow) int { return a.High })
	eh, _ := protectCol(areas, func(a areaRow) int { return a.Eligible })
	var out []areaRow
	for i, a := range areas {
		if !hh[i] && !eh[i] {
			out = append(out, a)
		}
		if len(out) == n {
			break
		}
	}
	return out
}

// areaList names areas with their high-risk counts and rates.
func areaList(f *facts, l lang, as []areaRow) string {
	var parts []string
	for _, a := range as {
		parts = append(parts, l.t(fmt.Sprintf("%s（高风险户 %s 户，每千户 %s）", f.place(a.Code), fmtInt(a.High), fixed1(a.Rate)),
			fmt.Sprintf("%s (%s high-risk, %s per 1,000)", f.place(a.Code), fmtInt(a.High), fixed1(a.Rate))))
	}
	return strings.Join(parts, l.t("、", ", "))
}

// advice is the 工作建议: what to do, where first, with which measures,
// by whom and by when, written from the figures.
func advice(f *facts, l lang) sectionView {
	t := l.t
	s := sectionView{ID: "advice", Title: t("工作建议", "Suggested actions")}
	var items []rich
	// Where first.
	var where []string
	if f.Level == "county" {
		if as := shownAreas(f.Areas, 3); len(as) > 0 {
			where = append(where, t("县级层面优先安排", "Counties first: ")+areaList(f, l, as))
		}
	}
	if ts := shownAreas(f.Townships, 3); len(ts) > 0 {
		where = append(where, t("乡镇层面优先安排", "Townships first: ")+areaList(f, l, ts))
	} else if len(where) > 0 {
		where = append(where, t("各乡镇高风险户数均少于 5 户或不宜单独公布，按优先核查名单逐户核查", "no township's count can be shown: visit the priority lists in order"))
	}
	if len(where) == 0 {
		items = append(items, txt(t("突出重点地区：各地高风险户数均少于 5 户或不宜单独公布，按优先核查名单逐户核查即可。",
			"Where first: no area's count can be shown (fewer than 5 high-risk households, or withheld); visit the priority lists in order.")))
	} else {
		items = append(items, txt(t("突出重点地区：", "Where first. ")+strings.Join(where, t("；", "; "))+t("。", ".")))
	}
	// The visits due.
	whose := "各县"
	if len(f.Region) == 6 {
		whose = "本县"
	}
	visit := rich{plain(t("落实入户核查："+whose+"优先核查名单共 ", "Visits: the priority lists hold ")), fact("advice_top_k", count(f.TopK)),
		plain(t(" 户，请乡镇、村干部于 ", " households; township and village cadres should visit them by ")), fact("advice_due", f.Due),
		plain(t(" 前完成入户核查，在核查台账中逐户填写核查结果、核查日期和核查人，报县级汇总", ", record each outcome, date and visitor in the work list and return it to the county office"))}
	if f.TopKMissed >= minCell {
		visit = append(visit, plain(t("；其中未触发任何部门筛查规则的 "+count(f.TopKMissed)+" 户须重点核实", "; check closely the "+count(f.TopKMissed)+" that trip no rule")))
	}
	items = append(items, append(visit, plain(t("。", "."))))
	// Which measures.
	ms := slices.Clone(f.Measures)
	slices.SortStableFunc(ms, func(a, b measureRow) int { return b.N - a.N })
	var mparts []string
	total := 0.0
	for _, m := range ms {
		if m.N < minCell {
			continue
		}
		total += float64(m.N) * m.Unit
		if len(mparts) < 3 {
			mparts = append(mparts, l.t(fmt.Sprintf("%s（%s 户）", l.program(m.Code), fmtInt(m.N)), fmt.Sprintf("%s (%s households)", l.program(m.Code), fmtInt(m.N))))
		}
	}
	if len(mparts) > 0 {
		cost := l.money(total)
		if f.CostsDefault {
			cost += t("（按示意性单位成本）", " (at illustrative unit costs)")
		}
		items = append(items, txt(t("对症落实帮扶：高风险户需求较多的措施是", "Measures: most needed are ")+strings.Join(mparts, t("、", ", "))+
			t("，估算年度资金 "+cost+"；由县级行业部门会同乡镇逐户确定帮扶措施。", "; estimated yearly cost "+cost+"; the county's departments and townships settle each household's measures.")))
	}
	// Elimination and the watch after it.
	if e, _ := regionElimination(f.Summary.Elimination, f.Region); e != nil && e.Monitored > 0 {
		r := t(fmt.Sprintf("风险消除：监测对象中可消除 %s 户，请按程序组织入户核实、民主评议后消除风险；暂缓消除 %s 户，继续落实帮扶并观察", count(e.Ready), count(e.Defer)),
			fmt.Sprintf("Elimination: %s monitored households are ready for elimination after the visit and the village review; %s are deferred and stay assisted", count(e.Ready), count(e.Defer)))
		if w := regionWatch(f.Summary.Watch, f.Region); w != nil && w.InTopK > 0 {
			r += t("；近一年已消除风险的户中有 "+count(w.InTopK)+" 户重新进入优先核查名单，请一并回头看", "; "+count(w.InTopK)+" households eliminated in the last year are back on the priority lists: look at them again")
		}
		items = append(items, txt(r+t("。", ".")))
	}
	// The data to mend.
	for _, c := range f.Coverage {
		if c.Stale {
			items = append(items, txt(t("补齐数据："+l.table(c.Table)+"数据已过时，请协调有关部门尽快补报，补报后重新研判。",
				"Data: table "+c.Table+" is stale; obtain a fresh extract and run again.")))
		}
	}
	for i := range items {
		items[i] = append(rich{{Kind: "b", Text: t("（"+zhNumeral(i+1)+"）", fmt.Sprintf("%d. ", i+1))}}, items[i]...)
	}
	s.Blocks = append(s.Blocks, block{List: items, Class: "advice"})
	return s
}

// precText prints a precision, a dash when too few visits were judged.
func precText(s rundir.SourceVisits) string {
	if p, ok := precisionOf(s); ok {
		return pct(p)
	}
	return "—"
}

// visits is the 上月核查反馈: what the home visits since the previous run
// found, by county, and how the model's list did against the rule screen.
func visits(f *facts, l lang) sectionView {
	t := l.t
	s := sectionView{ID: "visits", Title: t("上月核查反馈", "What last month's visits found")}
	v := f.Summary.Visits
	if v == nil || !v.Present {
		s.Blocks = append(s.Blocks, paraText(t("本期尚未收到入户核查结果。请乡镇、村干部在核查台账的“核查结果”“核查日期”“核查人编号”栏逐户填写，报回县级后由县级导入系统；下次研判将汇总反馈核查情况和名单命中率。",
			"No visit outcomes have come back yet. Cadres fill in the outcome, date and visitor columns of the work lists; the county office imports the returned lists (povrisk feedback), and the next run reports what the visits found.")))
		return s
	}
	r := regionVisits(v, f.Region)
	span := t("自 "+v.Since+" 至 "+f.AsOf, "From "+v.Since+" to "+f.AsOf)
	if v.Since == "" {
		span = t("截至 "+f.AsOf, "Up to "+f.AsOf)
	}
	if r.Visited == 0 {
		s.Blocks = append(s.Blocks, paraText(span+t(" 没有入户核查记录。", ", no visit is recorded.")))
		return s
	}
	model, rule := source(r.BySource, "model"), source(r.BySource, "rule")
	lead := rich{plain(span + t("，共入户核查 ", ", ")), fact("visited", count(r.Visited)),
		plain(t(" 户，核实存在风险 ", " households were visited: ")), fact("confirmed", count(r.Confirmed)),
		plain(t(" 户，核实无风险 "+count(r.NoRisk)+" 户，未见到户 ", " found at risk, "+count(r.NoRisk)+" found without risk, ")), fact("not_reached", count(r.NotReached)),
		plain(t(" 户。模型名单的核查命中率为 ", " not reached. Precision of the model's list: ")), fact("precision_model", precText(model)),
		plain(t("，仅由规则预警派出核查的命中率为 ", "; of rule-only visits: ")), fact("precision_rule", precText(rule)), plain(t("。", "."))}
	s.Blocks = append(s.Blocks, para(lead))
	var cs []rundir.CountyVisits
	for _, c := range v.Counties {
		if inRegion(c.Code, f.Region) {
			cs = append(cs, c)
		}
	}
	if len(cs) > 0 {
		col := func(get func(c rundir.CountyVisits) int) (ns []int, hid, sec []bool) {
			for _, c := range cs {
				ns = append(ns, get(c))
			}
			hid, sec = protect(ns)
			return
		}
		vn, vh, vs := col(func(c rundir.CountyVisits) int { return c.Visited })
		cn, ch, csec := col(func(c rundir.CountyVisits) int { return c.Confirmed })
		nn, nh, ns := col(func(c rundir.CountyVisits) int { return c.NoRisk })
		un, uh, us := col(func(c rundir.CountyVisits) int { return c.NotReached })
		var rows [][]rich
		anySecond := false
		for i, c := range cs {
			anySecond = anySecond || vs[i] || csec[i] || ns[i] || us[i]
			rows = append(rows, cells(f.placeOr(c.Place), cellText(vn[i], vh[i], vs[i]), cellText(cn[i], ch[i], csec[i]), cellText(nn[i], nh[i], ns[i]),
				cellText(un[i], uh[i], us[i]), precText(source(c.BySource, "model")), precText(source(c.BySource, "rule"))))
		}
		s.Blocks = append(s.Blocks, block{Table: &tableView{Class: "data", Rows: rows,
			Head: []string{t("县（市、区）", "county"), t("核查户数", "visited"), t("核实存在风险", "at risk"), t("核实无风险", "no risk"), t("未见到户", "not reached"),
				t("模型名单命中率", "model list precision"), t("规则预警命中率", "rule-only precision")},
			Foot: cells(t("合计", "Total"), count(r.Visited), count(r.Confirmed), count(r.NoRisk), count(r.NotReached), precText(model), precText(rule))}})
		s.Blocks = append(s.Blocks, note(l, anySecond)...)
	}
	if len(f.VisitTrend) >= 2 {
		var rows [][]rich
		for _, p := range f.VisitTrend {
			rows = append(rows, cells(p.AsOf, count(p.Visited), count(p.Confirmed), precText(p.Model), precText(p.Rule)))
		}
		s.Blocks = append(s.Blocks, block{H3: t("历次核查反馈", "Visits over the runs")}, block{Table: &tableView{Class: "data narrow", Rows: rows,
			Head: []string{t("研判基准日", "as of"), t("核查户数", "visited"), t("核实存在风险", "at risk"), t("模型名单命中率", "model list precision"), t("规则预警命中率", "rule-only precision")}}})
	}
	s.Blocks = append(s.Blocks, classed("note", t("命中率 = 核实存在风险户数 ÷（核实存在风险户数 + 核实无风险户数）；判定户数少于 5 户的不计算。未见到户、已迁出的不计入命中率。",
		"Precision = found at risk / (found at risk + found without risk); not computed on fewer than 5 judged visits. Households not reached or moved away do not count.")))
	return s
}

// elimination is the 风险消除 section: the assessment of the monitored
// households by county, and the watch after elimination (回头看).
func elimination(f *facts, l lang) sectionView {
	t := l.t
	s := sectionView{ID: "elimination", Title: t("风险消除与回头看", "Risk elimination and the watch after it")}
	e, cs := regionElimination(f.Summary.Elimination, f.Region)
	if e == nil || e.Monitored == 0 {
		s.Blocks = append(s.Blocks, paraText(t("研判基准日本地区没有监测对象，不作风险消除评估。", "No household of the region is monitored on the as-of date; no elimination assessment.")))
	} else {
		lead := rich{plain(t("研判基准日共有监测对象 ", "On the as-of date ")), fact("monitored", count(e.Monitored)),
			plain(t(" 户，经逐项对照风险消除条件：可消除 ", " households are monitored. Against the elimination conditions: ready ")), fact("ready", count(e.Ready)),
			plain(t(" 户，暂缓消除 ", ", deferred ")), fact("defer", count(e.Defer)),
			plain(t(" 户，不满足 ", ", not met ")), fact("not_met", count(e.NotMet)),
			plain(t(" 户。近一年消除风险后又被识别为监测对象（返贫）的有 ", ". Identified again within a year of elimination (relapses): ")), fact("relapses", count(e.Relapses12m)),
			plain(t(" 户。", "."))}
		s.Blocks = append(s.Blocks, para(lead))
		if e.RelapseModel == "" {
			s.Blocks = append(s.Blocks, classed("note", t("尚无返贫风险模型：暂缓消除仅依据识别时间（识别不满 6 个月的暂缓）。",
				"No relapse model yet: deferral rests on the months since identification only.")))
		} else {
			s.Blocks = append(s.Blocks, classed("note", t("暂缓消除：条件均已满足，但返贫风险模型估计的返贫概率偏高，或识别不满 6 个月。",
				"Deferred: every condition is met but the relapse model's probability is high, or the household was identified less than 6 months ago.")))
		}
		s.Blocks = append(s.Blocks, eliminationTable(f, l, cs)...)
	}
	w := regionWatch(f.Summary.Watch, f.Region)
	s.Blocks = append(s.Blocks, block{H3: t("回头看", "The watch after elimination")})
	if w == nil || w.Eliminated12m == 0 {
		s.Blocks = append(s.Blocks, paraText(t("近 12 个月本地区没有消除风险的家庭，不作回头看统计。", "No household of the region had its risk eliminated in the last 12 months.")))
		return s
	}
	s.Blocks = append(s.Blocks, para(rich{plain(t("近 12 个月消除风险的 ", "Of the ")), fact("watch_eliminated", count(w.Eliminated12m)),
		plain(t(" 户中，", " households whose risk was eliminated in the last 12 months, ")), fact("watch_top_k", count(w.InTopK)),
		plain(t(" 户重新进入各县优先核查名单，", " are back on the county priority lists and ")), fact("watch_high", count(w.High)),
		plain(t(" 户研判为高风险；核查台账中已标注“回头看”，请入户时一并复核。", " are at high risk; the work lists mark them for a second look."))}))
	return s
}

// eliminationTable is the assessment by county.
func eliminationTable(f *facts, l lang, cs []rundir.CountyElimination) []block {
	t := l.t
	if len(cs) == 0 {
		return nil
	}
	col := func(get func(c rundir.CountyElimination) int) (ns []int, hid, sec []bool) {
		for _, c := range cs {
			ns = append(ns, get(c))
		}
		hid, sec = protect(ns)
		return
	}
	mn, mh, ms := col(func(c rundir.CountyElimination) int { return c.Monitored })
	rn, rh, rs := col(func(c rundir.CountyElimination) int { return c.Ready })
	dn, dh, ds := col(func(c rundir.CountyElimination) int { return c.Defer })
	nn, nh, ns := col(func(c rundir.CountyElimination) int { return c.NotMet })
	var rows [][]rich
	anySecond := false
	for i, c := range cs {
		unmet := "—"
		if c.TopUnmet != "" && c.NotMet >= minCell {
			unmet = l.condition(c.TopUnmet)
		}
		anySecond = anySecond || ms[i] || rs[i] || ds[i] || ns[i]
		rows = append(rows, cells(f.placeOr(c.Place), cellText(mn[i], mh[i], ms[i]), cellText(rn[i], rh[i], rs[i]), cellText(dn[i], dh[i], ds[i]),
			cellText(nn[i], nh[i], ns[i]), unmet, count(c.Relapses12m)))
	}
	out := []block{{Table: &tableView{Class: "data", Rows: rows,
		Head: []string{t("县（市、区）", "county"), t("监测对象", "monitored"), t("可消除", "ready"), t("暂缓消除", "deferred"), t("不满足", "not met"),
			t("最常见的未满足条件", "most common unmet condition"), t("近一年返贫", "relapses (12 months)")}}}}
	return append(out, note(l, anySecond)...)
}

// provenance is the technical appendix: which run, model and policy file
// the figures stand on, with their identifiers, in plain words.
func provenance(f *facts, l lang) sectionView {
	t := l.t
	s := f.Summary
	id := func(x string) seg { return seg{Kind: "id", Text: x} }
	var defs []def
	dd := func(k string, v rich) { defs = append(defs, def{Term: k, Def: v}) }
	dd(t("运行结果", "Run"), rich{plain(t("研判基准日 "+f.AsOf+" 的运行结果，内容校验值（前 12 位）", "run of "+f.AsOf+", checksum of its contents (first 12 digits) ")), id(prefix(f.RunSHA, 12)),
		plain(t("；比较所用的此前运行结果同样经过校验。", "; the earlier runs compared were verified too."))})
	model := rich{plain(t("编号 ", "id ")), id(s.Model.ID), plain(t("，训练基准日 "+s.Model.TrainedOn+"；方法为随机森林，风险画像由聚类分析得出。",
		", trained as of "+s.Model.TrainedOn+"; a random forest, risk profiles from k-means clustering."))}
	dd(t("预测模型", "Model"), model)
	if e := s.Elimination; e != nil && e.RelapseModel != "" {
		dd(t("返贫风险模型", "Relapse model"), rich{plain(t("编号 ", "id ")), id(e.RelapseModel)})
	}
	pol := rich{}
	if strings.HasPrefix(s.Policy.File, "policy:") {
		pol = append(pol, plain(t("系统内置的示例政策参数（仅供演示，正式使用须换用本地政策文件）", "the built-in sample policy (for demonstrations only) ")), id(s.Policy.File))
	} else {
		pol = append(pol, plain(t("政策参数文件 ", "policy file ")), id(filepathBase(s.Policy.File)))
	}
	pol = append(pol, plain(t("，校验值（前 12 位）", ", checksum (first 12 digits) ")), id(prefix(s.Policy.SHA256, 12)))
	dd(t("政策文件", "Policy file"), pol)
	var tables []string
	for _, c := range f.Coverage {
		if c.Present {
			tables = append(tables, l.table(c.Table))
		}
	}
	if len(tables) > 0 {
		dd(t("数据来源", "Data"), txt(strings.Join(tables, t("、", ", "))+t("。", ".")))
	}
	return sectionView{ID: "provenance", Title: t("技术信息", "Sources"), Blocks: []block{
		paraText(t("本附录载明本简报所依据的运行结果、模型和政策参数，供复核和审计使用。", "The run, model and policy this brief stands on, for review and audit.")),
		{Defs: defs}}}
}

// filepathBase is the last element of a slash- or backslash-separated path.
func filepathBase(p string) string {
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		return p[i+1:]
	}
	return p
}

// fairnessAnnex lists the groups whose recall (TPR) on the county top-k
// list lags the attribute's reference group (disparity below 0.8), with
// their intervals; suppressed and small groups are not shown.
func fairnessAnnex(f *facts, l lang) sectionView {
	t := l.t
	s := sectionView{ID: "fairness", Title: t("公平性检查", "Fairness audit")}
	fa := f.Summary.Fairness
	if fa == nil || len(fa.Groups) == 0 {
		s.Blocks = append(s.Blocks, paraText(t("模型训练记录未载明公平性检查结果。", "The model card holds no fairness audit.")))
		return s
	}
	s.Blocks = append(s.Blocks, paraText(t(fmt.Sprintf("以各县优先核查名单（本县排名前 %s）为准，在 %s 基准日的历史数据上检查：各群体中后来被识别为监测对象的家庭，有多大比例已在名单上（召回率）。召回率不到参照群体（该分组中户数最多的群体）0.8 倍的群体列于下表，括号内为 %s 置信区间。",
		shareKey(fmt.Sprint(fa.Share)), fa.AsOf, pct(fa.Level)),
		fmt.Sprintf("On the county priority lists (each county's top %s), on the outcomes after %s: the share of each group's later-identified households that the list held (recall). Groups whose recall is below 0.8 times their reference group's (the largest group of the attribute) are listed, with %s intervals.",
			shareKey(fmt.Sprint(fa.Share)), fa.AsOf, pct(fa.Level)))))
	ref := map[string]*eval.GroupFairness{}
	for i := range fa.Groups {
		if g := &fa.Groups[i]; g.Reference {
			ref[g.Attribute] = g
		}
	}
	var rows [][]rich
	small := 0
	for _, g := range fa.Groups {
		// A recall rests on the group's identified households: fewer than
		// the brief's smallest cell of them is withheld like any small cell.
		if g.Suppressed || g.Size < max(minCell, fa.MinCell) || g.Prevalence == nil ||
			int(math.Round(g.Prevalence.Value*float64(g.Size))) < minCell {
			small++
			continue
		}
		d, ok := g.Disparity["tpr"]
		if g.Reference || g.TPR == nil || !ok || d >= 0.8 {
			continue
		}
		refTPR := "—"
		if r := ref[g.Attribute]; r != nil && r.TPR != nil && !r.Suppressed {
			refTPR = pct(r.TPR.Value)
		}
		rows = append(rows, cells(l.attribute(g.Attribute), groupLabel(f, l, g.Attribute, g.Group), fmtInt(g.Size), intervalText(l, g.TPR), refTPR, fmt.Sprintf("%.2f", d)))
	}
	if len(rows) == 0 {
		s.Blocks = append(s.Blocks, para(rich{fact("fairness_lagging", "0"), plain(t(" 个群体的召回率低于参照群体的 0.8 倍：各群体召回率无明显落差。", " groups lag: no group's recall is below 0.8 times its reference group's."))}))
	} else {
		s.Blocks = append(s.Blocks, para(rich{plain(t("召回率明显偏低的群体 ", "Groups whose recall lags: ")), fact("fairness_lagging", fmt.Sprint(len(rows))), plain(t(" 个：", ":"))}),
			block{Table: &tableView{Class: "data", Rows: rows,
				Head: []string{t("分组", "attribute"), t("群体", "group"), t("户数", "households"), t("召回率（区间）", "recall (interval)"), t("参照群体召回率", "reference recall"), t("比值", "ratio")}}})
	}
	if small > 0 {
		s.Blocks = append(s.Blocks, classed("note", t(fmt.Sprintf("另有 %d 个群体户数或被识别户数过少，不作计算。", small), fmt.Sprintf("%d groups are too small to audit and are not shown.", small))))
	}
	s.Blocks = append(s.Blocks, classed("note", t("召回率偏低意味着该群体中的风险户较少被名单发现，县级可在核查时对该群体适当补充摸排。",
		"A lagging recall means the list finds fewer of the group's households at risk; offices may search that group more widely.")))
	return s
}

// intervalText prints a rate with its interval: 52%（40%–63%）.
func intervalText(l lang, x *eval.Interval) string {
	if x == nil {
		return "—"
	}
	return pct(x.Value) + l.t("（"+pct(x.Lo)+"–"+pct(x.Hi)+"）", " ("+pct(x.Lo)+"–"+pct(x.Hi)+")")
}

// attribute names a fairness attribute.
func (l lang) attribute(a string) string {
	zh := map[string]string{"county": "县（市、区）", "poverty_status": "脱贫状态", "disability_1_2": "有一二级残疾成员",
		"elderly_only": "纯老年户", "no_labour": "无劳动力户", "no_labor": "无劳动力户"}
	if l == "en" {
		return strings.ReplaceAll(a, "_", " ")
	}
	if s, ok := zh[a]; ok {
		return s
	}
	return "其他分组"
}

// groupLabel names a group of a fairness attribute: a county by its name,
// a poverty status and a yes/no attribute in words.
func groupLabel(f *facts, l lang, attr, g string) string {
	if attr == "county" {
		return f.place(g)
	}
	if l == "en" {
		return g
	}
	switch strings.ToLower(g) {
	case "escaped":
		return "脱贫户"
	case "general":
		return "一般农户"
	case "monitored":
		return "监测对象"
	case "true", "yes", "1":
		return "是"
	case "false", "no", "0":
		return "否"
	}
	if hasNonASCII(g) || strings.Trim(g, "0123456789") == "" {
		return g
	}
	return "其他"
}
