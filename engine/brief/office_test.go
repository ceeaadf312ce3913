package brief

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/povrisk/povrisk/engine/rundir"
	"github.com/povrisk/povrisk/models/eval"
)

// countyNames are hand-given names of the fixture's six counties.
var countyNames = map[string]string{
	"520121": "开阳县", "520123": "修文县", "520326": "务川县",
	"530426": "峨山县", "530623": "盐津县", "530627": "镇雄县",
}

// officeFacts computes the facts of the fixture's last run for region and
// fills its summary with hand-built office figures: names for every county
// and township, visits, an elimination assessment, a watch and a fairness
// audit (what RUNOUT's night writes into summary.json).
func officeFacts(t *testing.T, region string) *facts {
	t.Helper()
	f, err := compute(context.Background(), fixtureRun("2025-12-31"), region, DefaultUnitCosts(), true)
	if err != nil {
		t.Fatal(err)
	}
	s := *f.Summary
	s.Places = nil
	for code, name := range countyNames {
		s.Places = append(s.Places, rundir.Place{Code: code, Name: name})
	}
	for i, tw := range areaRows(f.rowsForTest(t, region), "township", nil) {
		s.Places = append(s.Places, rundir.Place{Code: tw.Code, Name: "第" + zhNumeral(i+1) + "镇"})
	}
	p := func(x float64) *float64 { return &x }
	s.Visits = &rundir.Visits{Present: true, Since: "2025-12-30", Visited: 63, Confirmed: 19, NoRisk: 30, NotReached: 14,
		BySource: []rundir.SourceVisits{{Source: "model", Visited: 41, Confirmed: 16, NoRisk: 17, Precision: p(16.0 / 33)}, {Source: "rule", Visited: 22, Confirmed: 3, NoRisk: 13, Precision: p(3.0 / 16)}},
		Counties: []rundir.CountyVisits{
			{Place: rundir.Place{Code: "520121", Name: "开阳县"}, Visited: 3, Confirmed: 1, NoRisk: 1, NotReached: 1,
				BySource: []rundir.SourceVisits{{Source: "model", Visited: 1, Confirmed: 1}, {Source: "rule", Visited: 2, NoRisk: 1}}},
			{Place: rundir.Place{Code: "520123", Name: "修文县"}, Visited: 20, Confirmed: 6, NoRisk: 9, NotReached: 5,
				BySource: []rundir.SourceVisits{{Source: "model", Visited: 10, Confirmed: 5, NoRisk: 5}, {Source: "rule", Visited: 10, Confirmed: 1, NoRisk: 4}}},
			{Place: rundir.Place{Code: "520326", Name: "务川县"}, Visited: 40, Confirmed: 12, NoRisk: 20, NotReached: 8,
				BySource: []rundir.SourceVisits{{Source: "model", Visited: 30, Confirmed: 10, NoRisk: 12}, {Source: "rule", Visited: 10, Confirmed: 2, NoRisk: 8}}},
		}}
	s.Elimination = &rundir.Elimination{Monitored: 56, Ready: 19, Defer: 12, NotMet: 25, Relapses12m: 3,
		Counties: []rundir.CountyElimination{
			{Place: rundir.Place{Code: "520123", Name: "修文县"}, Monitored: 20, Ready: 8, Defer: 6, NotMet: 6, TopUnmet: "water"},
			{Place: rundir.Place{Code: "520326", Name: "务川县"}, Monitored: 30, Ready: 10, Defer: 5, NotMet: 15, TopUnmet: "income_6m", Relapses12m: 3},
			{Place: rundir.Place{Code: "530426", Name: "峨山县"}, Monitored: 6, Ready: 1, Defer: 1, NotMet: 4, TopUnmet: "housing"},
		}}
	s.Watch = &rundir.Watch{Eliminated12m: 12, InTopK: 4, High: 2,
		Counties: []rundir.CountyWatch{{Place: rundir.Place{Code: "520326"}, Eliminated12m: 12, InTopK: 4, High: 2}}}
	iv := func(v, lo, hi float64) *eval.Interval { return &eval.Interval{Value: v, Lo: lo, Hi: hi} }
	s.Fairness = &eval.Fairness{Share: 0.05, AsOf: "2025-06-30", Level: 0.9, Replicates: 200, MinCell: 5, Groups: []eval.GroupFairness{
		{Attribute: "county", Group: "520123", Reference: true, Size: 229, Prevalence: iv(0.1, 0.07, 0.13), TPR: iv(0.6, 0.5, 0.7)},
		{Attribute: "county", Group: "520326", Size: 220, Prevalence: iv(0.1, 0.07, 0.13), TPR: iv(0.3, 0.2, 0.41), Disparity: map[string]float64{"tpr": 0.5}, Flagged: []string{"tpr"}},
		{Attribute: "poverty_status", Group: "general", Reference: true, Size: 1000, Prevalence: iv(0.08, 0.07, 0.09), TPR: iv(0.6, 0.55, 0.65)},
		{Attribute: "poverty_status", Group: "escaped", Size: 373, Prevalence: iv(0.1, 0.07, 0.13), TPR: iv(0.55, 0.4, 0.7), Disparity: map[string]float64{"tpr": 0.92}},
		{Attribute: "no_labour", Group: "true", Size: 120, Prevalence: iv(0.15, 0.1, 0.2), TPR: iv(0.4, 0.25, 0.55), Disparity: map[string]float64{"tpr": 0.7}},
		{Attribute: "elderly_only", Group: "true", Size: 40, Suppressed: true},
		// 60 households but 3 identified: its recall is withheld like a small cell.
		{Attribute: "disability_1_2", Group: "true", Size: 60, Prevalence: iv(0.05, 0.02, 0.08), TPR: iv(0, 0, 0), Disparity: map[string]float64{"tpr": 0}},
	}}
	f.Summary = &s
	f.Places = placeNames(&s)
	return f
}

