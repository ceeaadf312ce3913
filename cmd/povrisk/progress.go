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

// barReporter draws one terminal progress bar per stage. Stages run one
// after another; a stage started while another runs finishes the other's
// line first, so that bars never overwrite each other.
type barReporter struct {
	w  io.Writer
	mu sync.Mutex
}

func (r *barReporter) Start(stage string, total int64) progress.Task {
	max := total
	if max <= 0 {
		max = -1 // unknown size: a spinner with the count
	}
	bar := progressbar.NewOptions64(max,
		progressbar.OptionSetWriter(r.w),
		progressbar.OptionSetDescription(stage),
		progressbar.OptionShowCount(),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionShowElapsedTimeOnFinish(),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionSetRenderBlankState(true),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(r.w) }),
	)
	return &barTask{r: r, bar: bar}
}

type barTask struct {
	r    *barReporter
	bar  *progressbar.ProgressBar
	once sync.Once
}

func (t *barTask) Add(n int64) {
	t.r.mu.Lock()
	defer t.r.mu.Unlock()
	t.bar.Add64(n)
}

func (t *barTask) Done() {
	t.once.Do(func() {
		t.r.mu.Lock()
		defer t.r.mu.Unlock()
		t.bar.Finish() // its completion ends the line
	})
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
		s := t.r.now().Sub(t.start).Seconds()
		if t.total > 0 {
			fmt.Fprintf(t.r.w, "povrisk: %s: %s of %s in %s\n", t.stage, count(t.count), count(t.total), seconds(s))
		} else {
			fmt.Fprintf(t.r.w, "povrisk: %s: %s in %s\n", t.stage, count(t.count), seconds(s))
		}
	})
}
