package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/povrisk/povrisk/engine/fault"
	"github.com/povrisk/povrisk/engine/lock"
)

// runCLI runs the command line (without the leading "povrisk") and returns
// its exit code, stdout and stderr.
func runCLI(t *testing.T, args []string, opts ...appOption) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(append([]string{"povrisk"}, args...), strings.NewReader(""), &out, &errb, opts...)
	return code, out.String(), errb.String()
}

// panicCommand is the test-only hook for exit code 1: a command that
// panics, added through an app option (no environment variable in production).
func panicCommand() *cli.Command {
	return &cli.Command{Name: "crash-for-test", Usage: "panics", Action: func(*cli.Context) error {
		var m map[string]int
		m["x"] = 1 // a real runtime panic: assignment to a nil map
		return nil
	}}
}

// TestEveryExitCode: each code of the table comes out of a real command
// line in the situation the table names.
func TestEveryExitCode(t *testing.T) {
	t.Setenv("POVRISK_POLICY", "")
	t.Setenv("POVRISK_KEY_FILE", "")
	t.Setenv("POVRISK_KEY", "")
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain-file")
	if err := os.WriteFile(plain, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	os.Mkdir(empty, 0o700)
	key := filepath.Join(dir, "key")
	os.WriteFile(key, []byte("a test key of more than sixteen bytes\n"), 0o600)
	// A warehouse whose lock another writer holds.
	locked := filepath.Join(dir, "locked-wh")
	os.Mkdir(locked, 0o700)
	l, err := lock.Acquire(locked, lock.Options{Command: "povrisk ingest (test holder)"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	drop := filepath.Join(dir, "drop")
	if code, _, errs := runCLI(t, []string{"generate", "--households", "30", "--months", "8", "--out", drop, "-q"}); code != 0 {
		t.Fatalf("generate: exit %d: %s", code, errs)
	}
	runs := copyBriefRuns(t)
	os.WriteFile(filepath.Join(runs, "2025-12-30", "extra.txt"), []byte("x"), 0o644)

	cases := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"help", []string{"--help"}, ExitOK, ""},
		{"unknown command", []string{"rnu"}, ExitUsage, "unknown command rnu; did you mean run?"},
		{"unknown flag", []string{"run", "--as-off", "2025-12-31"}, ExitUsage, "unknown flag --as-off; did you mean --as-of?"},
		{"missing required flag", []string{"ingest", "--drop", drop}, ExitUsage, "missing --warehouse"},
		{"flag without value", []string{"ingest", "--drop"}, ExitUsage, "--drop needs a value"},
		{"malformed value", []string{"train", "--trees", "many"}, ExitUsage, `invalid value "many" for --trees`},
		{"unknown help topic", []string{"help", "rnu"}, ExitUsage, "did you mean run?"},
		{"bad input: drop without households", []string{"validate", "--drop", empty}, ExitBadInput, "households"},
		{"no usable model", []string{"models", "list", "--models", empty}, ExitNoModel, "no model"},
		{"no policy", []string{"run", "--warehouse", empty}, ExitPolicy, "no policy: pass --policy FILE"},
		{"policy file missing", []string{"run", "--warehouse", empty, "--policy", filepath.Join(dir, "none.toml")}, ExitPolicy, "none.toml"},
		{"tampered run directory", []string{"brief", "--run", filepath.Join(runs, "2025-12-30"), "--out", filepath.Join(dir, "b.html")}, ExitIncomplete, "extra.txt"},
		{"busy warehouse", []string{"ingest", "--drop", drop, "--warehouse", locked, "--key-file", key, "-q"}, ExitBusy, "lock"},
		// As root permission tricks do not work; a path through a regular
		// file cannot be created by anyone (ENOTDIR).
		{"could not write", []string{"generate", "--households", "30", "--months", "8", "--out", filepath.Join(plain, "drop"), "-q"}, ExitWrite, "not a directory"},
	}
	seen := map[int]bool{}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errs := runCLI(t, tc.args)
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, tc.code, errs)
			}
			if !strings.Contains(errs, tc.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tc.stderr, errs)
			}
			seen[code] = true
		})
	}
	t.Run("internal error (caught panic)", func(t *testing.T) {
		code, out, errs := runCLI(t, []string{"crash-for-test"}, withCommand(panicCommand()))
		if code != ExitFailure {
			t.Fatalf("exit %d, want %d", code, ExitFailure)
		}
		if out != "" || !strings.Contains(errs, "povrisk: internal error: assignment to entry in nil map") {
			t.Errorf("stdout %q stderr %q", out, errs)
		}
		if strings.Contains(errs, "goroutine ") || strings.Count(errs, "\n") != 1 {
			t.Errorf("a stack without --verbose:\n%s", errs)
		}
		seen[code] = true
		_, _, errs = runCLI(t, []string{"crash-for-test", "--verbose"}, withCommand(panicCommand()))
		if !strings.Contains(errs, "goroutine ") {
			t.Errorf("--verbose shows no stack:\n%s", errs)
		}
		t.Setenv("POVRISK_DEBUG", "1")
		code, _, errs = runCLI(t, []string{"crash-for-test"}, withCommand(panicCommand()))
		if code != ExitFailure || !strings.Contains(errs, "goroutine ") {
			t.Errorf("POVRISK_DEBUG=1: exit %d, no stack:\n%s", code, errs)
		}
	})
	for _, k := range fault.Kinds() {
		if !seen[int(k)] {
			t.Errorf("no case produced exit %d (%v)", int(k), k)
		}
	}
}

