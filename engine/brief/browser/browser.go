package browser

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/povrisk/povrisk/engine/fault"
)

// Options configure a browser. The zero value is a headless browser found
// on PATH, 1000 x 1400 CSS pixels, that may reach the network, with a limit
// of 60 seconds per step.
type Options struct {
	// Binary is the Chromium executable; "" looks up chromium,
	// chromium-browser, google-chrome and google-chrome-stable on PATH.
	Binary string
	// Offline makes every host name fail to resolve and sends every other
	// request to a closed proxy, so that no page can reach the network.
	Offline bool
	// Width and Height of the window in CSS pixels; 0 is 1000 x 1400.
	Width, Height int
	// Timeout limits each step (start, open, print, capture); 0 is 60 seconds.
	// The caller's context can end a step sooner.
	Timeout time.Duration
	// Stderr receives Chromium's own log; nil discards it.
	Stderr io.Writer
}

// DefaultTimeout is the limit of one step when Options.Timeout is 0.
const DefaultTimeout = 60 * time.Second

// ErrNoBrowser is wrapped by the error returned when no Chromium binary is
// found; that error is marked fault.Internal (exit 1): the machine lacks a
// program the command needs, which no input or flag of the run can mend.
var ErrNoBrowser = errors.New("no chromium found")

// noBrowser is the error for a missing Chromium, saying how to install it.
func noBrowser(detail string) error {
	return fault.Wrap(fault.Internal, fmt.Errorf("%w%s: install chromium: bash scripts/install.sh run "+
		"(or apt-get install chromium fonts-wqy-microhei fonts-noto-cjk), or name the binary with --chromium", ErrNoBrowser, detail))
}

// Find returns the Chromium binary to run: bin (a path or a name on PATH),
// or the first of chromium, chromium-browser, google-chrome and
// google-chrome-stable on PATH. It never downloads a browser.
func Find(bin string) (string, error) {
	if bin != "" {
		p, err := exec.LookPath(bin)
		if err != nil {
			return "", noBrowser(fmt.Sprintf(" (%s: %v)", bin, err))
		}
		return p, nil
	}
	for _, n := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(n); err == nil {
			return p, nil
		}
	}
	return "", noBrowser(" on PATH")
}

// flags are the command-line switches of every browser this package starts:
// headless, no sandbox (we run in containers, often as root), and nothing
// that reaches out on its own (QUIC, background networking, component
// updates, sync), since the machines this runs on have no network.
func flags(o Options, profile string) []chromedp.ExecAllocatorOption {
	w, h := o.Width, o.Height
	if w == 0 {
		w, h = 1000, 1400
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.Headless, // --headless --hide-scrollbars --mute-audio
		chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(w, h),
		chromedp.Flag("force-device-scale-factor", "1"),
	}
	if o.Offline {
		opts = append(opts,
			chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND"),
			chromedp.Flag("proxy-server", "127.0.0.1:9"),
			chromedp.Flag("proxy-bypass-list", "<-loopback>"))
	}
	if o.Stderr != nil {
		opts = append(opts, chromedp.CombinedOutput(o.Stderr))
	}
	return opts
}

// Browser is a running headless Chromium, driven by chromedp over the
// DevTools pipe.
type Browser struct {
	ctx         context.Context // chromedp browser context (its first tab)
	cancel      context.CancelFunc
	cancelAlloc context.CancelFunc
	profile     string
	timeout     time.Duration
	started     bool // the browser answered once (Close then closes it gracefully)
}

// Launch starts headless Chromium with a fresh profile directory. The
// browser lives until Close, or until ctx ends.
func Launch(ctx context.Context, o Options) (*Browser, error) {
	bin, err := Find(o.Binary)
	if err != nil {
		return nil, err
	}
	// A context already ended starts nothing: chromedp, asked to allocate
	// a browser on it, can leave its cancel waiting for a browser that
	// never started.
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	profile, err := os.MkdirTemp("", "povrisk-chromium-")
	if err != nil {
		return nil, fault.Wrap(fault.Write, fmt.Errorf("chromium profile: %w", err))
	}
	opts := append([]chromedp.ExecAllocatorOption{chromedp.ExecPath(bin)}, flags(o, profile)...)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	bctx, cancel := chromedp.NewContext(actx)
	b := &Browser{ctx: bctx, cancel: cancel, cancelAlloc: cancelAlloc, profile: profile, timeout: o.Timeout}
	if b.timeout <= 0 {
		b.timeout = DefaultTimeout
	}
	// The first action starts the browser. It must run on the browser's own
	// context (a deadline on it would end the browser), so the step's limit
	// and the caller's ctx end it by cancelling the browser.
	err = b.step(ctx, context.Background(), "start "+bin, func(sctx context.Context) error {
		defer context.AfterFunc(sctx, cancel)()
		_, err := chromedp.Run(bctx, chromedp.Evaluate[chromedp.Void]("1"))
		return err
	})
	if err != nil {
		b.Close()
		return nil, err
	}
	b.started = true
	return b, nil
}

