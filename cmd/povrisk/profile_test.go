package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestCPUProfileHook: POVRISK_CPUPROFILE's file is a gzip'd pprof profile
// once stopped; an unwritable path profiles nothing and does not fail
// the command; "" profiles nothing.
func TestCPUProfileHook(t *testing.T) {
	p := filepath.Join(t.TempDir(), "cpu.prof")
	stop := cpuProfile(p)
	x := 0
	for i := 0; i < 20_000_000; i++ {
		x += i % 7
	}
	stop()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		t.Fatalf("profile of %d bytes does not start with the gzip magic (x=%d)", len(b), x)
	}
	bad := filepath.Join(t.TempDir(), "no", "such", "dir", "cpu.prof")
	cpuProfile(bad)() // warns on stderr, stops nothing
	if _, err := os.Stat(bad); err == nil {
		t.Fatalf("%s was created", bad)
	}
	cpuProfile("")()
}
