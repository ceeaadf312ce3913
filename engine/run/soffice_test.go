package run

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestWorklistOpensInLibreOffice converts a county work list to CSV with
// LibreOffice (every sheet) and compares the cells with ranked.csv. It
// skips only when soffice is absent and CI is unset.
func TestWorklistOpensInLibreOffice(t *testing.T) {
	soffice, err := exec.LookPath("soffice")
	if err != nil {
		if os.Getenv("CI") == "" {
			t.Skip("soffice not installed (apt-get install libreoffice-calc); set CI to make this a failure")
		}
		t.Fatal("soffice not found (apt-get install libreoffice-calc)")
	}
	f := setupE2E(t)
	const county = "520123"
	out := filepath.Join(fixRoot, "soffice")
	profile := filepath.Join(fixRoot, "soffice-profile")
	// Filter options: comma, double quote, UTF-8, from row 1, cells as shown, sheet -1 = every sheet to its own file.
	cmd := exec.Command(soffice, "-env:UserInstallation=file://"+profile, "--headless", "--convert-to",
		"csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,true,false,false,-1",
		"--outdir", out, filepath.Join(f.runDir(), "worklists", county+".xlsx"))
	cmd.Env = append(os.Environ(), "HOME="+profile)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("soffice: %v\n%s", err, b)
	}
	h, recs := readCSV(t, filepath.Join(f.runDir(), "ranked.csv"))
	tierZh := map[string]string{"high": "高", "medium": "中", "low": "低"}
	want := map[string][]string{} // township -> expected CSV lines
	for _, r := range recs {
		if r[h["county_code"]] != county || r[h["in_top_k"]] != "true" {
			continue
		}
		score, _ := strconv.ParseFloat(r[h["score"]], 64)
		want[r[h["township_code"]]] = append(want[r[h["township_code"]]], strings.Join([]string{r[h["rank_county"]], r[h["household_id"]], r[h["region_code"]],
			strconv.FormatFloat(score, 'f', 4, 64), tierZh[r[h["tier"]]], r[h["reasons"]], r[h["measures_zh"]]}, "|"))
	}
	if len(want) == 0 {
		t.Fatal("county has no work list rows")
	}
	for town, lines := range want {
		path := filepath.Join(out, county+"-"+town+".csv")
		_, got := readCSV(t, path) // header skipped
		if len(got) != len(lines) {
			t.Errorf("%s: %d rows, want %d", path, len(got), len(lines))
			continue
		}
		for i, g := range got {
			if strings.Join(g, "|") != lines[i] {
				t.Errorf("%s row %d:\n got %s\nwant %s", path, i+1, strings.Join(g, "|"), lines[i])
			}
		}
	}
	files, _ := filepath.Glob(filepath.Join(out, county+"-*.csv"))
	if len(files) != len(want) {
		t.Errorf("LibreOffice wrote %d sheets, want %d", len(files), len(want))
	}
}
