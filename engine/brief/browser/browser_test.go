package browser

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestProblemsReported: the checks the brief's tests rely on do report a
// console error, an uncaught exception and a blocked network request.
func TestProblemsReported(t *testing.T) {
	if _, err := Find(""); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set and %v", err)
		}
		t.Skipf("skipping: %v", err)
	}
	page := `<!DOCTYPE html><html><head><meta charset="utf-8"></head><body><p id="x" style="width:200px;height:50px">hi</p>
<img src="http://example.invalid/logo.png">
<script>console.error("boom"); undefinedFunction();</script></body></html>`
	src := filepath.Join(t.TempDir(), "p.html")
	if err := os.WriteFile(src, []byte(page), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	b, err := Launch(ctx, Options{Offline: true})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	tab, err := b.Open(ctx, "file://"+src)
	if err != nil {
		t.Fatal(err)
	}
	probs := strings.Join(tab.Problems(), "\n")
	for _, want := range []string{"console error: boom", "undefinedFunction", "request failed: http://example.invalid/logo.png"} {
		if !strings.Contains(probs, want) {
			t.Errorf("problems lack %q:\n%s", want, probs)
		}
	}
	reqs := strings.Join(tab.Requests(), "\n")
	if !strings.Contains(reqs, "http://example.invalid/logo.png") {
		t.Errorf("requests lack the image: %s", reqs)
	}
	r, err := tab.ElementRect(ctx, "#x")
	if err != nil {
		t.Fatal(err)
	}
	if r.Width != 200 || r.Height != 50 {
		t.Errorf("#x is %vx%v, want 200x50", r.Width, r.Height)
	}
	if _, err := tab.ElementRect(ctx, "#missing"); err == nil {
		t.Errorf("ElementRect of a missing element gave no error")
	}
	pdf, err := tab.PrintPDF(ctx, PDFOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(pdf), "%PDF-") {
		t.Errorf("PrintPDF did not return a PDF: %q", pdf[:min(len(pdf), 16)])
	}
}