// step runs fn with a context derived from base that ends at the step's
// limit or when the caller's ctx ends; its error says which.
func (b *Browser) step(ctx, base context.Context, what string, fn func(sctx context.Context) error) error {
	sctx, cancel := context.WithTimeout(base, b.timeout)
	defer cancel()
	defer context.AfterFunc(ctx, cancel)()
	err := fn(sctx)
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return fmt.Errorf("%s: %w", what, ctx.Err())
	case errors.Is(sctx.Err(), context.DeadlineExceeded):
		return fmt.Errorf("%s: chromium did not finish within %s: %w", what, b.timeout, context.DeadlineExceeded)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// Close ends the browser and removes its profile: a graceful
// Browser.close first (at most 10 seconds), then the process is ended.
func (b *Browser) Close() error {
	if b.started {
		done := make(chan struct{})
		go func() {
			defer close(done)
			cctx, cancel := context.WithTimeout(context.WithoutCancel(b.ctx), 10*time.Second)
			defer cancel()
			_ = chromedp.Cancel(cctx)
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
		}
	}
	// chromedp's cancel waits for the browser to stop; a browser whose
	// start failed may never report that, so the wait is bounded and the
	// allocator's cancel ends the process whatever it said.
	cancelled := make(chan struct{})
	go func() {
		defer close(cancelled)
		b.cancel()
	}()
	select {
	case <-cancelled:
	case <-time.After(10 * time.Second):
	}
	b.cancelAlloc() // ends the process if it is still there, and waits for it
	return os.RemoveAll(b.profile)
}

// Tab is one page of the browser, with the events it has seen.
type Tab struct {
	b      *Browser
	ctx    context.Context
	cancel context.CancelFunc

	mu       sync.Mutex
	problems []string
	requests []string
	urls     map[network.RequestID]string
}

// Open opens url in a new tab, waits for its load event and its fonts.
func (b *Browser) Open(ctx context.Context, url string) (*Tab, error) {
	tctx, cancel := chromedp.NewContext(b.ctx)
	t := &Tab{b: b, ctx: tctx, cancel: cancel, urls: map[network.RequestID]string{}}
	err := b.step(ctx, tctx, "open "+url, func(sctx context.Context) error {
		// Opening the tab runs on the tab's context; end it at the limit.
		defer context.AfterFunc(sctx, cancel)()
		if err := chromedp.Listen(tctx, t.record); err != nil {
			return err
		}
		// Let fonts settle before anything is printed or captured.
		return chromedp.Do(sctx, chromedp.Navigate(url),
			chromedp.Evaluate[chromedp.Void]("document.fonts.ready.then(() => true)", chromedp.EvalAwaitPromise))
	})
	if err != nil {
		cancel()
		return nil, err
	}
	return t, nil
}

// Close closes the tab.
func (t *Tab) Close() { t.cancel() }

// run runs fn on the tab within the browser's step limit.
func (t *Tab) run(ctx context.Context, what string, fn func(ctx context.Context) error) error {
	return t.b.step(ctx, t.ctx, what, fn)
}

// record keeps the events the checks of Problems and Requests need. It runs
// on chromedp's reading goroutine, so it only appends.
func (t *Tab) record(ev any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch e := ev.(type) {
	case *network.EventRequestWillBeSent:
		if e.Request != nil {
			t.urls[e.RequestID] = e.Request.URL
			t.requests = append(t.requests, e.Request.URL)
		}
	case *network.EventLoadingFailed:
		t.problems = append(t.problems, fmt.Sprintf("request failed: %s: %s", t.urls[e.RequestID], e.ErrorText))
	case *runtime.EventConsoleAPICalled:
		if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeAssert {
			var parts []string
			for _, a := range e.Args {
				parts = append(parts, remoteText(a))
			}
			t.problems = append(t.problems, "console "+string(e.Type)+": "+strings.Join(parts, " "))
		}
	case *runtime.EventExceptionThrown:
		s := "exception"
		if d := e.ExceptionDetails; d != nil {
			s += ": " + d.Text
			if d.Exception != nil && d.Exception.Description != "" {
				s += " " + d.Exception.Description
			}
		}
		t.problems = append(t.problems, s)
	case *log.EventEntryAdded:
		if e.Entry != nil && e.Entry.Level == log.EntryLevelError {
			t.problems = append(t.problems, "log error: "+e.Entry.Text+" "+e.Entry.URL)
		}
	}
}

// remoteText is the text of a console argument: its value, else its description.
func remoteText(o *runtime.RemoteObject) string {
	if o == nil {
		return ""
	}
	if len(o.Value) > 0 {
		var v any
		if json.Unmarshal(o.Value, &v) == nil {
			return fmt.Sprint(v)
		}
	}
	if o.UnserializableValue != "" {
		return string(o.UnserializableValue)
	}
	return o.Description
}

// Problems lists the console errors, uncaught exceptions, error log entries
// and failed requests the tab has seen, one line each.
func (t *Tab) Problems() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]string(nil), t.problems...)
}