// rowsForTest reads the households of the fixture's last run in the region.
func (f *facts) rowsForTest(t *testing.T, region string) []household {
	t.Helper()
	rows, err := readRanked(context.Background(), fixtureRun("2025-12-31"), region)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func renderFacts(t *testing.T, f *facts, l lang) string {
	t.Helper()
	var b strings.Builder
	if err := render(&b, f, l); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

var (
	reIDSpan = regexp.MustCompile(`(?s)<code class="id">.*?</code>`)
	reLatin  = regexp.MustCompile(`[A-Za-z]+`)
)

// latinWords lists the Latin words of a page's text (style, tags and the
// identifiers of the appendix, which are marked, left out): digits, dates,
// codes and signs like % pass.
func latinWords(page string) []string {
	s := reStyle.ReplaceAllString(page, "")
	s = reIDSpan.ReplaceAllString(s, "")
	s = reTag.ReplaceAllString(s, " ")
	return reLatin.FindAllString(html.UnescapeString(s), -1)
}

// TestChineseHasNoLatinWords: the Chinese brief holds no English or
// developer word (table names, flags, file names, measure or risk-type
// codes, AUC, k-means): the fixture's briefs at every level, and a brief
// with every office section filled.
func TestChineseHasNoLatinWords(t *testing.T) {
	if w := latinWords(`<p>ok 520123 2025-12-31 5% <code class="id">rf-1</code></p>`); len(w) != 1 || w[0] != "ok" {
		t.Fatalf("the scan itself is wrong: %v", w)
	}
	pages := map[string]string{}
	for _, region := range []string{"", "52", "5201", "520123"} {
		pages["fixture "+region] = renderFixture(t, Options{Run: fixtureRun("2025-12-31"), Lang: "zh", Region: region})
	}
	pages["office"] = renderFacts(t, officeFacts(t, ""), "zh")
	pages["office county"] = renderFacts(t, officeFacts(t, "520326"), "zh")
	pages["first run"] = renderFixture(t, Options{Run: fixtureRun("2025-08-31"), Lang: "zh"})
	for name, page := range pages {
		if w := latinWords(page); len(w) > 0 {
			t.Errorf("%s: the Chinese brief holds Latin words %q", name, w)
		}
		for _, dev := range []string{"--unit-costs", "income_records", "k-means", "AUC", "policy:sample", "earlier_year", "checksums.sha256", "前 k 户"} {
			// policy:sample may stand only as a marked identifier of the appendix.
			if strings.Contains(reIDSpan.ReplaceAllString(page, ""), dev) {
				t.Errorf("%s: the Chinese brief says %q", name, dev)
			}
		}
	}
}

// TestPlacesByName: with names in summary.json, the brief names counties
// and townships, never by code; with none, it shows the code.
func TestPlacesByName(t *testing.T) {
	f := officeFacts(t, "")
	text := textOf(renderFacts(t, f, "zh"))
	for code, name := range countyNames {
		if strings.Contains(text, code) {
			t.Errorf("the brief shows county code %s although it is named %s", code, name)
		}
	}
	for _, name := range []string{"务川县", "开阳县"} {
		if !strings.Contains(text, name) {
			t.Errorf("the brief lacks county %s", name)
		}
	}
	if !strings.Contains(text, "乡镇层面优先安排第") && !strings.Contains(text, "各乡镇高风险户数均少于 5 户或不宜单独公布") {
		t.Errorf("the work suggestions name no township:\n%s", text)
	}
	county := officeFacts(t, "520326")
	ctext := textOf(renderFacts(t, county, "zh"))
	if !strings.Contains(ctext, "务川县 · 研判基准日 2025-12-31") {
		t.Errorf("a county brief's heading does not name the county:\n%s", ctext[:min(400, len(ctext))])
	}
	// Without names (a warehouse without the regions table), codes.
	plain, err := compute(context.Background(), fixtureRun("2025-12-31"), "", DefaultUnitCosts(), true)
	if err != nil {
		t.Fatal(err)
	}
	plain.Places = nil
	plainText := textOf(renderFacts(t, plain, "zh"))
	if !strings.Contains(plainText, "| 520326 |") {
		t.Error("without names, the brief should show the county's code")
	}
}

// TestOfficeSections: the visit feedback, elimination, watch and fairness
// sections state the hand-built summary's figures, summed by region and
// with small cells withheld.
func TestOfficeSections(t *testing.T) {
	for _, tc := range []struct {
		region string
		want   map[string]string
	}{
		{"", map[string]string{
			"visited": "63", "confirmed": "19", "not_reached": "14",
			"precision_model": "48%", // 16 / (16 + 17)
			"precision_rule":  "19%", // 3 / (3 + 13)
			"monitored":       "56", "ready": "19", "defer": "12", "not_met": "25", "relapses": "<5",
			"watch_eliminated": "12", "watch_top_k": "<5", "watch_high": "<5",
			"fairness_lagging": "2", // 务川县 0.5 and no-labour households 0.7; the others are at 0.92, suppressed or too small
			"advice_due":       "2026-01-15",
		}},
		{"520326", map[string]string{
			"visited": "40", "confirmed": "12", "not_reached": "8",
			"precision_model": "45%", // 10 / 22
			"precision_rule":  "20%", // 2 / 10
			"monitored":       "30", "ready": "10", "defer": "5", "not_met": "15",
			"watch_eliminated": "12",
		}},
		{"5306", map[string]string{"monitored": "—"}}, // no county of 5303 is monitored: the sentence, no figure
	} {
		t.Run("region="+tc.region, func(t *testing.T) {
			f := officeFacts(t, tc.region)
			page := renderFacts(t, f, "zh")
			got := stated(page)
			for k, want := range tc.want {
				if want == "—" {
					if _, ok := got[k]; ok {
						t.Errorf("states %s = %q, want none", k, got[k])
					}
					continue
				}
				if got[k] != want {
					t.Errorf("states %s = %q, want %q", k, got[k], want)
				}
			}
			text := textOf(page)
			switch tc.region {
			case "":
				for _, want := range []string{
					"务川县 | 40 | 12 | 20 | 8 | 45% | 20% |", // the county's visits and its precision by source
					"开阳县 | <5 | <5 | <5 | <5 | — | — |",    // 3 visits: withheld, precision not computed
					"修文县 | * | * | * | * | 50% | 20% |",    // withheld so that 开阳县's cells cannot be derived from the total
					"合计 | 63 | 19 | 30 | 14 | 48% | 19% |",
					"务川县 | 30 | 10 | * | 15 | 近6个月收入超过监测线 | <5 |", // the most common unmet condition in Chinese
					"修文县 | 20 | * | 6 | * | 饮水安全有保障 | <5 |",
					"峨山县 | 6 | <5 | <5 | <5 | — | <5 |", // 4 not met: no condition named
					"务川县 | 220 | 30%（20%–41%） | 60% | 0.50 |",
					"无劳动力户 | 是 | 120 | 40%（25%–55%） | — | 0.70 |",
					"另有 2 个群体", // elderly-only suppressed, disability of 3 households
				} {
					if !strings.Contains(text, want) {
						t.Errorf("the brief lacks %q", want)
					}
				}
				if strings.Contains(text, "脱贫户 | 373") {
					t.Error("a group at 0.92 of its reference is listed as lagging")
				}
			case "5306":
				if !strings.Contains(text, "研判基准日本地区没有监测对象") {
					t.Error("a region without monitored households should say so")
				}
			}
		})
	}
}

// TestVisitsAbsent: without visit outcomes the section says none came back
// and how they come back, in plain Chinese; with visits of earlier runs the
// trend is shown.
func TestVisitsAbsent(t *testing.T) {
	f := officeFacts(t, "")
	s := *f.Summary
	s.Visits = nil
	f.Summary = &s
	text := textOf(renderFacts(t, f, "zh"))
	if !strings.Contains(text, "本期尚未收到入户核查结果。请乡镇、村干部在核查台账") {
		t.Errorf("no sentence on the missing visit outcomes:\n%s", text)
	}
	f = officeFacts(t, "")
	f.VisitTrend = []visitPoint{
		{AsOf: "2025-11-30", Visited: 50, Confirmed: 20, Model: rundir.SourceVisits{Confirmed: 15, NoRisk: 15}, Rule: rundir.SourceVisits{Confirmed: 5, NoRisk: 15}},
		*visitPointOf("2025-12-31", f.Summary.Visits, ""),
	}
	text = textOf(renderFacts(t, f, "zh"))
	for _, want := range []string{"历次核查反馈", "2025-11-30 | 50 | 20 | 50% | 25% |", "2025-12-31 | 63 | 19 | 48% | 19% |"} {
		if !strings.Contains(text, want) {
			t.Errorf("the visit trend lacks %q", want)
		}
	}
}

// TestPrimaryCounts: each high-risk household counts once, by its primary
// type; without primary types the brief counts every type and says so.
func TestPrimaryCounts(t *testing.T) {
	rows := []household{
		{tier: "high", riskTypes: "illness;other", primary: "illness"},
		{tier: "high", riskTypes: "other;education", primary: "education"},
		{tier: "high", riskTypes: "illness", primary: "illness"},
		{tier: "medium", riskTypes: "illness", primary: "illness"},
	}
	got, ok := primaryCounts(rows)
	if !ok || len(got) != 2 || got[0] != (catRow{Code: "illness", N: 2}) || got[1] != (catRow{Code: "education", N: 1}) {
		t.Errorf("primaryCounts = %v, %v; want illness 2, education 1", got, ok)
	}
	for i := range rows {
		rows[i].primary = ""
	}
	if _, ok := primaryCounts(rows); ok {
		t.Error("rows without a primary type gave primary counts")
	}
	f := officeFacts(t, "")
	f.PrimaryTypes = false
	if text := textOf(renderFacts(t, f, "zh")); !strings.Contains(text, "本次运行结果未标注主要风险类型") {
		t.Error("the fallback to every risk type is not said")
	}
}

// TestEmptyChart: a chart whose bars are all withheld or zero is replaced
// by a sentence.
func TestEmptyChart(t *testing.T) {
	hidden := &figure{ID: "x", Bars: barChart("c", "t", []bar{{Label: "a", Hidden: true}, {Label: "b", Value: 0}})}
	if b := chartOr(hidden, "none"); b.Figure != nil || fmt.Sprint(b.Para) != fmt.Sprint(txt("none")) {
		t.Errorf("an all-empty chart was kept: %+v", b)
	}
	drawn := &figure{ID: "x", Bars: barChart("c", "t", []bar{{Label: "a", Hidden: true}, {Label: "b", Value: 7}})}
	if b := chartOr(drawn, "none"); b.Figure == nil {
		t.Error("a chart with a bar was replaced")
	}
	line := &figure{ID: "x", Line: lineChart("c", "t", "y", []point{{Label: "1", Hidden: true}, {Label: "2", Hidden: true}})}
	if b := chartOr(line, "none"); b.Figure != nil {
		t.Error("a line of hidden points was kept")
	}
}

// TestVisitTrendFromSummaries: the visit trend reads the earlier runs'
// summary.json visits, summed over the region's counties; a run without
// visits is left out.
func TestVisitTrendFromSummaries(t *testing.T) {
	parent := t.TempDir()
	write := func(asOf string, v *rundir.Visits) {
		s := rundir.Summary{Schema: rundir.SchemaVersion, AsOf: asOf, Visits: v}
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(parent, asOf)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, rundir.SummaryFile), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	county := func(code string, visited, confirmed, modelC, modelN int) rundir.CountyVisits {
		return rundir.CountyVisits{Place: rundir.Place{Code: code}, Visited: visited, Confirmed: confirmed,
			BySource: []rundir.SourceVisits{{Source: "model", Confirmed: modelC, NoRisk: modelN}}}
	}
	// The totals add up (summary.json is refused otherwise): visited =
	// confirmed + no_risk + not_reached + moved + other.
	write("2025-10-31", &rundir.Visits{Present: true, Visited: 30, Confirmed: 9, NoRisk: 19, NotReached: 2, Counties: []rundir.CountyVisits{county("520123", 20, 6, 5, 10), county("530426", 10, 3, 3, 3)}})
	write("2025-11-30", nil)
	write("2025-12-30", &rundir.Visits{Present: true, Visited: 7, Confirmed: 2, NoRisk: 5, Counties: []rundir.CountyVisits{county("520123", 7, 2, 2, 4)}})
	h := &history{parent: parent, region: "5201"}
	got := h.visitTrend([]runPoint{{AsOf: "2025-10-31"}, {AsOf: "2025-11-30"}, {AsOf: "2025-12-30"}, {AsOf: "2025-12-31"}})
	if len(got) != 2 || got[0].AsOf != "2025-10-31" || got[0].Visited != 20 || got[0].Confirmed != 6 || got[0].Model.Confirmed != 5 || got[0].Model.NoRisk != 10 ||
		got[1].AsOf != "2025-12-30" || got[1].Visited != 7 {
		t.Errorf("visit trend of 5201 = %+v; want 2025-10-31 (20 visited, 6 confirmed, model 5/15) and 2025-12-30 (7)", got)
	}
	h.region = ""
	if got := h.visitTrend([]runPoint{{AsOf: "2025-10-31"}}); len(got) != 1 || got[0].Visited != 30 || got[0].Confirmed != 9 {
		t.Errorf("visit trend of every region = %+v; want the totals 30 and 9", got)
	}
}

// TestOfficePDF prints the brief with every office section filled: no
// Type 3 font, a last page of more than a few lines, no Latin word in its
// text but the appendix's identifiers.
func TestOfficePDF(t *testing.T) {
	needChromium(t)
	for _, tool := range []string{"pdftotext", "pdffonts", "pdfinfo"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("skipping: %s missing (apt-get install poppler-utils)", tool)
		}
	}
	for _, region := range []string{"", "520326"} {
		t.Run("region="+region, func(t *testing.T) {
			f := officeFacts(t, region)
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			pdf, err := printPDF(ctx, []byte(renderFacts(t, f, "zh")), "", footerText("zh", f.AsOf))
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "office.pdf")
			if err := os.WriteFile(path, pdf, 0o600); err != nil {
				t.Fatal(err)
			}
			checkFonts(t, path)
			checkLastPage(t, path, pageCount(pdf))
		})
	}
}

