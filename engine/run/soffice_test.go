package run

import (
	"bytes"
	"fmt"
	"html"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/povrisk/povrisk/engine/rundir"
)

// sofficePath is LibreOffice, or the test skips (fails when CI is set).
func sofficePath(t *testing.T) string {
	t.Helper()
	soffice, err := exec.LookPath("soffice")
	if err != nil {
		if os.Getenv("CI") == "" {
			t.Skip("soffice not installed (apt-get install libreoffice-calc); set CI to make this a failure")
		}
		t.Fatal("soffice not found (apt-get install libreoffice-calc)")
	}
	return soffice
}

// convert runs LibreOffice headless to convert file to the filter given.
func convert(t *testing.T, soffice, filter, out, file string) {
	t.Helper()
	profile := filepath.Join(filepath.Dir(out), "soffice-profile")
	cmd := exec.Command(soffice, "-env:UserInstallation=file://"+profile, "--headless", "--convert-to", filter, "--outdir", out, file)
	cmd.Env = append(os.Environ(), "HOME="+profile)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("soffice: %v\n%s", err, b)
	}
}

// TestWorklistOpensInLibreOffice converts a county work list to CSV with
// LibreOffice (every sheet) and compares the cells of every township sheet
// below its header with ranked.csv. It skips only when soffice is absent
// and CI is unset.
func TestWorklistOpensInLibreOffice(t *testing.T) {
	soffice := sofficePath(t)
	f := setupE2E(t)
	const county = "520123"
	out := filepath.Join(fixRoot, "soffice")
	// Filter options: comma, double quote, UTF-8, from row 1, cells as shown, sheet -1 = every sheet to its own file.
	convert(t, soffice, "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,true,false,false,-1", out,
		filepath.Join(f.runDir(), "worklists", county+".xlsx"))
	h, recs := readCSV(t, filepath.Join(f.runDir(), "ranked.csv"))
	want := map[string][]string{} // township sheet (its name) -> expected CSV lines
	for _, r := range recs {
		if r[h["county_code"]] != county || r[h["in_top_k"]] != "true" {
			continue
		}
		village, town := r[h["village_name"]], r[h["township_name"]]
		if village == "" {
			village = r[h["region_code"]]
		}
		if town == "" {
			town = r[h["township_code"]]
		}
		want[town] = append(want[town], strings.Join([]string{r[h["rank_county"]], r[h["household_id"]], village,
			tierZh[r[h["tier"]]]}, "|"))
	}
	if len(want) == 0 {
		t.Fatal("county has no work list rows")
	}
	for town, lines := range want {
		path := filepath.Join(out, county+"-"+town+".csv")
		_, got := readCSV(t, path) // row 1 (the title) taken as the header
		got = got[headerRow-1:]    // the data rows below the header
		if len(got) != len(lines) {
			t.Errorf("%s: %d rows, want %d", path, len(got), len(lines))
			continue
		}
		for i, g := range got {
			if s := strings.Join(g[:4], "|"); s != lines[i] {
				t.Errorf("%s row %d:\n got %s\nwant %s", path, i+1, s, lines[i])
			}
		}
	}
	files, _ := filepath.Glob(filepath.Join(out, county+"-*.csv"))
	extra := 3 // 汇总, 说明, _povrisk
	if _, err := os.Stat(filepath.Join(out, county+"-"+sheetElim+".csv")); err == nil {
		extra++ // 风险消除评估: the county has monitored households
	}
	if len(files) != len(want)+extra {
		t.Errorf("LibreOffice wrote %d sheets, want %d", len(files), len(want)+extra)
	}
}

// bigTownship is one township of n listed households with reasons,
// conflicts and measures as long as the night writes them.
func bigTownship(n int) *worklist {
	rows := make([]rundir.Row, n)
	tiers := []string{"high", "medium", "low"}
	for i := range rows {
		rows[i] = rundir.Row{HouseholdID: fmt.Sprintf("HH%012d", i+1), RegionCode: fmt.Sprintf("520123101%03d", i%9+1),
			TownshipCode: "520123101", RankCounty: int32(i + 1), Tier: tiers[i*3/n], InTopK: true, PrimaryRiskType: "illness",
			Reasons:    "近12个月自付医疗费用12345元，为上年农村居民人均可支配收入的87%；近12个月家庭人均纯收入7654元，低于监测线8700元；近3个月有成员停止缴纳社保",
			Conflicts:  map[bool]string{true: "车辆1条记录，合计45000元，最近2025-03-02", false: ""}[i%5 == 0],
			MeasuresZh: "医疗救助;临时救助;就业帮扶", Entered: i%4 == 0, VillageName: "红岩村"}
	}
	return testWorklist(rows)
}

