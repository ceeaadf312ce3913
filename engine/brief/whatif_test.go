package brief

import (
	"bytes"
	"context"
	"math"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/povrisk/povrisk/engine/whatif"
)

// sampleWhatIf is a hand-built what-if result: a raised monitoring line in
// two counties.
func sampleWhatIf() *whatif.Result {
	return &whatif.Result{
		Run: "2025-12-31", PolicyBefore: "e41e6129f888aaaa", PolicyAfter: "0123456789abcdef",
		Changes:       []string{"贵州省 2025 年监测线 7,500 元 → 8,000 元"},
		FlaggedBefore: 629, FlaggedAfter: 700, Entered: 80, Left: 9,
		Rules: []whatif.RuleChange{
			{Rule: "income_below_line", FlaggedBefore: 120, FlaggedAfter: 190, Entered: 72, Left: 2},
			{Rule: "medical_burden", FlaggedBefore: 40, FlaggedAfter: 40},
			{Rule: "water_unsafe", FlaggedBefore: 3, FlaggedAfter: 3},
		},
		Counties: []whatif.CountyChange{
			{Code: "520121", Name: "开阳县", FlaggedBefore: 92, FlaggedAfter: 95, Entered: 4, Left: 1, CostBefore: 100000, CostAfter: 112000,
				EliminationBefore: map[string]int{"ready": 10, "defer": 4, "not_met": 12}, EliminationAfter: map[string]int{"ready": 7, "defer": 4, "not_met": 15}},
			{Code: "520326", Name: "务川县", FlaggedBefore: 106, FlaggedAfter: 170, Entered: 70, Left: 6, CostBefore: 200000, CostAfter: 330000},
			{Code: "530426", FlaggedBefore: 431, FlaggedAfter: 435, Entered: 6, Left: 2},
		},
		EliminationBefore: map[string]int{"ready": 30, "defer": 8, "not_met": 40},
		EliminationAfter:  map[string]int{"ready": 24, "defer": 8, "not_met": 46},
		CostBefore:        900000, CostAfter: 1042000,
		UnitCosts: DefaultUnitCosts(),
	}
}

// TestWhatIfAnnex: the annex states the result's totals, counties and
// rules, in Chinese without a Latin word, and in English.
func TestWhatIfAnnex(t *testing.T) {
	var b bytes.Buffer
	if err := WhatIfHTML(&b, sampleWhatIf(), WhatIfOptions{}); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	got := stated(page)
	for k, want := range map[string]string{"flagged_before": "629", "flagged_after": "700", "entered": "80", "left": "9"} {
		if got[k] != want {
			t.Errorf("states %s = %q, want %q", k, got[k], want)
		}
	}
	text := textOf(page)
	for _, want := range []string{
		"部门筛查规则预警户由 629 户变为 700 户（增加 71 户），其中新进入预警 80 户、退出预警 9 户",
		"年度资金由 90.0 万元 变为 104.2 万元（+14.2 万元）",
		"务川县 | 106 | 170 | +64 | 70 | 6 | +13.0 万元 |", // the largest rise first
		"530426 | 431 | 435 | +4 | * | <5 | 持平 |",     // no name: the code; 6 entering withheld with 开阳县's 4
		"开阳县 | 92 | 95 | +3 | <5 | <5 | +1.2 万元 |",    // 4 entering, 1 leaving: withheld
		"合计 | 629 | 700 | +71 | 80 | 9 | +14.2 万元 |",
		"收入低于监测线 | 120 | 190 | +70 | 72 | <5 |",
		"饮水不安全 | <5 | <5 | — | <5 | <5 |",
		"可消除 | 30 | 24 | -6 |",
		"不满足 | 40 | 46 | +6 |",
		"开阳县 | 10 → 7 | <5 → <5 | 12 → 15 |",
		"危房改造 | 20,000 元 |",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the annex lacks %q", want)
		}
	}
	if w := latinWords(page); len(w) > 0 {
		t.Errorf("the Chinese annex holds Latin words %q", w)
	}
	var en bytes.Buffer
	if err := WhatIfHTML(&en, sampleWhatIf(), WhatIfOptions{Lang: "en"}); err != nil {
		t.Fatal(err)
	}
	if s := textOf(en.String()); !strings.Contains(s, "flags 700 households instead of 629") || !strings.Contains(s, "income below line | 120 | 190") {
		t.Errorf("the English annex lacks its totals or rules:\n%s", s)
	}
	if err := WhatIfHTML(&b, nil, WhatIfOptions{}); err == nil {
		t.Error("a nil result was accepted")
	}
	if err := WhatIfHTML(&b, sampleWhatIf(), WhatIfOptions{Format: "docx"}); err == nil {
		t.Error("format docx was accepted")
	}
}

// TestWhatIfPDF prints the annex with the real Chromium: A4, its totals in
// the text, no Type 3 font.
func TestWhatIfPDF(t *testing.T) {
	needChromium(t)
	for _, tool := range []string{"pdftotext", "pdffonts"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("skipping: %s missing (apt-get install poppler-utils)", tool)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	out := filepath.Join(t.TempDir(), "whatif.pdf")
	path, err := WriteWhatIf(ctx, sampleWhatIf(), WhatIfOptions{Format: "pdf", Out: out})
	if err != nil {
		t.Fatal(err)
	}
	if path != out {
		t.Errorf("wrote %s, want %s", path, out)
	}
	txt, err := exec.Command("pdftotext", path, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	if s := strings.Join(strings.Fields(string(txt)), ""); !strings.Contains(s, "政策调整影响测算") || !strings.Contains(s, "由629户变为700户") {
		t.Errorf("the PDF lacks its title or totals:\n%s", txt)
	}
	checkFonts(t, path)
}

// FuzzWhatIfHTML: any counts and costs render (no panic, no error), the
// stated totals are the result's (small ones as "<5"), and the Chinese
// annex holds no Latin word whatever the numbers (NaN and infinite costs
// print as a dash).
func FuzzWhatIfHTML(f *testing.F) {
	f.Add(629, 700, 80, 9, 900000.0, 1042000.0, "income_below_line")
	f.Add(0, 0, 0, 0, 0.0, 0.0, "")
	f.Add(3, -1, 1<<40, 4, math.NaN(), math.Inf(1), "unknown_rule")
	f.Fuzz(func(t *testing.T, before, after, entered, left int, costB, costA float64, rule string) {
		r := sampleWhatIf()
		r.FlaggedBefore, r.FlaggedAfter, r.Entered, r.Left, r.CostBefore, r.CostAfter = before, after, entered, left, costB, costA
		r.Rules = append(r.Rules, whatif.RuleChange{Rule: rule, FlaggedBefore: before, FlaggedAfter: after})
		var b bytes.Buffer
		if err := WhatIfHTML(&b, r, WhatIfOptions{}); err != nil {
			t.Fatal(err)
		}
		got := stated(b.String())
		if got["flagged_after"] != count(after) || got["entered"] != count(entered) {
			t.Errorf("states %q, %q; want %q, %q", got["flagged_after"], got["entered"], count(after), count(entered))
		}
		if w := latinWords(b.String()); len(w) > 0 {
			t.Errorf("Latin words %q", w)
		}
	})
}