// TestUsageErrorsGoToStderr: a usage error prints what was wrong and the
// command's short usage on stderr, never the whole help on stdout.
func TestUsageErrorsGoToStderr(t *testing.T) {
	for _, args := range [][]string{{"rnu"}, {"run", "--as-off", "x"}, {"ingest"}, {"models", "lst"}, {"brief", "--bogus"}} {
		code, out, errs := runCLI(t, args)
		if code != ExitUsage || out != "" {
			t.Errorf("%v: exit %d, stdout %q", args, code, out)
		}
		if !strings.Contains(errs, "usage: povrisk") || strings.Contains(errs, "GLOBAL OPTIONS") || strings.Count(errs, "\n") > 4 {
			t.Errorf("%v: want a short usage on stderr, got:\n%s", args, errs)
		}
	}
	_, _, errs := runCLI(t, []string{"models", "lst"})
	if !strings.Contains(errs, "did you mean list?") {
		t.Errorf("models lst: %s", errs)
	}
	// No suggestion for a word close to nothing.
	_, _, errs = runCLI(t, []string{"zzzzzz"})
	if strings.Contains(errs, "did you mean") {
		t.Errorf("zzzzzz: %s", errs)
	}
}

func TestEditDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		d    int
	}{{"rnu", "run", 1}, {"as-off", "as-of", 1}, {"run", "run", 0}, {"", "abc", 3}, {"brief", "beirf", 2}, {"kitten", "sitting", 3}} {
		if got := editDistance(c.a, c.b); got != c.d {
			t.Errorf("editDistance(%q, %q) = %d, want %d", c.a, c.b, got, c.d)
		}
	}
}

// TestExitCodeTableInReadme: README.md lists the same codes with the same
// words as `povrisk --help`.
func TestExitCodeTableInReadme(t *testing.T) {
	_, help, _ := runCLI(t, []string{"--help"})
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	line := regexp.MustCompile(`(?m)^\s*([0-8])  (.+)$`)
	parse := func(s string) map[string]string {
		m := map[string]string{}
		for _, g := range line.FindAllStringSubmatch(s, -1) {
			m[g[1]] = strings.TrimSpace(g[2])
		}
		return m
	}
	block := string(readme)
	start := strings.Index(block, "<!-- exit-codes -->")
	end := strings.Index(block, "<!-- /exit-codes -->")
	if start < 0 || end < start {
		t.Fatal("README.md lacks the <!-- exit-codes --> block")
	}
	inReadme, inHelp := parse(block[start:end]), parse(help)
	if len(inHelp) != len(fault.Kinds()) {
		t.Fatalf("--help lists %d exit codes, want %d:\n%s", len(inHelp), len(fault.Kinds()), help)
	}
	for _, k := range fault.Kinds() {
		c := fmt.Sprint(int(k))
		if inReadme[c] != inHelp[c] || inHelp[c] != exitMeaning(k) {
			t.Errorf("exit %s: README %q, --help %q", c, inReadme[c], inHelp[c])
		}
	}
}

// TestHelpShowsEachDefaultOnce: no flag's help says its default twice
// (the "(default 100) (default: 0)" of --trees), and every command takes
// --quiet and --verbose.
func TestHelpShowsEachDefaultOnce(t *testing.T) {
	var walk func(path []string, cmds []*cli.Command)
	walk = func(path []string, cmds []*cli.Command) {
		for _, c := range cmds {
			if c.Name == "help" {
				continue
			}
			args := append(append([]string(nil), path...), c.Name, "--help")
			code, out, errs := runCLI(t, args)
			if code != 0 {
				t.Errorf("%v: exit %d: %s", args, code, errs)
				continue
			}
			for _, l := range strings.Split(out, "\n") {
				if strings.Count(l, "(default") > 1 || strings.Contains(l, "(default: false)") {
					t.Errorf("%v: %s", args, l)
				}
			}
			for _, f := range []string{"--quiet", "--verbose"} {
				if !strings.Contains(out, f) {
					t.Errorf("%v lacks %s", args, f)
				}
			}
			walk(append(path, c.Name), c.Subcommands)
		}
	}
	walk(nil, commands)
	_, out, _ := runCLI(t, []string{"train", "--help"})
	if !strings.Contains(out, "trees in the forest (default: 100)") {
		t.Errorf("train --help: --trees default:\n%s", out)
	}
}

