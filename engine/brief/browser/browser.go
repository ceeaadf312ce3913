package browser

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// Options configure a browser.
type Options struct {
	// Binary is the Chromium executable; "" looks up chromium,
	// chromium-browser, google-chrome and google-chrome-stable on PATH.
	Binary string
	// Offline makes every host name fail to resolve, so that no page can
	// reach the network.
	Offline bool
	// Width and Height of the window in CSS pixels; 0 is 1000 x 1400.
	Width, Height int
	// Stderr receives Chromium's own log; nil discards it.
	Stderr io.Writer
}

// ErrNoBrowser is returned when no Chromium binary is found.
var ErrNoBrowser = errors.New("no chromium found: install it (apt-get install chromium fonts-noto-cjk) or name it with --chromium")

// Find returns the Chromium binary to run.
func Find(bin string) (string, error) {
	if bin != "" {
		return exec.LookPath(bin)
	}
	for _, n := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(n); err == nil {
			return p, nil
		}
	}
	return "", ErrNoBrowser
}

// Browser is a running headless Chromium.
type Browser struct {
	cmd     *exec.Cmd
	profile string
	in      *os.File // we write commands here (the browser's fd 3)
	out     *os.File // we read replies here (the browser's fd 4)

	mu      sync.Mutex
	nextID  int64
	pending map[int64]chan reply
	events  map[string][]Event // by session id
	notify  chan struct{}
	readErr error
	done    chan struct{}
}

// Event is a DevTools event.
type Event struct {
	Method string
	Params json.RawMessage
}

type reply struct {
	Result json.RawMessage
	Err    *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
}

