package main

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/povrisk/povrisk/models/registry"
)

func TestHumanNumbers(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{plural(1, "household"), "1 household"},
		{plural(2, "household"), "2 households"},
		{plural(0, "household"), "0 households"},
		{plural(3500, "household"), "3,500 households"},
		{plural(1, "month"), "1 month"},
		{plural(1, "entry"), "1 entry"},
		{plural(2, "entry"), "2 entries"},
		{plural(2, "day"), "2 days"},
		{plural(2, "match"), "2 matches"},
		{plural(2, "class"), "2 classes"},
		{count(0), "0"},
		{count(999), "999"},
		{count(1000), "1,000"},
		{count(1234567), "1,234,567"},
		{count(-20000), "-20,000"},
		{score(0.8216778182321441), "0.822"},
		{score(1), "1.000"},
		{score(math.NaN()), "-"},
		{seconds(0.42), "0.4s"},
		{seconds(12.4), "12s"},
		{seconds(185), "3m05s"},
		{seconds(3725), "1h02m"},
		{bytesHuman(512), "512 B"},
		{bytesHuman(3 << 20), "3.0 MiB"},
		{bytesHuman(1536 << 20), "1.5 GiB"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

// TestReporters: a bar on a terminal shows the stage, the count and the
// total; without a terminal only --verbose prints, one line per stage;
// --quiet prints nothing.
func TestReporters(t *testing.T) {
	var b bytes.Buffer
	r := newReporter(&b, true, false, false)
	task := r.Start("ingest persons", 10)
	task.Add(4)
	task.Add(6)
	task.Done()
	task.Done() // twice is harmless
	if !strings.Contains(b.String(), "ingest persons") || !strings.Contains(b.String(), "10/10") || !strings.HasSuffix(b.String(), "\n") {
		t.Errorf("bar output %q", b.String())
	}
	b.Reset()
	task = r.Start("features", 0) // unknown size
	task.Add(3)
	task.Done()
	if !strings.Contains(b.String(), "features") || !strings.HasSuffix(b.String(), "\n") {
		t.Errorf("spinner output %q", b.String())
	}

	if newReporter(&b, false, false, false) != nil || newReporter(&b, true, true, false) != nil || newReporter(&b, false, true, true) != nil {
		t.Error("cron without --verbose, and --quiet, must report nothing")
	}
	b.Reset()
	clock := time.Date(2026, 1, 1, 2, 0, 0, 0, time.UTC)
	lr := &lineReporter{w: &b, now: func() time.Time { clock = clock.Add(1500 * time.Millisecond); return clock }}
	task = lr.Start("score", 20000)
	task.Add(20000)
	task.Done()
	task = lr.Start("write", 0)
	task.Add(1)
	task.Done()
	want := "povrisk: score: 20,000 of 20,000 in 1.5s\npovrisk: write: 1 in 1.5s\n"
	if b.String() != want {
		t.Errorf("line reporter printed %q, want %q", b.String(), want)
	}
}

// The county share is written for people: 0.07 is "7%", not the
// 7.000000000000001 of its float product.
func TestCountyShareForPeople(t *testing.T) {
	var b strings.Builder
	printMetricsSummary(&b, registry.Metrics{CountyShare: 0.07, CountyPrecision: 0.12345, RulesCountyPrecision: 0.5, Brier: 0.0213})
	if !strings.Contains(b.String(), "county top 7%: model precision 0.123, rule screen 0.500; Brier 0.021\n") {
		t.Errorf("metrics summary:\n%s", b.String())
	}
}
