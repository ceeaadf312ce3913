package main

import (
	"os"
	"runtime/debug"
	"testing"
)

// TestHeapSettings: a night or merge collects at GOGC=50 and a 4 GiB soft
// limit unless the environment sets them.
func TestHeapSettings(t *testing.T) {
	oldGC, oldLimit := debug.SetGCPercent(100), debug.SetMemoryLimit(-1)
	defer func() { debug.SetGCPercent(oldGC); debug.SetMemoryLimit(oldLimit) }()

	for _, env := range []string{"GOGC", "GOMEMLIMIT"} {
		if v, ok := os.LookupEnv(env); ok {
			t.Setenv(env, v) // restored after the test
			os.Unsetenv(env)
		}
	}
	debug.SetGCPercent(100)
	debug.SetMemoryLimit(1 << 62)
	heapSettings()
	if got := debug.SetGCPercent(100); got != defaultGCPercent {
		t.Errorf("GOGC unset: GC percent %d, want %d", got, defaultGCPercent)
	}
	if got := debug.SetMemoryLimit(-1); got != defaultMemLimit {
		t.Errorf("GOMEMLIMIT unset: memory limit %d, want %d", got, int64(defaultMemLimit))
	}

	t.Setenv("GOGC", "80")
	t.Setenv("GOMEMLIMIT", "1GiB")
	debug.SetGCPercent(80)
	debug.SetMemoryLimit(1 << 30)
	heapSettings()
	if got := debug.SetGCPercent(80); got != 80 {
		t.Errorf("GOGC=80: GC percent %d, want the environment's 80", got)
	}
	if got := debug.SetMemoryLimit(-1); got != 1<<30 {
		t.Errorf("GOMEMLIMIT=1GiB: memory limit %d, want the environment's", got)
	}
}
