package browser

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/povrisk/povrisk/engine/fault"
)

// needChromium skips the test when no Chromium is installed, except under CI.
func needChromium(t *testing.T) {
	t.Helper()
	if _, err := Find(""); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set and %v", err)
		}
		t.Skipf("skipping: %v", err)
	}
}

// TestProblemsReported: the checks the brief's tests rely on do report a
// console error, an uncaught exception and a blocked network request.
func TestProblemsReported(t *testing.T) {
	needChromium(t)
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

// TestNoBrowser: a Chromium that is not there is ErrNoBrowser, marked
// fault.Internal, and the message says how to install it.
func TestNoBrowser(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no-such-chromium")
	for _, tc := range []struct {
		name string
		call func() error
	}{
		{"find", func() error { _, err := Find(missing); return err }},
		{"launch", func() error { _, err := Launch(context.Background(), Options{Binary: missing}); return err }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if !errors.Is(err, ErrNoBrowser) {
				t.Fatalf("error %v does not wrap ErrNoBrowser", err)
			}
			if k := fault.Of(err); k != fault.Internal {
				t.Errorf("kind %v, want %v", k, fault.Internal)
			}
			for _, want := range []string{"install chromium: bash scripts/install.sh", "no-such-chromium"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
		})
	}
}

// TestCancelAndTimeout: a cancelled context stops a step with
// context.Canceled; a step past Options.Timeout stops with
// context.DeadlineExceeded and says so; the browser still works after both.
func TestCancelAndTimeout(t *testing.T) {
	needChromium(t)
	src := filepath.Join(t.TempDir(), "p.html")
	if err := os.WriteFile(src, []byte(`<!DOCTYPE html><p id="x">hi</p>`), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	b, err := Launch(ctx, Options{Offline: true, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	tab, err := b.Open(ctx, "file://"+src)
	if err != nil {
		t.Fatal(err)
	}
	never := "new Promise(() => {})"
	err = tab.Eval(ctx, never, nil)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "did not finish within 2s") {
		t.Errorf("a step past the limit gave %v, want DeadlineExceeded saying the limit", err)
	}
	cctx, ccancel := context.WithCancel(ctx)
	ccancel()
	if err := tab.Eval(cctx, "1", nil); !errors.Is(err, context.Canceled) {
		t.Errorf("a cancelled context gave %v, want context.Canceled", err)
	}
	if _, err := b.Open(cctx, "file://"+src); !errors.Is(err, context.Canceled) {
		t.Errorf("Open with a cancelled context gave %v, want context.Canceled", err)
	}
	if b2, err := Launch(cctx, Options{Offline: true}); !errors.Is(err, context.Canceled) {
		if b2 != nil {
			b2.Close()
		}
		t.Errorf("Launch with a cancelled context gave %v, want context.Canceled", err)
	}
	var n int
	if err := tab.Eval(ctx, "6 * 7", &n); err != nil || n != 42 {
		t.Errorf("after the timeout, Eval gave %d, %v; want 42", n, err)
	}
}
