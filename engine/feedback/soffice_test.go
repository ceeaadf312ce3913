package feedback

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestLibreOfficeResave: the filled work list re-saved by LibreOffice
// (as a cadre's office would send it back) imports to the same counts,
// rejects and stored rows. It skips only when soffice is absent and CI
// is unset.
func TestLibreOfficeResave(t *testing.T) {
	soffice, err := exec.LookPath("soffice")
	if err != nil {
		if os.Getenv("CI") == "" {
			t.Skip("soffice not installed (apt-get install libreoffice-calc); set CI to make this a failure")
		}
		t.Fatal("soffice not found (apt-get install libreoffice-calc)")
	}
	f := newFixture(t)
	src := filepath.Join(f.dir, "filled", "520123.xlsx")
	os.MkdirAll(filepath.Dir(src), 0o700)
	towns, order := filledList()
	writeList(t, src, "520123", towns, order)
	out := filepath.Join(f.dir, "resaved")
	profile := filepath.Join(f.dir, "soffice-profile")
	cmd := exec.Command(soffice, "-env:UserInstallation=file://"+profile, "--headless", "--convert-to", "xlsx:Calc MS Excel 2007 XML",
		"--outdir", out, src)
	cmd.Env = append(os.Environ(), "HOME="+profile)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("soffice: %v\n%s", err, b)
	}
	resaved := filepath.Join(out, "520123.xlsx")
	a, _ := os.ReadFile(src)
	b, err := os.ReadFile(resaved)
	if err != nil {
		t.Fatal(err)
	}
	if string(a) == string(b) {
		t.Fatal("LibreOffice wrote the same bytes: the test would not test a re-save")
	}
	checkWorkListImport(t, f, resaved)
}
