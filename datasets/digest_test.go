package datasets

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

var updateDigest = flag.Bool("update", false, "rewrite testdata/digest.golden from the current simulator")

// digestCases are small drops of every output kind whose bytes are pinned:
// a change to the simulator that moves a single draw, a rounding or a
// Parquet setting changes a digest. An intended change regenerates the file
// with `go test -tags duckdb_arrow ./datasets -run TestDigest -update` and
// says in its commit message which outputs changed and why.
var digestCases = []struct {
	name string
	o    GenerateOptions
}{
	{"clean-csv", GenerateOptions{Households: 300, Months: 14, Seed: 21}},
	{"dirty-gz-gb18030", GenerateOptions{Households: 300, Months: 14, Seed: 22, Dirty: 0.03, Format: "csv.gz", Encoding: "gb18030"}},
	{"parquet", GenerateOptions{Households: 300, Months: 14, Seed: 23, Format: "parquet"}},
}

// TestDigest compares the sha256 of every file of the pinned drops (tables,
// truth, defects) with testdata/digest.golden.
func TestDigest(t *testing.T) {
	var lines []string
	for _, c := range digestCases {
		o := c.o
		o.Workers = 2
		for name, h := range hashFiles(t, gen(t, o)) {
			lines = append(lines, fmt.Sprintf("%s %s %s", c.name, name, h))
		}
	}
	sort.Strings(lines)
	got := strings.Join(lines, "\n") + "\n"
	path := filepath.Join("testdata", "digest.golden")
	if *updateDigest {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (create it with -update)", err)
	}
	if string(want) != got {
		wl := map[string]bool{}
		for _, l := range strings.Split(string(want), "\n") {
			wl[l] = true
		}
		for _, l := range lines {
			if !wl[l] {
				t.Errorf("digest changed: %s", l)
			}
		}
		if len(strings.Split(strings.TrimSpace(string(want)), "\n")) != len(lines) {
			t.Errorf("the golden lists %d files, the drops have %d", len(strings.Split(strings.TrimSpace(string(want)), "\n")), len(lines))
		}
	}
}
