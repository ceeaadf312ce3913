package brief

import (
	"bytes"
	"context"
	"flag"
	"html"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

func fixtureRun(asOf string) string { return filepath.Join(fixtureRuns, asOf) }

var (
	reStyle = regexp.MustCompile(`(?s)<style>.*?</style>`)
	reSVG   = regexp.MustCompile(`(?s)<svg.*?</svg>`)
	reBreak = regexp.MustCompile(`(?i)</(p|h1|h2|h3|li|tr|div|dd|header|section|figure|thead|tbody|tfoot|title)>|<br>`)
	reCell  = regexp.MustCompile(`(?i)</(t[dh]|dt)>`)
	reTag   = regexp.MustCompile(`<[^>]+>`)
	reSpace = regexp.MustCompile(`[ \t]+`)
	reLines = regexp.MustCompile(`\n\s*\n+`)
)

// textOf renders the brief's HTML as text: no style, no SVG, one block per
// line, table cells separated by " | ". It is what the golden files hold.
func textOf(page string) string {
	s := reStyle.ReplaceAllString(page, "")
	s = reSVG.ReplaceAllString(s, "[chart]")
	s = reCell.ReplaceAllString(s, " | ")
	s = reBreak.ReplaceAllString(s, "\n")
	s = reTag.ReplaceAllString(s, "")
	s = html.UnescapeString(s)
	s = reSpace.ReplaceAllString(s, " ")
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	return reLines.ReplaceAllString(strings.Join(lines, "\n"), "\n") + "\n"
}

func renderFixture(t *testing.T, o Options) string {
	t.Helper()
	var buf bytes.Buffer
	if _, err := HTML(context.Background(), &buf, o); err != nil {
		t.Fatalf("HTML(%+v): %v", o, err)
	}
	if dir := os.Getenv("BRIEF_KEEP"); dir != "" { // to look at the page by hand
		name := "brief-" + o.Lang + "-" + o.Region + ".html"
		os.WriteFile(filepath.Join(dir, name), buf.Bytes(), 0o644)
	}
	return buf.String()
}

// TestGolden compares the text and tables of briefs of the fixed run with
// testdata/*.golden (rewrite with -update, then read the diff).
func TestGolden(t *testing.T) {
	for _, tc := range []struct {
		name   string
		o      Options
		golden string
	}{
		{"zh all", Options{Run: fixtureRun("2025-12-31"), Lang: "zh"}, "brief.zh.golden"},
		{"en all", Options{Run: fixtureRun("2025-12-31"), Lang: "en"}, "brief.en.golden"},
		{"zh county", Options{Run: fixtureRun("2025-12-31"), Lang: "zh", Region: "520123"}, "brief.520123.zh.golden"},
		{"en first run", Options{Run: fixtureRun("2025-08-31"), Lang: "en", Region: "5201"}, "brief.first.en.golden"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := textOf(renderFixture(t, tc.o))
			path := filepath.Join("testdata", tc.golden)
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("read golden (run with -update to create): %v", err)
			}
			if got != string(want) {
				t.Errorf("brief text differs from %s (rerun with -update and review the diff):\n%s", path, lineDiff(string(want), got))
			}
		})
	}
}

// lineDiff shows the first differing lines.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	n := 0
	for i := 0; i < len(w) || i < len(g); i++ {
		var a, c string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			c = g[i]
		}
		if a != c {
			b.WriteString("- " + a + "\n+ " + c + "\n")
			if n++; n == 10 {
				break
			}
		}
	}
	return b.String()
}