// TestAdviceWithholds: the work suggestions never name an area whose
// count the table withholds (520123's 5 is withheld with 520121's <5).
func TestAdviceWithholds(t *testing.T) {
	areas := []areaRow{{Code: "520123", Eligible: 229, High: 5, Rate: 21.8}, {Code: "520121", Eligible: 232, High: 3, Rate: 12.9}}
	if got := shownAreas(areas, 3); len(got) != 0 {
		t.Errorf("shownAreas = %+v; want none (5 is withheld so that 3 cannot be derived)", got)
	}
	areas = append(areas, areaRow{Code: "520326", Eligible: 220, High: 9, Rate: 40.9})
	if got := shownAreas(areas, 3); len(got) != 1 || got[0].Code != "520326" {
		t.Errorf("shownAreas = %+v; want 520326 alone (3 is withheld, and 5, the smallest other, with it)", got)
	}
	text := textOf(renderFixture(t, Options{Run: fixtureRun("2025-08-31"), Lang: "zh", Region: "5201"}))
	if strings.Contains(text, "优先安排520123") {
		t.Errorf("the suggestions name a withheld county:\n%s", text)
	}
}

// TestVisitsNone: visit outcomes present but none in the window, and no
// previous run (no Since): one sentence, no figure.
func TestVisitsNone(t *testing.T) {
	f := officeFacts(t, "")
	s := *f.Summary
	s.Visits = &rundir.Visits{Present: true}
	f.Summary = &s
	page := renderFacts(t, f, "zh")
	if !strings.Contains(textOf(page), "截至 2025-12-31 没有入户核查记录。") {
		t.Error("no sentence for a window without visits")
	}
	if _, ok := stated(page)["visited"]; ok {
		t.Error("a window without visits states a visit count")
	}
}
