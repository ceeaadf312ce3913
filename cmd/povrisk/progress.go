package main

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/urfave/cli/v2"

	"github.com/povrisk/povrisk/engine/progress"
)

// reporter is the progress.Reporter of a command, for its engine options
// (`Reporter: reporter(c)`): a bar per stage with counts and the time left
// on a terminal; one line per finished stage with --verbose and no
// terminal; nothing otherwise (cron: the command prints its one line at
// the end) and nothing with --quiet.
func reporter(c *cli.Context) progress.Reporter {
	return newReporter(c.App.ErrWriter, stderrIsTerminal(c.App.ErrWriter), quiet(c), verbose(c))
}

func newReporter(w io.Writer, tty, quiet, verbose bool) progress.Reporter {
	switch {
	case quiet:
		return nil
	case tty:
		return &barReporter{w: w}
	case verbose:
		return &lineReporter{w: w, now: time.Now}
	}
	return nil
}

// progressWriter is the io.Writer progress of engines that still take one
// (a line per stage): stderr on a terminal or with --verbose, else nil.
func progressWriter(c *cli.Context) io.Writer {
	if quiet(c) || !(stderrIsTerminal(c.App.ErrWriter) || verbose(c)) {
		return nil
	}
	return c.App.ErrWriter
}

// barReporter draws one terminal progress bar per stage. A terminal line
// holds one bar, and some stages run side by side (ingest reads its tables
// in parallel): the first stage started owns the bar; the others count
// quietly in a queue, and when the bar's stage ends the next takes the
// line (one finished meanwhile prints its count and time). Bars never
// overwrite each other.
type barReporter struct {
	w      io.Writer
	mu     sync.Mutex
	shown  *barTask   // the stage drawing the bar; nil: none
	queued []*barTask // stages started while another was shown, in order
	now    func() time.Time
}

func (r *barReporter) Start(stage string, total int64) progress.Task {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.now == nil {
		r.now = time.Now
	}
	t := &barTask{r: r, stage: stage, total: total, start: r.now()}
	if r.shown == nil {
		r.show(t)
	} else {
		r.queued = append(r.queued, t)
	}
	return t
}

// show gives t the bar, with the count it made while queued (r.mu held).
func (r *barReporter) show(t *barTask) {
	max := t.total
	if max <= 0 {
		max = -1 // unknown size: a spinner with the count
	}
	t.bar = progressbar.NewOptions64(max,
		progressbar.OptionSetWriter(r.w),
		progressbar.OptionSetDescription(t.stage),
		progressbar.OptionShowCount(),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionShowElapsedTimeOnFinish(),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionSetRenderBlankState(true),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(r.w) }),
	)
	if t.count > 0 {
		t.bar.Add64(t.count)
	}
	r.shown = t
}

// next hands the line to the next queued stage still running, printing
// the ones that ended meanwhile (r.mu held).
func (r *barReporter) next() {
	r.shown = nil
	for len(r.queued) > 0 {
		t := r.queued[0]
		r.queued = r.queued[1:]
		if !t.done {
			r.show(t)
			return
		}
		fmt.Fprintln(r.w, doneLine(t.stage, t.count, t.total, r.now().Sub(t.start).Seconds()))
	}
}

type barTask struct {
	r            *barReporter
	stage        string
	total, count int64
	start        time.Time
	bar          *progressbar.ProgressBar // nil while queued
	done         bool
}

func (t *barTask) Add(n int64) {
	t.r.mu.Lock()
	defer t.r.mu.Unlock()
	t.count += n
	if t.bar != nil && !t.done {
		t.bar.Add64(n)
	}
}

// SetTotal changes the bar's length once the stage knows (or estimates
// again) its size, so that it can show the time left.
func (t *barTask) SetTotal(total int64) {
	t.r.mu.Lock()
	defer t.r.mu.Unlock()
	if t.done || total <= 0 || total == t.total {
		return
	}
	t.total = total
	if t.bar != nil {
		t.bar.ChangeMax64(total)
	}
}

func (t *barTask) Done() {
	t.r.mu.Lock()
	defer t.r.mu.Unlock()
	if t.done {
		return
	}
	t.done = true
	if t.r.shown == t {
		t.bar.Finish() // its completion ends the line
		t.r.next()
	}
}

// doneLine is the line of a finished stage: its count (of its total) and time.
func doneLine(stage string, n, total int64, secs float64) string {
	if total > 0 {
		return fmt.Sprintf("povrisk: %s: %s of %s in %s", stage, count(n), count(total), seconds(secs))
	}
	return fmt.Sprintf("povrisk: %s: %s in %s", stage, count(n), seconds(secs))
}

// lineReporter prints one line per finished stage: its count and time.
type lineReporter struct {
	w   io.Writer
	now func() time.Time
	mu  sync.Mutex
}

func (r *lineReporter) Start(stage string, total int64) progress.Task {
	return &lineTask{r: r, stage: stage, total: total, start: r.now()}
}

type lineTask struct {
	r            *lineReporter
	stage        string
	total, count int64
	start        time.Time
	once         sync.Once
}

func (t *lineTask) Add(n int64) {
	t.r.mu.Lock()
	t.count += n
	t.r.mu.Unlock()
}

func (t *lineTask) Done() {
	t.once.Do(func() {
		t.r.mu.Lock()
		defer t.r.mu.Unlock()
		fmt.Fprintln(t.r.w, doneLine(t.stage, t.count, t.total, t.r.now().Sub(t.start).Seconds()))
	})
}