type message struct {
	ID        int64           `json:"id,omitempty"`
	Method    string          `json:"method,omitempty"`
	Params    json.RawMessage `json:"params,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	SessionID string          `json:"sessionId,omitempty"`
	Error     *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

// Launch starts headless Chromium with a fresh profile directory.
func Launch(ctx context.Context, o Options) (*Browser, error) {
	bin, err := Find(o.Binary)
	if err != nil {
		return nil, err
	}
	profile, err := os.MkdirTemp("", "povrisk-chromium-")
	if err != nil {
		return nil, fmt.Errorf("chromium profile: %w", err)
	}
	w, h := o.Width, o.Height
	if w == 0 {
		w, h = 1000, 1400
	}
	args := []string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-extensions", "--disable-default-apps", "--mute-audio", "--hide-scrollbars",
		"--user-data-dir=" + profile, "--remote-debugging-pipe",
		fmt.Sprintf("--window-size=%d,%d", w, h), "--force-device-scale-factor=1",
	}
	if o.Offline {
		args = append(args, "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>")
	}
	args = append(args, "about:blank")
	cmdR, cmdW, err := os.Pipe()
	if err != nil {
		os.RemoveAll(profile)
		return nil, fmt.Errorf("chromium pipe: %w", err)
	}
	repR, repW, err := os.Pipe()
	if err != nil {
		cmdR.Close()
		cmdW.Close()
		os.RemoveAll(profile)
		return nil, fmt.Errorf("chromium pipe: %w", err)
	}
	cmd := exec.Command(bin, args...)
	cmd.ExtraFiles = []*os.File{cmdR, repW} // fd 3: commands in, fd 4: replies out
	cmd.Stdout = o.Stderr
	cmd.Stderr = o.Stderr
	if err := cmd.Start(); err != nil {
		cmdR.Close()
		cmdW.Close()
		repR.Close()
		repW.Close()
		os.RemoveAll(profile)
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	cmdR.Close()
	repW.Close()
	b := &Browser{cmd: cmd, profile: profile, in: cmdW, out: repR, pending: map[int64]chan reply{},
		events: map[string][]Event{}, notify: make(chan struct{}, 1), done: make(chan struct{})}
	go b.read()
	// The first command proves the browser is up.
	var v struct {
		Product string `json:"product"`
	}
	if err := b.call(ctx, "", "Browser.getVersion", nil, &v); err != nil {
		b.Close()
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	return b, nil
}

// read dispatches replies and events until the pipe closes.
func (b *Browser) read() {
	defer close(b.done)
	r := bufio.NewReaderSize(b.out, 1<<20)
	for {
		raw, err := r.ReadBytes(0)
		if err != nil {
			b.mu.Lock()
			b.readErr = fmt.Errorf("chromium closed the DevTools pipe: %w", err)
			for id, ch := range b.pending {
				close(ch)
				delete(b.pending, id)
			}
			b.mu.Unlock()
			b.signal()
			return
		}
		var m message
		if err := json.Unmarshal(raw[:len(raw)-1], &m); err != nil {
			continue
		}
		b.mu.Lock()
		if m.ID != 0 {
			if ch, ok := b.pending[m.ID]; ok {
				ch <- reply{Result: m.Result, Err: m.Error}
				delete(b.pending, m.ID)
			}
		} else if m.Method != "" {
			b.events[m.SessionID] = append(b.events[m.SessionID], Event{Method: m.Method, Params: m.Params})
		}
		b.mu.Unlock()
		b.signal()
	}
}

func (b *Browser) signal() {
	select {
	case b.notify <- struct{}{}:
	default:
	}
}

// call sends a command (to a session when session != "") and decodes its result into out.
func (b *Browser) call(ctx context.Context, session, method string, params, out any) error {
	var p json.RawMessage
	if params != nil {
		var err error
		if p, err = json.Marshal(params); err != nil {
			return fmt.Errorf("%s: %w", method, err)
		}
	}
	ch := make(chan reply, 1)
	b.mu.Lock()
	if b.readErr != nil {
		b.mu.Unlock()
		return fmt.Errorf("%s: %w", method, b.readErr)
	}
	b.nextID++
	id := b.nextID
	b.pending[id] = ch
	b.mu.Unlock()
	msg, err := json.Marshal(message{ID: id, Method: method, Params: p, SessionID: session})
	if err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	if _, err := b.in.Write(append(msg, 0)); err != nil {
		return fmt.Errorf("%s: write to chromium: %w", method, err)
	}
	select {
	case r, ok := <-ch:
		if !ok {
			return fmt.Errorf("%s: chromium exited", method)
		}
		if r.Err != nil {
			return fmt.Errorf("%s: chromium error %d: %s", method, r.Err.Code, r.Err.Message)
		}
		if out != nil {
			if err := json.Unmarshal(r.Result, out); err != nil {
				return fmt.Errorf("%s: decode reply: %w", method, err)
			}
		}
		return nil
	case <-ctx.Done():
		b.mu.Lock()
		delete(b.pending, id)
		b.mu.Unlock()
		return fmt.Errorf("%s: %w", method, ctx.Err())
	}
}

// Close ends the browser and removes its profile.
func (b *Browser) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = b.call(ctx, "", "Browser.close", nil, nil)
	b.in.Close()
	exited := make(chan error, 1)
	go func() { exited <- b.cmd.Wait() }()
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		_ = b.cmd.Process.Kill()
		<-exited
	}
	b.out.Close()
	return os.RemoveAll(b.profile)
}

// Tab is one page of the browser, attached in its own session.
type Tab struct {
	b       *Browser
	session string
}

// Open opens url in a new tab and waits for its load event.
func (b *Browser) Open(ctx context.Context, url string) (*Tab, error) {
	var tgt struct {
		TargetID string `json:"targetId"`
	}
	if err := b.call(ctx, "", "Target.createTarget", map[string]any{"url": "about:blank"}, &tgt); err != nil {
		return nil, err
	}
	var att struct {
		SessionID string `json:"sessionId"`
	}
	if err := b.call(ctx, "", "Target.attachToTarget", map[string]any{"targetId": tgt.TargetID, "flatten": true}, &att); err != nil {
		return nil, err
	}
	t := &Tab{b: b, session: att.SessionID}
	for _, d := range []string{"Page.enable", "Runtime.enable", "Log.enable", "Network.enable"} {
		if err := t.Call(ctx, d, nil, nil); err != nil {
			return nil, err
		}
	}
	var nav struct {
		ErrorText string `json:"errorText"`
	}
	if err := t.Call(ctx, "Page.navigate", map[string]any{"url": url}, &nav); err != nil {
		return nil, err
	}
	if nav.ErrorText != "" {
		return nil, fmt.Errorf("open %s: %s", url, nav.ErrorText)
	}
	if err := t.WaitEvent(ctx, "Page.loadEventFired"); err != nil {
		return nil, fmt.Errorf("open %s: %w", url, err)
	}
	// Let fonts settle before anything is printed or captured.
	var ready bool
	_ = t.Eval(ctx, "document.fonts.ready.then(() => true)", &ready)
	return t, nil
}

// Call sends a command to the tab's session.
func (t *Tab) Call(ctx context.Context, method string, params, out any) error {
	return t.b.call(ctx, t.session, method, params, out)
}

// Events returns the events of the tab so far.
func (t *Tab) Events() []Event {
	t.b.mu.Lock()
	defer t.b.mu.Unlock()
	return append([]Event(nil), t.b.events[t.session]...)
}

// WaitEvent waits until the tab has had an event named method.
func (t *Tab) WaitEvent(ctx context.Context, method string) error {
	for {
		for _, e := range t.Events() {
			if e.Method == method {
				return nil
			}
		}
		t.b.mu.Lock()
		err := t.b.readErr
		t.b.mu.Unlock()
		if err != nil {
			return err
		}
		select {
		case <-t.b.notify:
		case <-time.After(100 * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Eval evaluates a JavaScript expression (awaiting a promise) and decodes its value.
func (t *Tab) Eval(ctx context.Context, expr string, out any) error {
	var r struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		Exception *struct {
			Text string `json:"text"`
		} `json:"exceptionDetails"`
	}
	if err := t.Call(ctx, "Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true, "awaitPromise": true}, &r); err != nil {
		return err
	}
	if r.Exception != nil {
		return fmt.Errorf("evaluate %q: %s", expr, r.Exception.Text)
	}
	if out != nil && len(r.Result.Value) > 0 {
		return json.Unmarshal(r.Result.Value, out)
	}
	return nil
}

// PDFOptions configure PrintPDF. Footer is a Chromium footer template (HTML
// with spans of class pageNumber and totalPages); "" prints no footer.
type PDFOptions struct {
	Footer string
}

// PrintPDF prints the page to A4 PDF, honouring the page's @page size and
// margins, with backgrounds.
func (t *Tab) PrintPDF(ctx context.Context, o PDFOptions) ([]byte, error) {
	p := map[string]any{
		"paperWidth": 8.27, "paperHeight": 11.69, "printBackground": true, "preferCSSPageSize": true,
		"marginTop": 0.6, "marginBottom": 0.7, "marginLeft": 0.6, "marginRight": 0.6,
	}
	if o.Footer != "" {
		p["displayHeaderFooter"] = true
		p["headerTemplate"] = "<span></span>"
		p["footerTemplate"] = o.Footer
	}
	var r struct {
		Data string `json:"data"`
	}
	if err := t.Call(ctx, "Page.printToPDF", p, &r); err != nil {
		return nil, err
	}
	return base64.StdEncoding.DecodeString(r.Data)
}

// Rect is a region of the page in CSS pixels.
type Rect struct{ X, Y, Width, Height float64 }

// Screenshot captures the region (the whole page when clip is nil) as PNG.
func (t *Tab) Screenshot(ctx context.Context, clip *Rect) ([]byte, error) {
	p := map[string]any{"format": "png", "captureBeyondViewport": true}
	if clip != nil {
		p["clip"] = map[string]any{"x": clip.X, "y": clip.Y, "width": clip.Width, "height": clip.Height, "scale": 1}
	} else {
		var size struct{ W, H float64 }
		if err := t.Eval(ctx, "({W: document.documentElement.scrollWidth, H: document.documentElement.scrollHeight})", &size); err != nil {
			return nil, err
		}
		p["clip"] = map[string]any{"x": 0, "y": 0, "width": size.W, "height": size.H, "scale": 1}
	}
	var r struct {
		Data string `json:"data"`
	}
	if err := t.Call(ctx, "Page.captureScreenshot", p, &r); err != nil {
		return nil, err
	}
	return base64.StdEncoding.DecodeString(r.Data)
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

// Problems lists the console errors, uncaught exceptions, error log entries
// and failed requests the tab has seen, one line each.
func (t *Tab) Problems() []string {
	var out []string
	urls := map[string]string{}
	for _, e := range t.Events() {
		switch e.Method {
		case "Network.requestWillBeSent":
			var p struct {
				RequestID string `json:"requestId"`
				Request   struct {
					URL string `json:"url"`
				} `json:"request"`
			}
			if json.Unmarshal(e.Params, &p) == nil {
				urls[p.RequestID] = p.Request.URL
			}
		case "Network.loadingFailed":
			var p struct {
				RequestID string `json:"requestId"`
				ErrorText string `json:"errorText"`
			}
			if json.Unmarshal(e.Params, &p) == nil {
				out = append(out, fmt.Sprintf("request failed: %s: %s", urls[p.RequestID], p.ErrorText))
			}
		case "Runtime.consoleAPICalled":
			var p struct {
				Type string `json:"type"`
				Args []struct {
					Value any `json:"value"`
				} `json:"args"`
			}
			if json.Unmarshal(e.Params, &p) == nil && (p.Type == "error" || p.Type == "assert") {
				var parts []string
				for _, a := range p.Args {
					parts = append(parts, fmt.Sprint(a.Value))
				}
				out = append(out, "console "+p.Type+": "+strings.Join(parts, " "))
			}
		case "Runtime.exceptionThrown":
			out = append(out, "exception: "+string(e.Params))
		case "Log.entryAdded":
			var p struct {
				Entry struct {
					Level, Text, URL string
				} `json:"entry"`
			}
			if json.Unmarshal(e.Params, &p) == nil && p.Entry.Level == "error" {
				out = append(out, "log error: "+p.Entry.Text+" "+p.Entry.URL)
			}
		}
	}
	return out
}

// Requests lists the URLs the tab requested, in order.
func (t *Tab) Requests() []string {
	var out []string
	for _, e := range t.Events() {
		if e.Method != "Network.requestWillBeSent" {
			continue
		}
		var p struct {
			Request struct {
				URL string `json:"url"`
			} `json:"request"`
		}
		if json.Unmarshal(e.Params, &p) == nil {
			out = append(out, p.Request.URL)
		}
	}
	return out
}
