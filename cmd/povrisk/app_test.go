package main

import (
	"bytes"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/povrisk/povrisk/engine"
)

// TestHelpListsEveryCommand: `povrisk --help` names every registered
// command with its one-line description.
func TestHelpListsEveryCommand(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"povrisk", "--help"}, nil, &out, &errb); code != 0 {
		t.Fatalf("--help exit %d: %s", code, errb.String())
	}
	want := []string{"audit", "brief", "demo", "doctor", "evaluate", "explain", "features", "feedback", "generate", "ingest", "merge", "models", "run", "train", "validate", "version", "whatif"}
	if len(commands) != len(want) {
		t.Errorf("%d commands registered, want %d", len(commands), len(want))
	}
	for _, c := range commands {
		if c.Usage == "" {
			t.Errorf("command %s has no description", c.Name)
		}
		if !strings.Contains(out.String(), fmt.Sprintf("%s  ", c.Name)) || !strings.Contains(out.String(), c.Usage) {
			t.Errorf("--help does not list %s with %q:\n%s", c.Name, c.Usage, out.String())
		}
	}
	for _, name := range want {
		if !strings.Contains(out.String(), "   "+name+" ") {
			t.Errorf("--help lacks %s", name)
		}
	}
}

// TestVersion: `povrisk version` prints the povrisk version, the Go version
// of this binary and the version of the DuckDB it links, asked separately.
func TestVersion(t *testing.T) {
	db, err := engine.OpenDB("")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var duck string
	if err := db.QueryRow("SELECT library_version FROM pragma_version()").Scan(&duck); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := run([]string{"povrisk", "version"}, nil, &out, &errb); code != 0 {
		t.Fatalf("version exit %d: %s", code, errb.String())
	}
	want := fmt.Sprintf("povrisk %s\ngo %s %s/%s\nduckdb %s\n", Version, runtime.Version(), runtime.GOOS, runtime.GOARCH, duck)
	if out.String() != want {
		t.Errorf("version printed\n%q\nwant\n%q", out.String(), want)
	}
}