// TestDeprecatedKeyFlag: run --key still works for one release and says so.
func TestDeprecatedKeyFlag(t *testing.T) {
	t.Setenv("POVRISK_POLICY", "")
	code, _, errs := runCLI(t, []string{"run", "--key", "k", "--warehouse", t.TempDir()})
	if code != ExitPolicy {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(errs, "povrisk: warning: --key is deprecated and goes in the next release: use --key-file") {
		t.Errorf("no deprecation line: %s", errs)
	}
	_, out, _ := runCLI(t, []string{"run", "--help"})
	if strings.Contains(out, "--key value") || !strings.Contains(out, "--key-file") {
		t.Errorf("run --help shows the old --key or lacks --key-file:\n%s", out)
	}
}

// TestPolicyRule: --policy has one meaning: a file, or "sample"; the
// night refuses to start without one, exit 5.
func TestPolicyRule(t *testing.T) {
	t.Setenv("POVRISK_POLICY", "")
	for _, c := range []string{"run", "doctor", "train", "evaluate", "features"} {
		_, out, _ := runCLI(t, []string{c, "--help"})
		if !strings.Contains(out, "or 'sample' for the built-in illustrative one") || !strings.Contains(out, "$POVRISK_POLICY") {
			t.Errorf("%s --help: --policy differs:\n%s", c, out)
		}
	}
	// The environment stands for the flag.
	t.Setenv("POVRISK_POLICY", filepath.Join(t.TempDir(), "from-env.toml"))
	code, _, errs := runCLI(t, []string{"run", "--warehouse", t.TempDir()})
	if code != ExitPolicy || !strings.Contains(errs, "from-env.toml") {
		t.Errorf("POVRISK_POLICY: exit %d: %s", code, errs)
	}
}

// TestQuiet: --quiet leaves errors only; --json output is still printed.
func TestQuiet(t *testing.T) {
	t.Setenv("POVRISK_POLICY", "")
	dir := t.TempDir()
	code, out, errs := runCLI(t, []string{"generate", "--households", "30", "--months", "8", "--out", filepath.Join(dir, "drop"), "--quiet"})
	if code != 0 || out != "" || errs != "" {
		t.Errorf("generate --quiet: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	code, out, _ = runCLI(t, []string{"generate", "--households", "30", "--months", "8", "--out", filepath.Join(dir, "drop2")})
	if code != 0 || !strings.Contains(out, "30 households") {
		t.Errorf("generate without --quiet: exit %d, stdout %q", code, out)
	}
	doctor := []string{"doctor", "--warehouse", filepath.Join(dir, "wh"), "--runs", filepath.Join(dir, "runs"), "--models", dir, "-q"}
	code, out, errs = runCLI(t, doctor)
	if code != ExitPolicy || out != "" || strings.Count(errs, "\n") != 1 || !strings.HasPrefix(errs, "povrisk: doctor: ") {
		t.Errorf("doctor -q: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	code, out, _ = runCLI(t, append(doctor, "--json"))
	if code != ExitPolicy || !strings.Contains(out, `"exit_code": 5`) {
		t.Errorf("doctor -q --json: exit %d, stdout %q", code, out)
	}
	code, _, errs = runCLI(t, []string{"run", "--key", "k", "--warehouse", dir, "-q"})
	if code != ExitPolicy || strings.Contains(errs, "deprecated") {
		t.Errorf("run --key -q: exit %d: %s", code, errs)
	}
}

// TestStrayArgument: a command that takes no argument refuses one, since
// the flags after it would silently be lost.
func TestStrayArgument(t *testing.T) {
	code, out, errs := runCLI(t, []string{"audit", "runs", "--verify"})
	if code != ExitUsage || out != "" || !strings.Contains(errs, `audit: unexpected argument "runs"`) {
		t.Errorf("exit %d stdout %q stderr %q", code, out, errs)
	}
	// Commands with arguments keep them.
	code, _, errs = runCLI(t, []string{"models", "show", "latest", "--models", t.TempDir()})
	if code != ExitNoModel {
		t.Errorf("models show latest: exit %d: %s", code, errs)
	}
}