// TestWorklistPrintsInLibreOffice prints a township of 150 households to
// PDF with LibreOffice: at most 6 A4 pages, every page carrying the header
// row (print titles), every household printed; and reads the validation
// list back after LibreOffice saved the workbook again: exactly the five
// outcome labels.
func TestWorklistPrintsInLibreOffice(t *testing.T) {
	soffice := sofficePath(t)
	dir := t.TempDir()
	if d := os.Getenv("POVRISK_KEEP_PDF"); d != "" {
		dir = d // to look at the pages
	}
	wl := bigTownship(150)
	b := writeTestWorklist(t, wl)
	// Only the township sheet is printed: the others go, as a cadre
	// prints one sheet.
	x, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{sheetSummary, sheetHelp, sheetMeta} {
		if err := x.DeleteSheet(s); err != nil {
			t.Fatal(err)
		}
	}
	town := filepath.Join(dir, "town.xlsx")
	if err := x.SaveAs(town); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	convert(t, soffice, "pdf", out, town)
	pdf, err := os.ReadFile(filepath.Join(out, "town.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	pages := len(regexp.MustCompile(`/Type\s*/Page[^s]`).FindAll(pdf, -1))
	t.Logf("150 households: %d pages", pages)
	if pages < 2 || pages > 6 {
		t.Errorf("150 households print on %d pages, want 2..6", pages)
	}
	if txt, err := exec.LookPath("pdftotext"); err == nil {
		cmd := exec.Command(txt, "-layout", filepath.Join(out, "town.pdf"), "-")
		text, err := cmd.Output()
		if err != nil {
			t.Fatal(err)
		}
		perPage := strings.Split(string(text), "\f")
		n := 0
		for i, p := range perPage {
			if strings.TrimSpace(p) == "" {
				continue
			}
			n++
			if !strings.Contains(p, colOutcome) || !strings.Contains(p, colID) {
				t.Errorf("page %d has no header row", i+1)
			}
		}
		if n != pages {
			t.Errorf("pdftotext sees %d pages, the PDF has %d", n, pages)
		}
		for _, id := range []string{"HH000000000001", "HH000000000075", "HH000000000150"} {
			if !strings.Contains(string(text), id) {
				t.Errorf("%s is not printed", id)
			}
		}
	} else {
		t.Log("pdftotext not installed: header on every page not checked")
	}
	// Round trip through LibreOffice's own XLSX writer: the drop-down keeps
	// exactly the five labels.
	convert(t, soffice, "xlsx:Calc MS Excel 2007 XML", filepath.Join(dir, "again"), filepath.Join(dir, "full.xlsx"+writeFile(t, dir, "full.xlsx", b)))
	y, err := excelize.OpenFile(filepath.Join(dir, "again", "full.xlsx"))
	if err != nil {
		t.Fatal(err)
	}
	dvs, err := y.GetDataValidations("龙场镇")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, dv := range dvs {
		if dv.Type == "list" {
			found = true
			// excelize hands back LibreOffice's formula with its XML
			// entities (&quot;) undecoded: a reader must unescape it.
			if html.UnescapeString(dv.Formula1) != `"核实存在风险,核实无风险,未见到户,已迁出,其他"` {
				t.Errorf("after LibreOffice the list is %s", dv.Formula1)
			}
			if !strings.HasPrefix(dv.Sqref, "L5:L") || !strings.HasSuffix(dv.Sqref, strconv.Itoa(headerRow+150)) {
				t.Errorf("the list covers %s", dv.Sqref)
			}
		}
	}
	if !found {
		t.Errorf("no list validation after LibreOffice: %+v", dvs)
	}
}

// writeFile writes b to dir/name and returns "" (for use inline).
func writeFile(t *testing.T, dir, name string, b []byte) string {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
		t.Fatal(err)
	}
	return ""
}
