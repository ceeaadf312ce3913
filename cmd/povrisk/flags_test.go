package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/povrisk/povrisk/engine/fault"
)

// everyCommand is each command line with its command: "run", "models list".
func everyCommand() map[string]*cli.Command {
	out := map[string]*cli.Command{}
	var walk func(prefix string, cs []*cli.Command)
	walk = func(prefix string, cs []*cli.Command) {
		for _, c := range cs {
			if c.Name == "help" {
				continue // urfave/cli's own
			}
			name := strings.TrimSpace(prefix + " " + c.Name)
			out[name] = c
			walk(name, c.Subcommands)
		}
	}
	walk("", commands)
	return out
}

// Every command's help points to the one exit-code table.
func TestEveryHelpPointsToExitCodes(t *testing.T) {
	for name := range everyCommand() {
		code, out, errs := runCLI(t, append(strings.Fields(name), "--help"))
		if code != 0 || !strings.Contains(out, "Exit codes: the one table in 'povrisk --help'") || !strings.Contains(out, "8 could not write") {
			t.Errorf("povrisk %s --help: exit %d, no pointer to the exit codes:\n%s%s", name, code, out, errs)
		}
	}
}

// The shared flags have one name on every command that needs them.
func TestSharedFlagsEverywhere(t *testing.T) {
	cmds := everyCommand()
	has := func(cmd, flag string) bool {
		c, ok := cmds[cmd]
		if !ok {
			t.Fatalf("no command %q", cmd)
		}
		return hasFlag(c.Flags, flag)
	}
	for name := range cmds {
		for _, f := range []string{"quiet", "verbose"} {
			if !has(name, f) {
				t.Errorf("%s lacks --%s", name, f)
			}
		}
	}
	want := map[string][]string{
		"key-file":       {"ingest", "run", "demo", "doctor"},
		"audit-key-file": {"run", "doctor", "audit"},
		"policy":         {"run", "train", "evaluate", "features", "doctor", "feedback"},
		"json": {"audit", "brief", "demo", "features", "feedback", "doctor", "evaluate", "explain", "generate", "ingest", "run", "train",
			"validate", "version", "models list", "models show"},
		"wait": {"ingest", "run", "feedback"},
	}
	for flag, in := range want {
		for _, cmd := range in {
			if !has(cmd, flag) {
				t.Errorf("%s lacks --%s", cmd, flag)
			}
		}
	}
}

// A command never replaces the kind an engine package marked its error
// with by a guess of its own.
func TestKindOrKeepsEngineKinds(t *testing.T) {
	plain := errors.New("something")
	busy := fault.Wrap(fault.Busy, errors.New("locked by pid 1"))
	notThere := fault.Wrap(fault.Write, fmt.Errorf("write model: %w", os.ErrNotExist))
	cases := []struct {
		name string
		err  error
		want fault.Kind
	}{
		{"unmarked takes the command's code", kindOr(ExitBadInput, plain), fault.BadInput},
		{"busy stays busy", kindOr(ExitBadInput, fmt.Errorf("ingest: %w", busy)), fault.Busy},
		{"nil stays nil", kindOr(ExitBadInput, nil), fault.OK},
		{"train: a marked write failure is not bad input", trainErrCode(notThere), fault.Write},
		{"train: an unmarked missing file is bad input", trainErrCode(fmt.Errorf("read: %w", os.ErrNotExist)), fault.BadInput},
	}
	for _, c := range cases {
		if got := fault.Of(c.err); got != c.want {
			t.Errorf("%s: kind %v, want %v", c.name, got, c.want)
		}
	}
}

func TestVersionJSON(t *testing.T) {
	code, out, errs := runCLI(t, []string{"version", "--json"})
	var v map[string]string
	if err := json.Unmarshal([]byte(out), &v); err != nil || code != 0 || v["povrisk"] != Version || !strings.HasPrefix(v["go"], "go") || v["duckdb"] == "" {
		t.Errorf("version --json: exit %d, %v: %s%s", code, err, out, errs)
	}
}