// Requests lists the URLs the tab requested, in order.
func (t *Tab) Requests() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]string(nil), t.requests...)
}

// Eval evaluates a JavaScript expression (awaiting a promise) and decodes
// its value into out (nil ignores it).
func (t *Tab) Eval(ctx context.Context, expr string, out any) error {
	return t.run(ctx, "evaluate", func(ctx context.Context) error {
		raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](expr, chromedp.EvalAwaitPromise))
		if err != nil {
			return fmt.Errorf("%q: %w", expr, err)
		}
		if out != nil && len(raw) > 0 {
			return json.Unmarshal(raw, out)
		}
		return nil
	})
}

// PDFOptions configure PrintPDF. Footer is a Chromium footer template (HTML
// with spans of class pageNumber and totalPages); "" prints no footer.
type PDFOptions struct {
	Footer string
	// Scale is the page's scale (0.1 to 2); 0 is 1.
	Scale float64
}

// PrintPDF prints the page to A4 PDF, honouring the page's @page size and
// margins, with backgrounds.
func (t *Tab) PrintPDF(ctx context.Context, o PDFOptions) ([]byte, error) {
	opts := []chromedp.PDFOption{
		chromedp.PDFPaper(chromedp.PaperA4), chromedp.PDFPrintBackground(), chromedp.PDFPreferCSSPageSize(),
		chromedp.PDFMargins(0.6, 0.6, 0.7, 0.6), // top, right, bottom, left (inches)
	}
	if o.Footer != "" {
		opts = append(opts, chromedp.PDFHeaderTemplate("<span></span>"), chromedp.PDFFooterTemplate(o.Footer))
	}
	if o.Scale > 0 {
		opts = append(opts, chromedp.PDFScale(o.Scale))
	}
	var pdf []byte
	err := t.run(ctx, "print pdf", func(ctx context.Context) error {
		var err error
		pdf, err = chromedp.Run(ctx, chromedp.PrintToPDF(opts...))
		return err
	})
	return pdf, err
}

// Rect is a region of the page in CSS pixels.
type Rect struct{ X, Y, Width, Height float64 }

// Screenshot captures the region (the whole page when clip is nil) as PNG.
func (t *Tab) Screenshot(ctx context.Context, clip *Rect) ([]byte, error) {
	if clip == nil {
		var size struct{ W, H float64 }
		if err := t.Eval(ctx, "({W: document.documentElement.scrollWidth, H: document.documentElement.scrollHeight})", &size); err != nil {
			return nil, err
		}
		clip = &Rect{Width: size.W, Height: size.H}
	}
	beyond := true
	p := page.CaptureScreenshotParams{Format: page.CaptureScreenshotFormatPng, CaptureBeyondViewport: &beyond,
		Clip: &page.Viewport{X: clip.X, Y: clip.Y, Width: clip.Width, Height: clip.Height, Scale: 1}}
	var png []byte
	err := t.run(ctx, "screenshot", func(ctx context.Context) error {
		r, err := chromedp.Call(ctx, page.CaptureScreenshot, p)
		png = r.Data
		return err
	})
	return png, err
}

// ElementRect returns the page rectangle of the first element matching a CSS selector.
func (t *Tab) ElementRect(ctx context.Context, selector string) (Rect, error) {
	sel, _ := json.Marshal(selector)
	var r *Rect
	err := t.Eval(ctx, `(() => { const e = document.querySelector(`+string(sel)+`); if (!e) return null;
		const b = e.getBoundingClientRect(); return {X: b.left + scrollX, Y: b.top + scrollY, Width: b.width, Height: b.height}; })()`, &r)
	if err != nil {
		return Rect{}, err
	}
	if r == nil {
		return Rect{}, fmt.Errorf("no element matches %s", selector)
	}
	return *r, nil
}
