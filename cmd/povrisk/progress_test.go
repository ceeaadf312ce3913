package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/povrisk/povrisk/engine/progress"
)

// Stages that run side by side share one terminal line: the first keeps
// the bar, a stage that ends while queued prints one line when the bar is
// free, and the next stage still running takes the bar, with the count it
// made while queued. No bar of one stage is drawn over another's.
func TestBarReporterQueuesParallelStages(t *testing.T) {
	var buf bytes.Buffer
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r := &barReporter{w: &buf, now: func() time.Time { return at }}
	hh := r.Start("households", 0)
	pe := r.Start("persons", 0)
	in := r.Start("income_records", 100)
	pe.Add(70)
	pe.Done()
	in.Add(40)
	if strings.Contains(buf.String(), "persons") || strings.Contains(buf.String(), "income_records") {
		t.Fatalf("a queued stage drew on the line of households:\n%q", buf.String())
	}
	hh.Add(20)
	hh.Done()
	in.Add(60)
	in.Done()
	out := buf.String()
	iHH := strings.LastIndex(out, "households")
	iPe := strings.Index(out, "povrisk: persons: 70 in ")
	iIn := strings.Index(out, "income_records")
	if iHH < 0 || iPe < 0 || iIn < 0 || !(iHH < iPe && iPe < iIn) {
		t.Fatalf("want the households bar, then the persons line, then the income_records bar:\n%q", out)
	}
	if n := strings.Count(out, "persons"); n != 1 {
		t.Errorf("persons appears %d times, want once (its end line, never a bar):\n%q", n, out)
	}
	if !strings.Contains(out[iIn:], "(100/100)") {
		t.Errorf("the income_records bar does not end at 100 of 100 (40 made while queued, 60 after):\n%q", out[iIn:])
	}
	// A second Done changes nothing.
	before := buf.Len()
	in.Done()
	hh.Done()
	if buf.Len() != before {
		t.Errorf("a second Done wrote %q", buf.String()[before:])
	}
}

// TestBarTakesATotalLater: a stage started without a size (an ingest
// table) becomes a bar with its count out of the total once the engine
// estimates it (progress.SetTotal), so that it can show the time left.
func TestBarTakesATotalLater(t *testing.T) {
	var buf bytes.Buffer
	r := &barReporter{w: &buf, now: time.Now}
	task := r.Start("persons", 0)
	task.Add(250)
	progress.SetTotal(task, 1000)
	task.Add(250)
	task.Done()
	if out := buf.String(); !strings.Contains(out, "/1000") {
		t.Fatalf("the bar never showed the total of 1000:\n%q", out)
	}
}
