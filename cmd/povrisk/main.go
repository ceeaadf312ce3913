// Command povrisk is the return-to-poverty early-warning engine.
package main

import (
	"fmt"
	"os"
	"runtime/pprof"
)

func main() {
	stop := cpuProfile(os.Getenv("POVRISK_CPUPROFILE"))
	code := run(os.Args, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// cpuProfile starts a CPU profile written to path (the environment
// variable POVRISK_CPUPROFILE: for measuring, `go tool pprof` reads it)
// and returns the function that stops it; "" profiles nothing.
func cpuProfile(path string) (stop func()) {
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err == nil {
		err = pprof.StartCPUProfile(f)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "povrisk: POVRISK_CPUPROFILE %s: %v\n", path, err)
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}
